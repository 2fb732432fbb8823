"""NetworkPolicy validation, as the Kubernetes API server does it.

``validate_network_policy(obj)`` returns every problem found in a networking.k8s.io/v1
NetworkPolicy dict as ``FieldError`` values. The editor shows ``error.message`` next to
the field at ``error.path``; ``str(error)`` is the full sentence for logs and the CLI:
``NetworkPolicy team-a/web: spec.ingress[0].ports[1].endPort 70 is below port 80``.

What is checked (mirroring k8s.io/kubernetes pkg/apis/networking/validation):
metadata.name (DNS-1123 subdomain) and namespace (DNS-1123 label); label selectors
(keys are qualified names, values valid label values, known operators, In/NotIn need
values, Exists/DoesNotExist take none); policyTypes values; peers (at least one kind,
ipBlock alone); ipBlock cidr and excepts (valid CIDR, same family, strictly inside cidr);
ports (protocol TCP/UDP/SCTP, numeric port 1..65535 or an IANA_SVC_NAME, endPort only
with a numeric port, endPort >= port and <= 65535). Shapes are checked too, so a
malformed dict yields errors instead of exceptions.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .ipranges import parse_cidr
from .selectors import (
    OPERATORS,
    dns1123_label_error,
    dns1123_subdomain_error,
    label_key_error,
    label_value_error,
)

PROTOCOL_NAMES = ("TCP", "UDP", "SCTP")
POLICY_TYPES = ("Ingress", "Egress")

_SVC_NAME_CHARS = re.compile(r"^[a-z0-9-]+$")
_HAS_LETTER = re.compile(r"[a-z]")


@dataclass(frozen=True, slots=True)
class FieldError:
    """One problem with one field of an object.

    ``path`` is the field path (``spec.ingress[0].ports[1].endPort``), ``message`` the
    reason, written to follow the path (``70 is below port 80``), ``obj`` names the
    object (``NetworkPolicy team-a/web``).
    """

    path: str
    message: str
    obj: str = ""

    def __str__(self) -> str:
        text = f"{self.path} {self.message}" if self.path else self.message
        return f"{self.obj}: {text}" if self.obj else text


def policy_display_name(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    meta = meta if isinstance(meta, Mapping) else {}
    ns = meta.get("namespace") or "default"
    return f"NetworkPolicy {ns}/{meta.get('name') or '<unnamed>'}"


def iana_svc_name_error(name: str) -> str | None:
    """Why `name` is not an IANA_SVC_NAME (a named container port), or None."""
    if not 1 <= len(name) <= 15:
        return "must be 1 to 15 characters long"
    if not _SVC_NAME_CHARS.match(name):
        return "must contain only lower case letters, digits and '-'"
    if not _HAS_LETTER.search(name):
        return "must contain at least one letter"
    if name.startswith("-") or name.endswith("-"):
        return "must not begin or end with '-'"
    if "--" in name:
        return "must not contain '--'"
    return None


class _Collector:
    def __init__(self, obj_name: str) -> None:
        self.obj = obj_name
        self.errors: list[FieldError] = []

    def add(self, path: str, message: str) -> None:
        self.errors.append(FieldError(path, message, self.obj))


def _q(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value)


def validate_network_policy(obj: Mapping[str, Any]) -> list[FieldError]:
    """Every error the API server would report for this NetworkPolicy (empty: valid)."""
    c = _Collector(policy_display_name(obj))
    if not isinstance(obj, Mapping):
        c.add("", "is not an object")
        return c.errors
    _validate_metadata(c, obj)
    _validate_spec(c, obj.get("spec"))
    return c.errors


def network_policy_metadata_errors(obj: Mapping[str, Any]) -> list[FieldError]:
    """The errors of validate_network_policy(obj) in its metadata, for an object."""
    c = _Collector(policy_display_name(obj))
    _validate_metadata(c, obj)
    return c.errors


def network_policy_spec_errors(spec: object) -> list[tuple[str, str]]:
    """(path, message) of each error validate_network_policy finds in `spec`, after
    those of the metadata: what depends on the spec alone, so that build_cluster checks
    each distinct spec once (policies stamped into every namespace repeat theirs)."""
    c = _Collector("")
    _validate_spec(c, spec)
    return [(e.path, e.message) for e in c.errors]


def _validate_metadata(c: _Collector, obj: Mapping[str, Any]) -> None:
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping):
        c.add("metadata", "is required")
    else:
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            c.add("metadata.name", "is required")
        else:
            err = dns1123_subdomain_error(name)
            if err:
                c.add("metadata.name", f"{_q(name)} {err}")
        ns = meta.get("namespace")
        if ns is not None:
            if not isinstance(ns, str):
                c.add("metadata.namespace", f"{_q(ns)} must be a string")
            elif ns:
                err = dns1123_label_error(ns)
                if err:
                    c.add("metadata.namespace", f"{_q(ns)} {err}")
        _validate_labels_map(c, meta.get("labels"), "metadata.labels")


def _validate_spec(c: _Collector, spec: object) -> None:
    if spec is None:
        c.add("spec", "is required")
        return
    if not isinstance(spec, Mapping):
        c.add("spec", "must be an object")
        return
    if "podSelector" not in spec:
        c.add("spec.podSelector", "is required (use {} to select every pod in the namespace)")
    else:
        _validate_selector(c, spec.get("podSelector"), "spec.podSelector")
    types = spec.get("policyTypes")
    if types is not None:
        if not isinstance(types, list):
            c.add("spec.policyTypes", "must be a list")
        else:
            if len(types) > 2:
                c.add("spec.policyTypes", "may not have more than 2 entries")
            seen: set[str] = set()
            for i, t in enumerate(types):
                if t not in POLICY_TYPES:
                    c.add(
                        f"spec.policyTypes[{i}]",
                        f"{_q(t)} is not a policy type: use Ingress or Egress",
                    )
                elif t in seen:
                    c.add(f"spec.policyTypes[{i}]", f"{_q(t)} is listed twice")
                else:
                    seen.add(t)
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        if rules is None:
            continue
        if not isinstance(rules, list):
            c.add(f"spec.{direction}", "must be a list of rules")
            continue
        for i, rule in enumerate(rules):
            rpath = f"spec.{direction}[{i}]"
            if rule is None:
                continue
            if not isinstance(rule, Mapping):
                c.add(rpath, "must be an object")
                continue
            unknown = set(rule) - {peers_key, "ports"}
            for key in sorted(unknown):
                wrong = "from" if peers_key == "to" else "to"
                hint = f" (an {direction} rule uses {peers_key!r})" if key == wrong else ""
                c.add(f"{rpath}.{key}", f"is not a field of an {direction} rule{hint}")
            _validate_ports(c, rule.get("ports"), f"{rpath}.ports")
            _validate_peers(c, rule.get(peers_key), f"{rpath}.{peers_key}")
    return


def _validate_labels_map(c: _Collector, labels: object, path: str) -> None:
    if labels is None:
        return
    if not isinstance(labels, Mapping):
        c.add(path, "must be a map of label keys to values")
        return
    for k, v in labels.items():
        if not isinstance(k, str):
            c.add(path, f"key {_q(k)} must be a string")
            continue
        err = label_key_error(k)
        if err:
            c.add(f"{path}", f"key {_q(k)} {err}")
        if not isinstance(v, str):
            c.add(f"{path}.{k}", f"value {_q(v)} must be a string (quote it in YAML)")
            continue
        err = label_value_error(v)
        if err:
            c.add(f"{path}.{k}", f"value {_q(v)} {err}")


def _validate_selector(c: _Collector, sel: object, path: str) -> None:
    if sel is None:
        return
    if not isinstance(sel, Mapping):
        c.add(path, "must be a label selector object")
        return
    for key in sorted(set(sel) - {"matchLabels", "matchExpressions"}):
        c.add(
            f"{path}.{key}",
            "is not a field of a label selector (use matchLabels or matchExpressions)",
        )
    _validate_labels_map(c, sel.get("matchLabels"), f"{path}.matchLabels")
    exprs = sel.get("matchExpressions")
    if exprs is None:
        return
    if not isinstance(exprs, list):
        c.add(f"{path}.matchExpressions", "must be a list")
        return
    for i, e in enumerate(exprs):
        epath = f"{path}.matchExpressions[{i}]"
        if not isinstance(e, Mapping):
            c.add(epath, "must be an object with key, operator and values")
            continue
        key = e.get("key")
        if not isinstance(key, str) or not key:
            c.add(f"{epath}.key", "is required")
        else:
            err = label_key_error(key)
            if err:
                c.add(f"{epath}.key", f"{_q(key)} {err}")
        op = e.get("operator")
        values = e.get("values")
        if values is not None and not isinstance(values, list):
            c.add(f"{epath}.values", "must be a list")
            values = None
        if op not in OPERATORS:
            c.add(
                f"{epath}.operator",
                f"{_q(op)} is not a valid operator: use In, NotIn, Exists or DoesNotExist",
            )
        elif op in ("In", "NotIn") and not values:
            c.add(f"{epath}.values", f"must be non-empty when operator is {op}")
        elif op in ("Exists", "DoesNotExist") and values:
            c.add(f"{epath}.values", f"must be empty when operator is {op}")
        for j, v in enumerate(values or []):
            if not isinstance(v, str):
                c.add(f"{epath}.values[{j}]", f"{_q(v)} must be a string (quote it in YAML)")
                continue
            err = label_value_error(v)
            if err:
                c.add(f"{epath}.values[{j}]", f"{_q(v)} {err}")


def _validate_ports(c: _Collector, ports: object, path: str) -> None:
    if ports is None:
        return
    if not isinstance(ports, list):
        c.add(path, "must be a list")
        return
    for i, p in enumerate(ports):
        ppath = f"{path}[{i}]"
        if p is None:
            continue
        if not isinstance(p, Mapping):
            c.add(ppath, "must be an object with protocol, port and endPort")
            continue
        for key in sorted(set(p) - {"protocol", "port", "endPort"}):
            c.add(f"{ppath}.{key}", "is not a field of a port (use protocol, port, endPort)")
        proto = p.get("protocol")
        if proto is not None and proto not in PROTOCOL_NAMES:
            c.add(f"{ppath}.protocol", f"{_q(proto)} is not supported: use TCP, UDP or SCTP")
        port = p.get("port")
        end = p.get("endPort")
        numeric: int | None = None
        if port is not None:
            if isinstance(port, bool):
                c.add(f"{ppath}.port", f"{_q(port)} must be a number or a port name")
            elif isinstance(port, int):
                if not 1 <= port <= 65535:
                    c.add(f"{ppath}.port", f"{port} must be between 1 and 65535")
                else:
                    numeric = port
            elif isinstance(port, str):
                err = iana_svc_name_error(port)
                if err:
                    c.add(f"{ppath}.port", f"{_q(port)} is not a valid port name: it {err}")
            else:
                c.add(f"{ppath}.port", f"{_q(port)} must be a number or a port name")
        if end is not None:
            if isinstance(end, bool) or not isinstance(end, int):
                c.add(f"{ppath}.endPort", f"{_q(end)} must be a number")
            elif port is None:
                c.add(f"{ppath}.endPort", "may not be set when port is not set")
            elif isinstance(port, str):
                c.add(f"{ppath}.endPort", f"may not be set when port is the named port {_q(port)}")
            elif not 1 <= end <= 65535:
                c.add(f"{ppath}.endPort", f"{end} must be between 1 and 65535")
            elif numeric is not None and end < numeric:
                c.add(f"{ppath}.endPort", f"{end} is below port {numeric}")


def _validate_peers(c: _Collector, peers: object, path: str) -> None:
    if peers is None:
        return
    if not isinstance(peers, list):
        c.add(path, "must be a list of peers")
        return
    for i, peer in enumerate(peers):
        ppath = f"{path}[{i}]"
        if not isinstance(peer, Mapping):
            c.add(ppath, "must be an object with podSelector, namespaceSelector or ipBlock")
            continue
        for key in sorted(set(peer) - {"podSelector", "namespaceSelector", "ipBlock"}):
            c.add(
                f"{ppath}.{key}",
                "is not a field of a peer (use podSelector, namespaceSelector or ipBlock)",
            )
        kinds = [
            k for k in ("podSelector", "namespaceSelector", "ipBlock") if peer.get(k) is not None
        ]
        if not kinds:
            c.add(ppath, "must specify podSelector, namespaceSelector or ipBlock")
        elif "ipBlock" in kinds and len(kinds) > 1:
            c.add(ppath, "may not combine ipBlock with podSelector or namespaceSelector")
        _validate_selector(c, peer.get("podSelector"), f"{ppath}.podSelector")
        _validate_selector(c, peer.get("namespaceSelector"), f"{ppath}.namespaceSelector")
        if peer.get("ipBlock") is not None:
            _validate_ip_block(c, peer["ipBlock"], f"{ppath}.ipBlock")


def _validate_ip_block(c: _Collector, block: object, path: str) -> None:
    if not isinstance(block, Mapping):
        c.add(path, "must be an object with cidr and except")
        return
    for key in sorted(set(block) - {"cidr", "except"}):
        c.add(f"{path}.{key}", "is not a field of an ipBlock (use cidr and except)")
    cidr = block.get("cidr")
    net = None
    if cidr is None or cidr == "":
        c.add(f"{path}.cidr", "is required")
    elif not isinstance(cidr, str):
        c.add(f"{path}.cidr", f"{_q(cidr)} must be a string")
    else:
        try:
            net = parse_cidr(cidr)
        except ValueError:
            c.add(
                f"{path}.cidr", f"{_q(cidr)} is not a valid CIDR (e.g. 10.0.0.0/8 or 2001:db8::/64)"
            )
    excepts = block.get("except")
    if excepts is None:
        return
    if not isinstance(excepts, list):
        c.add(f"{path}.except", "must be a list of CIDRs")
        return
    for j, e in enumerate(excepts):
        epath = f"{path}.except[{j}]"
        if not isinstance(e, str):
            c.add(epath, f"{_q(e)} must be a string")
            continue
        try:
            enet = parse_cidr(e)
        except ValueError:
            c.add(epath, f"{_q(e)} is not a valid CIDR")
            continue
        if net is None:
            continue
        if enet.version != net.version:
            c.add(epath, f"{_q(e)} is IPv{enet.version} but cidr {_q(cidr)} is IPv{net.version}")
        elif not (enet.subnet_of(net) and enet.prefixlen > net.prefixlen):  # type: ignore[arg-type]
            c.add(epath, f"{_q(e)} must be strictly inside cidr {_q(cidr)}")
