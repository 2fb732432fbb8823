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


# -- Cilium ------------------------------------------------------------------------------------
# Docs: "Deny policies take precedence over allow policies, regardless of whether they are a
# Cilium Network Policy, a Clusterwide Cilium Network Policy or even a Kubernetes Network
# Policy"; "endpoints have unrestricted network access until selected by policy" (a rule
# set with ingress or ingressDeny rules -- enableDefaultDeny unless false -- or a v1
# policy); then only allowed traffic passes; an empty rule `{}` allows nothing; a rule
# with toPorts only allows from/to every peer.


def _cilium_labels(pod: RefPod, namespaces: dict[str, dict[str, str]]) -> Labels:
    out = {f"k8s:{k}": v for k, v in pod.labels.items()}
    out["k8s:io.kubernetes.pod.namespace"] = pod.namespace
    for k, v in _ns_labels(namespaces, pod.namespace).items():
        out[f"k8s:io.cilium.k8s.namespace.labels.{k}"] = v
    return out


def _cilium_sel(sel: dict[str, Any], labels: Labels) -> bool:
    def key(k: str) -> str:
        return k if k.startswith("k8s:") else f"k8s:{k}"

    for k, v in (sel.get("matchLabels") or {}).items():
        if labels.get(key(k)) != v:
            return False
    for e in sel.get("matchExpressions") or []:
        k, op, values = key(e["key"]), e["operator"], e.get("values") or []
        if op == "In" and labels.get(k) not in values:
            return False
        if op == "NotIn" and k in labels and labels[k] in values:
            return False
        if op == "Exists" and k not in labels:
            return False
        if op == "DoesNotExist" and k in labels:
            return False
    return True


def _names_ns(sel: dict[str, Any]) -> bool:
    keys = list(sel.get("matchLabels") or {}) + [e["key"] for e in sel.get("matchExpressions") or []]
    return any(k.removeprefix("k8s:") == "io.kubernetes.pod.namespace" for k in keys)


def _cilium_peer(rule: dict[str, Any], side: str, other: RefPod | RefAddress, ns: str | None,
                 namespaces: dict[str, dict[str, str]]) -> bool:
    l3 = [k for k in rule if k.startswith(side) and k != "toPorts"]
    if not l3:
        return "toPorts" in rule
    for sel in rule.get(f"{side}Endpoints") or []:
        if isinstance(other, RefPod) and not other.host_network:
            if ns is not None and not _names_ns(sel) and other.namespace != ns:
                continue
            if _cilium_sel(sel, _cilium_labels(other, namespaces)):
                return True
    for cidr in rule.get(f"{side}CIDR") or []:
        if isinstance(other, RefAddress) and _in_nets(other.address, [cidr]):
            return True
    for cs in rule.get(f"{side}CIDRSet") or []:
        if isinstance(other, RefAddress) and _in_nets(other.address, [cs["cidr"]]) and not _in_nets(
                other.address, cs.get("except") or []):
            return True
    for ent in rule.get(f"{side}Entities") or []:
        if ent in ("world", "all") and isinstance(other, RefAddress):
            return True
        if ent in ("cluster", "all") and isinstance(other, RefPod) and not other.host_network:
            return True
    return False


def _cilium_ports(rule: dict[str, Any], protocol: str, port: int, dst: RefPod | RefAddress) -> bool:
    if "toPorts" not in rule:
        return True
    for pr in rule["toPorts"]:
        for pp in pr.get("ports") or []:
            proto = pp.get("protocol", "ANY")
            if proto not in ("ANY", protocol):
                continue
            p = pp["port"]
            if p.isdigit():
                first = int(p)
                if first == 0 or first <= port <= int(pp.get("endPort") or first):
                    return True
            elif isinstance(dst, RefPod) and any(
                    cp["name"] == p and (proto == "ANY" or cp["protocol"] == protocol)
                    and cp["protocol"] == protocol and cp["containerPort"] == port for cp in dst.ports):
                return True
    return False


def cilium_direction(
    direction: str, subject: RefPod, other: RefPod | RefAddress, dst: RefPod | RefAddress,
    protocol: str, port: int, cilium: list[dict[str, Any]], v1: list[dict[str, Any]],
    namespaces: dict[str, dict[str, str]],
) -> bool:
    side = "from" if direction == "ingress" else "to"
    isolated = isolated_v1 = isolated_fn(direction, subject, v1)
    allowed = isolated_v1 and _direction_allows(
        direction.capitalize(), subject, other, dst, protocol, port, v1, namespaces)
    for pol in cilium:
        ns = pol["metadata"].get("namespace") if pol["kind"] == "CiliumNetworkPolicy" else None
        spec = pol["spec"]
        if subject.host_network or (ns is not None and subject.namespace != ns):
            continue
        if not _cilium_sel(spec["endpointSelector"], _cilium_labels(subject, namespaces)):
            continue
        has = bool(spec.get(direction)) or bool(spec.get(f"{direction}Deny"))
        flag = (spec.get("enableDefaultDeny") or {}).get(direction)
        if has and flag is not False:
            isolated = True
        for rule in spec.get(f"{direction}Deny") or []:
            if _cilium_peer(rule, side, other, ns, namespaces) and _cilium_ports(rule, protocol, port, dst):
                return False
        for rule in spec.get(direction) or []:
            if _cilium_peer(rule, side, other, ns, namespaces) and _cilium_ports(rule, protocol, port, dst):
                allowed = True
    return allowed or not isolated


def isolated_fn(direction: str, subject: RefPod, v1: list[dict[str, Any]]) -> bool:
    return isolated(direction.capitalize(), subject, v1)


def cilium_allowed(
    src: RefPod | RefAddress, dst: RefPod | RefAddress, protocol: str, port: int,
    cilium: list[dict[str, Any]], v1: list[dict[str, Any]], namespaces: dict[str, dict[str, str]],
) -> bool:
    egress_ok = isinstance(src, RefAddress) or cilium_direction(
        "egress", src, dst, dst, protocol, port, cilium, v1, namespaces)
    ingress_ok = isinstance(dst, RefAddress) or cilium_direction(
        "ingress", dst, src, dst, protocol, port, cilium, v1, namespaces)
    return egress_ok and ingress_ok


# -- Antrea ------------------------------------------------------------------------------------
# Docs (antrea-network-policy.md): "Emergency > SecurityOps > NetworkOps > Platform >
# Application > K8s NetworkPolicy > Baseline"; within a tier by policy priority, rules in
# written order, the first match applies its action; "There is no automatic isolation of
# Pods on being selected in appliedTo"; Pass hands over to the next tier; an empty From
# "matches all ingress sources".

ANTREA_TIERS = {"emergency": 50, "securityops": 100, "networkops": 150, "platform": 200,
                "application": 250, "baseline": 253}


def _antrea_applied(entries: list[dict[str, Any]], pod: RefPod, ns: str | None,
                    namespaces: dict[str, dict[str, str]]) -> bool:
    for e in entries:
        if pod.host_network:
            continue
        if ns is not None and pod.namespace != ns:
            continue
        if "namespaceSelector" in e and not _selector_matches_ref(e["namespaceSelector"], _ns_labels(namespaces, pod.namespace)):
            continue
        if "podSelector" in e and not _selector_matches_ref(e["podSelector"], pod.labels):
            continue
        return True
    return False


def _selector_matches_ref(sel: dict[str, Any], labels: Labels) -> bool:
    from .reference import _selector_matches
    return _selector_matches(sel, labels)


def _antrea_peer(entry: dict[str, Any], subject: RefPod, other: RefPod | RefAddress, ns: str | None,
                 namespaces: dict[str, dict[str, str]]) -> bool:
    if "ipBlock" in entry:
        return isinstance(other, RefAddress) and _in_nets(other.address, [entry["ipBlock"]["cidr"]])
    if isinstance(other, RefAddress) or other.host_network:
        return False
    if (entry.get("namespaces") or {}).get("match", "").lower() == "self":
        if other.namespace != subject.namespace:
            return False
    elif "namespaceSelector" in entry:
        if not _selector_matches_ref(entry["namespaceSelector"], _ns_labels(namespaces, other.namespace)):
            return False
    elif ns is not None and other.namespace != ns:
        return False
    return "podSelector" not in entry or _selector_matches_ref(entry["podSelector"], other.labels)


def _antrea_ports(ports: list[dict[str, Any]] | None, protocol: str, port: int, dst: RefPod | RefAddress) -> bool:
    if ports is None:
        return True
    for p in ports:
        if p.get("protocol", "TCP") != protocol:
            continue
        if "port" not in p:
            return True
        if isinstance(p["port"], int):
            if p["port"] <= port <= p.get("endPort", p["port"]):
                return True
        elif isinstance(dst, RefPod) and any(
                cp["name"] == p["port"] and cp["protocol"] == protocol and cp["containerPort"] == port
                for cp in dst.ports):
            return True
    return False


def _antrea_tier_decision(
    tier: str, direction: str, subject: RefPod, other: RefPod | RefAddress, dst: RefPod | RefAddress,
    protocol: str, port: int, antrea: list[dict[str, Any]], namespaces: dict[str, dict[str, str]],
) -> str | None:
    members = [p for p in antrea if (p["spec"].get("tier") or "application").lower() == tier]
    members.sort(key=lambda p: (float(p["spec"]["priority"]), 0 if p["kind"] == "ClusterNetworkPolicy" else 1,
                                p["metadata"]["name"]))
    side = "from" if direction == "ingress" else "to"
    for pol in members:
        ns = pol["metadata"].get("namespace") if pol["kind"] == "NetworkPolicy" else None
        for rule in pol["spec"].get(direction) or []:
            applied = rule.get("appliedTo") or pol["spec"].get("appliedTo") or []
            if not _antrea_applied(applied, subject, ns, namespaces):
                continue
            peers = rule.get(side) or []
            if peers and not any(_antrea_peer(e, subject, other, ns, namespaces) for e in peers):
                continue
            if not _antrea_ports(rule.get("ports"), protocol, port, dst):
                continue
            if rule["action"] == "Pass":
                return "Pass"
            return rule["action"]
    return None


def antrea_direction(
    direction: str, subject: RefPod, other: RefPod | RefAddress, dst: RefPod | RefAddress,
    protocol: str, port: int, antrea: list[dict[str, Any]], v1: list[dict[str, Any]],
    namespaces: dict[str, dict[str, str]],
) -> bool:
    for tier, rank in sorted(ANTREA_TIERS.items(), key=lambda kv: kv[1]):
        if rank == 253 and isolated(direction.capitalize(), subject, v1):
            return _direction_allows(direction.capitalize(), subject, other, dst, protocol, port, v1, namespaces)
        got = _antrea_tier_decision(tier, direction, subject, other, dst, protocol, port, antrea, namespaces)
        if got == "Allow":
            return True
        if got in ("Drop", "Reject"):
            return False
    return True


def antrea_allowed(
    src: RefPod | RefAddress, dst: RefPod | RefAddress, protocol: str, port: int,
    antrea: list[dict[str, Any]], v1: list[dict[str, Any]], namespaces: dict[str, dict[str, str]],
) -> bool:
    egress_ok = isinstance(src, RefAddress) or antrea_direction(
        "egress", src, dst, dst, protocol, port, antrea, v1, namespaces)
    ingress_ok = isinstance(dst, RefAddress) or antrea_direction(
        "ingress", dst, src, dst, protocol, port, antrea, v1, namespaces)
    return egress_ok and ingress_ok
