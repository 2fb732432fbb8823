"""A naive reference evaluator of Calico policy semantics, written from Calico's docs,
sharing nothing with the engine's compiler or fast path (selectors are looked up in a
table of Python predicates, not parsed).

One question at a time: may this source open this destination on this protocol and
port, under Calico NetworkPolicies, GlobalNetworkPolicies, Tiers and v1
NetworkPolicies (the v1 part from reference.py)?

Docs: tiers "are evaluated in order"; in a tier "policies are applied in order" (lower
order first, none last); "the first rule that matches determines the action" (Allow,
Deny: final; Pass: "skip to the next tier"; Log: continue); "if no policy in the tier
matches ... the tier's defaultAction" applies when a policy of the tier selected the
endpoint; Kubernetes NetworkPolicies are in the default tier with order 1000;
"if no policies apply ... the profile allows".
"""

from __future__ import annotations

import ipaddress
import math
from collections.abc import Callable
from typing import Any

from .reference import RefAddress, RefPod, _direction_allows, isolated

Labels = dict[str, str]
SELECTORS: dict[str, Callable[[Labels], bool]] = {
    "all()": lambda la: True,
    "app == 'web'": lambda la: la.get("app") == "web",
    "app != 'web'": lambda la: la.get("app") != "web",
    "has(tier)": lambda la: "tier" in la,
    "!has(app)": lambda la: "app" not in la,
    "app in {'web', 'db'}": lambda la: la.get("app") in ("web", "db"),
    "tier not in {'api'}": lambda la: la.get("tier") != "api",
    "app starts with 'w' || tier == 'db'": lambda la: la.get("app", "\0").startswith("w")
    or la.get("tier") == "db",
    "has(app) && !(tier ends with 'i')": lambda la: "app" in la
    and not la.get("tier", "\0").endswith("i"),
    "env == 'prod'": lambda la: la.get("env") == "prod",
    "projectcalico.org/namespace == 'alpha'": lambda la: la.get("projectcalico.org/namespace") == "alpha",
}
"""Each selector text the strategies use, and what it means (from the docs' table)."""
GLOBAL = "global()"


def _sel(text: str, labels: Labels, namespaced: bool = True) -> bool:
    if text == GLOBAL:
        return not namespaced
    return SELECTORS[text](labels)


def _endpoint_labels(pod: RefPod) -> Labels:
    return {**pod.labels, "projectcalico.org/namespace": pod.namespace,
            "projectcalico.org/orchestrator": "k8s", "projectcalico.org/serviceaccount": "default"}


def _in_nets(address: str, nets: list[str]) -> bool:
    addr = ipaddress.ip_address(address)
    for n in nets:
        net = ipaddress.ip_network(n, strict=False)
        if addr.version == net.version and addr in net:
            return True
    return False


def _ns_labels(namespaces: dict[str, dict[str, str]], ns: str) -> Labels:
    return {**namespaces.get(ns, {}), "kubernetes.io/metadata.name": ns}


def _entity_matches(
    entity: dict[str, Any], other: RefPod | RefAddress, policy_ns: str | None,
    namespaces: dict[str, dict[str, str]],
) -> bool:
    if isinstance(other, RefAddress):
        # No NetworkSets in these clusters: a selector names no address.
        if any(k in entity for k in ("selector", "namespaceSelector", "serviceAccounts")):
            return False
        if "nets" in entity and not _in_nets(other.address, entity["nets"]):
            return False
        return not ("notNets" in entity and _in_nets(other.address, entity["notNets"]))
    if other.host_network or "nets" in entity:
        return False  # pod addresses are never in nets (not known from manifests)
    if "namespaceSelector" in entity:
        if not _sel(entity["namespaceSelector"], _ns_labels(namespaces, other.namespace)):
            return False
    elif policy_ns is not None and other.namespace != policy_ns:
        return False
    ep = _endpoint_labels(other)
    if "selector" in entity and not _sel(entity["selector"], ep):
        return False
    return not ("notSelector" in entity and _sel(entity["notSelector"], ep))


def _port_ok(entry: Any, protocol: str, port: int, dst: RefPod | RefAddress) -> bool:
    if isinstance(entry, int):
        return entry == port
    if ":" in entry:
        a, b = entry.split(":")
        return int(a) <= port <= int(b)
    if isinstance(dst, RefAddress):
        return False
    return any(cp["name"] == entry and cp["protocol"] == protocol and cp["containerPort"] == port
               for cp in dst.ports)


def _rule_matches(
    rule: dict[str, Any], direction: str, subject: RefPod, other: RefPod | RefAddress,
    dst: RefPod | RefAddress, protocol: str, port: int, policy_ns: str | None,
    namespaces: dict[str, dict[str, str]],
) -> bool:
    if "protocol" in rule and rule["protocol"] != protocol:
        return False
    if rule.get("notProtocol") == protocol:
        return False
    src, dest = rule.get("source") or {}, rule.get("destination") or {}
    remote, local = (src, dest) if direction == "ingress" else (dest, src)
    if "ports" in dest and not any(_port_ok(e, protocol, port, dst) for e in dest["ports"]):
        return False
    if "notPorts" in dest and any(_port_ok(e, protocol, port, dst) for e in dest["notPorts"]):
        return False
    if "selector" in local and not _sel(local["selector"], _endpoint_labels(subject)):
        return False
    return _entity_matches(remote, other, policy_ns, namespaces)


def _types(spec: dict[str, Any]) -> list[str]:
    if "types" in spec:
        return [t.lower() for t in spec["types"]]
    if spec.get("egress") and not spec.get("ingress"):
        return ["egress"]
    if spec.get("egress"):
        return ["ingress", "egress"]
    return ["ingress"]


def _selects(pol: dict[str, Any], pod: RefPod, namespaces: dict[str, dict[str, str]]) -> bool:
    if pod.host_network:
        return False
    spec = pol["spec"]
    if pol["kind"] == "NetworkPolicy":
        if pod.namespace != (pol["metadata"].get("namespace") or "default"):
            return False
    elif "namespaceSelector" in spec and not _sel(spec["namespaceSelector"], _ns_labels(namespaces, pod.namespace)):
        return False
    return _sel(spec.get("selector", "all()"), _endpoint_labels(pod))


def calico_direction(
    direction: str, subject: RefPod, other: RefPod | RefAddress, dst: RefPod | RefAddress,
    protocol: str, port: int, calico: list[dict[str, Any]], v1: list[dict[str, Any]],
    namespaces: dict[str, dict[str, str]],
) -> bool:
    tiers: dict[str, tuple[float, str]] = {"default": (1_000_000.0, "Deny")}
    for t in calico:
        if t["kind"] == "Tier":
            tiers[t["metadata"]["name"]] = (
                float(t["spec"].get("order", math.inf)), t["spec"].get("defaultAction", "Deny"))
    v1_isolated = isolated(direction.capitalize(), subject, v1)
    for name, (_, default_action) in sorted(tiers.items(), key=lambda kv: (kv[1][0], kv[0])):
        members: list[tuple[float, str, dict[str, Any] | None]] = []
        for pol in calico:
            if pol["kind"] == "Tier" or (pol["spec"].get("tier") or "default") != name:
                continue
            if direction in _types(pol["spec"]) and _selects(pol, subject, namespaces):
                members.append((float(pol["spec"].get("order", math.inf)), pol["metadata"]["name"], pol))
        if name == "default" and v1_isolated:
            members.append((1000.0, "knp.default.", None))
        members.sort(key=lambda m: (m[0], m[1]))
        passed = False
        for _, _, pol in members:
            if pol is None:
                if _direction_allows(direction.capitalize(), subject, other, dst, protocol, port, v1, namespaces):
                    return True
                continue
            ns = pol["metadata"].get("namespace") or "default" if pol["kind"] == "NetworkPolicy" else None
            decided = None
            for rule in pol["spec"].get(direction) or []:
                if not _rule_matches(rule, direction, subject, other, dst, protocol, port, ns, namespaces):
                    continue
                if rule["action"] == "Log":
                    continue
                decided = rule["action"]
                break
            if decided == "Allow":
                return True
            if decided == "Deny":
                return False
            if decided == "Pass":
                passed = True
                break
        if passed or not members:
            continue
        if default_action == "Deny":
            return False
    return True


def calico_allowed(
    src: RefPod | RefAddress, dst: RefPod | RefAddress, protocol: str, port: int,
    calico: list[dict[str, Any]], v1: list[dict[str, Any]], namespaces: dict[str, dict[str, str]],
) -> bool:
    egress_ok = isinstance(src, RefAddress) or calico_direction(
        "egress", src, dst, dst, protocol, port, calico, v1, namespaces)
    ingress_ok = isinstance(dst, RefAddress) or calico_direction(
        "ingress", dst, src, dst, protocol, port, calico, v1, namespaces)
    return egress_ok and ingress_ok
