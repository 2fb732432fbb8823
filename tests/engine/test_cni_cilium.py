"""Cilium policies in the tier model: verdicts derived from Cilium's documentation.

Sources: docs.cilium.io "Policy Enforcement Modes" (security/policy/intro), "Layer 3
Policies" (security/policy/language), "Deny Policies" (security/policy/deny), "Using
Kubernetes Constructs In Policy" (security/policy/kubernetes), and the Rule API
(pkg/policy/api: enableDefaultDeny).
"""

from __future__ import annotations

from typing import Any

from policies.engine import Analyzer, ConnSet, build_cluster, explain

from .builders import namespace, netpol, pod

V2 = "cilium.io/v2"
BASE = [
    namespace("web", team="a"),
    namespace("db", team="b"),
    pod("web", "front", {"app": "front"}),
    pod("web", "admin", {"app": "admin"}),
    pod("db", "pg", {"app": "pg"}, ports=[("sql", "TCP", 5432)]),
]
FRONT, ADMIN, PG = "web/front[Pod]", "web/admin[Pod]", "db/pg[Pod]"
ALL = ConnSet.all()


def cnp(ns: str, name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": V2, "kind": "CiliumNetworkPolicy", "metadata": {"name": name, "namespace": ns}, "spec": spec}


def ccnp(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": V2, "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def sel(**labels: str) -> dict[str, Any]:
    return {"matchLabels": labels}


def reach(objs: list[dict[str, Any]]) -> Any:
    return Analyzer(build_cluster(objs, cni="cilium")).analyze(level="pod")


def conns(objs: list[dict[str, Any]], src: str, dst: str) -> ConnSet:
    return reach(objs).conns_between(src, dst)


def test_default_deny_once_selected_for_that_direction() -> None:
    """Docs (Policy Enforcement Modes, default): "If any rule selects an Endpoint and the
    rule has an ingress section, the endpoint goes into default deny at ingress"."""
    pol = cnp("db", "p", endpointSelector=sel(app="pg"), ingress=[{"fromEndpoints": [sel(app="nobody")]}])
    assert conns([*BASE, pol], FRONT, PG).is_empty
    assert conns([*BASE, pol], PG, FRONT) == ALL  # egress untouched


def test_empty_selector_means_own_namespace() -> None:
    """Docs (Kubernetes constructs, namespaces): in a CiliumNetworkPolicy the endpoint
    selectors "only apply to endpoints in the same namespace" unless they name
    k8s:io.kubernetes.pod.namespace."""
    pol = cnp("web", "p", endpointSelector={}, ingress=[{"fromEndpoints": [{}]}])
    assert conns([*BASE, pol], ADMIN, FRONT) == ALL
    assert conns([*BASE, pol], PG, FRONT).is_empty
    cross = cnp("web", "p", endpointSelector={}, ingress=[{"fromEndpoints": [
        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "db", "k8s:app": "pg"}}]}])
    assert conns([*BASE, cross], PG, FRONT) == ALL
    assert conns([*BASE, cross], ADMIN, FRONT).is_empty


def test_namespace_labels() -> None:
    """Docs: namespace labels are available as io.cilium.k8s.namespace.labels.<key>."""
    pol = ccnp("p", endpointSelector=sel(app="pg"), ingress=[{"fromEndpoints": [
        {"matchLabels": {"k8s:io.cilium.k8s.namespace.labels.team": "a", "app": "front"}}]}])
    assert conns([*BASE, pol], FRONT, PG) == ALL
    assert conns([*BASE, pol], ADMIN, PG).is_empty


def test_deny_wins_over_any_allow_including_v1() -> None:
    """Docs (Deny Policies): "Deny policies take precedence over allow policies,
    regardless of whether they are a Cilium Network Policy, a Clusterwide Cilium Network
    Policy or even a Kubernetes Network Policy"."""
    v1 = netpol("db", "allow-all", ingress=[{}])
    deny = ccnp("block-front", endpointSelector=sel(app="pg"), ingressDeny=[{
        "fromEndpoints": [sel(app="front")], "toPorts": [{"ports": [{"port": "5432", "protocol": "TCP"}]}]}])
    got = conns([*BASE, v1, deny], FRONT, PG)
    assert not got.allows("TCP", 5432)
    assert got.allows("TCP", 80)  # the v1 policy allows the rest
    assert conns([*BASE, v1, deny], ADMIN, PG) == ALL


def test_deny_only_policy_puts_endpoint_in_default_deny() -> None:
    """API (enableDefaultDeny): "If not specified, the default is true for each traffic
    direction that has rules ... if a policy only has Ingress or IngressDeny rules, then
    the default for ingress is true"."""
    deny = cnp("db", "d", endpointSelector=sel(app="pg"), ingressDeny=[{"fromEndpoints": [sel(app="nobody")]}])
    assert conns([*BASE, deny], FRONT, PG).is_empty
    relaxed = cnp("db", "d", endpointSelector=sel(app="pg"), enableDefaultDeny={"ingress": False},
                  ingressDeny=[{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "web", "app": "admin"}}]}])
    assert conns([*BASE, relaxed], FRONT, PG) == ALL
    assert conns([*BASE, relaxed], ADMIN, PG).is_empty


def test_cnp_and_v1_allows_are_a_union() -> None:
    """Cilium combines CNP and v1 NetworkPolicy: allowed if some policy allows."""
    v1 = netpol("db", "from-admin", podSelector={"matchLabels": {"app": "pg"}}, ingress=[{"from": [
        {"namespaceSelector": {}, "podSelector": {"matchLabels": {"app": "admin"}}}]}])
    pol = cnp("db", "from-front", endpointSelector=sel(app="pg"), ingress=[{"fromEndpoints": [
        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "web", "app": "front"}}]}])
    objs = [*BASE, v1, pol]
    assert conns(objs, FRONT, PG) == ALL
    assert conns(objs, ADMIN, PG) == ALL
    assert conns([*BASE, v1], FRONT, PG).is_empty


def test_ports_end_port_protocol_any_and_named() -> None:
    """Docs (Layer 4): "port ... endPort ... protocol: TCP, UDP, SCTP or ANY (default)"."""
    pol = ccnp("p", endpointSelector=sel(app="pg"), ingress=[{"fromEntities": ["cluster"], "toPorts": [
        {"ports": [{"port": "8000", "endPort": 8010, "protocol": "TCP"}, {"port": "53"}, {"port": "sql", "protocol": "TCP"}]}]}])
    got = conns([*BASE, pol], FRONT, PG)
    assert got == ConnSet({"TCP": [(53, 53), (5432, 5432), (8000, 8010)], "UDP": [(53, 53)], "SCTP": [(53, 53)]})


def test_cidr_set_except_and_entities() -> None:
    """Docs (Layer 3, CIDR based / Entities based): "toCIDRSet ... except"; "world" is
    everything outside the cluster, "cluster" every endpoint inside, "all" both."""
    pol = cnp("web", "out", endpointSelector=sel(app="front"), egress=[
        {"toCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}]},
        {"toEntities": ["cluster"], "toPorts": [{"ports": [{"port": "5432", "protocol": "TCP"}]}]}])
    r = reach([*BASE, pol])
    dsts = {c.dst.key: c.conns for c in r.connections if c.src.key == FRONT}
    assert "10.0.0.0-10.0.255.255[External]" in dsts
    assert "10.1.0.0-10.1.255.255[External]" not in dsts
    assert dsts[PG] == ConnSet.of("TCP", 5432)
    world = cnp("web", "out", endpointSelector=sel(app="front"), egress=[{"toEntities": ["world"]}])
    r2 = reach([*BASE, world])
    dsts2 = {c.dst.key for c in r2.connections if c.src.key == FRONT}
    assert PG not in dsts2
    assert any(d.endswith("[External]") for d in dsts2)


def test_l7_rules_marked_and_fqdn_depends_on_dns() -> None:
    """Docs (Layer 7): L7 rules narrow the traffic inside an allowed port; toFQDNs
    select peers by DNS name (not resolvable from manifests)."""
    pol = cnp("db", "http", endpointSelector=sel(app="pg"), ingress=[{"fromEndpoints": [
        {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "web"}}], "toPorts": [
        {"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{"method": "GET"}]}}]}])
    fqdn = cnp("web", "dns", endpointSelector=sel(app="front"), egress=[
        {"toFQDNs": [{"matchName": "api.example.com"}]},
        {"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "db"}}]}])
    cluster = build_cluster([*BASE, pol, fqdn], cni="cilium")
    assert Analyzer(cluster).analyze(level="pod").conns_between(FRONT, PG) == ConnSet.of("TCP", 80)
    ex = explain(cluster, "web/front", "db/pg", port=80)
    assert ex.allowed
    text = ex.render_text()
    assert "L7 rules apply" in text
    assert "depends on DNS/service" in text
    info = cluster.cni_policies["cilium:CiliumNetworkPolicy:db/http"]
    assert info.rules[0].marks == ("L7 rules apply",)


def test_host_policies_listed_not_evaluated() -> None:
    pol = ccnp("host", nodeSelector={}, ingress=[{"fromEntities": ["world"]}])
    cluster = build_cluster([*BASE, pol], cni="cilium")
    info = cluster.cni_policies["cilium:CiliumClusterwideNetworkPolicy:host"]
    assert any("host policy" in n for n in info.notes)
    assert Analyzer(cluster).analyze(level="pod").conns_between(FRONT, PG) == ALL


def test_specs_list_and_empty_rule() -> None:
    """A CiliumNetworkPolicy may hold several rule sets in `specs`; an empty rule `{}`
    allows nothing (default deny)."""
    pol = {"apiVersion": V2, "kind": "CiliumNetworkPolicy", "metadata": {"name": "two", "namespace": "db"},
           "specs": [{"endpointSelector": sel(app="pg"), "ingress": [{}]},
                     {"endpointSelector": sel(app="pg"), "ingress": [{"fromEndpoints": [
                         {"matchLabels": {"io.kubernetes.pod.namespace": "web", "app": "admin"}}]}]}]}
    assert conns([*BASE, pol], FRONT, PG).is_empty
    assert conns([*BASE, pol], ADMIN, PG) == ALL


def test_invalid_policy_is_listed_with_paths_and_not_applied() -> None:
    pol = cnp("db", "bad", endpointSelector=sel(app="pg"), ingress=[{"fromEntities": ["galaxy"]}])
    cluster = build_cluster([*BASE, pol], cni="cilium")
    info = cluster.cni_policies["cilium:CiliumNetworkPolicy:db/bad"]
    assert not info.enforced
    assert info.problems[0].path == "spec.ingress[0].fromEntities[0]"
    assert conns([*BASE, pol], FRONT, PG) == ALL


def test_explain_names_key_tier_rule_action() -> None:
    deny = ccnp("block", endpointSelector=sel(app="pg"), ingressDeny=[{"fromEndpoints": [sel(app="front")]}])
    ex = explain(build_cluster([*BASE, deny], cni="cilium"), "web/front", "db/pg", port=5432)
    assert not ex.allowed
    m = ex.ingress.tier_matches[0]
    assert (m.policy, m.tier, m.rule_index, m.action) == ("cilium:CiliumClusterwideNetworkPolicy:block", "Cilium deny", 0, "Deny")


def test_bad_port_names_are_problems() -> None:
    pol = cnp("db", "p", endpointSelector=sel(app="pg"), ingress=[{"toPorts": [{"ports": [{"port": "80-90"}]}]}])
    info = build_cluster([*BASE, pol], cni="cilium").cni_policies["cilium:CiliumNetworkPolicy:db/p"]
    assert not info.enforced
    assert info.problems[0].path == "spec.ingress[0].toPorts[0].ports[0].port"
