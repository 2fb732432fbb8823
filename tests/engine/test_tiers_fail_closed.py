"""A rule peer that sets only fields netpolui does not read (a newer peer type) fails
closed, as the upstream types say (kubernetes-sigs/network-policy-api, apis/v1alpha1 and
v1alpha2, on every ingress and egress peer): "For Accept [v1alpha1: Allow] rules, 'fail
closed' means: treat the rule as matching no traffic. For Deny and Pass rules, 'fail
closed' means: treat the rule as a 'Deny all' rule"."""

from __future__ import annotations

from typing import Any

import pytest

from policies.engine import Analyzer, build_cluster, explain, findings
from policies.engine.tier_normalize import normalize_cluster_policy
from policies.engine.tier_validation import validate_cluster_policy

from .builders import anp, banp, cnp, netpol
from .test_tiers import ALL, BASE, DNS, FRONT, PG, conns, ns_sel, tcp

FUTURE: dict[str, Any] = {"serviceAccounts": {"namespace": "web", "name": "front"}}


def from_front_anywhere(objs: list[dict[str, Any]]) -> list[str]:
    """Every destination front may reach (pods and address ranges)."""
    reach = Analyzer(build_cluster(objs)).analyze(level="pod")
    return sorted(c.dst.key for c in reach.connections if c.src.key == FRONT)


@pytest.mark.parametrize(
    "accepting",
    [
        cnp("a", "Admin", 1, ns_sel("db"), ingress=[{"action": "Accept", "from": [ns_sel("web"), FUTURE]}]),
        anp("a", 1, ns_sel("db"), ingress=[{"action": "Allow", "from": [ns_sel("web"), FUTURE]}]),
    ],
    ids=["cnp-accept", "anp-allow"],
)
def test_an_ingress_accept_with_an_unknown_peer_matches_no_traffic(accepting: dict[str, Any]) -> None:
    # The rule's known peer (web) would accept front; the rule matches nothing, so the
    # Baseline Deny of web decides.
    deny_web = cnp("z", "Baseline", 1, ns_sel("db"), ingress=[{"action": "Deny", "from": [ns_sel("web")]}])
    objs = [*BASE, accepting, deny_web]
    assert conns(objs, FRONT, PG).is_empty
    assert conns(objs, DNS, PG) == ALL


def test_an_egress_accept_with_an_unknown_peer_matches_no_traffic() -> None:
    accept = cnp("a", "Admin", 1, ns_sel("web"), egress=[{"action": "Accept", "to": [FUTURE, ns_sel("db")]}])
    deny = cnp("b", "Admin", 2, ns_sel("web"), egress=[{"action": "Deny", "to": [ns_sel("db")]}])
    assert conns([*BASE, accept, deny], FRONT, PG).is_empty
    assert conns([*BASE, accept, deny], FRONT, DNS) == ALL


def test_a_baseline_allow_with_an_unknown_peer_matches_no_traffic() -> None:
    baseline = banp(
        ns_sel("db"),
        ingress=[
            {"action": "Allow", "from": [ns_sel("web"), FUTURE]},
            {"action": "Deny", "from": [ns_sel("web")]},
        ],
    )
    assert conns([*BASE, baseline], FRONT, PG).is_empty


@pytest.mark.parametrize(
    "policy",
    [
        cnp("x", "Admin", 1, ns_sel("db"), ingress=[{"action": "Deny", "from": [FUTURE], "protocols": [tcp(1)]}]),
        cnp("x", "Admin", 1, ns_sel("db"), ingress=[{"action": "Pass", "from": [FUTURE], "protocols": [tcp(1)]}]),
        anp("x", 1, ns_sel("db"), ingress=[{"action": "Pass", "from": [FUTURE]}]),
    ],
    ids=["cnp-deny", "cnp-pass", "anp-pass"],
)
def test_an_ingress_deny_or_pass_with_an_unknown_peer_denies_everything(policy: dict[str, Any]) -> None:
    # A NetworkPolicy allowing everything would decide after a Pass; the rule denies
    # every peer on every port instead (not only TCP 1, not only the unknown peer's).
    objs = [*BASE, netpol("db", "allow-all", ingress=[{}]), policy]
    assert conns(objs, FRONT, PG).is_empty
    assert conns(objs, DNS, PG).is_empty
    assert conns(objs, PG, FRONT) == ALL  # the other direction is untouched


def test_a_baseline_deny_with_an_unknown_peer_denies_everything() -> None:
    objs = [*BASE, banp(ns_sel("db"), ingress=[{"action": "Deny", "from": [FUTURE]}])]
    assert conns(objs, FRONT, PG).is_empty
    assert conns(objs, DNS, PG).is_empty
    assert conns(objs, PG, FRONT) == ALL


@pytest.mark.parametrize("action", ["Deny", "Pass"])
def test_an_egress_deny_or_pass_with_an_unknown_peer_denies_every_destination(action: str) -> None:
    policy = cnp("x", "Admin", 1, ns_sel("web"), egress=[{"action": action, "to": [FUTURE, ns_sel("db")]}])
    objs = [*BASE, netpol("web", "allow-all", egress=[{}]), policy]
    assert from_front_anywhere([*BASE]) != []
    assert from_front_anywhere(objs) == []
    assert conns(objs, DNS, PG) == ALL


def test_a_later_rule_is_not_reached_after_a_deny_that_failed_closed() -> None:
    policy = cnp(
        "x", "Admin", 1, ns_sel("db"),
        ingress=[{"action": "Deny", "from": [FUTURE]}, {"action": "Accept", "from": [ns_sel("web")]}],
    )
    assert conns([*BASE, policy], FRONT, PG).is_empty


def test_the_unknown_peer_is_valid_input_but_a_known_field_beside_it_is_not() -> None:
    only_unknown = cnp("x", "Admin", 1, ns_sel("db"), ingress=[{"action": "Deny", "from": [FUTURE]}])
    assert validate_cluster_policy(only_unknown) == []
    both = cnp("x", "Admin", 1, ns_sel("db"), ingress=[{"action": "Deny", "from": [{**FUTURE, **ns_sel("web")}]}])
    assert [str(e) for e in validate_cluster_policy(both)] == [
        "ClusterNetworkPolicy x: spec.ingress[0].from[0].serviceAccounts is not a field of an ingress peer "
        "(use one of namespaces, pods)",
        "ClusterNetworkPolicy x: spec.ingress[0].from[0] must set exactly one of namespaces, pods",
    ]


def test_a_finding_names_the_rule_the_peer_and_the_unknown_field() -> None:
    policy = cnp(
        "future", "Admin", 1, ns_sel("db"),
        ingress=[
            {"name": "keep", "action": "Accept", "from": [ns_sel("web")]},
            {"name": "block-sa", "action": "Pass", "from": [ns_sel("web"), FUTURE]},
        ],
        egress=[{"action": "Accept", "to": [FUTURE]}],
    )
    found = [f for f in findings(build_cluster([*BASE, policy])) if f.code == "cluster-policy-unknown-peer"]
    assert {(f.severity, f.object_kind, f.object_name, f.message) for f in found} == {
        (
            "high", "ClusterNetworkPolicy", "future",
            "ingress rule #1 'block-sa' (Pass): from[1] sets only serviceAccounts, a peer field netpolui does not "
            "read (a newer API version?); as upstream says an implementation must, it fails closed: the rule "
            "denies all traffic, every peer and port",
        ),
        (
            "high", "ClusterNetworkPolicy", "future",
            "egress rule #0 (Accept): to[0] sets only serviceAccounts, a peer field netpolui does not read "
            "(a newer API version?); as upstream says an implementation must, it fails closed: the rule "
            "matches no traffic",
        ),
    }


def test_explain_marks_the_rule_that_failed_closed() -> None:
    policy = cnp("future", "Admin", 1, ns_sel("db"), ingress=[{"name": "sa", "action": "Pass", "from": [FUTURE]}])
    answer = explain(build_cluster([*BASE, policy]), FRONT, PG, port=5432)
    assert not answer.allowed
    assert (
        'denied (TCP 5432) by Admin tier ClusterNetworkPolicy future ingress rule #0 "sa" (Deny) '
        "[fails closed: unknown peer field serviceAccounts]"
    ) in answer.render_text()


def test_drift_tells_two_unknown_peers_apart() -> None:
    def policy(name: str) -> dict[str, Any]:
        peer = {"serviceAccounts": {"namespace": "web", "name": name}}
        return cnp("x", "Admin", 1, ns_sel("db"), ingress=[{"action": "Deny", "from": [peer]}])

    assert normalize_cluster_policy(policy("front")) == normalize_cluster_policy(policy("front"))
    assert normalize_cluster_policy(policy("front")) != normalize_cluster_policy(policy("back"))


def test_an_accept_that_failed_closed_is_not_also_called_shadowed() -> None:
    policy = cnp(
        "x", "Admin", 1, ns_sel("db"),
        ingress=[{"action": "Deny", "from": [ns_sel("kube-system")]}, {"action": "Accept", "from": [FUTURE]}],
    )
    codes = [f.code for f in findings(build_cluster([*BASE, policy])) if f.object_name == "x"]
    assert codes == ["cluster-policy-unknown-peer"]
