"""Derived analyzers (replace_policy, remove_policy, with_policies_changed) give exactly
what a fresh Analyzer and the naive reference evaluator give, for every level and
direction, endpoint isolation flags included, and never disturb their parent.

The property test runs chains of random changes -- policies replaced, removed, added in
batches; isolation switched on and off in either direction, selectors changed, ipBlocks
added and removed, named ports and endPort ranges -- with a random part of the caches
filled between steps, so patched, inherited and freshly computed results all occur.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.generate import generate_cluster
from policies.engine import (
    Analyzer,
    ConnSet,
    Reachability,
    build_cluster,
    reachability,
)
from policies.engine.reachability import Direction, Level

from .builders import deployment, labels_sel, netpol, pod
from .reference import RefAddress, RefPod, allowed, isolated
from .strategies import NAMESPACES, cluster_st, policy_st, probe_ports, selector_st

LEVELS: tuple[Level, ...] = ("workload", "pod")
DIRECTIONS: tuple[Direction, ...] = ("combined", "ingress", "egress")
COMBOS = [(level, direction) for level in LEVELS for direction in DIRECTIONS]

Snapshot = tuple[list[dict[str, Any]], list[tuple[str, str, ConnSet]]]


def snapshot(reach: Reachability) -> Snapshot:
    """Everything a caller can see: nodes with their flags, and the pairs, whose
    endpoints must carry the same flags as the nodes."""
    nodes = {n.key: n.to_dict() for n in reach.nodes}
    checked: set[int] = set()
    for c in reach.connections:
        for e in (c.src, c.dst):
            if id(e) not in checked:
                assert e.to_dict() == nodes[e.key], f"stale endpoint {e.key} in a pair"
                checked.add(id(e))
    return list(nodes.values()), [(c.src.key, c.dst.key, c.conns) for c in reach.connections]


def policy_key(obj: dict[str, Any]) -> str:
    return f"{obj['metadata']['namespace']}/{obj['metadata']['name']}"


def fresh_objs(
    objs: list[dict[str, Any]], policies: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    return [o for o in objs if o["kind"] != "NetworkPolicy"] + list(policies.values())


def assert_matches_reference(
    reach: Reachability, objs: list[dict[str, Any]], level: str, direction: str
) -> None:
    ns_labels = {
        o["metadata"]["name"]: o["metadata"]["labels"] for o in objs if o["kind"] == "Namespace"
    }
    policies = [o for o in objs if o["kind"] == "NetworkPolicy"]
    raw_pods = {
        (o["metadata"]["namespace"], o["metadata"]["name"]): o for o in objs if o["kind"] == "Pod"
    }

    def ref_pod(key: str) -> RefPod | None:
        node = reach.node(key)
        assert node is not None
        if node.is_external:
            return None
        # A workload shows its representative pod: the first of its pods by name.
        o = raw_pods[(node.namespace, node.pods[0])]
        return RefPod(
            o["metadata"]["namespace"], o["metadata"]["labels"], o["spec"]["containers"][0]["ports"]
        )

    def side(key: str) -> list[RefPod | RefAddress]:
        p = ref_pod(key)
        if p is not None:
            return [p]
        first, last = reach.node(key).ip_range  # type: ignore[union-attr]
        return [RefAddress(first), RefAddress(last)]

    for n in reach.nodes:
        p = ref_pod(n.key)
        if p is not None:
            assert n.ingress_isolated == isolated("Ingress", p, policies), f"{n.key} ingress flag"
            assert n.egress_isolated == isolated("Egress", p, policies), f"{n.key} egress flag"

    conns = {(c.src.key, c.dst.key): c.conns for c in reach.connections}
    assert not [c for c in reach.connections if c.src.is_external and c.dst.is_external]
    probes = probe_ports(objs)
    for s in reach.nodes:
        for d in reach.nodes:
            if s.key == d.key or (s.is_external and d.is_external):
                continue
            if s.is_external and s.external_role == "destination":
                continue
            if d.is_external and d.external_role == "source":
                continue
            got = conns.get((s.key, d.key))
            for src in side(s.key):
                for dst in side(d.key):
                    for proto in ("TCP", "UDP", "SCTP"):
                        for port in probes:
                            want = allowed(src, dst, proto, port, policies, ns_labels, direction)
                            have = got is not None and got.allows(proto, port)
                            assert have == want, (
                                f"{level}/{direction} {s.key} => {d.key} {proto} {port}: "
                                f"derived={have} reference={want}"
                            )


@st.composite
def upsert_st(draw: Any, policies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A policy replacing an existing one or new; often a plain deny of one direction,
    which switches isolation on for the pods it selects."""
    if policies and draw(st.booleans()):
        ns, name = draw(st.sampled_from(sorted(policies))).split("/")
    else:
        ns, name = draw(st.sampled_from(NAMESPACES)), f"p{draw(st.integers(0, 6))}"
    index = int(name[1:])
    if draw(st.integers(0, 3)) == 0:
        direction = draw(st.sampled_from(("Ingress", "Egress")))
        return netpol(ns, name, podSelector=draw(selector_st()), policy_types=[direction])
    return draw(policy_st(index, ns))


@st.composite
def step_st(draw: Any, policies: dict[str, dict[str, Any]]) -> tuple[str, Any]:
    kinds = ["replace", "batch"] + (["remove"] if policies else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "replace":
        return kind, draw(upsert_st(policies))
    if kind == "remove":
        return kind, draw(st.sampled_from(sorted(policies)))
    removals = (
        draw(st.lists(st.sampled_from(sorted(policies)), max_size=2, unique=True))
        if policies
        else []
    )
    upserts: dict[str, dict[str, Any]] = {}
    for _ in range(draw(st.integers(0, 3))):
        obj = draw(upsert_st(policies))
        upserts[policy_key(obj)] = obj
    return kind, (list(upserts.values()), removals)


def caches_st() -> st.SearchStrategy[set[tuple[Level, Direction]]]:
    """Which analyses to run (and so which caches to fill): none, some or all."""
    return st.one_of(st.just(set()), st.sets(st.sampled_from(COMBOS)), st.just(set(COMBOS)))


def run_chain(objs: list[dict[str, Any]], data: Any) -> None:
    policies = {policy_key(o): o for o in objs if o["kind"] == "NetworkPolicy"}
    analyzer = Analyzer(build_cluster(objs))
    before: dict[tuple[str, str], Snapshot] = {}
    for level, direction in data.draw(caches_st(), label="base analyses"):
        before[(level, direction)] = snapshot(analyzer.analyze(level=level, direction=direction))
    base = analyzer

    for _ in range(data.draw(st.integers(1, 4), label="steps")):
        kind, arg = data.draw(step_st(policies), label="step")
        if kind == "replace":
            analyzer = analyzer.replace_policy(arg)
            policies[policy_key(arg)] = arg
        elif kind == "remove":
            ns, name = arg.split("/")
            analyzer = analyzer.remove_policy(ns, name)
            del policies[arg]
        else:
            upserts, removals = arg
            analyzer = analyzer.with_policies_changed(upserts, removals)
            for key in removals:
                del policies[key]
            for obj in upserts:
                policies[policy_key(obj)] = obj
        assert sorted(p.key for p in analyzer.cluster.policies) == sorted(policies)
        analyzed = data.draw(caches_st(), label="analyses after step")
        if analyzed:
            fresh = Analyzer(build_cluster(fresh_objs(objs, policies)))
            for level, direction in analyzed:
                assert snapshot(analyzer.analyze(level=level, direction=direction)) == snapshot(
                    fresh.analyze(level=level, direction=direction)
                ), f"after {kind}: {level}/{direction}"

    final = fresh_objs(objs, policies)
    fresh = Analyzer(build_cluster(final))
    for level, direction in COMBOS:
        reach = analyzer.analyze(level=level, direction=direction)
        assert snapshot(reach) == snapshot(fresh.analyze(level=level, direction=direction)), (
            f"{level}/{direction}"
        )
        assert_matches_reference(reach, final, level, direction)
    for (level, direction), snap in before.items():
        assert snapshot(base.analyze(level=level, direction=direction)) == snap, (
            "deriving changed the parent analyzer's answer"
        )


@settings(settings.get_profile("engine"), max_examples=200)
@given(cluster_st(owners=True), st.data())
def test_chains_of_derived_analyzers_equal_fresh_analyses_and_the_reference(
    objs: list[dict[str, Any]], data: Any
) -> None:
    run_chain(objs, data)


@contextmanager
def strategy(name: str) -> Iterator[None]:
    """Force one of the ways the engine may patch its caches, to check each is exact."""
    saved = reachability._egress_as_rows, reachability._BISECT_LIMIT
    if name == "egress as rows":
        reachability._egress_as_rows = lambda *_: True  # type: ignore[assignment]
    elif name == "egress as columns":
        reachability._egress_as_rows = lambda *_: False  # type: ignore[assignment]
    else:
        reachability._BISECT_LIMIT = 0 if name == "rows filtered" else 1 << 30
    try:
        yield
    finally:
        reachability._egress_as_rows, reachability._BISECT_LIMIT = saved


@pytest.mark.parametrize(
    "name", ["egress as rows", "egress as columns", "rows filtered", "rows bisected"]
)
@settings(settings.get_profile("engine"), max_examples=100)
@given(objs=cluster_st(owners=True), data=st.data())
def test_every_way_of_patching_equals_fresh_analyses_and_the_reference(
    name: str, objs: list[dict[str, Any]], data: Any
) -> None:
    with strategy(name):
        run_chain(objs, data)


# -- the batch API ---------------------------------------------------------------------------


def _shop() -> list[dict[str, Any]]:
    return [
        deployment("shop", "web", {"app": "web"}, ports=[("http", "TCP", 8080)]),
        deployment("shop", "db", {"app": "db"}, ports=[("pg", "TCP", 5432)]),
        deployment("other", "client", {"app": "client"}),
        netpol("shop", "deny", policy_types=["Ingress", "Egress"]),
        netpol(
            "shop",
            "db-from-web",
            podSelector=labels_sel(app="db"),
            ingress=[{"from": [{"podSelector": labels_sel(app="web")}], "ports": [{"port": "pg"}]}],
        ),
    ]


def _pairs(analyzer: Analyzer) -> list[tuple[str, str, str]]:
    return [(c.src.key, c.dst.key, str(c.conns)) for c in analyzer.analyze().connections]


def test_batch_applies_removals_then_upserts_like_the_single_calls() -> None:
    analyzer = Analyzer(build_cluster(_shop()))
    analyzer.analyze().connections  # noqa: B018 - fill the caches
    web_egress = netpol(
        "shop",
        "web-egress",
        podSelector=labels_sel(app="web"),
        policy_types=["Egress"],
        egress=[{"to": [{"podSelector": labels_sel(app="db")}], "ports": [{"port": 5432}]}],
    )
    reopened = netpol("shop", "deny", podSelector=labels_sel(app="db"), policy_types=["Ingress"])
    batch = analyzer.with_policies_changed([web_egress, reopened], ["shop/db-from-web"])
    one_by_one = (
        analyzer.remove_policy("shop", "db-from-web")
        .replace_policy(web_egress)
        .replace_policy(reopened)
    )
    assert _pairs(batch) == _pairs(one_by_one) == _pairs(Analyzer(batch.cluster))
    assert sorted(p.key for p in batch.cluster.policies) == ["shop/deny", "shop/web-egress"]
    # A removal and an upsert of the same name: the upsert is applied after the removal.
    readded = analyzer.with_policies_changed([reopened], ["shop/deny"])
    assert readded.cluster.policy("shop/deny") is not None
    assert _pairs(readded) == _pairs(analyzer.replace_policy(reopened))


def test_batch_with_nothing_to_change_answers_like_its_parent() -> None:
    analyzer = Analyzer(build_cluster(_shop()))
    assert _pairs(analyzer.with_policies_changed()) == _pairs(analyzer)


def test_batch_rejects_invalid_policies_and_unknown_removals_before_changing_anything() -> None:
    analyzer = Analyzer(build_cluster(_shop()))
    bad = netpol("shop", "bad", ingress=[{"ports": [{"port": 9, "endPort": 1}]}])
    with pytest.raises(ValueError, match="endPort"):
        analyzer.with_policies_changed([netpol("shop", "fine"), bad])
    with pytest.raises(KeyError, match="shop/missing"):
        analyzer.with_policies_changed([], ["shop/missing"])
    with pytest.raises(KeyError, match="shop/deny"):
        analyzer.with_policies_changed([], ["shop/deny", "shop/deny"])


# -- the kinds of change the bench measures, on a generated cluster ---------------------------


def _generated() -> list[dict[str, Any]]:
    return generate_cluster(pods=150, workloads=50, namespaces=10, policies=100, seed=5)


def _bench_changes(objs: list[dict[str, Any]]) -> dict[str, tuple[list[dict[str, Any]], list[str]]]:
    policies = {policy_key(o): o for o in objs if o["kind"] == "NetworkPolicy"}
    port_added = copy.deepcopy(
        next(o for o in policies.values() if (o["spec"].get("ingress") or [{}])[0].get("ports"))
    )
    port_added["spec"]["ingress"][0]["ports"].append({"protocol": "TCP", "port": 9443})
    cluster = build_cluster(objs)
    open_ns = next(
        ns
        for ns in sorted(cluster.namespaces)
        if not any(p.namespace == ns and p.affects_egress for p in cluster.policies)
        and any(w.namespace == ns for w in cluster.workloads)
    )
    deny_egress = netpol(open_ns, "deny-egress", policy_types=["Egress"])
    egress_same_env = next(k for k in policies if "egress-same-env" in k)
    selector_changed = copy.deepcopy(policies[egress_same_env])
    selector_changed["spec"]["podSelector"] = labels_sel(tier="worker")
    ip_block = next(k for k in policies if "egress-to-services" in k)
    same_cut = copy.deepcopy(policies[ip_block])
    same_cut["spec"]["egress"][0]["to"] = [{"ipBlock": {"cidr": "203.0.113.0/24"}}]
    new_cut = copy.deepcopy(policies[ip_block])
    new_cut["spec"]["egress"][0]["to"].append({"ipBlock": {"cidr": "198.51.100.0/24"}})
    return {
        "port added": ([port_added], []),
        "new egress deny": ([deny_egress], []),
        "removed default deny": ([], [next(k for k in policies if k.endswith("/default-deny"))]),
        "selector change": ([selector_changed], []),
        "ipBlock within the cut": ([same_cut], []),
        "ipBlock cutting anew": ([new_cut], []),
        "several at once": ([deny_egress, selector_changed, port_added], [ip_block]),
    }


@pytest.mark.parametrize("change", list(_bench_changes(_generated())))
def test_bench_kinds_of_change_equal_a_fresh_analysis(change: str) -> None:
    objs = _generated()
    upserts, removals = _bench_changes(objs)[change]
    analyzer = Analyzer(build_cluster(objs))
    for level, direction in COMBOS:
        analyzer.analyze(level=level, direction=direction).connections  # noqa: B018
    derived = analyzer.with_policies_changed(upserts, removals)
    # And back again: the change undone on the derived analyzer.
    originals = {policy_key(o): o for o in objs if o["kind"] == "NetworkPolicy"}
    undo = derived.with_policies_changed(
        [originals[policy_key(o)] for o in upserts if policy_key(o) in originals]
        + [originals[k] for k in removals],
        [policy_key(o) for o in upserts if policy_key(o) not in originals],
    )
    for level, direction in COMBOS:
        for result, cluster in ((derived, derived.cluster), (undo, undo.cluster)):
            assert snapshot(result.analyze(level=level, direction=direction)) == snapshot(
                Analyzer(cluster).analyze(level=level, direction=direction)
            ), f"{change}: {level}/{direction}"


def test_switching_egress_isolation_on_patches_rows_instead_of_recomputing_every_destination() -> (
    None
):
    objs = _generated()
    analyzer = Analyzer(build_cluster(objs))
    analyzer.analyze().connections  # noqa: B018 - fill the caches
    upserts, _ = _bench_changes(objs)["new egress deny"]
    derived = analyzer.with_policies_changed(upserts)
    # Every destination's cached cells were carried over (patched for the namespace's
    # pods), none left to be recomputed from the rules.
    assert derived._eg_cells.keys() == analyzer._eg_cells.keys()  # noqa: SLF001
    assert derived._combined.keys() == analyzer._combined.keys()  # noqa: SLF001
    assert any(
        e.egress_isolated
        for e in derived.analyze().nodes
        if e.namespace == upserts[0]["metadata"]["namespace"]
    )


def test_pods_of_one_workload_with_different_labels_keep_their_own_rows() -> None:
    objs = [
        pod("a", "w-1", {"app": "w"}, owner=("ReplicaSet", "w")),
        pod("a", "w-2", {"app": "w", "tier": "db"}, owner=("ReplicaSet", "w")),
        pod("a", "x", {"app": "x"}),
    ]
    analyzer = Analyzer(build_cluster(objs))
    for level, direction in COMBOS:
        analyzer.analyze(level=level, direction=direction).connections  # noqa: B018
    deny = netpol("a", "deny-db-egress", podSelector=labels_sel(tier="db"), policy_types=["Egress"])
    derived = analyzer.replace_policy(deny)
    for level, direction in COMBOS:
        assert snapshot(derived.analyze(level=level, direction=direction)) == snapshot(
            Analyzer(derived.cluster).analyze(level=level, direction=direction)
        )
    assert derived.analyze(level="pod").node("a/w-2[Pod]").egress_isolated  # type: ignore[union-attr]
    assert not derived.analyze().node("a/w[ReplicaSet]").egress_isolated  # type: ignore[union-attr]
