"""CNI policies as v1 NetworkPolicies, where the translation is exact.

``to_network_policy(obj) -> Translation``: the v1 NetworkPolicy (networking.k8s.io/v1)
that allows exactly what the CNI policy allows for the pods it selects, or the reasons it
cannot (``exact`` False, ``policy`` None). Exact means: the same pods selected, isolated
in the same directions, and the same connections allowed; the policy is read on its own
(where it sits among the CNI's other policies -- tier, order -- is not carried over: a
v1 policy is always at Calico's default tier order 1000 and under Cilium's denies).

- Calico NetworkPolicy: Allow rules only (Log rules are dropped: they never decide);
  selectors made of ``==``, ``!=``, ``in``, ``not in``, ``has()``, ``!has()``, ``all()``
  joined by ``&&``; entities with ``selector`` and/or ``namespaceSelector``, or ``nets``;
  ``protocol`` with ``ports`` (numbers, ranges, names). Not exact: Deny/Pass, ``||``,
  ``!`` of an expression, ``contains``/``starts with``/``ends with``, ``global()``,
  ``notSelector``/``notNets``/``notPorts``/``notProtocol``, ``serviceAccounts``, the
  local side of a rule, ICMP, HTTP matches, ``ipVersion``, NetworkSets (selectors also
  match them), a non-default tier. A Calico selector also matches NetworkSets: the
  translation is exact for pods and for nets; NetworkSets carrying the selected labels
  are not carried over.
- CiliumNetworkPolicy (``spec``): allow rules only; fromEndpoints/toEndpoints (the
  namespace label becomes a namespaceSelector on ``kubernetes.io/metadata.name``, the
  namespace-label keys a namespaceSelector), CIDRs and CIDR sets, ``all`` entity;
  toPorts without L7 rules. Not exact: deny rules, ``enableDefaultDeny: false``, other
  entities, FQDNs/services/groups, L7 rules, host policies, clusterwide policies.
- Antrea policies: never (they do not isolate the pods they select).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .calico_selector import Node, SelectorError, parse
from .kinds import ANTREA, CALICO, CILIUM, cni_kind

NS_NAME = "kubernetes.io/metadata.name"


@dataclass
class Translation:
    policy: dict[str, Any] | None
    exact: bool
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "exact": self.exact, "reasons": list(self.reasons)}


class _NotExact(Exception):
    pass


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, Mapping) else {}


def to_network_policy(obj: Mapping[str, Any]) -> Translation:
    found = cni_kind(obj)
    if found is None or not found.policy:
        return Translation(None, False, ["not a CNI policy"])
    reasons: list[str] = []
    if found.cni == ANTREA:
        return Translation(None, False, [
            "Antrea policies do not isolate the pods they select and decide by tier, priority "
            "and action; a v1 NetworkPolicy isolates and only allows"])
    if not found.namespaced:
        return Translation(None, False, [
            f"a {found.kind} selects pods in every namespace; a v1 NetworkPolicy lives in one"])
    try:
        if found.cni == CALICO:
            spec = _calico(obj, reasons)
        else:
            assert found.cni == CILIUM
            spec = _cilium(obj, reasons)
    except (_NotExact, TypeError, ValueError, AttributeError, KeyError) as exc:
        if not isinstance(exc, _NotExact):
            reasons.append(f"cannot be read ({type(exc).__name__})")
        return Translation(None, False, reasons)
    if reasons or spec is None:
        return Translation(None, False, reasons)
    meta = _meta(obj)
    return Translation(
        {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": str(meta.get("name") or ""), "namespace": str(meta.get("namespace") or "default")},
            "spec": spec,
        },
        True,
    )


# -- Calico ------------------------------------------------------------------------------------


def _terms(node: Node) -> list[Node]:
    return list(node.children) if node.op == "and" else [node]


def _calico_selector(text: Any, where: str, reasons: list[str]) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        root = parse(str(text)).root
    except SelectorError as e:
        reasons.append(f"{where}: {e}")
        raise _NotExact from None
    labels: dict[str, str] = {}
    exprs: list[dict[str, Any]] = []
    for t in _terms(root):
        if t.op == "all":
            continue
        if t.key.startswith("projectcalico.org/"):
            reasons.append(f"{where}: label {t.key} exists only on Calico endpoints")
            raise _NotExact
        if t.op == "eq":
            labels[t.key] = t.values[0]
        elif t.op == "ne":
            exprs.append({"key": t.key, "operator": "NotIn", "values": [t.values[0]]})
        elif t.op == "in" and t.values:
            exprs.append({"key": t.key, "operator": "In", "values": list(t.values)})
        elif t.op == "notin" and t.values:
            exprs.append({"key": t.key, "operator": "NotIn", "values": list(t.values)})
        elif t.op == "notin":
            continue  # not in {}: every endpoint
        elif t.op == "has":
            exprs.append({"key": t.key, "operator": "Exists"})
        elif t.op == "not" and t.children[0].op == "has":
            exprs.append({"key": t.children[0].key, "operator": "DoesNotExist"})
        else:
            reasons.append(f"{where}: {t} has no label selector equivalent")
            raise _NotExact
    out: dict[str, Any] = {}
    if labels:
        out["matchLabels"] = labels
    if exprs:
        out["matchExpressions"] = exprs
    return out


def _calico_ports(rule: Mapping[str, Any], where: str, reasons: list[str]) -> list[dict[str, Any]] | None:
    proto = rule.get("protocol")
    dst = rule.get("destination") or {}
    if proto is None:
        return None
    name = str(proto).upper()
    if name not in ("TCP", "UDP", "SCTP"):
        reasons.append(f"{where}: protocol {proto} is outside what a v1 NetworkPolicy names")
        raise _NotExact
    if dst.get("ports") is None:
        return [{"protocol": name}]
    out: list[dict[str, Any]] = []
    for p in dst["ports"]:
        if isinstance(p, int):
            out.append({"protocol": name, "port": p})
        elif isinstance(p, str) and ":" in p:
            a, b = (int(x) for x in p.split(":", 1))
            out.append({"protocol": name, "port": a} if a == b else {"protocol": name, "port": a, "endPort": b})
        elif isinstance(p, str) and p.isdigit():
            out.append({"protocol": name, "port": int(p)})
        else:
            out.append({"protocol": name, "port": str(p)})
    return out


def _calico_peers(entity: Mapping[str, Any], where: str, reasons: list[str]) -> list[dict[str, Any]] | None:
    for key in ("notSelector", "notNets", "serviceAccounts", "notPorts", "services"):
        if entity.get(key) is not None:
            reasons.append(f"{where}.{key} has no v1 equivalent")
            raise _NotExact
    nets = entity.get("nets")
    sel, ns_sel = entity.get("selector"), entity.get("namespaceSelector")
    if nets is not None:
        if sel is not None or ns_sel is not None:
            reasons.append(f"{where}: nets together with selectors has no v1 equivalent")
            raise _NotExact
        return [{"ipBlock": {"cidr": str(n)}} for n in nets]
    if sel is None and ns_sel is None:
        return None  # anything
    peer: dict[str, Any] = {}
    if ns_sel is not None:
        if str(ns_sel).strip() == "global()":
            reasons.append(f"{where}.namespaceSelector global() names non-namespaced endpoints only")
            raise _NotExact
        peer["namespaceSelector"] = _calico_selector(ns_sel, f"{where}.namespaceSelector", reasons)
    if sel is not None:
        peer["podSelector"] = _calico_selector(sel, f"{where}.selector", reasons)
    return [peer]


def _calico(obj: Mapping[str, Any], reasons: list[str]) -> dict[str, Any] | None:
    spec = obj.get("spec") or {}
    tier = spec.get("tier") or "default"
    if tier != "default":
        reasons.append(
            f"tier {tier}: its default action and place before the default tier have no v1 equivalent"
        )
        raise _NotExact
    for key in ("serviceAccountSelector",):
        if spec.get(key):
            reasons.append(f"spec.{key} has no v1 equivalent")
            raise _NotExact
    types = spec.get("types")
    if types is None:
        has_in, has_eg = bool(spec.get("ingress")), bool(spec.get("egress"))
        types = ["Egress"] if has_eg and not has_in else (["Ingress", "Egress"] if has_eg else ["Ingress"])
    out: dict[str, Any] = {
        "podSelector": _calico_selector(spec.get("selector"), "spec.selector", reasons),
        "policyTypes": sorted(types),
    }
    for direction, side, local in (("ingress", "source", "destination"), ("egress", "destination", "source")):
        if direction.capitalize() not in types:
            continue
        rules: list[dict[str, Any]] = []
        for i, r in enumerate(spec.get(direction) or []):
            where = f"spec.{direction}[{i}]"
            action = r.get("action")
            if action == "Log":
                continue
            if action != "Allow":
                reasons.append(f"{where}: action {action} has no v1 equivalent (v1 rules only allow)")
                raise _NotExact
            for key in ("notProtocol", "icmp", "notICMP", "http", "ipVersion", "metadata"):
                if r.get(key) is not None and key != "metadata":
                    reasons.append(f"{where}.{key} has no v1 equivalent")
                    raise _NotExact
            loc = r.get(local) or {}
            if any(k != "ports" for k in loc) or (local == "source" and loc.get("ports") is not None):
                reasons.append(f"{where}.{local}: narrowing the selected pods per rule has no v1 equivalent")
                raise _NotExact
            if (r.get("destination") or {}).get("notPorts") is not None:
                reasons.append(f"{where}.destination.notPorts has no v1 equivalent")
                raise _NotExact
            if (r.get("source") or {}).get("ports") is not None:
                reasons.append(f"{where}.source.ports: source ports have no v1 equivalent")
                raise _NotExact
            remote = dict(r.get(side) or {})
            remote.pop("ports", None)
            rule: dict[str, Any] = {}
            peers = _calico_peers(remote, f"{where}.{side}", reasons)
            if peers is not None:
                rule["from" if direction == "ingress" else "to"] = peers
            ports = _calico_ports(r, where, reasons)
            if ports is not None:
                rule["ports"] = ports
            rules.append(rule)
        out[direction] = rules
    return out


# -- Cilium ------------------------------------------------------------------------------------


def _cilium_selector(
    raw: Any, where: str, reasons: list[str], own_namespace: str | None = None
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(namespaceSelector or None, podSelector) of an endpoint selector. A selector of
    a namespaced policy that does not name io.kubernetes.pod.namespace stays in
    `own_namespace` (namespace labels then narrow that one namespace)."""
    raw = raw or {}
    labels: dict[str, str] = {}
    ns_labels: dict[str, str] = {}
    exprs: list[dict[str, Any]] = []
    ns_exprs: list[dict[str, Any]] = []
    for k, v in (raw.get("matchLabels") or {}).items():
        key = str(k).removeprefix("k8s:").removeprefix("any:")
        if key == "io.kubernetes.pod.namespace":
            ns_labels[NS_NAME] = str(v)
        elif key.startswith("io.cilium.k8s.namespace.labels."):
            ns_labels[key.removeprefix("io.cilium.k8s.namespace.labels.")] = str(v)
        elif key.startswith(("io.cilium.", "reserved:")) or ":" in key:
            reasons.append(f"{where}: label {k} exists only on Cilium identities")
            raise _NotExact
        else:
            labels[key] = str(v)
    for e in raw.get("matchExpressions") or []:
        key = str(e["key"]).removeprefix("k8s:").removeprefix("any:")
        entry = {"key": key, "operator": e["operator"], **({"values": list(e["values"])} if e.get("values") else {})}
        if key == "io.kubernetes.pod.namespace":
            ns_exprs.append({**entry, "key": NS_NAME})
        elif key.startswith("io.cilium.k8s.namespace.labels."):
            ns_exprs.append({**entry, "key": key.removeprefix("io.cilium.k8s.namespace.labels.")})
        elif key.startswith("io.cilium.") or ":" in key:
            reasons.append(f"{where}: label {e['key']} exists only on Cilium identities")
            raise _NotExact
        else:
            exprs.append(entry)
    pod: dict[str, Any] = {}
    if labels:
        pod["matchLabels"] = labels
    if exprs:
        pod["matchExpressions"] = exprs
    names_ns = NS_NAME in ns_labels or any(e["key"] == NS_NAME for e in ns_exprs)
    if own_namespace is not None and not names_ns and (ns_labels or ns_exprs):
        ns_labels[NS_NAME] = own_namespace
    ns: dict[str, Any] | None = None
    if ns_labels or ns_exprs:
        ns = {}
        if ns_labels:
            ns["matchLabels"] = ns_labels
        if ns_exprs:
            ns["matchExpressions"] = ns_exprs
    return ns, pod


def _cilium(obj: Mapping[str, Any], reasons: list[str]) -> dict[str, Any] | None:
    if obj.get("specs") is not None:
        reasons.append("specs: several rule sets; translate each on its own")
        raise _NotExact
    spec = obj.get("spec") or {}
    if spec.get("nodeSelector") is not None:
        reasons.append("a host policy (nodeSelector) has no v1 equivalent")
        raise _NotExact
    for key in ("ingressDeny", "egressDeny"):
        if spec.get(key):
            reasons.append(f"spec.{key}: deny rules have no v1 equivalent")
            raise _NotExact
    if isinstance(spec.get("enableDefaultDeny"), Mapping) and False in spec["enableDefaultDeny"].values():
        reasons.append("enableDefaultDeny false: a v1 policy always isolates")
        raise _NotExact
    ns, pod = _cilium_selector(spec.get("endpointSelector"), "spec.endpointSelector", reasons)
    if ns is not None:
        reasons.append("spec.endpointSelector names namespace labels: a v1 policy selects in its own namespace")
        raise _NotExact
    out: dict[str, Any] = {"podSelector": pod, "policyTypes": []}
    for direction, side in (("ingress", "from"), ("egress", "to")):
        if not spec.get(direction):
            continue
        out["policyTypes"].append(direction.capitalize())
        rules: list[dict[str, Any]] = []
        for i, r in enumerate(spec[direction]):
            where = f"spec.{direction}[{i}]"
            for key in (f"{side}Requires", f"{side}Nodes", "toFQDNs", "toServices", "toGroups", "icmps",
                        "authentication"):
                if r.get(key) is not None:
                    reasons.append(f"{where}.{key} has no v1 equivalent")
                    raise _NotExact
            peers: list[dict[str, Any]] = []
            l3 = False
            for j, sel in enumerate(r.get(f"{side}Endpoints") or []):
                l3 = True
                own = str(_meta(obj).get("namespace") or "default")
                ns_sel, pod_sel = _cilium_selector(sel, f"{where}.{side}Endpoints[{j}]", reasons, own)
                peer: dict[str, Any] = {"podSelector": pod_sel}
                if ns_sel is not None:
                    peer["namespaceSelector"] = ns_sel
                peers.append(peer)
            if r.get(f"{side}Endpoints") is not None:
                l3 = True
            for c in r.get(f"{side}CIDR") or []:
                peers.append({"ipBlock": {"cidr": str(c)}})
            for cs in r.get(f"{side}CIDRSet") or []:
                if cs.get("cidr") is None:
                    reasons.append(f"{where}.{side}CIDRSet: CIDR groups have no v1 equivalent")
                    raise _NotExact
                block: dict[str, Any] = {"cidr": str(cs["cidr"])}
                if cs.get("except"):
                    block["except"] = [str(e) for e in cs["except"]]
                peers.append({"ipBlock": block})
            l3 = l3 or r.get(f"{side}CIDR") is not None or r.get(f"{side}CIDRSet") is not None
            everything = False
            for ent in r.get(f"{side}Entities") or []:
                l3 = True
                if ent == "all":
                    everything = True
                else:
                    reasons.append(f"{where}.{side}Entities: entity {ent} has no exact v1 equivalent")
                    raise _NotExact
            ports: list[dict[str, Any]] | None = None
            if r.get("toPorts") is not None:
                ports = []
                for pr in r["toPorts"]:
                    if pr.get("rules"):
                        reasons.append(f"{where}.toPorts: L7 rules have no v1 equivalent")
                        raise _NotExact
                    for pp in pr.get("ports") or [{"port": "0"}]:
                        proto = str(pp.get("protocol") or "ANY").upper()
                        protos = ["TCP", "UDP", "SCTP"] if proto == "ANY" else [proto]
                        port = str(pp.get("port") or "0")
                        for p in protos:
                            entry: dict[str, Any] = {"protocol": p}
                            if port.isdigit() and int(port) != 0:
                                entry["port"] = int(port)
                                if pp.get("endPort"):
                                    entry["endPort"] = int(pp["endPort"])
                            elif not port.isdigit():
                                entry["port"] = port
                            ports.append(entry)
            if not l3 and ports is None:
                continue  # `{}` allows nothing
            rule: dict[str, Any] = {}
            if l3 and not everything:
                if not peers:
                    continue  # empty lists: nothing
                rule[side] = peers
            if ports is not None:
                rule["ports"] = ports
            rules.append(rule)
        out[direction] = rules
    if not out["policyTypes"]:
        reasons.append("no ingress or egress rules: the policy isolates nothing")
        raise _NotExact
    return out
