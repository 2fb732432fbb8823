"""Derived analyzers with CNI policies: a NetworkPolicy change keeps the CNI part, a CNI
object change rebuilds it; both answer as a fresh analyzer on the changed input."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from policies.engine import Analyzer, build_cluster

from .builders import namespace, netpol, pod
from .test_cni_calico import gnp, tier

BASE = [namespace("web"), namespace("db"), pod("web", "front", {"app": "front"}),
        pod("web", "admin", {"app": "admin"}), pod("db", "pg", {"app": "pg"}),
        tier("security", 100),
        gnp("security.block", tier="security", selector="app == 'pg'", ingress=[
            {"action": "Deny", "source": {"selector": "app == 'admin'"}}, {"action": "Pass"}])]
V1 = netpol("db", "np", podSelector={"matchLabels": {"app": "pg"}}, ingress=[{"from": [{"namespaceSelector": {}}]}])


def pairs(a: Analyzer) -> dict[tuple[str, str], str]:
    return {(c.src.key, c.dst.key): str(c.conns) for c in a.analyze(level="pod").connections}


def fresh(objs: list[dict[str, Any]]) -> dict[tuple[str, str], str]:
    return pairs(Analyzer(build_cluster(objs)))


def test_networkpolicy_change_keeps_cni_policies() -> None:
    a = Analyzer(build_cluster(BASE))
    changed = a.with_policies_changed([V1])
    assert pairs(changed) == fresh([*BASE, V1])
    assert changed.cluster.cni == "calico"
    assert "calico:GlobalNetworkPolicy:security.block" in changed.cluster.cni_policies


def test_cni_upsert_and_removal() -> None:
    a = Analyzer(build_cluster([*BASE, V1]))
    opened = copy.deepcopy(BASE[-1])
    opened["spec"]["ingress"] = [{"action": "Pass"}]
    assert pairs(a.with_policies_changed([opened])) == fresh([*BASE[:-1], opened, V1])
    removed = a.with_policies_changed(removals=["calico:GlobalNetworkPolicy:security.block"])
    assert pairs(removed) == fresh([*BASE[:-1], V1])
    assert pairs(a) != pairs(removed)
    # A CNI change and a NetworkPolicy removal at once.
    both = a.with_policies_changed([opened], ["db/np"])
    assert pairs(both) == fresh([*BASE[:-1], opened])
    with pytest.raises(KeyError):
        a.with_policies_changed(removals=["calico:GlobalNetworkPolicy:nope"])


def test_antrea_clusternetworkpolicy_upsert_is_not_read_as_upstream() -> None:
    acnp = {"apiVersion": "crd.antrea.io/v1beta1", "kind": "ClusterNetworkPolicy", "metadata": {"name": "x"},
            "spec": {"priority": 1, "appliedTo": [{"podSelector": {"matchLabels": {"app": "pg"}}}],
                     "ingress": [{"action": "Drop", "from": [{"podSelector": {"matchLabels": {"app": "front"}}}]}]}}
    a = Analyzer(build_cluster(BASE[:5], cni="antrea"))
    got = a.with_policies_changed([acnp])
    assert got.cluster.cluster_policies == []
    assert got.analyze(level="pod").conns_between("web/front[Pod]", "db/pg[Pod]").is_empty


def test_endpoints_isolated_by_a_cni_default_deny() -> None:
    """A pod a Calico policy selects (its tier ends in Deny) is isolated for that
    direction; an Antrea policy (no isolation) leaves the flag alone."""
    objs = [*BASE[:5], gnp("lock", selector="app == 'front'", types=["Egress"])]
    a = Analyzer(build_cluster(objs))
    front = a.analyze(level="pod").node("web/front[Pod]")
    assert front is not None
    assert front.egress_isolated
    assert not front.ingress_isolated
    derived = a.with_policies_changed([V1])
    front2 = derived.analyze(level="pod").node("web/front[Pod]")
    assert front2 is not None
    assert front2.egress_isolated
