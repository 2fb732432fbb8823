"""Canonical forms of cluster-wide policies, for drift comparison and export.

``normalize_cluster_policy(obj) -> dict``: the semantic canonical form of a
ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy. Unlike a
NetworkPolicy, rule order is meaning (the first match decides), so rules keep their
order; inside a rule peers, networks and ports are sets and are sorted; selectors are
canonical (``{}`` selects all); ports get their default protocol (TCP); rule names are
kept (they name what explain shows); server-managed metadata is dropped. Two policies
are semantically equal iff their normal forms are equal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from .selectors import LabelSelector
from .tiers import CLUSTER_POLICY_KINDS, CNP, unknown_peer_fields


def _selector(raw: Any) -> dict[str, Any]:
    return LabelSelector.parse(raw if isinstance(raw, Mapping) else None).to_dict()


def _key(item: Any) -> str:
    return json.dumps(item, sort_keys=True)


def _peer(raw: Mapping[str, Any]) -> dict[str, Any]:
    if raw.get("namespaces") is not None:
        return {"namespaces": _selector(raw["namespaces"])}
    if raw.get("pods") is not None:
        pods = raw["pods"]
        return {
            "pods": {
                "namespaceSelector": _selector(pods.get("namespaceSelector")),
                "podSelector": _selector(pods.get("podSelector")),
            }
        }
    if raw.get("networks") is not None:
        return {"networks": sorted({str(n).strip() for n in raw["networks"]})}
    if raw.get("nodes") is not None:
        return {"nodes": _selector(raw["nodes"])}
    if raw.get("domainNames") is not None:
        return {"domainNames": sorted({str(d) for d in raw["domainNames"]})}
    return {k: raw[k] for k in unknown_peer_fields(raw)}  # kept as written: its meaning is not ours


def _port(raw: Mapping[str, Any], v1alpha2: bool) -> dict[str, Any]:
    if v1alpha2:
        return dict(raw)
    out: dict[str, Any] = {}
    for key in ("portNumber", "portRange"):
        if raw.get(key) is not None:
            entry = dict(raw[key])
            entry["protocol"] = entry.get("protocol") or "TCP"
            out[key] = entry
    if raw.get("namedPort") is not None:
        out["namedPort"] = raw["namedPort"]
    return out


def normalize_cluster_policy(obj: Mapping[str, Any]) -> dict[str, Any]:
    """Semantic canonical form of a cluster-wide policy (see module docstring)."""
    kind = str(obj.get("kind"))
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    v1alpha2 = kind == CNP
    out_spec: dict[str, Any] = {}
    if v1alpha2:
        out_spec["tier"] = spec.get("tier")
    if spec.get("priority") is not None:
        out_spec["priority"] = spec["priority"]
    out_spec["subject"] = _peer(spec.get("subject") or {})
    ports_key = "protocols" if v1alpha2 else "ports"
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        rules = []
        for rule in spec.get(direction) or []:
            out: dict[str, Any] = {"action": rule.get("action")}
            if rule.get("name"):
                out["name"] = rule["name"]
            peers = [_peer(p) for p in rule.get(peers_key) or [] if isinstance(p, Mapping)]
            out[peers_key] = sorted({_key(p): p for p in peers}.values(), key=_key)
            if rule.get(ports_key) is not None:
                ports = [_port(p, v1alpha2) for p in rule[ports_key] if isinstance(p, Mapping)]
                out[ports_key] = sorted({_key(p): p for p in ports}.values(), key=_key)
            rules.append(out)
        if rules:
            out_spec[direction] = rules
    return {
        "apiVersion": CLUSTER_POLICY_KINDS.get(kind, obj.get("apiVersion")),
        "kind": kind,
        "metadata": {"name": meta.get("name")},
        "spec": out_spec,
    }
