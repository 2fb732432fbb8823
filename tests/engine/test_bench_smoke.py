"""The benchmark runs end to end on a tiny cluster (figures are not asserted: a bench,
not a timed test), and the generator is deterministic and valid."""

from __future__ import annotations

from bench import cli as bench_cli
from bench import engine as bench_engine
from bench.generate import generate_cluster
from policies.engine import build_cluster


def test_bench_engine_runs_on_a_small_cluster() -> None:
    figures = bench_engine.run({"pods": 200, "workloads": 40, "namespaces": 12, "policies": 60})
    names = [f.name for f in figures]
    assert any("full workload-level reachability" in n for n in names)
    assert any("recompute" in n for n in names)
    assert any("recompute with tiers" in n for n in names)
    assert any("recompute with tiers: Baseline" in n for n in names)
    assert any("what-if of a new Admin policy" in n for n in names)
    assert any("whole CLI run" in n for n in names)


def test_generated_cluster_has_the_requested_sizes_and_is_deterministic() -> None:
    objs = generate_cluster(pods=300, workloads=30, namespaces=10, policies=50, seed=3)
    assert objs == generate_cluster(pods=300, workloads=30, namespaces=10, policies=50, seed=3)
    cluster = build_cluster(objs)  # strict: every generated policy is valid
    assert len([p for p in cluster.pods if not p.stand_in]) == 300
    assert len(cluster.workloads) == 30
    assert len(cluster.policies) == 50
    assert len(cluster.namespaces) == 10


def test_generated_cluster_wide_policies_are_valid_and_leave_the_rest_unchanged() -> None:
    sizes = {"pods": 300, "workloads": 30, "namespaces": 10, "policies": 50, "seed": 3}
    with_tiers = generate_cluster(**sizes, cluster_policies=12)
    assert with_tiers[:-12] == generate_cluster(**sizes)
    cluster = build_cluster(with_tiers)  # strict: every generated policy is valid
    kinds = {p.kind for p in cluster.cluster_policies}
    assert kinds == {"ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"}
    assert {p.tier for p in cluster.cluster_policies} == {"Admin", "Baseline"}


def test_bench_cli_runs_netpolui_analyze_on_a_written_cluster() -> None:
    figures = bench_cli.run(
        repeat=1, sizes={"pods": 120, "workloads": 30, "namespaces": 8, "policies": 40}
    )
    listed = next(f for f in figures if f.name.endswith("connections listed"))
    assert listed.value > 0
    assert any(f.name.endswith("end to end (one run)") and f.target == 1.0 for f in figures)
    timed = [f.name for f in figures if f.target == 1.0]
    assert any("multi-document YAML, end to end" in n for n in timed)
    assert any("as a YAML directory" in n for n in timed)


def test_generated_cni_policies_are_valid_and_applied() -> None:
    sizes = {"pods": 300, "workloads": 30, "namespaces": 10, "policies": 50, "seed": 3}
    for cni in ("calico", "cilium", "antrea"):
        objs = generate_cluster(**sizes, cni_policies=40, cni=cni)
        assert objs[: len(generate_cluster(**sizes))] == generate_cluster(**sizes)
        cluster = build_cluster(objs)
        assert cluster.cni == cni
        assert len(cluster.cni_policies) == 40
        assert all(i.enforced for i in cluster.cni_policies.values()), [
            (i.key, i.problems) for i in cluster.cni_policies.values() if not i.enforced
        ]


def test_bench_cni_figures() -> None:
    figures = bench_engine._cni({"pods": 200, "workloads": 40, "namespaces": 12, "policies": 60})  # noqa: SLF001
    assert [f.name for f in figures] == [
        f"with 500 {cni} policies: full reachability (sorted list)"
        for cni in ("calico", "cilium", "antrea")
    ]
