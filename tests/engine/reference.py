"""A deliberately naive reference evaluator of NetworkPolicy semantics, and of the
cluster-wide tiers around them (``tiered_allowed``).

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
    host_network: bool = False


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


# -- cluster-wide tiers ----------------------------------------------------------------------
# From the API types' documentation (kubernetes-sigs/network-policy-api): "Policy tiers
# are evaluated in the following order: Admin tier, NetworkPolicy tier, Baseline tier";
# "Policies with lower priority values have higher precedence"; rules "in the order in
# which the rule is written"; "Pass: Skips all further ClusterNetworkPolicy rules in the
# current tier"; "v1.NetworkPolicy always makes a final decision for selected pods";
# "If a given connection wasn't allowed or denied by any of the tiers ... all pods can
# communicate with each other"; "host-networked pods are not included in subject
# selection" nor in namespaces/pods peers.

_KIND_RANK = {"ClusterNetworkPolicy": 0, "AdminNetworkPolicy": 1, "BaselineAdminNetworkPolicy": 2}


def _tier_of(obj: dict[str, Any]) -> str:
    if obj["kind"] == "ClusterNetworkPolicy":
        return str(obj["spec"]["tier"])
    return "Admin" if obj["kind"] == "AdminNetworkPolicy" else "Baseline"


def _order(obj: dict[str, Any]) -> tuple[int, int, int, str]:
    prio = obj["spec"].get("priority")
    return (
        0 if _tier_of(obj) == "Admin" else 2,
        1001 if prio is None else prio,
        _KIND_RANK[obj["kind"]],
        obj["metadata"]["name"],
    )


def _selects_pod(
    sel_peer: dict[str, Any], pod: RefPod, namespaces: dict[str, dict[str, str]]
) -> bool:
    if pod.host_network:
        return False
    ns_labels = _ns_labels(namespaces, pod.namespace)
    if sel_peer.get("namespaces") is not None:
        return _selector_matches(sel_peer["namespaces"], ns_labels)
    if sel_peer.get("pods") is not None:
        pods = sel_peer["pods"]
        return _selector_matches(
            pods.get("namespaceSelector") or {}, ns_labels
        ) and _selector_matches(pods.get("podSelector") or {}, pod.labels)
    return False


def _in_cidr(address: str, cidr: str) -> bool:
    addr = ipaddress.ip_address(address)
    net = ipaddress.ip_network(cidr, strict=False)
    return addr.version == net.version and addr in net


def _tier_peer_matches(
    peer: dict[str, Any],
    other: RefPod | RefAddress,
    namespaces: dict[str, dict[str, str]],
    nodes: list[dict[str, Any]],
) -> bool:
    if isinstance(other, RefPod):
        if peer.get("networks") is not None:
            # Cluster-internal traffic is checked against networks too: 0.0.0.0/0 names
            # every (IPv4: these pods have no known IP, taken as IPv4) pod, host-network
            # ones included (their address is their node's).
            return any(
                ipaddress.ip_network(n, strict=False).prefixlen == 0
                and ipaddress.ip_network(n, strict=False).version == 4
                for n in peer["networks"]
            )
        return _selects_pod(peer, other, namespaces)
    if peer.get("networks") is not None:
        return any(_in_cidr(other.address, n) for n in peer["networks"])
    if peer.get("nodes") is not None:
        for n in nodes:
            labels = dict(n["metadata"].get("labels") or {})
            labels.setdefault("kubernetes.io/hostname", n["metadata"]["name"])
            if _selector_matches(peer["nodes"], labels) and any(
                ipaddress.ip_address(a["address"]) == ipaddress.ip_address(other.address)
                for a in n["status"]["addresses"]
            ):
                return True
    return False


def _named(dst: RefPod | RefAddress, name: str, protocol: str, port: int) -> bool:
    # A named port is the destination container port of that name, with its protocol.
    return isinstance(dst, RefPod) and any(
        cp.get("name") == name
        and (cp.get("protocol") or "TCP") == protocol
        and cp["containerPort"] == port
        for cp in dst.ports
    )


def _tier_ports_match(
    obj: dict[str, Any], rule: dict[str, Any], protocol: str, port: int, dst: RefPod | RefAddress
) -> bool:
    if obj["kind"] == "ClusterNetworkPolicy":
        entries = rule.get("protocols")
        if entries is None:
            return True  # "If unspecified, protocol-specific attributes will not be used"
        for e in entries:
            if e.get("destinationNamedPort") is not None:
                if _named(dst, e["destinationNamedPort"], protocol, port):
                    return True
                continue
            for key in ("tcp", "udp", "sctp"):
                if e.get(key) is None or key.upper() != protocol:
                    continue
                dp = e[key]["destinationPort"]
                if dp.get("number") is not None and dp["number"] == port:
                    return True
                if (
                    dp.get("range") is not None
                    and dp["range"]["start"] <= port <= dp["range"]["end"]
                ):
                    return True
        return False
    entries = rule.get("ports")
    if entries is None:
        return True  # "If Ports is not set then the rule does not filter traffic via port."
    for e in entries:
        if e.get("namedPort") is not None and _named(dst, e["namedPort"], protocol, port):
            return True
        pn = e.get("portNumber")
        if pn is not None and (pn.get("protocol") or "TCP") == protocol and pn["port"] == port:
            return True
        pr = e.get("portRange")
        if (
            pr is not None
            and (pr.get("protocol") or "TCP") == protocol
            and pr["start"] <= port <= pr["end"]
        ):
            return True
    return False


def _tier_decision(
    tier: str,
    direction: str,
    subject: RefPod,
    other: RefPod | RefAddress,
    dst: RefPod | RefAddress,
    protocol: str,
    port: int,
    cluster_policies: list[dict[str, Any]],
    namespaces: dict[str, dict[str, str]],
    nodes: list[dict[str, Any]],
) -> str | None:
    """The action of the first matching rule of `tier`, or None."""
    peers_key = "from" if direction == "Ingress" else "to"
    for obj in sorted(cluster_policies, key=_order):
        if _tier_of(obj) != tier or not _selects_pod(obj["spec"]["subject"], subject, namespaces):
            continue
        for rule in obj["spec"].get(direction.lower()) or []:
            if not any(_tier_peer_matches(p, other, namespaces, nodes) for p in rule[peers_key]):
                continue
            if not _tier_ports_match(obj, rule, protocol, port, dst):
                continue
            return str(rule["action"])
    return None


def _tiered_direction(
    direction: str,
    subject: RefPod,
    other: RefPod | RefAddress,
    dst: RefPod | RefAddress,
    protocol: str,
    port: int,
    policies: list[dict[str, Any]],
    cluster_policies: list[dict[str, Any]],
    namespaces: dict[str, dict[str, str]],
    nodes: list[dict[str, Any]],
) -> bool:
    args = (direction, subject, other, dst, protocol, port, cluster_policies, namespaces, nodes)
    admin = _tier_decision("Admin", *args)
    if admin in ("Accept", "Allow"):
        return True
    if admin == "Deny":
        return False
    if isolated(direction, subject, policies):
        return _direction_allows(
            direction, subject, other, dst, protocol, port, policies, namespaces
        )
    return _tier_decision("Baseline", *args) != "Deny"


def tiered_allowed(
    src: RefPod | RefAddress,
    dst: RefPod | RefAddress,
    protocol: str,
    port: int,
    policies: list[dict[str, Any]],
    cluster_policies: list[dict[str, Any]],
    namespaces: dict[str, dict[str, str]],
    nodes: list[dict[str, Any]],
    direction: str = "combined",
) -> bool:
    """Like `allowed`, with the Admin tier before the NetworkPolicies and the Baseline
    tier after them."""
    egress_ok = (
        direction == "ingress"
        or isinstance(src, RefAddress)
        or _tiered_direction(
            "Egress", src, dst, dst, protocol, port, policies, cluster_policies, namespaces, nodes
        )
    )
    ingress_ok = (
        direction == "egress"
        or isinstance(dst, RefAddress)
        or _tiered_direction(
            "Ingress", dst, src, dst, protocol, port, policies, cluster_policies, namespaces, nodes
        )
    )
    return egress_ok and ingress_ok
