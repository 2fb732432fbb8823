"""Drift's effect on reachability compares live and desired on one common refinement of
their address ranges: an ipBlock change reports the addresses it changes, no more."""

from __future__ import annotations

import copy

import pytest

from policies.models import DriftItem
from policies.services import drift

from .conftest import by_name, demo_policies

pytestmark = pytest.mark.django_db


def rows(delta: dict, side: str) -> set[tuple[str, str, str]]:
    return {(r["src"], r["dst"], r["label"]) for r in delta[side]}


def test_an_ipblock_change_opens_exactly_the_addresses_it_adds(demo_cluster):
    desired = copy.deepcopy(by_name(demo_policies(), "backend-egress"))
    # Live: 203.0.113.0/24 except the upper half. Desired: the whole /24, which cuts the
    # destinations differently for every workload.
    del desired["spec"]["egress"][1]["to"][0]["ipBlock"]["except"]
    change = drift.Difference(DriftItem.Kind.CHANGED, "shop", "backend-egress", desired=desired)
    delta, _ = drift.reachability_effects(demo_cluster, [change])
    opened = {("shop/backend[Deployment]", "203.0.113.128-203.0.113.255[External]", "TCP 443")}
    assert rows(change.effect, "desired_only") == opened
    assert rows(change.effect, "live_only") == set()
    assert rows(delta, "desired_only") == opened
    assert rows(delta, "live_only") == set()


def test_a_missing_policy_that_selects_nothing_has_no_effect_even_with_a_first_ipv6_block(demo_cluster):
    nobody = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "nobody", "namespace": "shop"},
        "spec": {
            "podSelector": {"matchLabels": {"tier": "nobody"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}],
            "egress": [{"to": [{"ipBlock": {"cidr": "2001:db8::/32"}}]}],
        },
    }
    missing = drift.Difference(DriftItem.Kind.MISSING, "shop", "nobody", desired=nobody)
    delta, _ = drift.reachability_effects(demo_cluster, [missing])
    for d in (missing.effect, delta):
        assert (d["live_only"], d["desired_only"]) == ([], [])
