"""Form data <-> policy, without Django.

``policy_to_form`` and ``form_to_policy`` convert between a NetworkPolicy (the Kubernetes
JSON shape) and the editor's form data, a JSON document whose lists line up index for
index with the policy's lists, so an error path such as
``spec.ingress[0].from[1].ipBlock.except[0]`` names one field of the form. The conversion
is lossless for everything the API server stores (``compact_policy``: empty lists and
maps are dropped, as the server's ``omitempty`` fields drop them).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ... import engine
from ...choices import RULE_DIRECTIONS

API_VERSION = "networking.k8s.io/v1"
KIND = "NetworkPolicy"
PEER_KINDS = ("pods", "namespaces", "pods_in_namespaces", "ip_block")

# --- compact form: what the API server stores ---------------------------------------------


def _compact_selector(sel: Any) -> Any:
    if not isinstance(sel, Mapping):
        return sel
    out: dict[str, Any] = {}
    for key, value in sel.items():
        if key == "matchLabels" and (value is None or value == {}):
            continue
        if key == "matchExpressions":
            if value is None or value == []:
                continue
            if isinstance(value, list):
                value = [_compact_expression(e) for e in value]
        out[key] = value
    return out


def _compact_expression(expr: Any) -> Any:
    if not isinstance(expr, Mapping):
        return expr
    return {k: v for k, v in expr.items() if not (k == "values" and (v is None or v == []))}


def _compact_peer(peer: Any) -> Any:
    if not isinstance(peer, Mapping):
        return peer
    out: dict[str, Any] = {}
    for key, value in peer.items():
        if value is None:
            continue
        if key in ("podSelector", "namespaceSelector"):
            value = _compact_selector(value)
        elif key == "ipBlock" and isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if not (k == "except" and not v)}
        out[key] = value
    return out


def _compact_rule(rule: Any, peers_key: str) -> Any:
    if rule is None:
        return {}
    if not isinstance(rule, Mapping):
        return rule
    out: dict[str, Any] = {}
    for key, value in rule.items():
        if value is None or value == []:
            continue
        if key == peers_key and isinstance(value, list):
            value = [_compact_peer(p) for p in value]
        elif key == "ports" and isinstance(value, list):
            value = [
                {k: v for k, v in p.items() if v is not None} if isinstance(p, Mapping) else p
                for p in value
            ]
        out[key] = value
    return out


def compact_policy(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The policy as the API server stores it: empty optional lists and maps dropped.

    NetworkPolicy's optional fields are `omitempty` in the API types, so `from: []`,
    `ports: []`, `matchLabels: {}` or `except: []` never survive a round trip through
    the server; they mean the same as the missing field. `podSelector: {}` does
    survive (it is required), and so do `{}` peers' selectors (pointers).
    """
    out = dict(obj)
    meta = obj.get("metadata")
    if isinstance(meta, Mapping):
        out["metadata"] = {
            k: v
            for k, v in meta.items()
            if not (k in ("labels", "annotations", "namespace") and not v)
        }
    spec = obj.get("spec")
    if isinstance(spec, Mapping):
        new_spec: dict[str, Any] = {}
        for key, value in spec.items():
            if key == "podSelector":
                value = _compact_selector(value)
            elif key == "policyTypes" and not value:
                continue
            elif key in ("ingress", "egress"):
                if not value:
                    continue
                if isinstance(value, list):
                    peers_key = "from" if key == "ingress" else "to"
                    value = [_compact_rule(r, peers_key) for r in value]
            new_spec[key] = value
        out["spec"] = new_spec
    return out


# --- policy -> form data ----------------------------------------------------------------------


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _pairs(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, Mapping):
        return []
    return [{"key": _text(k), "value": _text(v)} for k, v in raw.items()]


def empty_selector() -> dict[str, Any]:
    return {"match_labels": [], "match_expressions": []}


def _selector_to_form(sel: Any) -> dict[str, Any]:
    out = empty_selector()
    if not isinstance(sel, Mapping):
        return out
    out["match_labels"] = _pairs(sel.get("matchLabels"))
    exprs = sel.get("matchExpressions")
    for e in exprs if isinstance(exprs, list) else []:
        if not isinstance(e, Mapping):
            continue
        values = e.get("values")
        out["match_expressions"].append(
            {
                "key": _text(e.get("key")),
                "operator": _text(e.get("operator")),
                "values": [_text(v) for v in values] if isinstance(values, list) else [],
            }
        )
    return out


def _peer_to_form(peer: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "kind": "pods",
        "pod_selector": empty_selector(),
        "namespace_selector": empty_selector(),
        "cidr": "",
        "except": [],
    }
    if not isinstance(peer, Mapping):
        return out
    has_pods = peer.get("podSelector") is not None
    has_ns = peer.get("namespaceSelector") is not None
    if peer.get("ipBlock") is not None:
        out["kind"] = "ip_block"
        block = peer["ipBlock"] if isinstance(peer["ipBlock"], Mapping) else {}
        out["cidr"] = _text(block.get("cidr"))
        excepts = block.get("except")
        out["except"] = [_text(e) for e in excepts] if isinstance(excepts, list) else []
    elif has_pods and has_ns:
        out["kind"] = "pods_in_namespaces"
    elif has_ns:
        out["kind"] = "namespaces"
    out["pod_selector"] = _selector_to_form(peer.get("podSelector"))
    out["namespace_selector"] = _selector_to_form(peer.get("namespaceSelector"))
    return out


def _port_to_form(port: Any) -> dict[str, str]:
    if not isinstance(port, Mapping):
        return {"protocol": "", "port": "", "end_port": ""}
    return {
        "protocol": _text(port.get("protocol")),
        "port": _text(port.get("port")),
        "end_port": _text(port.get("endPort")),
    }


def _rule_to_form(rule: Any, peers_key: str) -> dict[str, Any]:
    rule = rule if isinstance(rule, Mapping) else {}
    peers = rule.get(peers_key)
    ports = rule.get("ports")
    return {
        "peers": [_peer_to_form(p) for p in peers] if isinstance(peers, list) else [],
        "ports": [_port_to_form(p) for p in ports] if isinstance(ports, list) else [],
    }


def policy_to_form(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The editor's form data for a policy (total: any dict gives some form data)."""
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    meta = meta if isinstance(meta, Mapping) else {}
    spec = obj.get("spec") if isinstance(obj, Mapping) else None
    spec = spec if isinstance(spec, Mapping) else {}
    types = spec.get("policyTypes")
    form: dict[str, Any] = {
        "name": _text(meta.get("name")),
        "namespace": _text(meta.get("namespace")),
        "labels": _pairs(meta.get("labels")),
        "annotations": _pairs(meta.get("annotations")),
        "pod_selector": _selector_to_form(spec.get("podSelector")),
        "policy_types": {
            "explicit": bool(types),
            "types": [_text(t) for t in types] if isinstance(types, list) else [],
        },
    }
    for direction, peers_key in RULE_DIRECTIONS:
        rules = spec.get(direction)
        form[direction] = (
            [_rule_to_form(r, peers_key) for r in rules] if isinstance(rules, list) else []
        )
    return form


def blank_form(namespace: str = "") -> dict[str, Any]:
    """A new policy: explicit policyTypes [Ingress], no rules (denies all ingress)."""
    return {
        "name": "",
        "namespace": namespace,
        "labels": [],
        "annotations": [],
        "pod_selector": empty_selector(),
        "policy_types": {"explicit": True, "types": ["Ingress"]},
        "ingress": [],
        "egress": [],
    }


# --- form data -> policy ----------------------------------------------------------------------


class _Errors:
    def __init__(self, obj_name: str) -> None:
        self.obj = obj_name
        self.items: list[engine.FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.items.append(engine.FieldError(path, message, self.obj))


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _as_mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _as_text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else _text(value).strip()


def _pairs_to_map(
    rows: Any, path: str, errors: _Errors, *, keep_spaces: bool = False
) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in _as_list(rows):
        row = _as_mapping(row)
        key = _as_text(row.get("key"))
        raw_value = row.get("value")
        value = (
            (raw_value if isinstance(raw_value, str) else _text(raw_value))
            if keep_spaces
            else _as_text(raw_value)
        )
        if not key and not value:
            continue  # a blank row someone added and did not fill in
        if key in out:
            errors.add(path, f'key "{key}" is listed twice')
            continue
        out[key] = value
    return out


def _form_to_selector(sel: Any, path: str, errors: _Errors) -> dict[str, Any]:
    sel = _as_mapping(sel)
    out: dict[str, Any] = {}
    labels = _pairs_to_map(sel.get("match_labels"), f"{path}.matchLabels", errors)
    if labels:
        out["matchLabels"] = labels
    exprs = []
    for row in _as_list(sel.get("match_expressions")):
        row = _as_mapping(row)
        key = _as_text(row.get("key"))
        values = [_as_text(v) for v in _as_list(row.get("values"))]
        operator = _as_text(row.get("operator"))
        if not key and not values and operator in ("", "In"):
            continue
        expr: dict[str, Any] = {"key": key, "operator": operator}
        if values:
            expr["values"] = values
        exprs.append(expr)
    if exprs:
        out["matchExpressions"] = exprs
    return out


def _int_or_text(value: str) -> int | str:
    # A longer run of digits is no port either way, and int() refuses one of more than
    # 4,300 digits (a ValueError, a 500); as text, validation names the field.
    return int(value) if value.isdigit() and value.isascii() and len(value) <= 18 else value


def _form_to_port(row: Any) -> dict[str, Any]:
    row = _as_mapping(row)
    out: dict[str, Any] = {}
    protocol = _as_text(row.get("protocol"))
    port = _as_text(row.get("port"))
    end = _as_text(row.get("end_port"))
    if protocol:
        out["protocol"] = protocol
    if port:
        out["port"] = _int_or_text(port)
    if end:
        out["endPort"] = _int_or_text(end)
    return out


def _form_to_peer(row: Any, path: str, errors: _Errors) -> dict[str, Any]:
    row = _as_mapping(row)
    kind = _as_text(row.get("kind")) or "pods"
    out: dict[str, Any] = {}
    if kind not in PEER_KINDS:
        errors.add(path, f'"{kind}" is not a kind of peer')
        return out
    if kind == "ip_block":
        block: dict[str, Any] = {"cidr": _as_text(row.get("cidr"))}
        excepts = [_as_text(e) for e in _as_list(row.get("except")) if _as_text(e)]
        if excepts:
            block["except"] = excepts
        out["ipBlock"] = block
        return out
    if kind in ("pods", "pods_in_namespaces"):
        out["podSelector"] = _form_to_selector(
            row.get("pod_selector"), f"{path}.podSelector", errors
        )
    if kind in ("namespaces", "pods_in_namespaces"):
        out["namespaceSelector"] = _form_to_selector(
            row.get("namespace_selector"), f"{path}.namespaceSelector", errors
        )
    return out


def form_to_policy(form: Mapping[str, Any]) -> tuple[dict[str, Any], list[engine.FieldError]]:
    """The policy the form data describes, and the problems the form itself has
    (a label key given twice); the API server's rules are checked by ``validate``."""
    form = _as_mapping(form)
    name = _as_text(form.get("name"))
    namespace = _as_text(form.get("namespace"))
    errors = _Errors(f"NetworkPolicy {namespace or 'default'}/{name or '<unnamed>'}")
    meta: dict[str, Any] = {}
    if name:
        meta["name"] = name
    if namespace:
        meta["namespace"] = namespace
    labels = _pairs_to_map(form.get("labels"), "metadata.labels", errors)
    if labels:
        meta["labels"] = labels
    annotations = _pairs_to_map(
        form.get("annotations"), "metadata.annotations", errors, keep_spaces=True
    )
    if annotations:
        meta["annotations"] = annotations
    spec: dict[str, Any] = {
        "podSelector": _form_to_selector(form.get("pod_selector"), "spec.podSelector", errors)
    }
    types = _as_mapping(form.get("policy_types"))
    if types.get("explicit"):
        listed = [_as_text(t) for t in _as_list(types.get("types"))]
        if listed:
            spec["policyTypes"] = listed
    for direction, peers_key in RULE_DIRECTIONS:
        rules = []
        for i, raw in enumerate(_as_list(form.get(direction))):
            raw = _as_mapping(raw)
            rpath = f"spec.{direction}[{i}]"
            rule: dict[str, Any] = {}
            peers = [
                _form_to_peer(p, f"{rpath}.{peers_key}[{j}]", errors)
                for j, p in enumerate(_as_list(raw.get("peers")))
            ]
            if peers:
                rule[peers_key] = peers
            ports = [_form_to_port(p) for p in _as_list(raw.get("ports"))]
            if ports:
                rule["ports"] = ports
            rules.append(rule)
        if rules:
            spec[direction] = rules
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": meta, "spec": spec}, errors.items



def _parse(obj: Mapping[str, Any]) -> engine.NetworkPolicy:
    """The engine's parsed form of a valid policy."""
    return engine.build_cluster([dict(obj)]).policies[0]
