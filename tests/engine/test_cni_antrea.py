"""Antrea-native policies in the tier model: verdicts derived from Antrea's docs
(antrea-io/antrea docs/antrea-network-policy.md: "Tier", "Static tiers", "Antrea
ClusterNetworkPolicy", "Behavior of to and from selectors", "Antrea-native Policy
ordering based on priorities", "ClusterGroup")."""

from __future__ import annotations

from typing import Any

from policies.engine import Analyzer, ConnSet, build_cluster, explain, findings

from .builders import namespace, netpol, pod

API = "crd.antrea.io/v1beta1"
BASE = [
    namespace("web", team="a"),
    namespace("db", team="b"),
    pod("web", "front", {"app": "front"}),
    pod("web", "admin", {"app": "admin"}),
    pod("db", "pg", {"app": "pg"}, ports=[("sql", "TCP", 5432)]),
    pod("db", "cache", {"app": "cache"}),
]
FRONT, ADMIN, PG, CACHE = "web/front[Pod]", "web/admin[Pod]", "db/pg[Pod]", "db/cache[Pod]"
ALL = ConnSet.all()


def acnp(name: str, priority: float, tier: str | None = None, **spec: Any) -> dict[str, Any]:
    spec["priority"] = priority
    if tier:
        spec["tier"] = tier
    return {"apiVersion": API, "kind": "ClusterNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def annp(ns: str, name: str, priority: float, **spec: Any) -> dict[str, Any]:
    spec["priority"] = priority
    return {"apiVersion": API, "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def pods(**labels: str) -> dict[str, Any]:
    return {"podSelector": {"matchLabels": labels}}


def conns(objs: list[dict[str, Any]], src: str, dst: str) -> ConnSet:
    return Analyzer(build_cluster(objs, cni="antrea")).analyze(level="pod").conns_between(src, dst)


def test_antrea_clusternetworkpolicy_is_not_the_upstream_kind() -> None:
    pol = acnp("p", 5, appliedTo=[pods(app="pg")], ingress=[{"action": "Drop", "from": [pods(app="front")]}])
    cluster = build_cluster([*BASE, pol], cni="antrea")
    assert cluster.cluster_policies == []
    assert "antrea:ClusterNetworkPolicy:p" in cluster.cni_policies


def test_no_automatic_isolation() -> None:
    """Docs: "There is no automatic isolation of Pods on being selected in appliedTo"."""
    pol = acnp("p", 5, appliedTo=[pods(app="pg")], ingress=[{"action": "Allow", "from": [pods(app="front")]}])
    assert conns([*BASE, pol], ADMIN, PG) == ALL


def test_tiers_before_k8s_networkpolicy_baseline_after() -> None:
    """Docs: "Emergency > SecurityOps > NetworkOps > Platform > Application > K8s
    NetworkPolicy > Baseline"; "baseline policies cannot counteract the isolated Pod
    behavior provided by K8s NetworkPolicies"."""
    v1_allow = netpol("db", "allow", podSelector={"matchLabels": {"app": "pg"}}, ingress=[{"from": [
        {"namespaceSelector": {}}]}])
    drop_app = acnp("drop", 10, appliedTo=[pods(app="pg")], ingress=[{"action": "Drop", "from": [pods(app="front")]}])
    assert conns([*BASE, v1_allow, drop_app], FRONT, PG).is_empty  # application tier first
    baseline = acnp("base", 10, "baseline", appliedTo=[{"namespaceSelector": {}}],
                    ingress=[{"action": "Drop", "from": [{"namespaceSelector": {}}]}])
    assert conns([*BASE, v1_allow, baseline], FRONT, PG) == ALL  # v1 decides for pg
    assert conns([*BASE, v1_allow, baseline], FRONT, CACHE).is_empty  # not isolated: baseline
    iso = netpol("db", "iso", podSelector={"matchLabels": {"app": "pg"}}, policyTypes=["Ingress"])
    base_allow = acnp("base", 10, "baseline", appliedTo=[pods(app="pg")], ingress=[{"action": "Allow"}])
    assert conns([*BASE, iso, base_allow], FRONT, PG).is_empty


def test_tier_order_and_priority() -> None:
    """Docs (ordering): tiers by priority first, then policies by priority (lower
    first), then rules in written order; Pass hands over to the next tier."""
    allow_emergency = acnp("e", 100, "Emergency", appliedTo=[pods(app="pg")], ingress=[{"action": "Allow", "from": [pods(app="front")]}])
    drop_sec = acnp("s", 1, "SecurityOps", appliedTo=[pods(app="pg")], ingress=[{"action": "Drop"}])
    assert conns([*BASE, allow_emergency, drop_sec], FRONT, PG) == ALL
    assert conns([*BASE, allow_emergency, drop_sec], ADMIN, PG).is_empty
    first = acnp("a", 1, appliedTo=[pods(app="pg")], ingress=[{"action": "Pass", "from": [pods(app="front")]}])
    second = acnp("b", 2, appliedTo=[pods(app="pg")], ingress=[{"action": "Drop"}])
    assert conns([*BASE, first, second], FRONT, PG) == ALL  # passed over b, to the K8s NPs
    assert conns([*BASE, first, second], ADMIN, PG).is_empty
    annp_low = annp("db", "n", 0.5 + 1, appliedTo=[pods(app="pg")], ingress=[{"action": "Reject", "from": [pods()]}])
    assert conns([*BASE, annp_low], CACHE, PG).is_empty  # ANNP podSelector: own namespace
    assert conns([*BASE, annp_low], FRONT, PG) == ALL


def test_namespaces_match_self() -> None:
    """Docs (ACNP for default Namespace isolation): `namespaces: match: self` allows
    from Pods of the same Namespace as the workload targeted."""
    pol = acnp("iso", 2, "baseline", appliedTo=[{"namespaceSelector": {}}], ingress=[
        {"action": "Allow", "from": [{"namespaces": {"match": "self"}}]},
        {"action": "Drop", "from": [{"namespaceSelector": {}}]}])
    objs = [*BASE, pol]
    assert conns(objs, CACHE, PG) == ALL
    assert conns(objs, FRONT, PG).is_empty
    assert conns(objs, ADMIN, FRONT) == ALL
    assert conns(objs, PG, FRONT).is_empty


def test_rule_level_applied_to_and_ports() -> None:
    """Docs: "the appliedTo field per rule ... is valid for that rule itself"; ports
    with endPort."""
    pol = acnp("p", 5, ingress=[
        {"action": "Drop", "appliedTo": [pods(app="pg")], "from": [pods(app="front")],
         "ports": [{"protocol": "TCP", "port": 5000, "endPort": 6000}]},
        {"action": "Drop", "appliedTo": [pods(app="cache")], "from": [pods(app="admin")]}])
    objs = [*BASE, pol]
    got = conns(objs, FRONT, PG)
    assert not got.allows("TCP", 5432)
    assert got.allows("TCP", 6001)
    assert got.allows("UDP", 5432)
    assert conns(objs, FRONT, CACHE) == ALL
    assert conns(objs, ADMIN, CACHE).is_empty
    assert conns(objs, ADMIN, PG) == ALL


def test_cluster_groups_with_children_and_ip_blocks() -> None:
    """Docs (ClusterGroup): podSelector/namespaceSelector, ipBlocks, "childGroups ...
    the effective members of the parent ClusterGroup will be the union"."""
    cg_front = {"apiVersion": API, "kind": "ClusterGroup", "metadata": {"name": "front"}, "spec": {"podSelector": {"matchLabels": {"app": "front"}}}}
    cg_net = {"apiVersion": API, "kind": "ClusterGroup", "metadata": {"name": "partners"}, "spec": {"ipBlocks": [{"cidr": "203.0.113.0/24"}]}}
    cg_all = {"apiVersion": API, "kind": "ClusterGroup", "metadata": {"name": "both"}, "spec": {"childGroups": ["front", "partners"]}}
    pol = acnp("p", 5, appliedTo=[pods(app="pg")], ingress=[
        {"action": "Allow", "from": [{"group": "both"}]}, {"action": "Drop"}])
    reach = Analyzer(build_cluster([*BASE, cg_front, cg_net, cg_all, pol], cni="antrea")).analyze(level="pod")
    srcs = {c.src.key for c in reach.connections if c.dst.key == PG}
    assert srcs == {FRONT, "203.0.113.0-203.0.113.255[External]"}


def test_a_child_group_with_children_of_its_own_makes_its_parent_invalid() -> None:
    """antrea-io/antrea pkg/controller/networkpolicy/validate.go (validateChildClusterGroup):
    "cannot set ClusterGroup %s as childGroup, who has %d childGroups itself"."""
    cg_front = {"apiVersion": API, "kind": "ClusterGroup", "metadata": {"name": "front"}, "spec": {"podSelector": {"matchLabels": {"app": "front"}}}}
    cg_middle = {"apiVersion": API, "kind": "ClusterGroup", "metadata": {"name": "middle"}, "spec": {"childGroups": ["front"]}}
    cg_top = {"apiVersion": API, "kind": "ClusterGroup", "metadata": {"name": "top"}, "spec": {"childGroups": ["middle"]}}
    by_top = acnp("by-top", 5, appliedTo=[pods(app="pg")], ingress=[{"action": "Drop", "from": [{"group": "top"}]}])
    by_middle = acnp("by-middle", 6, appliedTo=[pods(app="pg")], ingress=[{"action": "Drop", "from": [{"group": "middle"}]}])
    cluster = build_cluster([*BASE, cg_front, cg_middle, cg_top, by_top, by_middle], cni="antrea")
    top = cluster.cni_policies["antrea:ClusterGroup:top"]
    assert [(p.path, p.message) for p in top.problems] == [
        ("spec.childGroups", "child group 'middle' has childGroups itself: Antrea nests groups one level deep")
    ]
    assert "antrea:ClusterGroup:middle" not in cluster.cni_policies  # one level: valid
    assert not cluster.cni_policies["antrea:ClusterNetworkPolicy:by-top"].enforced
    assert cluster.cni_policies["antrea:ClusterNetworkPolicy:by-middle"].enforced
    invalid = {f.object_key: f.message for f in findings(cluster) if f.code == "cni-policy-invalid"}
    assert set(invalid) == {"antrea:ClusterGroup:top", "antrea:ClusterNetworkPolicy:by-top"}
    assert "group 'top' is invalid" in invalid["antrea:ClusterNetworkPolicy:by-top"]
    assert conns([*BASE, cg_front, cg_middle, cg_top, by_top, by_middle], FRONT, PG).is_empty  # by-middle drops it


def test_a_namespaced_group_nested_two_levels_deep_is_invalid_in_its_namespace_only() -> None:
    def group(ns: str, name: str, **spec: Any) -> dict[str, Any]:
        return {"apiVersion": API, "kind": "Group", "metadata": {"name": name, "namespace": ns}, "spec": spec}

    objs = [*BASE, group("db", "leaf", podSelector={"matchLabels": {"app": "cache"}}), group("db", "middle", childGroups=["leaf"]),
            group("db", "top", childGroups=["middle"]), group("web", "middle", podSelector={}), group("web", "top", childGroups=["middle"])]
    cluster = build_cluster(objs, cni="antrea")
    refused = {key for key, info in cluster.cni_policies.items() if info.problems}
    assert refused == {"antrea:Group:db/top"}
    elsewhere = {(f.code, f.object_key) for f in findings(build_cluster(objs, cni="calico")) if f.code.startswith("cni-")}
    assert elsewhere == {("cni-policy-invalid", "antrea:Group:db/top")}  # a group is never "a policy not enforced"


def test_explain_and_missing_tier_problem() -> None:
    pol = acnp("p", 5, "SecurityOps", appliedTo=[pods(app="pg")], ingress=[{"action": "Drop", "name": "no-front", "from": [pods(app="front")]}])
    ex = explain(build_cluster([*BASE, pol], cni="antrea"), "web/front", "db/pg", port=5432)
    m = ex.ingress.tier_matches[0]
    assert (m.policy, m.tier, m.rule_index, m.rule_name, m.action) == ("antrea:ClusterNetworkPolicy:p", "securityops", 0, "no-front", "Drop")
    assert "dropped" in ex.render_text()
    bad = acnp("q", 5, "nosuchtier", appliedTo=[pods(app="pg")], ingress=[{"action": "Drop"}])
    info = build_cluster([*BASE, bad], cni="antrea").cni_policies["antrea:ClusterNetworkPolicy:q"]
    assert not info.enforced
    assert info.problems[0].path == "spec.tier"


def test_directions_say_where_an_antrea_policy_has_rules() -> None:
    pol = acnp("p", 5, appliedTo=[pods(app="pg")], egress=[{"action": "Drop"}])
    [compiled] = build_cluster([*BASE, pol], cni="antrea").cni_tier_policies
    assert compiled.applies_to("egress")
    assert not compiled.applies_to("ingress")
    assert conns([*BASE, pol], FRONT, PG) == ALL  # ingress untouched: no isolation
