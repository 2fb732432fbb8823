"""Cluster-wide tiers: semantics per rule of the API types' documentation
(kubernetes-sigs/network-policy-api apis/v1alpha2/clusternetworkpolicy_types.go and
apis/v1alpha1/*_types.go), validation, explain, findings and derived analyzers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.engine import Analyzer, ConnSet, build_cluster, explain, findings
from policies.engine.tier_validation import validate_cluster_policy

from .builders import anp, banp, cnp, namespace, netpol, node, pod
from .strategies import cluster_policy_st, policy_st, tiered_cluster_st
from .test_incremental import COMBOS, snapshot

ALL = ConnSet.all()
NONE = ConnSet.none()
EVERY_NS: dict[str, Any] = {"namespaces": {}}


def ns_sel(name: str) -> dict[str, Any]:
    return {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def pods_sel(ns: str, **labels: str) -> dict[str, Any]:
    return {
        "pods": {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
            "podSelector": {"matchLabels": labels},
        }
    }


def tcp(port: int) -> dict[str, Any]:
    return {"tcp": {"destinationPort": {"number": port}}}


BASE = [
    namespace("web", team="a"),
    namespace("db", team="b"),
    namespace("kube-system"),
    pod("web", "front", {"app": "front"}, ports=[("http", "TCP", 8080)]),
    pod("db", "pg", {"app": "pg"}, ports=[("sql", "TCP", 5432)]),
    pod("kube-system", "dns", {"k8s-app": "kube-dns"}, ports=[("dns", "UDP", 53)]),
]


def conns(objs: list[dict[str, Any]], src: str, dst: str, direction: str = "combined") -> ConnSet:
    reach = Analyzer(build_cluster(objs)).analyze(level="pod", direction=direction)  # type: ignore[arg-type]
    return reach.conns_between(src, dst)


FRONT, PG, DNS = "web/front[Pod]", "db/pg[Pod]", "kube-system/dns[Pod]"


# -- semantics ---------------------------------------------------------------------------


def test_admin_deny_is_final_even_against_a_network_policy_allow() -> None:
    # "Deny: Drops the selected traffic. No further ClusterNetworkPolicy or
    # NetworkPolicy rules will be processed."
    objs = [
        *BASE,
        netpol("db", "allow-all", ingress=[{}]),
        cnp(
            "deny", "Admin", 10, ns_sel("db"), ingress=[{"action": "Deny", "from": [ns_sel("web")]}]
        ),
    ]
    assert conns(objs, FRONT, PG).is_empty
    assert conns(objs, DNS, PG) == ALL


def test_admin_accept_overrides_network_policy_isolation() -> None:
    # "Accept: Accepts the selected traffic ... No further ClusterNetworkPolicy or
    # NetworkPolicy rules will be processed."
    objs = [
        *BASE,
        netpol("db", "deny-all", policy_types=["Ingress"]),
        cnp(
            "accept",
            "Admin",
            10,
            ns_sel("db"),
            ingress=[{"action": "Accept", "from": [ns_sel("web")], "protocols": [tcp(5432)]}],
        ),
    ]
    assert conns(objs, FRONT, PG) == ConnSet.of("TCP", 5432)
    assert conns(objs, DNS, PG).is_empty


def test_rules_in_written_order_first_match_decides() -> None:
    # "a rule that appears at the top of the ingress rules would take the highest
    # precedence."
    objs = [
        *BASE,
        cnp(
            "order",
            "Admin",
            10,
            ns_sel("db"),
            ingress=[
                {"action": "Accept", "from": [ns_sel("web")], "protocols": [tcp(5432)]},
                {"action": "Deny", "from": [EVERY_NS]},
            ],
        ),
    ]
    assert conns(objs, FRONT, PG) == ConnSet.of("TCP", 5432)
    assert conns(objs, DNS, PG).is_empty


def test_lower_priority_value_is_checked_first() -> None:
    # "Policies with lower priority values have higher precedence, and are checked
    # before policies with higher priority values in the same tier."
    deny = cnp("deny", "Admin", 20, ns_sel("db"), ingress=[{"action": "Deny", "from": [EVERY_NS]}])
    accept = cnp(
        "accept", "Admin", 5, ns_sel("db"), ingress=[{"action": "Accept", "from": [ns_sel("web")]}]
    )
    assert conns([*BASE, deny, accept], FRONT, PG) == ALL
    accept["spec"]["priority"] = 30
    assert conns([*BASE, deny, accept], FRONT, PG).is_empty


def test_pass_goes_to_the_network_policy_tier() -> None:
    # "Pass: Skips all further ClusterNetworkPolicy rules in the current tier ... if an
    # Admin tier CNP uses Pass action, NetworkPolicy evaluation will happen next."
    objs = [
        *BASE,
        netpol(
            "db",
            "front-only",
            ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}}]}],
        ),
        cnp("pass", "Admin", 1, ns_sel("db"), ingress=[{"action": "Pass", "from": [EVERY_NS]}]),
        cnp("deny", "Admin", 2, ns_sel("db"), ingress=[{"action": "Deny", "from": [EVERY_NS]}]),
    ]
    assert conns(objs, FRONT, PG) == ALL  # passed, then allowed by the NetworkPolicy
    assert conns(objs, DNS, PG).is_empty  # passed, then the NetworkPolicy isolates


def test_pass_without_network_policy_reaches_baseline() -> None:
    # v1alpha1: "If the pod is not selected by any NetworkPolicies then execution is
    # passed to any BaselineAdminNetworkPolicies that select the pod."
    objs = [
        *BASE,
        anp("pass", 1, ns_sel("db"), ingress=[{"action": "Pass", "from": [EVERY_NS]}]),
        banp(ns_sel("db"), ingress=[{"action": "Deny", "from": [ns_sel("web")]}]),
    ]
    assert conns(objs, FRONT, PG).is_empty
    assert conns(objs, DNS, PG) == ALL  # nothing decided: allowed


def test_network_policy_decides_for_selected_pods_before_baseline() -> None:
    # "v1.NetworkPolicy always makes a final decision for selected pods. Further
    # evaluation only happens for Pods not selected by a v1.NetworkPolicy."
    objs = [
        *BASE,
        netpol("db", "allow-all", ingress=[{}]),
        cnp("base", "Baseline", 1, EVERY_NS, ingress=[{"action": "Deny", "from": [EVERY_NS]}]),
    ]
    assert conns(objs, FRONT, PG) == ALL
    assert conns(objs, PG, FRONT).is_empty  # web/front: no NetworkPolicy, Baseline denies


def test_baseline_accept_then_deny_is_a_default_deny_with_exceptions() -> None:
    objs = [
        *BASE,
        cnp(
            "base",
            "Baseline",
            1,
            ns_sel("db"),
            ingress=[
                {
                    "action": "Accept",
                    "from": [pods_sel("web", app="front")],
                    "protocols": [tcp(5432)],
                },
                {"action": "Deny", "from": [EVERY_NS]},
            ],
        ),
    ]
    assert conns(objs, FRONT, PG) == ConnSet.of("TCP", 5432)
    assert conns(objs, DNS, PG).is_empty


def test_nothing_decided_is_allowed_and_external_sources_are_not_namespace_peers() -> None:
    # "If a given connection wasn't allowed or denied by any of the tiers, the default
    # kubernetes policy is applied, which says that all pods can communicate."
    objs = [
        *BASE,
        cnp("deny", "Admin", 1, ns_sel("db"), ingress=[{"action": "Deny", "from": [EVERY_NS]}]),
    ]
    reach = Analyzer(build_cluster(objs)).analyze(level="pod")
    assert reach.conns_between("0.0.0.0-255.255.255.255[External]", PG) == ALL
    assert reach.conns_between(FRONT, PG).is_empty


def test_egress_networks_cut_destinations_and_match_addresses() -> None:
    # "Networks defines a way to select peers via CIDR blocks."
    objs = [
        *BASE,
        cnp(
            "metadata",
            "Admin",
            1,
            EVERY_NS,
            egress=[{"action": "Deny", "to": [{"networks": ["169.254.169.254/32"]}]}],
        ),
    ]
    reach = Analyzer(build_cluster(objs)).analyze(level="pod")
    assert reach.conns_between(FRONT, "169.254.169.254-169.254.169.254[External]").is_empty
    assert reach.conns_between(FRONT, "169.254.169.255-255.255.255.255[External]") == ALL
    assert reach.conns_between(FRONT, PG) == ALL


def test_egress_nodes_peer_selects_node_addresses() -> None:
    # "Nodes ... selects the nodeIPs as the peer type by matching on the IPs present in
    # the node.Status.Addresses field of the node."
    objs = [
        *BASE,
        node("n1", {"role": "control-plane"}, "10.0.0.10"),
        node("n2", {"role": "worker"}, "10.0.0.11"),
        cnp(
            "no-control-plane",
            "Admin",
            1,
            ns_sel("web"),
            egress=[
                {"action": "Deny", "to": [{"nodes": {"matchLabels": {"role": "control-plane"}}}]}
            ],
        ),
    ]
    reach = Analyzer(build_cluster(objs)).analyze(level="pod")
    assert reach.conns_between(FRONT, "10.0.0.10-10.0.0.10[External]").is_empty
    assert reach.conns_between(FRONT, "10.0.0.11-255.255.255.255[External]") == ALL
    assert reach.conns_between(PG, "10.0.0.10-10.0.0.10[External]") == ALL


def test_host_network_pods_are_neither_subjects_nor_peers() -> None:
    # "Note that host-networked pods are not included in subject selection." and "Note
    # that host-networked pods are not included in this type of peer."
    objs = [
        *BASE,
        pod("web", "agent", {"app": "agent"}, host_network=True),
        cnp("deny", "Admin", 1, EVERY_NS, ingress=[{"action": "Deny", "from": [EVERY_NS]}]),
    ]
    assert conns(objs, FRONT, "web/agent[Pod]") == ALL  # not a subject
    assert conns(objs, "web/agent[Pod]", PG) == ALL  # not a peer
    assert conns(objs, FRONT, PG).is_empty


def test_named_port_resolves_on_the_destination_with_its_protocol() -> None:
    # "DestinationNamedPort selects a destination port on a pod based on the
    # ContainerPort name."
    objs = [
        *BASE,
        cnp(
            "dns",
            "Admin",
            1,
            ns_sel("web"),
            egress=[
                {
                    "action": "Accept",
                    "to": [ns_sel("kube-system")],
                    "protocols": [{"destinationNamedPort": "dns"}],
                },
                {"action": "Deny", "to": [EVERY_NS]},
            ],
        ),
    ]
    assert conns(objs, FRONT, DNS) == ConnSet.of("UDP", 53)
    assert conns(objs, FRONT, PG).is_empty


def test_v1alpha1_ports_number_range_and_empty_list() -> None:
    objs = [
        *BASE,
        anp(
            "ports",
            1,
            ns_sel("db"),
            ingress=[
                {
                    "action": "Allow",
                    "from": [ns_sel("web")],
                    "ports": [
                        {"portNumber": {"protocol": "UDP", "port": 53}},
                        {"portRange": {"start": 8000, "end": 8010}},
                    ],
                },
                {"action": "Deny", "from": [ns_sel("kube-system")], "ports": []},
                {"action": "Deny", "from": [EVERY_NS]},
            ],
        ),
    ]
    assert conns(objs, FRONT, PG) == ConnSet({"UDP": [(53, 53)], "TCP": [(8000, 8010)]})
    # `ports: []` matches nothing (netpol-analyzer); the next rule denies.
    assert conns(objs, DNS, PG).is_empty


def test_both_directions_must_allow() -> None:
    objs = [
        *BASE,
        cnp(
            "no-egress",
            "Admin",
            1,
            ns_sel("web"),
            egress=[{"action": "Deny", "to": [ns_sel("db")]}],
        ),
        cnp(
            "accept-in",
            "Admin",
            2,
            ns_sel("db"),
            ingress=[{"action": "Accept", "from": [EVERY_NS]}],
        ),
    ]
    assert conns(objs, FRONT, PG).is_empty
    assert conns(objs, FRONT, PG, "ingress") == ALL
    assert conns(objs, FRONT, PG, "egress").is_empty


def test_equal_priority_order_is_cnp_then_anp_then_name() -> None:
    a = anp("a-allow", 5, ns_sel("db"), ingress=[{"action": "Allow", "from": [EVERY_NS]}])
    b = cnp("z-deny", "Admin", 5, ns_sel("db"), ingress=[{"action": "Deny", "from": [EVERY_NS]}])
    assert conns([*BASE, a, b], FRONT, PG).is_empty  # the ClusterNetworkPolicy first
    c = cnp(
        "a-accept", "Admin", 5, ns_sel("db"), ingress=[{"action": "Accept", "from": [EVERY_NS]}]
    )
    assert conns([*BASE, a, b, c], FRONT, PG) == ALL  # then by name


# -- validation --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("obj", "path", "text"),
    [
        (cnp("x", "Middle", 1, EVERY_NS), "spec.tier", "must be Admin or Baseline"),
        (cnp("x", "Admin", 1001, EVERY_NS), "spec.priority", "between 0 and 1000"),
        (cnp("x", "Admin", 1, {}), "spec.subject", "exactly one of namespaces and pods"),
        (
            cnp("x", "Admin", 1, EVERY_NS, ingress=[{"action": "Allow", "from": [EVERY_NS]}]),
            "spec.ingress[0].action",
            "use Accept, Deny, Pass",
        ),
        (
            cnp("x", "Admin", 1, EVERY_NS, ingress=[{"action": "Deny", "from": []}]),
            "spec.ingress[0].from",
            "at least one peer",
        ),
        (
            cnp(
                "x",
                "Admin",
                1,
                EVERY_NS,
                ingress=[{"action": "Deny", "from": [{"networks": ["10.0.0.0/8"]}]}],
            ),
            "spec.ingress[0].from[0].networks",
            "not a field of an ingress peer",
        ),
        (
            cnp(
                "x",
                "Admin",
                1,
                EVERY_NS,
                egress=[{"action": "Deny", "to": [{"networks": ["10.0.0/8"]}]}],
            ),
            "spec.egress[0].to[0].networks[0]",
            "not a valid CIDR",
        ),
        (
            cnp(
                "x",
                "Admin",
                1,
                EVERY_NS,
                egress=[
                    {
                        "action": "Deny",
                        "to": [{"networks": ["10.0.0.0/8"]}],
                        "protocols": [{"destinationNamedPort": "http"}],
                    }
                ],
            ),
            "spec.egress[0]",
            "named port with networks/nodes",
        ),
        (
            cnp(
                "x",
                "Admin",
                1,
                EVERY_NS,
                egress=[
                    {
                        "action": "Deny",
                        "to": [EVERY_NS],
                        "protocols": [
                            {"tcp": {"destinationPort": {"range": {"start": 90, "end": 80}}}}
                        ],
                    }
                ],
            ),
            "spec.egress[0].protocols[0].tcp.destinationPort.range.end",
            "must be greater than start 90",
        ),
        (banp(EVERY_NS) | {"metadata": {"name": "other"}}, "metadata.name", 'must be "default"'),
        (
            anp("x", 1, EVERY_NS, ingress=[{"action": "Accept", "from": [EVERY_NS]}]),
            "spec.ingress[0].action",
            "use Allow, Deny, Pass",
        ),
        (
            banp(EVERY_NS, ingress=[{"action": "Pass", "from": [EVERY_NS]}]),
            "spec.ingress[0].action",
            "use Allow, Deny",
        ),
        (
            anp(
                "x",
                1,
                EVERY_NS,
                ingress=[
                    {
                        "action": "Deny",
                        "from": [EVERY_NS],
                        "ports": [{"portNumber": {"protocol": "ICMP", "port": 1}}],
                    }
                ],
            ),
            "spec.ingress[0].ports[0].portNumber.protocol",
            "must be TCP, UDP or SCTP",
        ),
        (anp("x", None, EVERY_NS), "spec.priority", "is required"),
    ],
)
def test_validation_names_the_field(obj: dict[str, Any], path: str, text: str) -> None:
    errors = validate_cluster_policy(obj)
    assert any(e.path == path and text in e.message for e in errors), [str(e) for e in errors]
    assert str(errors[0]).startswith(f"{obj['kind']} {obj['metadata']['name']}: ")


@settings(settings.get_profile("engine"), max_examples=100)
@given(st.integers(0, 5).flatmap(cluster_policy_st))
def test_generated_policies_are_valid(obj: dict[str, Any]) -> None:
    assert validate_cluster_policy(obj) == []


def test_invalid_cluster_policy_is_kept_out_when_not_strict() -> None:
    bad = cnp("bad", "Admin", 2000, EVERY_NS, ingress=[{"action": "Deny", "from": [EVERY_NS]}])
    cluster = build_cluster([*BASE, bad], strict=False)
    assert cluster.cluster_policies == []
    assert cluster.invalid_policies[0][0] == "ClusterNetworkPolicy/bad"


# -- explain -----------------------------------------------------------------------------


def test_explain_names_tier_policy_rule_and_action() -> None:
    objs = [
        *BASE,
        netpol(
            "db",
            "web-only",
            ingress=[{"from": [{"namespaceSelector": {"matchLabels": {"team": "a"}}}]}],
        ),
        cnp(
            "guard",
            "Admin",
            3,
            ns_sel("db"),
            ingress=[
                {"name": "dns-never", "action": "Deny", "from": [ns_sel("kube-system")]},
                {"name": "to-np", "action": "Pass", "from": [ns_sel("web")]},
            ],
        ),
    ]
    cluster = build_cluster(objs)
    denied = explain(cluster, "kube-system/dns", "db/pg", port=5432)
    assert not denied.allowed
    m = denied.ingress.tier_matches[0]
    assert (m.tier, m.policy, m.rule_index, m.rule_name, m.action) == (
        "Admin",
        "ClusterNetworkPolicy/guard",
        0,
        "dns-never",
        "Deny",
    )
    assert (
        'Admin tier ClusterNetworkPolicy guard ingress rule #0 "dns-never" (Deny)'
        in denied.render_text()
    )
    passed = explain(cluster, "web/front", "db/pg", port=5432)
    assert passed.allowed
    assert passed.ingress.tier_matches[0].action == "Pass"
    assert (
        "NetworkPolicy tier (TCP 5432): allowed by db/web-only ingress rule #0"
        in passed.ingress.summary()
    )


def test_explain_says_when_no_tier_decided() -> None:
    objs = [
        *BASE,
        cnp(
            "other", "Admin", 1, ns_sel("db"), ingress=[{"action": "Deny", "from": [ns_sel("web")]}]
        ),
    ]
    e = explain(build_cluster(objs), "kube-system/dns", "db/pg", port=53, protocol="UDP")
    assert e.allowed
    assert e.ingress.tier_matches == ()
    assert e.ingress.to_dict()["tier_matches"] == []


# -- findings ----------------------------------------------------------------------------


def codes(objs: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in findings(build_cluster(objs)):
        out.setdefault(f.code, []).append(f.message)
    return out


def test_finding_equal_priorities_with_overlapping_subjects() -> None:
    found = codes(
        [
            *BASE,
            cnp("a", "Admin", 10, ns_sel("db"), ingress=[{"action": "Deny", "from": [EVERY_NS]}]),
            anp("b", 10, EVERY_NS, ingress=[{"action": "Allow", "from": [EVERY_NS]}]),
            cnp("c", "Admin", 11, ns_sel("db"), ingress=[{"action": "Deny", "from": [EVERY_NS]}]),
        ]
    )
    assert len(found["tier-equal-priority"]) == 1
    assert "both have priority 10" in found["tier-equal-priority"][0]
    assert "netpolui evaluates a first" in found["tier-equal-priority"][0]


def test_finding_shadowed_rule() -> None:
    found = codes(
        [
            *BASE,
            cnp("wide", "Admin", 1, EVERY_NS, ingress=[{"action": "Deny", "from": [EVERY_NS]}]),
            cnp(
                "narrow",
                "Admin",
                2,
                ns_sel("db"),
                ingress=[
                    {
                        "name": "late",
                        "action": "Accept",
                        "from": [ns_sel("web")],
                        "protocols": [tcp(80)],
                    }
                ],
            ),
        ]
    )
    assert any("'late'" in m and "wide" in m for m in found["tier-rule-shadowed"])
    # Not shadowed when the earlier rule covers fewer ports.
    found = codes(
        [
            *BASE,
            cnp(
                "wide",
                "Admin",
                1,
                EVERY_NS,
                ingress=[{"action": "Deny", "from": [EVERY_NS], "protocols": [tcp(81)]}],
            ),
            cnp(
                "narrow",
                "Admin",
                2,
                ns_sel("db"),
                ingress=[{"action": "Accept", "from": [ns_sel("web")], "protocols": [tcp(80)]}],
            ),
        ]
    )
    assert "tier-rule-shadowed" not in found


def test_finding_pass_without_network_policy_and_baseline_never_applies() -> None:
    objs = [
        *BASE,
        netpol("db", "np", ingress=[{}]),
        anp("pass", 1, EVERY_NS, ingress=[{"action": "Pass", "from": [EVERY_NS]}]),
        cnp("base", "Baseline", 1, ns_sel("db"), ingress=[{"action": "Deny", "from": [EVERY_NS]}]),
    ]
    found = codes(objs)
    assert any("web/front (Pod)" in m for m in found["pass-without-network-policy"])
    assert not any("db/pg" in m for m in found["pass-without-network-policy"])
    assert any("ingress rules never apply" in m for m in found["baseline-never-applies"])


def test_finding_admin_deny_cuts_dns_unless_accepted_first() -> None:
    deny = cnp("lockdown", "Admin", 5, EVERY_NS, egress=[{"action": "Deny", "to": [EVERY_NS]}])
    assert "admin-deny-cuts-dns" in codes([*BASE, deny])
    dns_first = cnp(
        "dns",
        "Admin",
        1,
        EVERY_NS,
        egress=[
            {
                "action": "Accept",
                "to": [ns_sel("kube-system")],
                "protocols": [{"udp": {"destinationPort": {"number": 53}}}],
            }
        ],
    )
    assert "admin-deny-cuts-dns" not in codes([*BASE, dns_first, deny])


# -- derived analyzers -------------------------------------------------------------------

TIER_KINDS = ("ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy")


def key_of(obj: dict[str, Any]) -> str:
    if obj["kind"] in TIER_KINDS:
        return f"{obj['kind']}/{obj['metadata']['name']}"
    return f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"


@settings(settings.get_profile("engine"), max_examples=120)
@given(tiered_cluster_st(), st.data())
def test_derived_analyzer_equals_rebuild_after_tier_changes(
    objs: list[dict[str, Any]], data: Any
) -> None:
    policies = {
        key_of(o): o for o in objs if o["kind"] == "NetworkPolicy" or o["kind"] in TIER_KINDS
    }
    base = [o for o in objs if key_of_or_none(o) is None]
    analyzer = Analyzer(build_cluster(objs))
    for step in range(3):
        for level, direction in data.draw(st.lists(st.sampled_from(COMBOS), max_size=3)):
            analyzer.analyze(level=level, direction=direction)
        upserts: list[dict[str, Any]] = []
        removals: list[str] = []
        if policies and data.draw(st.booleans()):
            removals.append(data.draw(st.sampled_from(sorted(policies))))
        for _ in range(data.draw(st.integers(0, 2))):
            upserts.append(data.draw(cluster_policy_st(data.draw(st.integers(0, 3)))))
        if data.draw(st.booleans()):
            upserts.append(data.draw(policy_st(data.draw(st.integers(0, 4)))))
        for key in removals:
            del policies[key]
        for obj in upserts:
            policies[key_of(obj)] = obj
        analyzer = analyzer.with_policies_changed(upserts, removals)
        fresh = Analyzer(build_cluster(base + list(policies.values())))
        for level, direction in COMBOS:
            assert snapshot(analyzer.analyze(level=level, direction=direction)) == snapshot(
                fresh.analyze(level=level, direction=direction)
            ), f"step {step} {level}/{direction}"


def key_of_or_none(obj: dict[str, Any]) -> str | None:
    return key_of(obj) if obj["kind"] == "NetworkPolicy" or obj["kind"] in TIER_KINDS else None


def test_removing_a_missing_cluster_policy_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no AdminNetworkPolicy nope"):
        Analyzer(build_cluster(BASE)).with_policies_changed(removals=["AdminNetworkPolicy/nope"])


def test_with_policies_changed_rejects_an_invalid_cluster_policy() -> None:
    with pytest.raises(ValueError, match="spec.priority"):
        Analyzer(build_cluster(BASE)).replace_policy(cnp("x", "Admin", -1, EVERY_NS))


# -- canonical form and YAML -------------------------------------------------------------


def test_normal_form_keeps_rule_order_and_sorts_peers() -> None:
    from policies.engine import dump_yaml
    from policies.engine.tier_normalize import normalize_cluster_policy

    a = anp(
        "x",
        3,
        {"namespaces": {"matchLabels": {"b": "2", "a": "1"}}},
        ingress=[
            {"name": "one", "action": "Deny", "from": [ns_sel("web"), ns_sel("db")], "ports": [{"portNumber": {"port": 80}}]},
            {"name": "two", "action": "Allow", "from": [EVERY_NS]},
        ],
    )
    b = anp(
        "x",
        3,
        {"namespaces": {"matchLabels": {"a": "1", "b": "2"}}},
        ingress=[
            {"name": "one", "action": "Deny", "from": [ns_sel("db"), ns_sel("web")], "ports": [{"portNumber": {"protocol": "TCP", "port": 80}}]},
            {"name": "two", "action": "Allow", "from": [EVERY_NS]},
        ],
    )
    assert normalize_cluster_policy(a) == normalize_cluster_policy(b)
    b["spec"]["ingress"].reverse()  # order is meaning: the first match decides
    assert normalize_cluster_policy(a) != normalize_cluster_policy(b)
    text = dump_yaml([cnp("y", "Admin", 5, EVERY_NS, ingress=[{"action": "Deny", "name": "n", "from": [EVERY_NS]}])])
    assert text.index("tier:") < text.index("priority:") < text.index("subject:") < text.index("ingress:")
    assert text.index("name: n") < text.index("action: Deny") < text.index("from:")
