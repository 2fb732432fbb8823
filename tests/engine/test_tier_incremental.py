"""Incremental recompute after cluster-wide policy changes: a derived analyzer (an Admin
or Baseline policy added, changed or removed, a NetworkPolicy changed beside them, in
chains) answers exactly as an analyzer built from scratch on the same objects, and as
the naive reference evaluator, whichever way the engine patches its caches."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from policies.engine import Analyzer, build_cluster, diff_reachability

from .strategies import cluster_policy_st, policy_st, tiered_cluster_st
from .test_incremental import COMBOS, caches_st, snapshot, strategy
from .test_tiers_properties import TIER_KINDS, check_against_reference


def _key(obj: dict[str, Any]) -> str:
    if obj["kind"] in TIER_KINDS:
        return f"{obj['kind']}/{obj['metadata']['name']}"
    return f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"


def _step(data: Any, objs: dict[str, dict[str, Any]]) -> tuple[list[dict[str, Any]], list[str]]:
    """Upserts and removals of one step: mostly cluster-wide policies (new, replacing one
    of the same name, or removed), sometimes a NetworkPolicy with them."""
    tiers = sorted(k for k, o in objs.items() if o["kind"] in TIER_KINDS)
    removals: list[str] = []
    if tiers and data.draw(st.booleans(), label="remove a cluster-wide policy"):
        removals.append(data.draw(st.sampled_from(tiers), label="removed"))
    upserts: dict[str, dict[str, Any]] = {}
    for _ in range(data.draw(st.integers(0 if removals else 1, 2), label="upserts")):
        obj = data.draw(cluster_policy_st(data.draw(st.integers(0, 4))), label="cluster policy")
        upserts[_key(obj)] = obj
    if data.draw(st.integers(0, 3), label="with a NetworkPolicy") == 0:
        obj = data.draw(policy_st(data.draw(st.integers(0, 3))), label="NetworkPolicy")
        upserts[_key(obj)] = obj
    return list(upserts.values()), removals


def run_tier_chain(objs: list[dict[str, Any]], data: Any) -> None:
    by_key = {_key(o): o for o in objs if o["kind"] in (*TIER_KINDS, "NetworkPolicy")}
    others = [o for o in objs if o["kind"] not in (*TIER_KINDS, "NetworkPolicy")]
    analyzer = Analyzer(build_cluster(objs))
    for level, direction in data.draw(caches_st(), label="base analyses"):
        analyzer.analyze(level=level, direction=direction).connections  # noqa: B018
    for _ in range(data.draw(st.integers(1, 3), label="steps")):
        upserts, removals = _step(data, by_key)
        parent = analyzer
        parent_objs = [*others, *by_key.values()]
        analyzer = analyzer.with_policies_changed(upserts, removals)
        for k in removals:
            del by_key[k]
        for o in upserts:
            by_key[_key(o)] = o
        current = [*others, *by_key.values()]
        analyzed = data.draw(caches_st(), label="analyses after step")
        if analyzed:
            fresh = Analyzer(build_cluster(current))
            for level, direction in analyzed:
                got = analyzer.analyze(level=level, direction=direction)
                want = fresh.analyze(level=level, direction=direction)
                assert snapshot(got) == snapshot(want), f"{level}/{direction}"
                if parent.families == analyzer.families:
                    # The diff against the parent (what the what-if shows) is the same
                    # whether the derived rows are shared with the parent or not.
                    old = parent.analyze(level=level, direction=direction)
                    fresh_old = Analyzer(build_cluster(parent_objs)).analyze(
                        level=level, direction=direction
                    )
                    assert snapshot(old) == snapshot(fresh_old), "parent"
                    d1 = diff_reachability(old, got).to_dict()
                    d2 = diff_reachability(fresh_old, want).to_dict()
                    assert d1 == d2, (d1, d2)
    current = [*others, *by_key.values()]
    fresh = Analyzer(build_cluster(current))
    for level, direction in COMBOS:
        assert snapshot(analyzer.analyze(level=level, direction=direction)) == snapshot(
            fresh.analyze(level=level, direction=direction)
        ), f"{level}/{direction}"
    for direction in ("combined", "ingress", "egress"):
        check_against_reference(current, analyzer, direction)


@settings(settings.get_profile("engine"), max_examples=150)
@given(tiered_cluster_st(), st.data())
def test_cluster_policy_changes_equal_fresh_analyses_and_the_reference(
    objs: list[dict[str, Any]], data: Any
) -> None:
    run_tier_chain(objs, data)


@pytest.mark.parametrize(
    "name", ["egress as rows", "egress as columns", "rows filtered", "rows bisected"]
)
@settings(settings.get_profile("engine"), max_examples=60)
@given(objs=tiered_cluster_st(), data=st.data())
def test_every_way_of_patching_after_cluster_policy_changes(
    name: str, objs: list[dict[str, Any]], data: Any
) -> None:
    with strategy(name):
        run_tier_chain(objs, data)
