"""Calico policies in the tier model: verdicts derived from Calico's documentation.

Sources quoted per test: Calico docs "Calico network policy" / "Global network policy"
(reference/resources/networkpolicy, globalnetworkpolicy), "Tier" (reference/resources/
tier), "Get started with policy tiers" and "NetworkSet" (reference/resources/networkset).
"""

from __future__ import annotations

from typing import Any

import pytest

from policies.engine import Analyzer, ConnSet, build_cluster
from policies.engine.cni.kinds import cni_object_key

from .builders import namespace, netpol, pod

V3 = "projectcalico.org/v3"


def cnp(ns: str, name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": V3, "kind": "NetworkPolicy", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def gnp(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": V3, "kind": "GlobalNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def tier(name: str, order: float | None, default_action: str | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if order is not None:
        spec["order"] = order
    if default_action:
        spec["defaultAction"] = default_action
    return {"apiVersion": V3, "kind": "Tier", "metadata": {"name": name}, "spec": spec}


BASE = [
    namespace("web", team="a"),
    namespace("db", team="b"),
    pod("web", "front", {"app": "front"}, ports=[("http", "TCP", 8080)]),
    pod("web", "admin", {"app": "admin"}),
    pod("db", "pg", {"app": "pg"}, ports=[("sql", "TCP", 5432)]),
]
FRONT, ADMIN, PG = "web/front[Pod]", "web/admin[Pod]", "db/pg[Pod]"
ALL = ConnSet.all()
NONE = ConnSet.none()


def conns(objs: list[dict[str, Any]], src: str, dst: str, cni: str | None = "calico") -> ConnSet:
    cluster = build_cluster(objs, cni=cni)
    return Analyzer(cluster).analyze(level="pod").conns_between(src, dst)


def allow_from(selector: str, **extra: Any) -> dict[str, Any]:
    return {"action": "Allow", "source": {"selector": selector}, **extra}


def test_calico_networkpolicy_is_never_read_as_a_v1_one() -> None:
    """A projectcalico.org/v3 NetworkPolicy has `selector`, not `podSelector`: read as a
    v1 policy it would select every pod of the namespace."""
    pol = cnp("db", "only-front", selector="app == 'pg'", ingress=[allow_from("app == 'front'", )])
    cluster = build_cluster([*BASE, pol], cni="calico")
    assert cluster.policies == []
    assert list(cluster.cni_policies) == ["calico:NetworkPolicy:db/only-front"]
    assert cluster.cni_policies["calico:NetworkPolicy:db/only-front"].enforced


def test_namespaced_selector_stays_in_its_namespace() -> None:
    """Docs (NetworkPolicy, EntityRule selector): "If namespaceSelector is not set, the
    selector matches endpoints in the same namespace as the NetworkPolicy"."""
    pol = cnp("db", "p", selector="app == 'pg'", ingress=[allow_from("app == 'front'")])
    assert conns([*BASE, pol], FRONT, PG).is_empty  # front lives in web, not db
    pol2 = cnp("db", "p", selector="app == 'pg'", ingress=[
        {"action": "Allow", "source": {"selector": "app == 'front'", "namespaceSelector": "team == 'a'"}}])
    assert conns([*BASE, pol2], FRONT, PG) == ALL
    assert conns([*BASE, pol2], ADMIN, PG).is_empty


def test_tier_default_action_deny_when_selected_and_nothing_matched() -> None:
    """Docs (Tier): "defaultAction: ... the action to take when no policies in the tier
    match the traffic ... Deny (default) or Pass", applied only when a policy of the
    tier selected the endpoint."""
    pol = cnp("db", "p", selector="app == 'pg'", ingress=[allow_from("app == 'nothing'")])
    assert conns([*BASE, pol], FRONT, PG).is_empty
    # Another endpoint is not selected: profiles allow.
    assert conns([*BASE, pol], PG, FRONT) == ALL


def test_pass_tier_default_goes_on_to_the_next_tier() -> None:
    """Docs (Tier): with defaultAction Pass "the traffic is passed to the next tier"."""
    objs = [*BASE, tier("security", 100, "Pass"),
            gnp("security.watch", tier="security", order=1, selector="app == 'pg'",
                ingress=[allow_from("app == 'nothing'")])]
    assert conns(objs, FRONT, PG) == ALL  # default tier: nothing selects pg -> profile
    objs_deny = [*BASE, tier("security", 100),
                 gnp("security.watch", tier="security", order=1, selector="app == 'pg'",
                     ingress=[allow_from("app == 'nothing'")])]
    assert conns(objs_deny, FRONT, PG).is_empty


def test_tiers_by_order_first_match_decides() -> None:
    """Docs (policy tiers): "tiers are evaluated in order ... a Deny in a tier with a
    lower order wins over an Allow of a later tier"; Pass skips to the next tier."""
    deny_first = [
        *BASE, tier("security", 100), tier("platform", 200),
        gnp("security.block", tier="security", selector="app == 'pg'",
            ingress=[{"action": "Deny", "source": {"selector": "app == 'front'"}}]),
        gnp("platform.open", tier="platform", selector="app == 'pg'",
            ingress=[{"action": "Allow"}]),
    ]
    assert conns(deny_first, FRONT, PG).is_empty
    assert conns(deny_first, ADMIN, PG).is_empty  # security tier selected pg: its default Deny

    passing = [
        *BASE, tier("security", 100), tier("platform", 200),
        gnp("security.pass", tier="security", selector="app == 'pg'",
            ingress=[{"action": "Pass", "source": {"selector": "app == 'front'"}}]),
        gnp("platform.open", tier="platform", selector="app == 'pg'",
            ingress=[{"action": "Allow", "source": {"selector": "app == 'front'"}}]),
    ]
    assert conns(passing, FRONT, PG) == ALL
    assert conns(passing, ADMIN, PG).is_empty


def test_policy_order_lower_first_missing_last() -> None:
    """Docs (NetworkPolicy order): "Policies with lower order are applied first ...
    policies without order are applied last"."""
    allow = gnp("allow-front", selector="app == 'pg'", ingress=[allow_from("app == 'front'")])
    deny = gnp("deny-all", order=10, selector="app == 'pg'", ingress=[{"action": "Deny"}])
    assert conns([*BASE, allow, deny], FRONT, PG).is_empty  # deny has an order: first
    allow_ordered = {**allow, "spec": {**allow["spec"], "order": 5}}
    assert conns([*BASE, allow_ordered, deny], FRONT, PG) == ALL


def test_log_does_not_decide() -> None:
    """Docs (Rule action): "Log: log the packet and continue processing the rules"."""
    pol = gnp("p", selector="app == 'pg'", ingress=[{"action": "Log"}, allow_from("app == 'front'")])
    assert conns([*BASE, pol], FRONT, PG) == ALL


def test_v1_networkpolicy_in_the_default_tier_at_order_1000() -> None:
    """Calico evaluates Kubernetes NetworkPolicies "as Calico policies in the default
    tier with order 1000": a Calico Deny with order 500 comes first; one with order 2000
    only sees what the v1 policy did not allow."""
    v1 = netpol("db", "np", podSelector={"matchLabels": {"app": "pg"}}, ingress=[{
        "from": [{"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "front"}}}]}])
    early = cnp("db", "deny-early", order=500, selector="app == 'pg'",
                ingress=[{"action": "Deny", "source": {"selector": "app == 'front'", "namespaceSelector": "all()"}}])
    assert conns([*BASE, v1, early], FRONT, PG).is_empty
    late = {**early, "spec": {**early["spec"], "order": 2000}}
    assert conns([*BASE, v1, late], FRONT, PG) == ALL
    # Allowed by a later Calico policy when the v1 policy does not allow it.
    late_allow = cnp("db", "allow-late", order=2000, selector="app == 'pg'",
                     ingress=[{"action": "Allow", "source": {"selector": "app == 'admin'", "namespaceSelector": "all()"}}])
    assert conns([*BASE, v1, late_allow], ADMIN, PG) == ALL
    # Without CNI the same Calico object is listed, not applied.
    assert conns([*BASE, v1, early], FRONT, PG, cni="none") == ALL


def test_types_default() -> None:
    """Docs (NetworkPolicy types): "If types is not specified ... Ingress if there are no
    Egress rules ... Egress if there are Egress rules but no Ingress rules ... both if
    there are both"."""
    only_egress = cnp("web", "p", selector="app == 'front'", egress=[{"action": "Allow", "destination": {"selector": "app == 'admin'"}}])
    assert conns([*BASE, only_egress], FRONT, PG).is_empty  # egress isolated
    assert conns([*BASE, only_egress], PG, FRONT) == ALL  # ingress untouched
    empty = cnp("web", "q", selector="app == 'front'")
    assert conns([*BASE, empty], PG, FRONT).is_empty  # [Ingress]: default deny ingress
    assert conns([*BASE, empty], FRONT, PG) == ALL


def test_ports_ranges_named_and_not_ports() -> None:
    """Docs (Ports): "ports: a list of ... single port numbers, port ranges "first:last",
    or named ports"; notPorts: "Negative match on ports"; ports need a protocol."""
    pol = cnp("db", "p", selector="app == 'pg'", ingress=[{
        "action": "Allow", "protocol": "TCP",
        "source": {"namespaceSelector": "all()"},
        "destination": {"ports": [80, "8000:8100", "sql"], "notPorts": ["8050:8060"]}}])
    got = conns([*BASE, pol], FRONT, PG)
    expected = ConnSet({"TCP": [(80, 80), (5432, 5432), (8000, 8049), (8061, 8100)]})
    assert got == expected


def test_not_protocol_and_icmp_outside_the_answer() -> None:
    """ICMP rules are listed but outside the TCP/UDP/SCTP answer; notProtocol removes a
    protocol."""
    pol = cnp("db", "p", selector="app == 'pg'", ingress=[
        {"action": "Allow", "protocol": "ICMP", "source": {"namespaceSelector": "all()"}},
        {"action": "Allow", "notProtocol": "UDP", "source": {"namespaceSelector": "all()"}}])
    cluster = build_cluster([*BASE, pol], cni="calico")
    assert "ICMP" in cluster.cni_policies["calico:NetworkPolicy:db/p"].rules[0].text
    got = Analyzer(cluster).analyze(level="pod").conns_between(FRONT, PG)
    assert got == ConnSet.of("TCP") | ConnSet.of("SCTP")


def test_not_selector_and_global_policy_namespace_selector() -> None:
    """Docs (GlobalNetworkPolicy): "namespaceSelector: Selects the namespace(s) to which
    this policy applies"; EntityRule notSelector: "Negative match on selected
    endpoints"."""
    pol = gnp("p", namespaceSelector="team == 'a'", selector="all()",
              ingress=[{"action": "Allow", "source": {"notSelector": "app == 'admin'"}}])
    objs = [*BASE, pol]
    assert conns(objs, PG, FRONT) == ALL
    assert conns(objs, ADMIN, FRONT).is_empty
    assert conns(objs, ADMIN, PG) == ALL  # pg's namespace is not selected


def test_service_accounts() -> None:
    """Docs (ServiceAccountMatch): "names: match service accounts by name; selector:
    match service accounts by their labels"."""
    sa = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "frontend", "namespace": "web", "labels": {"role": "ui"}}}
    front = pod("web", "front", {"app": "front"})
    front["spec"]["serviceAccountName"] = "frontend"
    objs = [namespace("web"), namespace("db"), front, pod("web", "admin", {"app": "admin"}),
            pod("db", "pg", {"app": "pg"}), sa,
            cnp("db", "p", selector="app == 'pg'", ingress=[{"action": "Allow", "source": {
                "namespaceSelector": "all()", "serviceAccounts": {"selector": "role == 'ui'"}}}])]
    assert conns(objs, FRONT, PG) == ALL
    assert conns(objs, ADMIN, PG).is_empty
    by_name = [*objs[:-1], cnp("db", "p", selector="app == 'pg'", ingress=[{"action": "Allow", "source": {
        "namespaceSelector": "all()", "serviceAccounts": {"names": ["frontend"]}}}])]
    assert conns(by_name, FRONT, PG) == ALL
    assert conns(by_name, ADMIN, PG).is_empty


def test_nets_and_network_sets() -> None:
    """Docs (EntityRule nets: "Match packets with IP in any of the listed CIDRs"; NetworkSet:
    "a set of arbitrary IP sub-networks/CIDRs, selectable by label selectors")."""
    netset = {"apiVersion": V3, "kind": "GlobalNetworkSet", "metadata": {"name": "partners", "labels": {"kind": "partner"}},
              "spec": {"nets": ["203.0.113.0/24"]}}
    pol = gnp("egress", selector="app == 'front'", types=["Egress"], egress=[
        {"action": "Allow", "destination": {"selector": "kind == 'partner'"}},
        {"action": "Allow", "destination": {"nets": ["198.51.100.0/24"], "notNets": ["198.51.100.128/25"]}}])
    reach = Analyzer(build_cluster([*BASE, netset, pol], cni="calico")).analyze(level="pod")
    dsts = {c.dst.key for c in reach.connections if c.src.key == FRONT}
    assert "203.0.113.0-203.0.113.255[External]" in dsts
    assert "198.51.100.0-198.51.100.127[External]" in dsts
    assert "198.51.100.128-198.51.100.255[External]" not in dsts
    assert PG not in dsts  # egress isolated, pods not allowed
    assert not any(d.startswith("0.0.0.0") for d in dsts)


def test_ingress_from_nets_cuts_sources() -> None:
    pol = cnp("db", "p", selector="app == 'pg'", ingress=[{"action": "Allow", "source": {"nets": ["10.9.0.0/16"]}}])
    reach = Analyzer(build_cluster([*BASE, pol], cni="calico")).analyze(level="pod")
    srcs = {c.src.key for c in reach.connections if c.dst.key == PG}
    assert srcs == {"10.9.0.0-10.9.255.255[External]"}


def test_invalid_selector_keeps_the_policy_out_with_a_position() -> None:
    pol = cnp("db", "p", selector="app == 'pg", ingress=[{"action": "Deny"}])
    cluster = build_cluster([*BASE, pol], cni="calico")
    info = cluster.cni_policies["calico:NetworkPolicy:db/p"]
    assert not info.enforced
    assert info.problems[0].path == "spec.selector"
    assert "position 7" in info.problems[0].message
    assert conns([*BASE, pol], FRONT, PG) == ALL


def test_not_enforced_when_another_cni_runs() -> None:
    agent = pod("kube-system", "cilium-x", {"k8s-app": "cilium"})
    pol = cnp("db", "p", selector="app == 'pg'", ingress=[{"action": "Deny"}])
    cluster = build_cluster([*BASE, agent, pol])
    assert cluster.cni == "cilium"
    assert "agent" in cluster.cni_detected_by
    info = cluster.cni_policies[cni_object_key(pol)]
    assert not info.enforced
    assert "not enforced here" in info.not_enforced_reason
    assert Analyzer(cluster).analyze(level="pod").conns_between(FRONT, PG) == ALL


def test_detection_from_policy_objects() -> None:
    pol = cnp("db", "p", selector="app == 'pg'", ingress=[{"action": "Deny"}])
    assert build_cluster([*BASE, pol]).cni == "calico"
    assert build_cluster(BASE).cni == "none"
    with pytest.raises(ValueError, match="unknown CNI 'weave'"):
        build_cluster(BASE, cni="weave")


def test_crd_datastore_group_is_calico_too() -> None:
    pol = cnp("db", "default.p", selector="app == 'pg'", ingress=[{"action": "Deny"}])
    pol["apiVersion"] = "crd.projectcalico.org/v1"
    assert conns([*BASE, pol], FRONT, PG).is_empty


def test_egress_default_deny_reaches_every_destination() -> None:
    pol = gnp("lockdown", selector="app == 'front'", types=["Egress"])
    reach = Analyzer(build_cluster([*BASE, pol], cni="calico")).analyze(level="pod")
    assert not [c for c in reach.connections if c.src.key == FRONT]
    assert reach.conns_between(ADMIN, PG) == ALL


def test_ip_version_and_http_match() -> None:
    """Docs (Rule): "ipVersion: Positive IP version match" (4 or 6); "http: HTTP match
    criteria" (application layer policy: an L7 rule)."""
    pol = gnp("out", selector="app == 'front'", types=["Egress"], egress=[
        {"action": "Allow", "ipVersion": 6},
        {"action": "Allow", "protocol": "TCP", "destination": {"selector": "app == 'pg'", "namespaceSelector": "all()"},
         "http": {"methods": ["GET"]}}])
    cluster = build_cluster([*BASE, pol], cni="calico")
    reach = Analyzer(cluster).analyze(level="pod")
    dsts = {c.dst.key for c in reach.connections if c.src.key == FRONT}
    assert any(d.startswith("::") for d in dsts)
    assert not any(d.startswith("0.0.0.0") for d in dsts)
    assert ADMIN in dsts  # pods have addresses of both families
    assert cluster.cni_policies["calico:GlobalNetworkPolicy:out"].rules[1].marks == ("L7 rules apply",)


def test_detection_from_agent_daemonsets_and_namespaces() -> None:
    """Agents: kube-system (or calico-system) pods or DaemonSet templates labelled
    k8s-app=calico-node, k8s-app=cilium, app=antrea + component=antrea-agent."""
    def ds(ns: str, labels: dict[str, str]) -> dict[str, Any]:
        return {"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent", "namespace": ns},
                "spec": {"selector": {"matchLabels": labels}, "template": {"metadata": {"labels": labels},
                                                                             "spec": {"containers": [{"name": "c"}]}}}}

    assert build_cluster([*BASE, ds("kube-system", {"app": "antrea", "component": "antrea-agent"})]).cni == "antrea"
    assert build_cluster([*BASE, ds("calico-system", {"k8s-app": "calico-node"})]).cni == "calico"
    # Labels alone in another namespace are not an agent.
    assert build_cluster([*BASE, ds("web", {"k8s-app": "cilium"})]).cni == "none"
    # Agent pods win over the policy objects present.
    pol = cnp("db", "p", selector="app == 'pg'", ingress=[{"action": "Deny"}])
    c = build_cluster([*BASE, pol, pod("kube-system", "cilium-abc", {"k8s-app": "cilium"})])
    assert (c.cni, c.cni_detected_by) == ("cilium", "cilium agent pods")
    # Policy objects of two CNIs and no agent: none enforces.
    cil = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "c", "namespace": "db"},
           "spec": {"endpointSelector": {}}}
    c2 = build_cluster([*BASE, pol, cil])
    assert c2.cni == "none"
    assert "several CNIs" in c2.cni_detected_by
    assert not any(i.enforced for i in c2.cni_policies.values())


def test_v3_and_crd_copies_of_one_policy_are_read_once() -> None:
    """With Calico's API server, projectcalico.org/v3 serves what crd.projectcalico.org/v1
    stores (names prefixed by the tier): the v3 objects are read, the CRD copies noted."""
    v3 = gnp("p", selector="app == 'pg'", ingress=[{"action": "Deny"}])
    crd = {**gnp("default.p", selector="app == 'pg'", ingress=[{"action": "Deny"}]),
           "apiVersion": "crd.projectcalico.org/v1"}
    cluster = build_cluster([*BASE, v3, crd])
    assert list(cluster.cni_policies) == ["calico:GlobalNetworkPolicy:p"]
    assert any("crd.projectcalico.org object(s) not read" in n for n in cluster.notes)
    assert list(build_cluster([*BASE, crd]).cni_policies) == ["calico:GlobalNetworkPolicy:default.p"]
