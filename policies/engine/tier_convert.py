"""v1alpha1 cluster-wide policies written again as v1alpha2 ClusterNetworkPolicies.

``to_cluster_network_policy(obj) -> Conversion``: an AdminNetworkPolicy becomes an
Admin tier ClusterNetworkPolicy with the same priority, a BaselineAdminNetworkPolicy a
Baseline tier one with priority 1000 (the last place a v1alpha2 priority can take, as the
BANP comes after every Baseline policy). Subject, rule order, rule names and peers
(``namespaces``, ``pods``, ``networks``, ``nodes``) keep their shape; ``Allow`` becomes
``Accept``; ``ports`` become ``protocols``: ``portNumber`` -> ``<proto>.destinationPort.number``,
``portRange`` -> ``<proto>.destinationPort.range``, ``namedPort`` ->
``destinationNamedPort``. What v1alpha2 cannot say is left out with a note (a peer kind
or port entry it does not know), never guessed. A ClusterNetworkPolicy is returned as
it is (a copy). Labels and annotations are kept; server-managed metadata is dropped.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .tiers import ANP, BANP, CNP, V1ALPHA2, unknown_peer_fields

BASELINE_PRIORITY = 1000
_PEER_KINDS = ("namespaces", "pods", "networks", "nodes")
_PROTOCOLS = {"TCP": "tcp", "UDP": "udp", "SCTP": "sctp"}


@dataclass
class Conversion:
    obj: dict[str, Any]
    notes: list[str] = field(default_factory=list)


def _port(entry: Mapping[str, Any], path: str, notes: list[str]) -> dict[str, Any] | None:
    if entry.get("namedPort") is not None:
        return {"destinationNamedPort": str(entry["namedPort"])}
    if isinstance(entry.get("portNumber"), Mapping):
        number = entry["portNumber"]
        proto = _PROTOCOLS.get(str(number.get("protocol") or "TCP").upper())
        if proto is None:
            notes.append(f"{path}.portNumber: protocol {number.get('protocol')!r} has no v1alpha2 form; left out")
            return None
        return {proto: {"destinationPort": {"number": number.get("port")}}}
    if isinstance(entry.get("portRange"), Mapping):
        rng = entry["portRange"]
        proto = _PROTOCOLS.get(str(rng.get("protocol") or "TCP").upper())
        if proto is None:
            notes.append(f"{path}.portRange: protocol {rng.get('protocol')!r} has no v1alpha2 form; left out")
            return None
        return {proto: {"destinationPort": {"range": {"start": rng.get("start"), "end": rng.get("end")}}}}
    notes.append(f"{path}: neither portNumber, portRange nor namedPort; left out")
    return None


def _peer(raw: Any, path: str, notes: list[str]) -> dict[str, Any] | None:
    if not isinstance(raw, Mapping):
        notes.append(f"{path}: not an object; left out")
        return None
    for kind in _PEER_KINDS:
        if raw.get(kind) is not None:
            return {kind: copy.deepcopy(raw[kind])}
    unknown = unknown_peer_fields(raw)
    if unknown:
        notes.append(f"{path}: {', '.join(unknown)} kept as written: netpolui does not read it, so the rule fails closed")
        return copy.deepcopy(dict(raw))
    notes.append(f"{path}: {', '.join(sorted(raw)) or 'an empty peer'} has no v1alpha2 form; left out")
    return None


def _rule(raw: Any, path: str, peers_key: str, notes: list[str]) -> dict[str, Any]:
    rule = raw if isinstance(raw, Mapping) else {}
    out: dict[str, Any] = {}
    if rule.get("name"):
        out["name"] = str(rule["name"])
    action = str(rule.get("action") or "")
    out["action"] = "Accept" if action == "Allow" else action
    peers = [
        p
        for j, raw_peer in enumerate(rule.get(peers_key) or [])
        if (p := _peer(raw_peer, f"{path}.{peers_key}[{j}]", notes)) is not None
    ]
    out[peers_key] = peers
    if rule.get("ports") is not None:
        out["protocols"] = [
            p
            for k, entry in enumerate(rule["ports"])
            if (p := _port(entry if isinstance(entry, Mapping) else {}, f"{path}.ports[{k}]", notes)) is not None
        ]
    return out


def to_cluster_network_policy(obj: Mapping[str, Any]) -> Conversion:
    """The v1alpha2 ClusterNetworkPolicy that means the same as `obj`, with notes on
    anything left out."""
    kind = obj.get("kind")
    meta_in = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    assert isinstance(meta_in, Mapping)
    meta: dict[str, Any] = {"name": str(meta_in.get("name") or "")}
    for key in ("labels", "annotations"):
        if isinstance(meta_in.get(key), Mapping) and meta_in[key]:
            meta[key] = dict(meta_in[key])
    spec_in = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
    assert isinstance(spec_in, Mapping)
    if kind == CNP:
        out = copy.deepcopy(dict(obj))
        out["metadata"] = meta
        out.pop("status", None)
        return Conversion(out)
    if kind not in (ANP, BANP):
        raise ValueError(f"{kind!r} is not an AdminNetworkPolicy or BaselineAdminNetworkPolicy")
    notes: list[str] = []
    spec: dict[str, Any] = {}
    if kind == ANP:
        spec["tier"] = "Admin"
        spec["priority"] = spec_in.get("priority")
    else:
        spec["tier"] = "Baseline"
        spec["priority"] = BASELINE_PRIORITY
        notes.append(
            f"a BaselineAdminNetworkPolicy has no priority and comes after every Baseline policy: priority {BASELINE_PRIORITY}, the last"
        )
    subject = spec_in.get("subject")
    spec["subject"] = copy.deepcopy(dict(subject)) if isinstance(subject, Mapping) else {}
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        rules = spec_in.get(direction)
        if rules:
            spec[direction] = [
                _rule(r, f"spec.{direction}[{i}]", peers_key, notes) for i, r in enumerate(rules)
            ]
    if any(r.get("action") == "Allow" for d in ("ingress", "egress") for r in spec_in.get(d) or [] if isinstance(r, Mapping)):
        notes.append("Allow is written Accept in v1alpha2")
    return Conversion({"apiVersion": V1ALPHA2, "kind": CNP, "metadata": meta, "spec": spec}, notes)
