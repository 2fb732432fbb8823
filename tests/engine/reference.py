"""A deliberately naive reference evaluator of NetworkPolicy semantics.

It answers one question at a time -- may this source open this destination on this
protocol and port? -- straight from the raw dicts and docs/semantics.md, with its own
selector, ipBlock and defaulting code. It shares nothing with the engine's fast path, so
the property tests comparing the two can catch errors in either.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RefPod:
    namespace: str
    labels: dict[str, str]
    ports: list[dict[str, Any]]  # container ports: name, protocol, containerPort


@dataclass(frozen=True)
class RefAddress:
    address: str


def _selector_matches(sel: dict[str, Any], labels: dict[str, str]) -> bool:
    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        key, op, values = e["key"], e["operator"], e.get("values") or []
        if op == "In" and not (key in labels and labels[key] in values):
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def _policy_types(spec: dict[str, Any]) -> list[str]:
    if spec.get("policyTypes"):
        return list(spec["policyTypes"])
    types = ["Ingress"]
    if spec.get("egress") is not None and len(spec["egress"]) != 0:
        types.append("Egress")
    return types


def _ns_labels(namespaces: dict[str, dict[str, str]], ns: str) -> dict[str, str]:
    labels = dict(namespaces.get(ns, {}))
    labels["kubernetes.io/metadata.name"] = ns
    return labels


def _peer_matches(
    peer: dict[str, Any],
    policy_ns: str,
    other: RefPod | RefAddress,
    namespaces: dict[str, dict[str, str]],
) -> bool:
    if "ipBlock" in peer and peer["ipBlock"] is not None:
        if not isinstance(other, RefAddress):
            return False  # pod IPs are never matched by ipBlocks
        addr = ipaddress.ip_address(other.address)
        net = ipaddress.ip_network(peer["ipBlock"]["cidr"], strict=False)
        if addr.version != net.version or addr not in net:
            return False
        for e in peer["ipBlock"].get("except") or []:
            en = ipaddress.ip_network(e, strict=False)
            if en.version == addr.version and addr in en:
                return False
        return True
    if isinstance(other, RefAddress):
        return False
    ns_sel = peer.get("namespaceSelector")
    pod_sel = peer.get("podSelector")
    if ns_sel is None:
        if other.namespace != policy_ns:
            return False
    elif not _selector_matches(ns_sel, _ns_labels(namespaces, other.namespace)):
        return False
    return pod_sel is None or _selector_matches(pod_sel, other.labels)


def _port_matches(
    entry: dict[str, Any], protocol: str, port: int, dst: RefPod | RefAddress
) -> bool:
    if (entry.get("protocol") or "TCP") != protocol:
        return False
    p = entry.get("port")
    if p is None:
        return True
    if isinstance(p, str):
        if isinstance(dst, RefAddress):
            return False  # a named port to an address outside the cluster matches nothing
        return any(
            cp.get("name") == p
            and (cp.get("protocol") or "TCP") == protocol
            and cp["containerPort"] == port
            for cp in dst.ports
        )
    end = entry.get("endPort") or p
    return p <= port <= end


def _direction_allows(
    direction: str,
    subject: RefPod,
    other: RefPod | RefAddress,
    dst: RefPod | RefAddress,
    protocol: str,
    port: int,
    policies: list[dict[str, Any]],
    namespaces: dict[str, dict[str, str]],
) -> bool:
    peers_key = "from" if direction == "Ingress" else "to"
    rules_key = direction.lower()
    isolated = False
    for pol in policies:
        ns = pol["metadata"].get("namespace") or "default"
        spec = pol["spec"]
        if ns != subject.namespace or not _selector_matches(
            spec.get("podSelector") or {}, subject.labels
        ):
            continue
        if direction not in _policy_types(spec):
            continue
        isolated = True
        for rule in spec.get(rules_key) or []:
            rule = rule or {}
            peers = rule.get(peers_key) or []
            if peers and not any(_peer_matches(p, ns, other, namespaces) for p in peers):
                continue
            ports = rule.get("ports") or []
            if ports and not any(_port_matches(e, protocol, port, dst) for e in ports):
                continue
            return True
    return not isolated


def allowed(
    src: RefPod | RefAddress,
    dst: RefPod | RefAddress,
    protocol: str,
    port: int,
    policies: list[dict[str, Any]],
    namespaces: dict[str, dict[str, str]],
    direction: str = "combined",
) -> bool:
    """May src open dst on protocol/port? Egress of src AND ingress of dst; with
    direction "ingress" or "egress", what that direction's policies alone allow."""
    egress_ok = (
        direction == "ingress"
        or isinstance(src, RefAddress)
        or _direction_allows("Egress", src, dst, dst, protocol, port, policies, namespaces)
    )
    ingress_ok = (
        direction == "egress"
        or isinstance(dst, RefAddress)
        or _direction_allows("Ingress", dst, src, dst, protocol, port, policies, namespaces)
    )
    return egress_ok and ingress_ok


def isolated(direction: str, subject: RefPod, policies: list[dict[str, Any]]) -> bool:
    """Does any policy of the pod's namespace select it with `direction` in its types?"""
    return any(
        (pol["metadata"].get("namespace") or "default") == subject.namespace
        and _selector_matches(pol["spec"].get("podSelector") or {}, subject.labels)
        and direction in _policy_types(pol["spec"])
        for pol in policies
    )
