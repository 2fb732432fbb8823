"""Policy drafts: what the editor pages and the drafts API call.

- Form data <-> policy: ``policy_to_form`` and ``form_to_policy`` convert between a
  NetworkPolicy (the Kubernetes JSON shape) and the editor's form data, a JSON document
  whose lists line up index for index with the policy's lists, so an error path such
  as ``spec.ingress[0].from[1].ipBlock.except[0]`` names one field of the form.
  The conversion is lossless for everything the API server stores (``compact_policy``:
  empty lists and maps are dropped, as the server's ``omitempty`` fields drop them).
- Reading and checking: ``parse_yaml`` (pasted or uploaded, one or many documents),
  ``validate`` (the API server's rules, through engine.validate_network_policy),
  ``preview`` (canonical YAML, errors, warnings and the three-zone picture).
- What-if: ``what_if(cluster, objs)`` -- the reachability change if the policies were
  applied, from the engine's Analyzer.with_policies_changed and diff_reachability.
- Drafts: ``create_draft``, ``update_draft``, ``set_status``, ``delete_draft``; each
  change writes a DraftRevision (who, when, what changed) and an AuditEvent.
- Export and apply: ``export_yaml``, ``apply_draft`` (server-side apply, dry run first).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from .. import audit, engine
from ..choices import RULE_DIRECTIONS
from ..models import (
    AuditEvent,
    Cluster,
    DraftRevision,
    Namespace,
    NetworkPolicy,
    Pod,
    PolicyDraft,
    Workload,
)
from . import analysis, draft_checks

API_VERSION = "networking.k8s.io/v1"
KIND = "NetworkPolicy"
PEER_KINDS = ("pods", "namespaces", "pods_in_namespaces", "ip_block")
WHAT_IF_LIMIT = 500


class DraftError(Exception):
    """A draft operation was refused; the message says why, in words."""


class DraftInvalid(DraftError):
    """The policy would be rejected by the API server (or cannot be read)."""

    def __init__(self, errors: Sequence[engine.FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))


class DraftConflict(DraftError):
    """Another draft has that name, or the draft changed since the caller read it."""


class ApplyRefused(DraftError):
    """Apply is off, the cluster has no API server, or no dry run preceded it."""


class ApplyFailed(DraftError):
    """The API server refused the apply or could not be reached; `status` is its HTTP
    status (None when unreachable), `conflict` a field manager conflict."""

    def __init__(self, message: str, *, status: int | None, conflict: bool) -> None:
        super().__init__(message)
        self.status = status
        self.conflict = conflict


# The field errors drafts report (path, message), for pages and API to name in signatures.
FieldError = engine.FieldError


def error_dicts(errors: Iterable[engine.FieldError]) -> list[dict[str, str]]:
    return [{"path": e.path, "message": e.message, "text": str(e)} for e in errors]


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


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _dict(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _str(value: Any) -> str:
    return value.strip() if isinstance(value, str) else _text(value).strip()


def _pairs_to_map(
    rows: Any, path: str, errors: _Errors, *, keep_spaces: bool = False
) -> dict[str, str]:
    out: dict[str, str] = {}
    for row in _list(rows):
        row = _dict(row)
        key = _str(row.get("key"))
        raw_value = row.get("value")
        value = (
            (raw_value if isinstance(raw_value, str) else _text(raw_value))
            if keep_spaces
            else _str(raw_value)
        )
        if not key and not value:
            continue  # a blank row someone added and did not fill in
        if key in out:
            errors.add(path, f'key "{key}" is listed twice')
            continue
        out[key] = value
    return out


def _form_to_selector(sel: Any, path: str, errors: _Errors) -> dict[str, Any]:
    sel = _dict(sel)
    out: dict[str, Any] = {}
    labels = _pairs_to_map(sel.get("match_labels"), f"{path}.matchLabels", errors)
    if labels:
        out["matchLabels"] = labels
    exprs = []
    for row in _list(sel.get("match_expressions")):
        row = _dict(row)
        key = _str(row.get("key"))
        values = [_str(v) for v in _list(row.get("values"))]
        operator = _str(row.get("operator"))
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
    return int(value) if value.isdigit() and value.isascii() else value


def _form_to_port(row: Any) -> dict[str, Any]:
    row = _dict(row)
    out: dict[str, Any] = {}
    protocol = _str(row.get("protocol"))
    port = _str(row.get("port"))
    end = _str(row.get("end_port"))
    if protocol:
        out["protocol"] = protocol
    if port:
        out["port"] = _int_or_text(port)
    if end:
        out["endPort"] = _int_or_text(end)
    return out


def _form_to_peer(row: Any, path: str, errors: _Errors) -> dict[str, Any]:
    row = _dict(row)
    kind = _str(row.get("kind")) or "pods"
    out: dict[str, Any] = {}
    if kind not in PEER_KINDS:
        errors.add(path, f'"{kind}" is not a kind of peer')
        return out
    if kind == "ip_block":
        block: dict[str, Any] = {"cidr": _str(row.get("cidr"))}
        excepts = [_str(e) for e in _list(row.get("except")) if _str(e)]
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
    form = _dict(form)
    name = _str(form.get("name"))
    namespace = _str(form.get("namespace"))
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
    types = _dict(form.get("policy_types"))
    if types.get("explicit"):
        listed = [_str(t) for t in _list(types.get("types"))]
        if listed:
            spec["policyTypes"] = listed
    for direction, peers_key in RULE_DIRECTIONS:
        rules = []
        for i, raw in enumerate(_list(form.get(direction))):
            raw = _dict(raw)
            rpath = f"spec.{direction}[{i}]"
            rule: dict[str, Any] = {}
            peers = [
                _form_to_peer(p, f"{rpath}.{peers_key}[{j}]", errors)
                for j, p in enumerate(_list(raw.get("peers")))
            ]
            if peers:
                rule[peers_key] = peers
            ports = [_form_to_port(p) for p in _list(raw.get("ports"))]
            if ports:
                rule["ports"] = ports
            rules.append(rule)
        if rules:
            spec[direction] = rules
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": meta, "spec": spec}, errors.items


# --- reading, validating, previewing ----------------------------------------------------------


def validate(obj: Mapping[str, Any]) -> list[engine.FieldError]:
    """The API server's verdict on the policy, plus what a draft needs (a namespace)."""
    errors = list(engine.validate_network_policy(obj))
    if isinstance(obj, Mapping):
        if obj.get("apiVersion") not in (None, API_VERSION):
            errors.append(
                engine.FieldError(
                    "apiVersion", f'"{obj.get("apiVersion")}" is not {API_VERSION}', _name(obj)
                )
            )
        if obj.get("kind") not in (None, KIND):
            errors.append(
                engine.FieldError("kind", f'"{obj.get("kind")}" is not {KIND}', _name(obj))
            )
        meta = obj.get("metadata")
        if isinstance(meta, Mapping) and not meta.get("namespace"):
            errors.append(
                engine.FieldError(
                    "metadata.namespace",
                    "is required: choose the namespace the policy belongs to",
                    _name(obj),
                )
            )
        spec = obj.get("spec")
        if isinstance(spec, Mapping):
            for key in sorted(set(spec) - {"podSelector", "policyTypes", "ingress", "egress"}):
                errors.append(
                    engine.FieldError(
                        f"spec.{key}",
                        "is not a field of a NetworkPolicy spec "
                        "(use podSelector, policyTypes, ingress, egress)",
                        _name(obj),
                    )
                )
    return errors


def _name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    meta = meta if isinstance(meta, Mapping) else {}
    return f"NetworkPolicy {meta.get('namespace') or 'default'}/{meta.get('name') or '<unnamed>'}"


def prepare(obj: Mapping[str, Any]) -> dict[str, Any]:
    """A policy as drafts keep it: server-managed fields and status gone (as
    engine.clean_policy drops them), empty optional fields compacted. Shapes the
    engine cannot clean (a spec that is not a map) are left for ``validate`` to name."""
    if not isinstance(obj, Mapping):
        return {}
    meta, spec = obj.get("metadata"), obj.get("spec")
    if not isinstance(meta, Mapping) or not isinstance(spec, Mapping):
        return {k: v for k, v in obj.items() if k != "status"}
    cleaned = engine.clean_policy(obj)
    if cleaned["metadata"].get("name") is None:
        del cleaned["metadata"]["name"]
    return compact_policy(cleaned)


def round_trip_losses(obj: Mapping[str, Any]) -> list[str]:
    """Fields of `obj` that the form cannot hold (paths), so an import can say so."""
    want = prepare(obj)
    got, _ = form_to_policy(policy_to_form(want))
    return _differences(want, got)


def _differences(old: Any, new: Any, path: str = "") -> list[str]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        out: list[str] = []
        for key in list(old) + [k for k in new if k not in old]:
            sub = f"{path}.{key}" if path else str(key)
            if key not in new or key not in old:
                out.append(sub)
            else:
                out += _differences(old[key], new[key], sub)
        return out
    if isinstance(old, list) and isinstance(new, list):
        out = []
        for i in range(max(len(old), len(new))):
            sub = f"{path}[{i}]"
            if i >= len(old) or i >= len(new):
                out.append(sub)
            else:
                out += _differences(old[i], new[i], sub)
        return out
    return [] if old == new and type(old) is type(new) else [path]


@dataclass
class ParsedDocument:
    """One document of pasted or uploaded YAML, ready for the form (or why not)."""

    index: int
    obj: dict[str, Any]
    form: dict[str, Any]
    errors: list[engine.FieldError] = field(default_factory=list)
    losses: list[str] = field(default_factory=list)
    namespace_added: bool = False

    @property
    def key(self) -> str:
        meta = self.obj.get("metadata") or {}
        return f"{meta.get('namespace') or ''}/{meta.get('name') or ''}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "policy": self.obj,
            "form": self.form,
            "yaml": engine.dump_yaml([self.obj]),
            "errors": error_dicts(self.errors),
            "losses": self.losses,
            "namespace_added": self.namespace_added,
        }


class YamlUnreadable(DraftError):
    """The text is not YAML/JSON, or holds something other than NetworkPolicies."""

    def __init__(self, messages: Sequence[str]) -> None:
        self.messages = list(messages)
        super().__init__("; ".join(self.messages))


def parse_yaml(
    text: str, *, default_namespace: str = "", source: str = "pasted YAML"
) -> list[ParsedDocument]:
    """Every NetworkPolicy in the text, one ParsedDocument each.

    A document without namespace gets `default_namespace` (when given), as
    `kubectl apply -n` would. Other kinds are refused: a draft is one NetworkPolicy.
    """
    try:
        objs = engine.load_yaml_text(text, source)
    except engine.ManifestError as exc:
        raise YamlUnreadable([str(e) for e in exc.errors]) from exc
    if not objs:
        raise YamlUnreadable([f"{source}: no NetworkPolicy found"])
    others = [
        f"{source}: document {i + 1} is a {o.get('kind')}, not a NetworkPolicy"
        for i, o in enumerate(objs)
        if o.get("kind") != KIND
    ]
    if others:
        raise YamlUnreadable(others)
    docs = []
    for i, raw in enumerate(objs):
        obj = prepare(raw)
        added = False
        meta = obj.setdefault("metadata", {})
        if isinstance(meta, dict) and not meta.get("namespace") and default_namespace:
            meta["namespace"] = default_namespace
            added = True
        form = policy_to_form(obj)
        back, form_errors = form_to_policy(form)
        docs.append(
            ParsedDocument(
                index=i,
                obj=obj,
                form=form,
                errors=validate(obj) + form_errors,
                losses=_differences(obj, back),
                namespace_added=added,
            )
        )
    return docs


def canonical_yaml(objs: Sequence[Mapping[str, Any]]) -> str:
    return engine.dump_yaml(list(objs))


def preview(
    cluster: Cluster | None,
    *,
    form: Mapping[str, Any] | None = None,
    policy: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What the editor's right-hand side shows for the form (or a policy dict)."""
    if form is not None:
        obj, form_errors = form_to_policy(form)
    else:
        obj, form_errors = prepare(policy or {}), []
    errors = form_errors + validate(obj)
    out: dict[str, Any] = {
        "policy": obj,
        "yaml": engine.dump_yaml([obj]),
        "valid": not errors,
        "errors": error_dicts(errors),
        "warnings": warnings(obj) + draft_checks.extra_warnings(obj, cluster) if not errors else [],
        "zones": None,
    }
    if not errors and cluster is not None:
        out["zones"] = zones(cluster, obj)
    return out


# --- warnings: the classic mistakes -----------------------------------------------------------


def _selector_text(sel: Any) -> str:
    return str(engine.LabelSelector.parse(sel if isinstance(sel, Mapping) else None))


def warnings(obj: Mapping[str, Any]) -> list[dict[str, str]]:
    """The mistakes the Cilium tutorials name, for a valid policy: {path, level, message}."""
    spec = obj.get("spec") or {}
    ns = (obj.get("metadata") or {}).get("namespace") or "default"
    out: list[dict[str, str]] = []

    def add(path: str, message: str, level: str = "warning") -> None:
        out.append({"path": path, "level": level, "message": message})

    types = spec.get("policyTypes")
    effective = engine.effective_policy_types(spec)
    if not spec.get("podSelector"):
        add("spec.podSelector", f"podSelector {{}} selects every pod in namespace {ns}.", "info")
    if not types:
        add(
            "spec.policyTypes",
            "policyTypes is not set: the API server will set "
            + " and ".join(effective)
            + " (Ingress always, Egress only when there are egress rules).",
            "info",
        )
    for direction, peers_key in RULE_DIRECTIONS:
        title = direction.capitalize()
        rules = spec.get(direction) or []
        if title not in effective:
            if rules:
                add(
                    f"spec.{direction}",
                    f"{title} is not in policyTypes: these {direction} rules are ignored.",
                )
            continue
        if not rules:
            add(
                f"spec.{direction}",
                f"No {direction} rules: all {direction} traffic of the selected pods is denied "
                "unless another policy allows it.",
                "info",
            )
        for i, rule in enumerate(rules):
            rule = rule or {}
            rpath = f"spec.{direction}[{i}]"
            peers = rule.get(peers_key) or []
            if not peers:
                what = "from everywhere" if direction == "ingress" else "to everywhere"
                add(
                    f"{rpath}.{peers_key}",
                    f"Rule {i + 1} has no {peers_key!r} peers: it allows traffic {what} "
                    "(every pod in every namespace and every address outside the cluster).",
                    "info",
                )
            only_pods = [j for j, p in enumerate(peers) if set(p) == {"podSelector"}]
            only_ns = [j for j, p in enumerate(peers) if set(p) == {"namespaceSelector"}]
            if only_pods and only_ns:
                add(
                    f"{rpath}.{peers_key}",
                    f"Rule {i + 1} has a podSelector peer and a separate namespaceSelector "
                    "peer: they are alternatives (OR), so every pod of the selected namespaces "
                    "is allowed. For pods with those labels in those namespaces, use one peer "
                    "'Selected pods in selected namespaces' (AND).",
                )
            for j, peer in enumerate(peers):
                ppath = f"{rpath}.{peers_key}[{j}]"
                if "namespaceSelector" in peer and not peer["namespaceSelector"]:
                    add(
                        f"{ppath}.namespaceSelector",
                        "namespaceSelector {} selects every namespace in the cluster.",
                        "info",
                    )
                if direction == "egress" and "ipBlock" in peer:
                    named = [
                        p.get("port")
                        for p in rule.get("ports") or []
                        if isinstance(p.get("port"), str)
                    ]
                    if named:
                        add(
                            f"{rpath}.ports",
                            f"Named port {named[0]!r} never matches an address outside the "
                            "cluster: an ipBlock destination needs a port number.",
                        )
    if "Egress" in effective and not any(
        engine.rule_allows_dns(rule) for rule in _parse(obj).rules("egress")
    ):
        add(
            "spec.egress",
            "This policy isolates egress and none of its rules allows DNS (UDP 53): the "
            "selected pods cannot resolve names unless another policy allows it. "
            "The what-if below checks the whole cluster.",
        )
    return out


# --- the three-zone picture -------------------------------------------------------------------

ZONE_LIMIT = 8


def zones(cluster: Cluster, obj: Mapping[str, Any]) -> dict[str, Any]:
    """The policy as Cilium's editor draws it: the selected pods in the middle, each
    direction split into this namespace / the cluster / outside the cluster, each
    entry with the workloads of the mirror it matches now."""
    model = analysis.engine_cluster(cluster)
    parsed = _parse(obj)
    ns = parsed.namespace
    workloads = [w for w in model.workloads if w.pods]

    def keys(predicate: Any) -> tuple[list[str], int]:
        found = [w.key for w in workloads if predicate(w.representative)]
        return found[:ZONE_LIMIT], max(0, len(found) - ZONE_LIMIT)

    selected, selected_more = keys(
        lambda pod: pod.namespace == ns and parsed.pod_selector.matches(pod.labels)
    )
    out: dict[str, Any] = {
        "namespace": ns,
        "selected": {
            "selector": str(parsed.pod_selector),
            "all": parsed.pod_selector.selects_all,
            "workloads": selected,
            "more": selected_more,
        },
    }
    for direction, _ in RULE_DIRECTIONS:
        affected = direction.capitalize() in parsed.policy_types
        side: dict[str, Any] = {
            "affected": affected,
            "deny_all": affected and not parsed.rules(direction),
            "namespace": [],
            "cluster": [],
            "external": [],
        }
        for i, rule in enumerate(parsed.rules(direction)):
            ports = rule.ports_text
            if not rule.peers:
                for zone, text in (
                    ("namespace", f"every pod in {ns}"),
                    ("cluster", "every pod in every namespace"),
                    ("external", "every address outside the cluster"),
                ):
                    side[zone].append(
                        {
                            "rule": i,
                            "peer": None,
                            "text": text,
                            "ports": ports,
                            "workloads": [],
                            "more": 0,
                        }
                    )
                continue
            for j, peer in enumerate(rule.peers):
                item: dict[str, Any] = {
                    "rule": i,
                    "peer": j,
                    "ports": ports,
                    "workloads": [],
                    "more": 0,
                }
                if peer.ip_block is not None:
                    item["text"] = str(peer.ip_block)
                    side["external"].append(item)
                    continue

                def matches(pod: Any, peer: Any = peer) -> bool:
                    return bool(
                        peer.matches_pod(
                            ns, pod.namespace, pod.labels, model.namespace_labels(pod.namespace)
                        )
                    )

                item["workloads"], item["more"] = keys(matches)
                if peer.namespace_selector is None:
                    item["text"] = f"pods [{peer.pod_selector}] in {ns}"
                    side["namespace"].append(item)
                else:
                    names = sorted(
                        n
                        for n in model.namespaces
                        if peer.namespace_selector.matches(model.namespace_labels(n))
                    )
                    pods = (
                        f"pods [{peer.pod_selector}]"
                        if peer.pod_selector is not None
                        else "all pods"
                    )
                    item["text"] = f"{pods} in namespaces [{peer.namespace_selector}]"
                    item["namespaces"] = names
                    side["cluster"].append(item)
        out[direction] = side
    return out


def _parse(obj: Mapping[str, Any]) -> engine.NetworkPolicy:
    """The engine's parsed form of a valid policy."""
    return engine.build_cluster([dict(obj)]).policies[0]


# --- what-if ----------------------------------------------------------------------------------


def _conn_entry(
    src: engine.Endpoint, dst: engine.Endpoint, conns: engine.ConnSet, change: str
) -> dict[str, Any]:
    return {
        "src": src.key,
        "dst": dst.key,
        "src_external": src.is_external,
        "dst_external": dst.is_external,
        "conns": conns.to_json(),
        "ports": str(conns),
        "change": change,
    }


def what_if(
    cluster: Cluster,
    objs: Sequence[Mapping[str, Any]],
    *,
    removals: Sequence[str] = (),
    limit: int = WHAT_IF_LIMIT,
) -> dict[str, Any]:
    """How workload reachability changes if `objs` were applied (each added, or
    replacing the live policy of the same namespace/name) and the live policies
    `removals` ("namespace/name") deleted.

    Raises DraftInvalid when a policy would be rejected by the API server, DraftError
    when a policy to delete is not in the cluster.
    """
    prepared = [prepare(o) for o in objs]
    errors = [e for o in prepared for e in validate(o)]
    if errors:
        raise DraftInvalid(errors)
    base = analysis.analyzer(cluster)
    missing = [key for key in removals if base.cluster.policy(key) is None]
    if missing:
        raise DraftError(f"no live policy {', '.join(missing)} in cluster {cluster.name} to delete")
    # One derivation for all of them (a later draft of the same name wins, as in order).
    changed = base.with_policies_changed(prepared, removals)
    before, changed = engine.on_common_families(base, changed)  # drafts may bring IPv6 ipBlocks
    old = analysis.base_reachability(cluster, "workload", "combined") if before is base else before.analyze()
    new = changed.analyze(level="workload", direction="combined")
    diff = engine.diff_reachability(old, new)
    allowed: list[dict[str, Any]] = [
        _conn_entry(c.src, c.dst, c.conns, "new pair") for c in diff.added
    ]
    denied: list[dict[str, Any]] = [
        _conn_entry(c.src, c.dst, c.conns, "pair gone") for c in diff.removed
    ]
    for c in diff.changed:
        src, dst = c.src_endpoint, c.dst_endpoint
        assert src is not None
        assert dst is not None
        more = c.new_conns - c.old_conns
        less = c.old_conns - c.new_conns
        if not more.is_empty:
            allowed.append(_conn_entry(src, dst, more, "more ports"))
        if not less.is_empty:
            denied.append(_conn_entry(src, dst, less, "fewer ports"))
    allowed.sort(key=lambda e: (e["src"], e["dst"]))
    denied.sort(key=lambda e: (e["src"], e["dst"]))

    policies = []
    for obj in prepared:
        meta = obj["metadata"]
        key = f"{meta['namespace']}/{meta['name']}"
        before = base.cluster.policy(key)
        selected = sorted({p.workload_key for p in changed.cluster.pods_selected_by(key)})
        same = before is not None and engine.normalize_policy(
            before.raw
        ) == engine.normalize_policy(obj)
        policies.append(
            {
                "key": key,
                "replaces_live": before is not None,
                "same_as_live": same,
                "selects": selected,
            }
        )
    removed = [
        {"key": key, "selects": sorted({p.workload_key for p in base.cluster.pods_selected_by(key)})}
        for key in removals
    ]
    isolation = _isolation_changes(old, new)
    return {
        "cluster": cluster.pk,
        "state_version": cluster.state_version,
        "policies": policies,
        "removals": removed,
        "counts": {
            "allowed": len(allowed),
            "denied": len(denied),
            "added_pairs": len(diff.added),
            "removed_pairs": len(diff.removed),
            "changed_pairs": len(diff.changed),
        },
        "is_empty": diff.is_empty,
        "allowed": allowed[:limit],
        "denied": denied[:limit],
        "truncated": len(allowed) > limit or len(denied) > limit,
        "isolation": isolation,
        "dns": _dns_losses(old, new),
        "text": diff.render_text(),
    }


def _isolation_changes(old: engine.Reachability, new: engine.Reachability) -> list[dict[str, Any]]:
    out = []
    for node in new.nodes:
        before = old.node(node.key)
        if node.is_external or before is None:
            continue
        if (before.ingress_isolated, before.egress_isolated) != (
            node.ingress_isolated,
            node.egress_isolated,
        ):
            out.append(
                {
                    "workload": node.key,
                    "ingress": [before.ingress_isolated, node.ingress_isolated],
                    "egress": [before.egress_isolated, node.egress_isolated],
                    "host_network": node.host_network,
                }
            )
    return out


def _dns_senders(reach: engine.Reachability) -> set[str]:
    # Address ranges are not workloads, and their keys change whenever an ipBlock cuts
    # the address space differently: only workloads can lose DNS.
    return {
        c.src.key
        for c in reach.connections
        if not c.src.is_external and c.conns.allows("UDP", 53)
    }


def _dns_losses(old: engine.Reachability, new: engine.Reachability) -> list[str]:
    """Workloads that could send DNS queries (UDP 53) somewhere before and cannot after."""
    return sorted(_dns_senders(old) - _dns_senders(new))


# --- label suggestions ------------------------------------------------------------------------

SUGGESTION_LIMIT = 200


def label_suggestions(cluster: Cluster) -> dict[str, dict[str, list[str]]]:
    """Label keys and values present in the cluster, for the form's datalists:
    {"pod": {key: [values]}, "namespace": {key: [values]}}."""
    key = f"draft-labels:{cluster.pk}:{cluster.state_version}"
    cached = cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    pod: dict[str, set[str]] = {}
    namespace: dict[str, set[str]] = {}

    def add(target: dict[str, set[str]], labels: Any) -> None:
        for k, v in (labels or {}).items():
            target.setdefault(str(k), set()).add(_text(v))

    for labels in Pod.objects.filter(cluster=cluster).values_list("labels", flat=True):
        add(pod, labels)
    for labels in Workload.objects.filter(cluster=cluster).values_list(
        "template_labels", flat=True
    ):
        add(pod, labels)
    for name, labels in Namespace.objects.filter(cluster=cluster).values_list("name", "labels"):
        add(namespace, labels)
        add(namespace, {"kubernetes.io/metadata.name": name})
    out = {
        "pod": {k: sorted(v)[:SUGGESTION_LIMIT] for k, v in sorted(pod.items())},
        "namespace": {k: sorted(v)[:SUGGESTION_LIMIT] for k, v in sorted(namespace.items())},
    }
    cache.set(key, out, timeout=3600)
    return out


def namespace_names(cluster: Cluster) -> list[str]:
    return list(
        Namespace.objects.filter(cluster=cluster).order_by("name").values_list("name", flat=True)
    )


# --- drafts: create, change, history ----------------------------------------------------------


def _actor(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None


def _key_of(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def change_summary(old: Mapping[str, Any] | None, new: Mapping[str, Any], *, limit: int = 6) -> str:
    """What changed between two versions of a policy, in field paths."""
    if old is None:
        return "created"
    paths = _differences(old, new)
    if not paths:
        return "no change to the policy"
    shown = []
    for path in paths[:limit]:
        before = _at(old, path)
        after = _at(new, path)
        if before is _MISSING:
            shown.append(f"added {path}")
        elif after is _MISSING:
            shown.append(f"removed {path}")
        else:
            shown.append(f"{path}: {_short(before)} → {_short(after)}")
    more = len(paths) - limit
    text = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
    return text[:1000]


_MISSING = object()
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _at(obj: Any, path: str) -> Any:
    cur = obj
    for name, index in _PATH_PART.findall(path):
        if index:
            if not isinstance(cur, list) or int(index) >= len(cur):
                return _MISSING
            cur = cur[int(index)]
        else:
            if not isinstance(cur, Mapping) or name not in cur:
                return _MISSING
            cur = cur[name]
    return cur


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _audit(
    actor: Any,
    cluster: Cluster | None,
    action: audit.Action,
    draft: PolicyDraft | None,
    summary: str,
    details: dict[str, Any] | None = None,
) -> None:
    audit.record(
        action,
        actor=actor,
        cluster=cluster,
        object_type="draft",
        object_id=draft.pk if draft is not None else "",
        summary=summary,
        details=details,
    )


def _check(obj: Mapping[str, Any]) -> dict[str, Any]:
    prepared = prepare(obj)
    errors = validate(prepared)
    if errors:
        raise DraftInvalid(errors)
    return prepared


def create_draft(
    cluster: Cluster, obj: Mapping[str, Any], *, actor: Any, note: str = "", origin: str = ""
) -> PolicyDraft:
    """Store a new draft; DraftInvalid if the API server would reject the policy,
    DraftConflict if the cluster already has a draft of that namespace/name."""
    prepared = _check(obj)
    namespace, name = _key_of(prepared)
    summary = "created" + (f" from {origin}" if origin else "") + (f": {note}" if note else "")
    try:
        with transaction.atomic():
            draft = PolicyDraft.objects.create(
                cluster=cluster,
                namespace=namespace,
                name=name,
                obj=prepared,
                created_by=_actor(actor),
                updated_by=_actor(actor),
            )
            DraftRevision.objects.create(
                draft=draft,
                number=1,
                author=_actor(actor),
                obj=prepared,
                status=draft.status,
                summary=summary[:1000],
            )
            _audit(
                actor,
                cluster,
                audit.Action.DRAFT_CREATED,
                draft,
                f"{namespace}/{name}: {summary}",
                {"revision": 1, "origin": origin},
            )
    except IntegrityError as exc:
        raise DraftConflict(
            f"cluster {cluster.name} already has a draft {namespace}/{name}: open it and edit it"
        ) from exc
    return draft


def update_draft(
    draft: PolicyDraft,
    obj: Mapping[str, Any],
    *,
    actor: Any,
    expected_revision: int | None = None,
    note: str = "",
) -> PolicyDraft:
    """Save a new version. Changing an approved draft's policy makes it a draft again:
    the approval was for the old content. A deletion draft is never edited."""
    if draft.action == PolicyDraft.Action.DELETE:
        raise DraftError(
            f"draft {draft.namespace}/{draft.name} deletes the live policy: it has no content to edit "
            "(delete the draft to keep the policy)"
        )
    prepared = _check(obj)
    namespace, name = _key_of(prepared)
    with transaction.atomic():
        current = PolicyDraft.objects.select_for_update().get(pk=draft.pk)
        if expected_revision is not None and expected_revision != current.revision:
            raise DraftConflict(
                f"draft {current.namespace}/{current.name} changed since you opened it "
                f"(now revision {current.revision}, you edited revision {expected_revision}): "
                "reload it and make your change again"
            )
        if prepared == current.obj:
            return current
        summary = change_summary(current.obj, prepared)
        if note:
            summary = f"{note} ({summary})"
        status_note = ""
        if current.status == PolicyDraft.Status.APPROVED:
            current.status = PolicyDraft.Status.DRAFT
            status_note = "; approval withdrawn: the policy changed"
        if (namespace, name) != (current.namespace, current.name):
            clash = PolicyDraft.objects.filter(
                cluster_id=current.cluster_id, namespace=namespace, name=name
            ).exclude(pk=current.pk)
            if clash.exists():
                raise DraftConflict(
                    f"cluster {current.cluster.name} already has a draft {namespace}/{name}"
                )
        current.namespace, current.name = namespace, name
        current.obj = prepared
        current.revision += 1
        current.updated_by = _actor(actor)
        current.save()
        DraftRevision.objects.create(
            draft=current,
            number=current.revision,
            author=_actor(actor),
            obj=prepared,
            status=current.status,
            summary=(summary + status_note)[:1000],
        )
        _audit(
            actor,
            current.cluster,
            audit.Action.DRAFT_UPDATED,
            current,
            f"{namespace}/{name} r{current.revision}: {summary}{status_note}",
            {"revision": current.revision},
        )
    return current


def set_status(
    draft: PolicyDraft, status: str, *, actor: Any, expected_revision: int | None = None
) -> PolicyDraft:
    if status not in PolicyDraft.Status.values:
        raise DraftError(f"status must be one of {', '.join(PolicyDraft.Status.values)}")
    with transaction.atomic():
        current = PolicyDraft.objects.select_for_update().get(pk=draft.pk)
        if expected_revision is not None and expected_revision != current.revision:
            raise DraftConflict(
                f"draft {current.namespace}/{current.name} changed since you opened it "
                f"(now revision {current.revision}): review it again before changing its status"
            )
        if current.status == status:
            return current
        old = current.status
        current.status = status
        current.revision += 1
        current.updated_by = _actor(actor)
        current.save()
        summary = f"status {old} → {status}"
        DraftRevision.objects.create(
            draft=current,
            number=current.revision,
            author=_actor(actor),
            obj=current.obj,
            status=status,
            summary=summary,
        )
        action = (
            audit.Action.DRAFT_APPROVED
            if status == PolicyDraft.Status.APPROVED
            else audit.Action.DRAFT_UNAPPROVED
        )
        _audit(
            actor,
            current.cluster,
            action,
            current,
            f"{current.namespace}/{current.name}: {summary}",
            {"revision": current.revision},
        )
    return current


def delete_draft(draft: PolicyDraft, *, actor: Any) -> None:
    with transaction.atomic():
        _audit(
            actor,
            draft.cluster,
            audit.Action.DRAFT_DELETED,
            draft,
            f"{draft.namespace}/{draft.name} deleted at revision {draft.revision}",
            {"revision": draft.revision, "policy": draft.obj},
        )
        draft.delete()


def restore_revision(draft: PolicyDraft, number: int, *, actor: Any) -> PolicyDraft:
    revision = draft.revisions.filter(number=number).first()
    if revision is None:
        raise DraftError(f"draft {draft.namespace}/{draft.name} has no revision {number}")
    return update_draft(draft, revision.obj, actor=actor, note=f"restored revision {number}")


def create_drafts(
    cluster: Cluster, objs: Sequence[Mapping[str, Any]], *, actor: Any, origin: str = ""
) -> list[PolicyDraft]:
    """Several drafts at once (an upload, the 3-tier template): all or none."""
    problems: list[engine.FieldError] = []
    seen: set[tuple[str, str]] = set()
    for obj in objs:
        prepared = prepare(obj)
        problems += validate(prepared)
        key = _key_of(prepared)
        if key in seen:
            problems.append(
                engine.FieldError("metadata.name", "appears twice in the input", _name(prepared))
            )
        seen.add(key)
    if problems:
        raise DraftInvalid(problems)
    with transaction.atomic():
        return [create_draft(cluster, obj, actor=actor, origin=origin) for obj in objs]


# --- export ------------------------------------------------------------------------------------


def export_yaml(drafts: Iterable[PolicyDraft]) -> str:
    """Multi-document YAML in canonical field order, ready for `kubectl apply -f`.

    Deletion drafts are not documents (applying the policy would keep it): each is a
    comment with the `kubectl delete` command that carries it out."""
    rows = sorted(drafts, key=lambda d: (d.namespace, d.name))
    deletions = [d for d in rows if d.action == PolicyDraft.Action.DELETE]
    head = "".join(
        f"# deletion draft (revision {d.revision}, {d.status}): "
        f"kubectl delete networkpolicy -n {d.namespace} {d.name}\n"
        for d in deletions
    )
    kept = [engine.clean_policy(d.obj) for d in rows if d.action != PolicyDraft.Action.DELETE]
    return head + (engine.dump_yaml(kept) if kept else "")


def export_filename(
    cluster: Cluster, drafts: Sequence[PolicyDraft], *, namespace: str = "", status: str = ""
) -> str:
    if len(drafts) == 1 and not namespace:
        return f"{drafts[0].namespace}-{drafts[0].name}.yaml"
    parts = [cluster.name] + ([namespace] if namespace else []) + ([status] if status else [])
    return "-".join(parts + ["networkpolicies"]) + ".yaml"


def drafts_for_export(
    cluster: Cluster, *, ids: Sequence[int] = (), namespace: str = "", status: str = ""
) -> list[PolicyDraft]:
    rows = PolicyDraft.objects.filter(cluster=cluster)
    if ids:
        rows = rows.filter(pk__in=ids)
    if namespace:
        rows = rows.filter(namespace=namespace)
    if status:
        rows = rows.filter(status=status)
    found = list(rows.order_by("namespace", "name"))
    if ids and len(found) != len(set(ids)):
        missing = sorted(set(ids) - {d.pk for d in found})
        raise DraftError(f"no draft {', '.join(map(str, missing))} in cluster {cluster.name}")
    return found


def record_export(
    actor: Any, cluster: Cluster, drafts: Sequence[PolicyDraft], filename: str
) -> None:
    _audit(
        actor,
        cluster,
        audit.Action.DRAFTS_EXPORTED,
        drafts[0] if len(drafts) == 1 else None,
        f"{len(drafts)} draft(s) exported as {filename}",
        {"drafts": [d.pk for d in drafts], "revisions": {str(d.pk): d.revision for d in drafts}},
    )


# --- clone, templates, live policies -----------------------------------------------------------


def clone_live(policy: NetworkPolicy) -> dict[str, Any]:
    """A live policy as the editor's starting point: server-managed fields gone."""
    return prepare(policy.obj)


def existing_draft(cluster: Cluster, obj: Mapping[str, Any]) -> PolicyDraft | None:
    namespace, name = _key_of(obj)
    return PolicyDraft.objects.filter(cluster=cluster, namespace=namespace, name=name).first()


# --- apply (admins, off unless NETPOLUI_ALLOW_APPLY) -------------------------------------------

DRY_RUN_VALID_SECONDS = 15 * 60


def apply_enabled() -> bool:
    return bool(getattr(settings, "NETPOLUI_ALLOW_APPLY", False))


def can_apply_to(cluster: Cluster) -> str | None:
    """Why apply is impossible for this cluster, or None."""
    if not apply_enabled():
        return "apply is turned off (set NETPOLUI_ALLOW_APPLY=true to allow admins to apply)"
    if cluster.source == Cluster.Source.MANIFESTS:
        return f"cluster {cluster.name} is a snapshot read from files: it has no API server to apply to"
    return None


def _connection(cluster: Cluster) -> Any:
    from ..k8s.client import ConnectionSettings

    return ConnectionSettings(
        source=cluster.source,
        kubeconfig_path=cluster.kubeconfig_path,
        context=cluster.context,
        server_url=cluster.server_url,
        token_file=cluster.token_file,
        ca_file=cluster.ca_file,
        insecure_skip_tls_verify=cluster.insecure_skip_tls_verify,
    )


def last_dry_run(draft: PolicyDraft, *, force: bool = False) -> AuditEvent | None:
    """The latest successful dry run of the draft's current revision, if still fresh,
    made with the same `force` (a dry run without force says nothing about taking over
    fields other managers own)."""
    since = timezone.now() - timedelta(seconds=DRY_RUN_VALID_SECONDS)
    events = audit.events_of("draft", draft.pk).filter(
        action=audit.Action.DRAFT_APPLY_DRY_RUN, at__gte=since
    ).order_by("-at", "-id")
    for event in events[:20]:
        if (
            event.details.get("ok")
            and event.details.get("revision") == draft.revision
            and bool(event.details.get("force", False)) == force
        ):
            return event
    return None


def apply_draft(
    draft: PolicyDraft, *, actor: Any, dry_run: bool, force: bool = False
) -> dict[str, Any]:
    """Server-side apply of an approved draft (field manager "netpolui").

    The real apply is refused unless a dry run of the same revision succeeded in the
    last 15 minutes: what the user saw is what gets applied. Returns the outcome,
    with the object as the server answered and the live object before.
    """
    from ..k8s.apply import ApplyError, apply_network_policy
    from ..k8s.client import ConnectionSettingsError, build_api_client

    why_not = can_apply_to(draft.cluster)
    if why_not:
        raise ApplyRefused(why_not)
    if draft.status != PolicyDraft.Status.APPROVED:
        raise ApplyRefused(
            f"draft {draft.namespace}/{draft.name} is not approved: approve it first"
        )
    if draft.action == PolicyDraft.Action.DELETE:
        raise ApplyRefused(
            f"draft {draft.namespace}/{draft.name} deletes a policy, which netpolui does not do itself: "
            f"run kubectl delete networkpolicy -n {draft.namespace} {draft.name}"
        )
    if not dry_run and last_dry_run(draft, force=force) is None:
        with_force = " with force" if force else ""
        raise ApplyRefused(
            f"run a dry run of draft {draft.namespace}/{draft.name} revision {draft.revision}{with_force} first"
        )
    obj = engine.clean_policy(draft.obj)
    action = audit.Action.DRAFT_APPLY_DRY_RUN if dry_run else audit.Action.DRAFT_APPLIED
    try:
        api_client = build_api_client(_connection(draft.cluster))
    except ConnectionSettingsError as exc:
        raise ApplyRefused(str(exc)) from exc
    try:
        result = apply_network_policy(api_client, obj, dry_run=dry_run, force=force)
    except ApplyError as exc:
        _audit(
            actor,
            draft.cluster,
            action,
            draft,
            f"{draft.namespace}/{draft.name} r{draft.revision}: failed: {exc}",
            {"revision": draft.revision, "ok": False, "error": str(exc), "force": force},
        )
        raise ApplyFailed(str(exc), status=exc.status, conflict=exc.conflict) from exc
    finally:
        api_client.close()
    outcome = result.to_dict()
    outcome["yaml"] = engine.dump_yaml([engine.clean_policy(result.obj)])
    outcome["before_yaml"] = (
        engine.dump_yaml([engine.clean_policy(result.before)]) if result.before else ""
    )
    _audit(
        actor,
        draft.cluster,
        action,
        draft,
        f"{draft.namespace}/{draft.name} r{draft.revision}: {result.verdict}"
        + (" (dry run)" if dry_run else ""),
        {"revision": draft.revision, "ok": True, "verdict": result.verdict, "force": force},
    )
    return outcome
