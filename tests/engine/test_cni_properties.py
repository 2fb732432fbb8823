"""Property tests of the CNI tier plans: the fast path and explain against the naive
Calico evaluator (tests/engine/cni_reference.py) on random clusters with Calico
NetworkPolicies, GlobalNetworkPolicies, Tiers and v1 NetworkPolicies."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from policies.engine import Analyzer, ConnSet, build_cluster, explain

from .builders import namespace, pod
from .cni_reference import SELECTORS, antrea_allowed, calico_allowed, cilium_allowed
from .reference import RefAddress, RefPod
from .strategies import labels_st, policy_st

V3 = "projectcalico.org/v3"
CILIUM = "cilium.io/v2"
ANTREA = "crd.antrea.io/v1beta1"
NS = ("alpha", "beta")
PORTS = (("http", "TCP", 80), ("http", "UDP", 8080), ("dns", "UDP", 53))
SEL_TEXTS = sorted(SELECTORS)
NETS = ("10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16")


@st.composite
def entity_st(draw: Any, remote: bool) -> dict[str, Any]:
    ent: dict[str, Any] = {}
    if remote:
        if draw(st.booleans()):
            ent["selector"] = draw(st.sampled_from(SEL_TEXTS))
        if draw(st.integers(0, 3)) == 0:
            ent["namespaceSelector"] = draw(st.sampled_from(["all()", "env == 'prod'", "global()"]))
        if draw(st.integers(0, 3)) == 0:
            ent["notSelector"] = draw(st.sampled_from(SEL_TEXTS))
        if draw(st.integers(0, 3)) == 0:
            ent["nets"] = draw(st.lists(st.sampled_from(NETS), min_size=1, max_size=2, unique=True))
        if draw(st.integers(0, 4)) == 0:
            ent["notNets"] = [draw(st.sampled_from(NETS))]
    elif draw(st.integers(0, 3)) == 0:
        ent["selector"] = draw(st.sampled_from(SEL_TEXTS))
    return ent


@st.composite
def calico_rule_st(draw: Any, direction: str) -> dict[str, Any]:
    rule: dict[str, Any] = {"action": draw(st.sampled_from(["Allow", "Allow", "Deny", "Pass", "Log"]))}
    proto = draw(st.sampled_from([None, "TCP", "UDP"]))
    if proto:
        rule["protocol"] = proto
    elif draw(st.integers(0, 4)) == 0:
        rule["notProtocol"] = "UDP"
    remote = draw(entity_st(True))
    local = draw(entity_st(False))
    if proto and draw(st.booleans()):
        local["ports"] = draw(st.lists(st.sampled_from([80, 53, "8000:8100", "http", "dns"]), min_size=1, max_size=2))
        if draw(st.integers(0, 3)) == 0:
            local["notPorts"] = [draw(st.sampled_from([80, "8050:8060"]))]
    if direction == "ingress":
        src, dst = remote, local
    else:
        src, dst = local, remote
        # ports always sit on the destination
        for k in ("ports", "notPorts"):
            if k in src:
                dst[k] = src.pop(k)
    if src:
        rule["source"] = src
    if dst:
        rule["destination"] = dst
    return rule


@st.composite
def calico_policy_st(draw: Any, i: int) -> dict[str, Any]:
    glob = draw(st.booleans())
    spec: dict[str, Any] = {}
    if draw(st.booleans()):
        spec["selector"] = draw(st.sampled_from(SEL_TEXTS))
    if glob and draw(st.integers(0, 3)) == 0:
        spec["namespaceSelector"] = draw(st.sampled_from(["all()", "env == 'prod'"]))
    tier = draw(st.sampled_from(["default", "default", "sec", "late"]))
    if tier != "default":
        spec["tier"] = tier
    order = draw(st.sampled_from([None, 100, 1000, 2000]))
    if order is not None:
        spec["order"] = order
    types = draw(st.sampled_from(["absent", "I", "E", "IE"]))
    if types != "absent":
        spec["types"] = {"I": ["Ingress"], "E": ["Egress"], "IE": ["Ingress", "Egress"]}[types]
    for d in ("ingress", "egress"):
        if draw(st.booleans()):
            spec[d] = draw(st.lists(calico_rule_st(d), min_size=1, max_size=3))
    name = f"{tier}.c{i}" if tier != "default" else f"c{i}"
    meta: dict[str, Any] = {"name": name}
    if not glob:
        meta["namespace"] = draw(st.sampled_from(NS))
    return {"apiVersion": V3, "kind": "GlobalNetworkPolicy" if glob else "NetworkPolicy",
            "metadata": meta, "spec": spec}


@st.composite
def calico_cluster_st(draw: Any) -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = [namespace(n, env=draw(st.sampled_from(["prod", "dev"]))) for n in NS]
    for i in range(draw(st.integers(1, 4))):
        objs.append(pod(draw(st.sampled_from(NS)), f"pod{i}", draw(labels_st),
                        ports=draw(st.lists(st.sampled_from(PORTS), max_size=2, unique=True))))
    objs.append({"apiVersion": V3, "kind": "Tier", "metadata": {"name": "sec"},
                 "spec": {"order": 100, "defaultAction": draw(st.sampled_from(["Deny", "Pass"]))}})
    objs.append({"apiVersion": V3, "kind": "Tier", "metadata": {"name": "late"},
                 "spec": {"defaultAction": draw(st.sampled_from(["Deny", "Pass"]))}})
    for i in range(draw(st.integers(0, 4))):
        objs.append(draw(calico_policy_st(i)))
    for i in range(draw(st.integers(0, 2))):
        objs.append(draw(policy_st(i, draw(st.sampled_from(NS)))))
    return objs


PROBES = (52, 53, 54, 79, 80, 81, 7999, 8000, 8049, 8050, 8060, 8061, 8080, 8100, 8101)


def check(objs: list[dict[str, Any]], cni: str = "calico") -> None:
    cluster = build_cluster(objs, cni=cni)
    assert all(i.enforced for i in cluster.cni_policies.values()), [
        (i.key, i.problems) for i in cluster.cni_policies.values()]
    reach = Analyzer(cluster).analyze(level="pod")
    got = {(c.src.key, c.dst.key): c.conns for c in reach.connections}
    ns_labels = {o["metadata"]["name"]: o["metadata"]["labels"] for o in objs if o["kind"] == "Namespace"}
    calico = [o for o in objs if o.get("apiVersion") in (V3, CILIUM, ANTREA)]
    v1 = [o for o in objs if o["kind"] == "NetworkPolicy" and o["apiVersion"] not in (V3, CILIUM, ANTREA)]
    decide = {"calico": calico_allowed, "cilium": cilium_allowed, "antrea": antrea_allowed}[cni]
    raw_pods = {f"{o['metadata']['namespace']}/{o['metadata']['name']}[Pod]": o for o in objs if o["kind"] == "Pod"}

    def side(key: str) -> list[RefPod | RefAddress]:
        if key in raw_pods:
            o = raw_pods[key]
            return [RefPod(o["metadata"]["namespace"], o["metadata"]["labels"], o["spec"]["containers"][0]["ports"])]
        first, last = reach.node(key).ip_range  # type: ignore[union-attr]
        return [RefAddress(first), RefAddress(last)]

    keys = [n.key for n in reach.nodes]
    for s in keys:
        for d in keys:
            if s == d or (s not in raw_pods and d not in raw_pods):
                continue
            if s not in raw_pods and reach.node(s).external_role == "destination":  # type: ignore[union-attr]
                continue
            if d not in raw_pods and reach.node(d).external_role == "source":  # type: ignore[union-attr]
                continue
            have_conns = got.get((s, d))
            for src in side(s):
                for dst in side(d):
                    for proto in ("TCP", "UDP"):
                        for port in PROBES:
                            want = decide(src, dst, proto, port, calico, v1, ns_labels)
                            have = have_conns is not None and have_conns.allows(proto, port)
                            assert have == want, f"{s} => {d} {proto} {port}: fast={have} reference={want}"
            if s in raw_pods or d in raw_pods:
                assert explain(cluster, s, d, port=None).conns == (have_conns or ConnSet.none()), f"explain {s} => {d}"


@settings(max_examples=250, derandomize=True, deadline=None)
@given(calico_cluster_st())
def test_calico_fast_path_agrees_with_reference(objs: list[dict[str, Any]]) -> None:
    check(objs)


# -- Cilium ------------------------------------------------------------------------------------

CILIUM_SELS = (
    {}, {"matchLabels": {"app": "web"}}, {"matchLabels": {"k8s:tier": "db"}},
    {"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]},
    {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "beta"}},
    {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "alpha", "app": "web"}},
    {"matchLabels": {"io.cilium.k8s.namespace.labels.env": "prod"}},
)


@st.composite
def cilium_rule_st(draw: Any, side: str) -> dict[str, Any]:
    rule: dict[str, Any] = {}
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["Endpoints", "Endpoints", "Endpoints", "CIDR", "CIDRSet", "Entities"]))
        if kind == "Endpoints":
            rule.setdefault(f"{side}Endpoints", []).append(draw(st.sampled_from(CILIUM_SELS)))
        elif kind == "CIDR":
            rule[f"{side}CIDR"] = [draw(st.sampled_from(NETS))]
        elif kind == "CIDRSet":
            rule[f"{side}CIDRSet"] = [{"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}]
        else:
            rule[f"{side}Entities"] = [draw(st.sampled_from(["world", "cluster", "all", "host"]))]
    if draw(st.booleans()):
        ports = []
        for _ in range(draw(st.integers(1, 2))):
            pp: dict[str, Any] = {"port": draw(st.sampled_from(["80", "53", "8000", "http", "0"]))}
            if pp["port"] == "8000":
                pp["endPort"] = 8100
            proto = draw(st.sampled_from([None, "TCP", "UDP", "ANY"]))
            if proto:
                pp["protocol"] = proto
            ports.append(pp)
        rule["toPorts"] = [{"ports": ports}]
    return rule


@st.composite
def cilium_policy_st(draw: Any, i: int) -> dict[str, Any]:
    spec: dict[str, Any] = {"endpointSelector": draw(st.sampled_from(CILIUM_SELS))}
    for d, side in (("ingress", "from"), ("egress", "to")):
        for key in (d, f"{d}Deny"):
            if draw(st.integers(0, 2)) == 0:
                spec[key] = draw(st.lists(cilium_rule_st(side), min_size=1, max_size=2))
    if draw(st.integers(0, 4)) == 0:
        spec["enableDefaultDeny"] = {draw(st.sampled_from(["ingress", "egress"])): False}
    if draw(st.booleans()):
        return {"apiVersion": CILIUM, "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": f"c{i}"}, "spec": spec}
    return {"apiVersion": CILIUM, "kind": "CiliumNetworkPolicy",
            "metadata": {"name": f"c{i}", "namespace": draw(st.sampled_from(NS))}, "spec": spec}


@st.composite
def cilium_cluster_st(draw: Any) -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = [namespace(n, env=draw(st.sampled_from(["prod", "dev"]))) for n in NS]
    for i in range(draw(st.integers(1, 4))):
        objs.append(pod(draw(st.sampled_from(NS)), f"pod{i}", draw(labels_st),
                        ports=draw(st.lists(st.sampled_from(PORTS), max_size=2, unique=True))))
    for i in range(draw(st.integers(1, 3))):
        objs.append(draw(cilium_policy_st(i)))
    for i in range(draw(st.integers(0, 2))):
        objs.append(draw(policy_st(i, draw(st.sampled_from(NS)))))
    return objs


@settings(max_examples=400, derandomize=True, deadline=None)
@given(cilium_cluster_st())
def test_cilium_fast_path_agrees_with_reference(objs: list[dict[str, Any]]) -> None:
    check(objs, "cilium")


# -- Antrea ------------------------------------------------------------------------------------

K8S_SELS = ({}, {"matchLabels": {"app": "web"}}, {"matchLabels": {"tier": "db"}},
            {"matchExpressions": [{"key": "app", "operator": "Exists"}]})


@st.composite
def antrea_peer_st(draw: Any, cluster_scoped: bool) -> dict[str, Any]:
    kind = draw(st.sampled_from(["pod", "pod", "ns", "both", "self", "ip"] if cluster_scoped else ["pod", "pod", "ns", "both", "ip"]))
    if kind == "pod":
        return {"podSelector": draw(st.sampled_from(K8S_SELS))}
    if kind == "ns":
        return {"namespaceSelector": draw(st.sampled_from(({}, {"matchLabels": {"env": "prod"}})))}
    if kind == "both":
        return {"podSelector": draw(st.sampled_from(K8S_SELS)), "namespaceSelector": {"matchLabels": {"env": "dev"}}}
    if kind == "self":
        out: dict[str, Any] = {"namespaces": {"match": "Self"}}
        if draw(st.booleans()):
            out["podSelector"] = draw(st.sampled_from(K8S_SELS))
        return out
    return {"ipBlock": {"cidr": draw(st.sampled_from(NETS))}}


@st.composite
def antrea_policy_st(draw: Any, i: int) -> dict[str, Any]:
    cluster_scoped = draw(st.booleans())
    tier = draw(st.sampled_from([None, "securityops", "Emergency", "baseline"]))
    spec: dict[str, Any] = {"priority": draw(st.sampled_from([1, 5, 5.5]))}
    if tier:
        spec["tier"] = tier
    per_rule = draw(st.integers(0, 3)) == 0

    def applied() -> list[dict[str, Any]]:
        if cluster_scoped and draw(st.booleans()):
            return [{"namespaceSelector": draw(st.sampled_from(({}, {"matchLabels": {"env": "prod"}})))}]
        return [{"podSelector": draw(st.sampled_from(K8S_SELS))}]

    if not per_rule:
        spec["appliedTo"] = applied()
    actions = ["Allow", "Drop", "Reject"] + ([] if tier == "baseline" else ["Pass"])
    for d, side in (("ingress", "from"), ("egress", "to")):
        if draw(st.booleans()):
            rules = []
            for _ in range(draw(st.integers(1, 3))):
                r: dict[str, Any] = {"action": draw(st.sampled_from(actions))}
                if draw(st.integers(0, 3)):
                    r[side] = draw(st.lists(antrea_peer_st(cluster_scoped), min_size=1, max_size=2))
                if draw(st.booleans()):
                    port = draw(st.sampled_from([80, 53, 8000, "http"]))
                    entry: dict[str, Any] = {"protocol": draw(st.sampled_from(["TCP", "UDP"])), "port": port}
                    if port == 8000:
                        entry["endPort"] = 8100
                    r["ports"] = [entry]
                if per_rule:
                    r["appliedTo"] = applied()
                rules.append(r)
            spec[d] = rules
    if per_rule and not (spec.get("ingress") or spec.get("egress")):
        spec["appliedTo"] = applied()
    if cluster_scoped:
        return {"apiVersion": ANTREA, "kind": "ClusterNetworkPolicy", "metadata": {"name": f"a{i}"}, "spec": spec}
    return {"apiVersion": ANTREA, "kind": "NetworkPolicy",
            "metadata": {"name": f"a{i}", "namespace": draw(st.sampled_from(NS))}, "spec": spec}


@st.composite
def antrea_cluster_st(draw: Any) -> list[dict[str, Any]]:
    objs: list[dict[str, Any]] = [namespace(n, env=draw(st.sampled_from(["prod", "dev"]))) for n in NS]
    for i in range(draw(st.integers(1, 4))):
        objs.append(pod(draw(st.sampled_from(NS)), f"pod{i}", draw(labels_st),
                        ports=draw(st.lists(st.sampled_from(PORTS), max_size=2, unique=True))))
    for i in range(draw(st.integers(1, 3))):
        objs.append(draw(antrea_policy_st(i)))
    for i in range(draw(st.integers(0, 2))):
        objs.append(draw(policy_st(i, draw(st.sampled_from(NS)))))
    return objs


@settings(max_examples=300, derandomize=True, deadline=None)
@given(antrea_cluster_st())
def test_antrea_fast_path_agrees_with_reference(objs: list[dict[str, Any]]) -> None:
    check(objs, "antrea")
