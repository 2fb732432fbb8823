"""What the upstream conformance data showed netpolui had wrong, written as rules of the
API types' documentation (apis/v1alpha2/clusternetworkpolicy_types.go, apis/v1alpha1):

- ``networks``: "cluster-internal traffic will be checked against the rule as well. So if
  you Accept or Deny traffic to 0.0.0.0/0, that will allow or deny all IPv4 pod-to-pod
  traffic as well";
- a ``pods`` peer or subject without ``podSelector`` (v1alpha1: or ``namespaceSelector``)
  is read as ``{}``, the way the Go types decode it (netpol-analyzer and the conformance
  suite rely on it), and said by a finding."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from policies.engine import Analyzer, ConnSet, build_cluster, explain, findings
from policies.engine.tier_validation import validate_cluster_policy

from .builders import anp, cnp, namespace, node, pod
from .strategies import tiered_cluster_st
from .test_tiers_properties import check_against_reference

ALL = ConnSet.all()
NONE = ConnSet.none()


def _objs(*policies: dict[str, Any], ips: bool = False) -> list[dict[str, Any]]:
    return [
        namespace("a"),
        namespace("b"),
        pod("a", "client", {"app": "client"}, ip="10.1.0.5" if ips else None),
        pod("b", "server-0", {"app": "server"}, ip="10.2.0.7" if ips else None),
        pod("b", "server-1", {"app": "server", "idx": "1"}, ip="10.2.0.8" if ips else None),
        pod("b", "v6", {"app": "v6"}, ip="fd00::7" if ips else None),
        *policies,
    ]


def _conns(objs: list[dict[str, Any]], src: str, dst: str) -> ConnSet:
    cluster = build_cluster(objs)
    pods = {p.key: p for p in cluster.pods}
    return Analyzer(cluster).allowed(pods[src], pods[dst])


def _deny_to(*networks: str, tier: str = "Admin") -> dict[str, Any]:
    return cnp(
        "deny-net",
        tier,
        5,
        {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}},
        egress=[{"name": "deny", "action": "Deny", "to": [{"networks": list(networks)}]}],
    )


def test_deny_to_every_ipv4_address_denies_pod_to_pod_traffic() -> None:
    objs = _objs(_deny_to("0.0.0.0/0"))
    assert _conns(objs, "a/client", "b/server-0") == NONE
    why = explain(build_cluster(objs), "a/client", "b/server-0", port=80)
    assert not why.allowed
    assert "deny-net" in why.render_text()


def test_accept_to_every_address_accepts_pod_to_pod_before_a_later_deny() -> None:
    objs = _objs(
        cnp(
            "admin",
            "Admin",
            5,
            {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}},
            egress=[
                {"action": "Accept", "to": [{"networks": ["0.0.0.0/0"]}]},
                {"action": "Deny", "to": [{"namespaces": {}}]},
            ],
        )
    )
    assert _conns(objs, "a/client", "b/server-0") == ALL


def test_ipv6_whole_family_leaves_ipv4_pods_alone() -> None:
    # Pods without a known address are taken as IPv4 (Kubernetes' single-stack default).
    assert _conns(_objs(_deny_to("::/0")), "a/client", "b/server-0") == ALL
    with_ips = _objs(_deny_to("::/0"), ips=True)
    assert _conns(with_ips, "a/client", "b/server-0") == ALL
    assert _conns(with_ips, "a/client", "b/v6") == NONE


def test_smaller_cidr_matches_pods_by_their_known_address_only() -> None:
    assert _conns(_objs(_deny_to("10.2.0.7/32")), "a/client", "b/server-0") == ALL
    with_ips = _objs(_deny_to("10.2.0.7/32"), ips=True)
    assert _conns(with_ips, "a/client", "b/server-0") == NONE
    assert _conns(with_ips, "a/client", "b/server-1") == ALL
    why = explain(build_cluster(with_ips), "a/client", "b/server-0", port=80)
    assert not why.allowed


def test_networks_in_the_baseline_tier_apply_to_pods_too() -> None:
    objs = _objs(_deny_to("0.0.0.0/0", tier="Baseline"))
    assert _conns(objs, "a/client", "b/server-1") == NONE


def test_omitted_pod_selector_reads_as_every_pod_and_is_a_finding() -> None:
    policy = anp(
        "no-pod-selector",
        3,
        {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}},
        egress=[
            {
                "name": "deny-b",
                "action": "Deny",
                "to": [{"pods": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "b"}}}}],
            }
        ],
    )
    objs = _objs(policy)
    assert _conns(objs, "a/client", "b/server-0") == NONE
    assert _conns(objs, "a/client", "b/server-1") == NONE
    found = [f for f in findings(build_cluster(objs)) if f.code == "pods-selector-omitted"]
    assert [f.object_name for f in found] == ["no-pod-selector"]
    assert "spec.egress[0].to[0].pods.podSelector is omitted" in found[0].message


def test_v1alpha2_namespace_selector_may_be_omitted_without_a_finding() -> None:
    policy = cnp(
        "pods-anywhere",
        "Admin",
        3,
        {"pods": {"podSelector": {"matchLabels": {"app": "client"}}}},
        egress=[{"action": "Deny", "to": [{"pods": {"podSelector": {"matchLabels": {"idx": "1"}}}}]}],
    )
    objs = _objs(policy)
    assert _conns(objs, "a/client", "b/server-1") == NONE
    assert _conns(objs, "a/client", "b/server-0") == ALL
    assert not [f for f in findings(build_cluster(objs)) if f.code == "pods-selector-omitted"]


def test_nodes_peer_names_host_network_pods_by_their_node_address() -> None:
    # "It selects the nodeIPs as the peer type by matching on the IPs present in the
    # node.Status.Addresses field": a host-network pod answers on its node's address.
    objs = [
        namespace("a"),
        namespace("kube-system"),
        node("worker-1", {"kubernetes.io/os": "linux"}, "192.168.0.11"),
        pod("a", "client", {"app": "client"}, ip="10.1.0.5"),
        pod("kube-system", "agent", {"app": "agent"}, host_network=True, ip="192.168.0.11"),
        pod("kube-system", "agent-elsewhere", {"app": "other"}, host_network=True, ip="192.168.0.99"),
        cnp(
            "nodes-only-9100",
            "Admin",
            5,
            {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}},
            egress=[
                {
                    "action": "Accept",
                    "to": [{"nodes": {"matchLabels": {"kubernetes.io/os": "linux"}}}],
                    "protocols": [{"tcp": {"destinationPort": {"number": 9100}}}],
                },
                {"action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]},
            ],
        ),
    ]
    assert _conns(objs, "a/client", "kube-system/agent") == ConnSet.of("TCP", 9100)
    assert _conns(objs, "a/client", "kube-system/agent-elsewhere") == NONE
    why = explain(build_cluster(objs), "a/client", "kube-system/agent", port=9100)
    assert why.allowed


def test_admin_deny_of_every_address_is_said_to_cut_dns() -> None:
    objs = [
        namespace("a"),
        namespace("kube-system"),
        pod("a", "client", {"app": "client"}),
        pod("kube-system", "coredns", {"k8s-app": "kube-dns"}, ports=[("dns", "UDP", 53)]),
        _deny_to("0.0.0.0/0"),
    ]
    found = [f for f in findings(build_cluster(objs)) if f.code == "admin-deny-cuts-dns"]
    assert [f.object_name for f in found] == ["deny-net"]


def test_a_rule_after_an_accept_of_every_address_is_shadowed_for_pods_too() -> None:
    objs = _objs(
        cnp(
            "admin",
            "Admin",
            5,
            {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "a"}}},
            egress=[
                {"name": "everything", "action": "Accept", "to": [{"networks": ["0.0.0.0/0"]}]},
                {"name": "late", "action": "Deny", "to": [{"namespaces": {}}]},
            ],
        )
    )
    found = [f for f in findings(build_cluster(objs)) if f.code == "tier-rule-shadowed"]
    assert any("late" in f.message for f in found)


def test_v1beta1_cluster_network_policy_is_read_like_v1alpha2() -> None:
    # Upstream's ClusterNetworkPolicy moved to v1beta1 with v1alpha2's final schema.
    policy = {**_deny_to("0.0.0.0/0"), "apiVersion": "policy.networking.k8s.io/v1beta1"}
    assert validate_cluster_policy(policy) == []
    assert _conns(_objs(policy), "a/client", "b/server-0") == NONE


def test_v1beta1_refuses_a_cidr_with_host_bits_v1alpha2_does_not() -> None:
    beta = {**_deny_to("10.1.2.3/8"), "apiVersion": "policy.networking.k8s.io/v1beta1"}
    errors = [str(e) for e in validate_cluster_policy(beta)]
    assert errors == [
        'ClusterNetworkPolicy deny-net: spec.egress[0].to[0].networks[0] "10.1.2.3/8" has '
        "host bits set: write 10.0.0.0/8"
    ]
    assert validate_cluster_policy(_deny_to("10.1.2.3/8")) == []


def test_other_versions_are_refused_naming_the_ones_read() -> None:
    bad = {**_deny_to("0.0.0.0/0"), "apiVersion": "policy.networking.k8s.io/v2"}
    assert [str(e) for e in validate_cluster_policy(bad)] == [
        'ClusterNetworkPolicy deny-net: apiVersion "policy.networking.k8s.io/v2" is not read '
        "for ClusterNetworkPolicy: use policy.networking.k8s.io/v1alpha2 or "
        "policy.networking.k8s.io/v1beta1"
    ]


@settings(max_examples=60, derandomize=True, deadline=None)
@given(tiered_cluster_st(), st.sampled_from(["Admin", "Baseline"]), st.sampled_from(["Deny", "Accept", "Pass"]))
def test_every_address_rule_against_the_reference_evaluator(
    objs: list[dict[str, Any]], tier: str, action: str
) -> None:
    # Random clusters plus a first-evaluated rule on every IPv4 address: the fast path
    # and explain must agree with the naive evaluator, which names every pod by it.
    if tier == "Baseline" and action == "Pass":
        action = "Deny"
    guard = cnp(
        "every-address",
        tier,
        0,
        {"namespaces": {}},
        egress=[{"name": "all-v4", "action": action, "to": [{"networks": ["0.0.0.0/0"]}]}],
    )
    objs = [*objs, guard]
    check_against_reference(objs, Analyzer(build_cluster(objs)))


def test_domain_names_are_only_allowed_in_accept_rules() -> None:
    def policy(action: str) -> dict[str, Any]:
        return cnp(
            "dns-names",
            "Admin",
            3,
            {"namespaces": {}},
            egress=[{"action": action, "to": [{"domainNames": ["*.example.com"]}]}],
        )

    assert validate_cluster_policy(policy("Accept")) == []
    assert [str(e) for e in validate_cluster_policy(policy("Deny"))] == [
        'ClusterNetworkPolicy dns-names: spec.egress[0].action "Deny": domainNames peers are '
        "only supported in Accept rules"
    ]
