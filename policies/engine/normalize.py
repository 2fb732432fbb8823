"""Canonical forms of NetworkPolicies: for drift comparison and for export.

- ``normalize_policy(obj) -> dict``: the semantic canonical form. Defaults applied
  (policyTypes per the API server's defaulting, protocol TCP), rules of a direction not
  in policyTypes dropped, empty and missing lists unified where the semantics are the
  same, selectors canonicalised (``{}`` for select-all, sorted expressions and values),
  peers, ports and rules sorted as the sets they are, server-managed metadata dropped.
  Two policies are semantically equal iff their normal forms are equal.
- ``clean_policy(obj) -> dict``: the object without server-managed fields (uid,
  resourceVersion, generation, creationTimestamp, managedFields, selfLink, status, the
  last-applied annotation), keeping name, namespace, labels, other annotations, spec.
- ``dump_yaml(objs) -> str``: multi-document YAML in the field order people write
  (apiVersion, kind, metadata, spec; from/to before ports; cidr before except; protocol,
  port, endPort), ready for ``kubectl apply``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import yaml

from .model import effective_policy_types
from .selectors import LabelSelector

LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
_DROP_META = (
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "managedFields",
    "selfLink",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "ownerReferences",
)


def _selector(raw: Any) -> dict[str, Any]:
    return LabelSelector.parse(raw if isinstance(raw, Mapping) else None).to_dict()


def _sort_key(item: Any) -> str:
    return json.dumps(item, sort_keys=True)


def _normal_peer(peer: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if peer.get("podSelector") is not None:
        out["podSelector"] = _selector(peer["podSelector"])
        # With a namespaceSelector, `podSelector: {}` adds nothing: every pod there.
        if not out["podSelector"] and peer.get("namespaceSelector") is not None:
            del out["podSelector"]
    if peer.get("namespaceSelector") is not None:
        out["namespaceSelector"] = _selector(peer["namespaceSelector"])
    if peer.get("ipBlock") is not None:
        ib = peer["ipBlock"]
        block: dict[str, Any] = {"cidr": str(ib.get("cidr", "")).strip()}
        excepts = sorted({str(e).strip() for e in ib.get("except") or []})
        if excepts:
            block["except"] = excepts
        out["ipBlock"] = block
    return out


def _normal_port(port: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"protocol": port.get("protocol") or "TCP"}
    if port.get("port") is not None:
        out["port"] = port["port"]
        end = port.get("endPort")
        # endPort equal to port is the same single port.
        if end is not None and end != port["port"]:
            out["endPort"] = end
    return out


def _normal_rule(rule: Mapping[str, Any] | None, peers_key: str) -> dict[str, Any]:
    rule = rule or {}
    peers = [_normal_peer(p) for p in rule.get(peers_key) or [] if isinstance(p, Mapping)]
    ports = [_normal_port(p) for p in rule.get("ports") or [] if isinstance(p, Mapping)]
    out: dict[str, Any] = {}
    # An empty peer list means every peer, like a missing one; a port entry without
    # port number covering a protocol absorbs the numbered entries of that protocol.
    whole = {p["protocol"] for p in ports if "port" not in p}
    ports = [p for p in ports if "port" not in p or p["protocol"] not in whole]
    if peers:
        out[peers_key] = sorted({_sort_key(p): p for p in peers}.values(), key=_sort_key)
    if ports:
        out["ports"] = sorted({_sort_key(p): p for p in ports}.values(), key=_sort_key)
    return out


def normalize_policy(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Semantic canonical form of a NetworkPolicy (see module docstring)."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    types = effective_policy_types(spec)
    out_spec: dict[str, Any] = {
        "podSelector": _selector(spec.get("podSelector")),
        "policyTypes": list(types),
    }
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        if direction.capitalize() not in types:
            continue
        rules = [_normal_rule(r, peers_key) for r in spec.get(direction) or []]
        # A rule with every peer and every port allows everything: nothing else matters.
        if any(not r for r in rules):
            rules = [{}]
        out_spec[direction] = sorted({_sort_key(r): r for r in rules}.values(), key=_sort_key)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": meta.get("name"), "namespace": meta.get("namespace") or "default"},
        "spec": out_spec,
    }


def clean_policy(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The policy without server-managed fields, ready to store or re-apply."""
    # Malformed input (as a watch of a CRD without validation may hold) is kept as written
    # where it cannot be cleaned: metadata, labels or annotations that are not mappings are
    # left out, a spec that is not a mapping is kept for the reader to see.
    raw_meta = obj.get("metadata")
    meta = dict(raw_meta) if isinstance(raw_meta, Mapping) else {}
    for key in _DROP_META:
        meta.pop(key, None)
    raw_annotations = meta.get("annotations")
    annotations = {
        k: v for k, v in (raw_annotations.items() if isinstance(raw_annotations, Mapping) else ()) if k != LAST_APPLIED
    }
    out_meta: dict[str, Any] = {"name": meta.get("name")}
    if meta.get("namespace"):
        out_meta["namespace"] = meta["namespace"]
    if meta.get("labels") and isinstance(meta["labels"], Mapping):
        out_meta["labels"] = dict(meta["labels"])
    if annotations:
        out_meta["annotations"] = annotations
    return {
        "apiVersion": obj.get("apiVersion") or "networking.k8s.io/v1",
        "kind": obj.get("kind") or "NetworkPolicy",
        "metadata": out_meta,
        "spec": dict(spec) if isinstance(spec := obj.get("spec") or {}, Mapping) else spec,
    }


_ORDER = {
    "": ["apiVersion", "kind", "metadata", "spec"],
    "metadata": ["name", "namespace", "labels", "annotations"],
    # tier, priority and subject are the cluster-wide kinds' (absent from NetworkPolicies)
    "spec": ["tier", "priority", "subject", "podSelector", "policyTypes", "ingress", "egress"],
    "rule": ["name", "action", "from", "to", "protocols", "ports"],
    "peer": ["podSelector", "namespaceSelector", "ipBlock"],
    "ipBlock": ["cidr", "except"],
    "port": ["protocol", "port", "endPort"],
    "selector": ["matchLabels", "matchExpressions"],
    "expression": ["key", "operator", "values"],
}


def _ordered(value: Any, kind: str) -> Any:
    if isinstance(value, list):
        child = {
            "ingress": "rule",
            "egress": "rule",
            "from": "peer",
            "to": "peer",
            "ports": "port",
            "matchExpressions": "expression",
        }.get(kind, "")
        return [_ordered(v, child) for v in value]
    if not isinstance(value, Mapping):
        return value
    order = _ORDER.get(kind, [])
    keys = [k for k in order if k in value] + sorted(k for k in value if k not in order)
    out = {}
    for k in keys:
        if (
            kind
            in ("", "metadata", "spec", "rule", "peer", "ipBlock", "port", "selector", "expression")
            or k in order
        ):
            child = {
                "metadata": "metadata",
                "spec": "spec",
                "ingress": "ingress",
                "egress": "egress",
                "from": "from",
                "to": "to",
                "ports": "ports",
                "ipBlock": "ipBlock",
                "podSelector": "selector",
                "namespaceSelector": "selector",
                "matchExpressions": "matchExpressions",
            }.get(k, "other")
            if kind == "metadata" and k in ("labels", "annotations"):
                child = "other"
            out[k] = _ordered(value[k], child)
        else:
            out[k] = value[k]
    return out


class _Dumper(yaml.SafeDumper):
    pass


def _no_sort_dict(dumper: yaml.SafeDumper, data: dict[Any, Any]) -> yaml.Node:
    return dumper.represent_mapping("tag:yaml.org,2002:map", data.items())


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(dict, _no_sort_dict)
_Dumper.add_representer(str, _str)


def dump_yaml(objs: Sequence[Mapping[str, Any]]) -> str:
    """Multi-document YAML with canonical field order, ready for kubectl apply."""
    docs = [_ordered(o, "") for o in objs]
    return yaml.dump_all(
        docs, Dumper=_Dumper, default_flow_style=False, sort_keys=False, explicit_start=True
    )
