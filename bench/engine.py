"""Engine benchmark: full workload-level reachability of a generated cluster, its peak
memory, and the recompute after one policy change (DESIGN.md section 6 targets).

Times are wall-clock without tracing; peak memory comes from a second, traced run.
"""

from __future__ import annotations

import copy
import gc
import resource
import time
import tracemalloc
from typing import Any

from bench import Figure
from policies.engine import Analyzer, build_cluster, generate_cluster

SIZES = {"pods": 10_000, "workloads": 1_000, "namespaces": 200, "policies": 2_000}


def _changed_policy(objs: list[dict[str, Any]]) -> dict[str, Any]:
    """One existing ingress policy with a port added: what the editor's what-if submits."""
    target = next(
        o
        for o in objs
        if o["kind"] == "NetworkPolicy"
        and o["spec"].get("ingress")
        and o["spec"]["ingress"][0].get("ports")
    )
    changed = copy.deepcopy(target)
    changed["spec"]["ingress"][0]["ports"].append({"protocol": "TCP", "port": 9443})
    return changed


def run(sizes: dict[str, int] | None = None) -> list[Figure]:
    sizes = sizes or SIZES
    objs = generate_cluster(**sizes)
    t0 = time.perf_counter()
    cluster = build_cluster(objs)
    t_build = time.perf_counter() - t0
    print(
        f"generated {len(cluster.pods):,} pods, {len(cluster.workloads):,} workloads, "
        f"{len(cluster.namespaces):,} namespaces, {len(cluster.policies):,} policies "
        f"(model built from dicts in {t_build * 1000:.0f} ms)"
    )

    gc.collect()
    t0 = time.perf_counter()
    analyzer = Analyzer(cluster)
    t_index = time.perf_counter() - t0
    reach = analyzer.analyze(level="workload")
    n = len(reach.connections)
    t_full = time.perf_counter() - t0
    classes = analyzer._u.n  # noqa: SLF001 - the figure is about the engine's internals
    print(
        f"full analysis: {n:,} connections between {len(reach.nodes):,} endpoints "
        f"({classes:,} pod signature classes)"
    )

    changed = _changed_policy(objs)
    t0 = time.perf_counter()
    derived = analyzer.replace_policy(changed)
    reach2 = derived.analyze(level="workload")
    n2 = len(reach2.connections)
    t_recompute = time.perf_counter() - t0
    print(
        f"recompute after changing {changed['metadata']['namespace']}/{changed['metadata']['name']}: "
        f"{n2:,} connections"
    )

    # Worst case: a new egress deny in a namespace that had none changes which pods are
    # egress-isolated, so every destination's egress cells are recomputed.
    open_ns = next(
        ns
        for ns in cluster.namespaces
        if not analyzer.analyze().node(f"{ns}/x")
        and all(not (p.namespace == ns and p.affects_egress) for p in cluster.policies)
        and any(w.namespace == ns for w in cluster.workloads)
    )
    deny = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny-egress", "namespace": open_ns},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"]},
    }
    t0 = time.perf_counter()
    n3 = len(analyzer.replace_policy(deny).analyze(level="workload").connections)
    t_worst = time.perf_counter() - t0
    print(f"recompute after adding an egress deny to {open_ns}: {n3:,} connections")

    del analyzer, reach, derived, reach2
    gc.collect()
    tracemalloc.start()
    Analyzer(cluster).analyze(level="workload").connections  # noqa: B018 - materialise
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [
        Figure("engine", "full workload-level reachability (sorted list)", t_full, "s", 2.0),
        Figure("engine", "  of which class and policy indexes", t_index, "s"),
        Figure("engine", "peak memory of the analysis (tracemalloc)", peak / 2**20, "MiB", 1024),
        Figure("engine", "process max RSS (generator, model, analyses)", rss_mib, "MiB", 1024),
        Figure("engine", "recompute after one policy change (sorted list)", t_recompute, "s", 0.2),
        Figure("engine", "  worst case: new egress deny (egress isolation changes)", t_worst, "s"),
        Figure("engine", "connections listed", float(n), ""),
        *_dense(sizes),
    ]


def _dense(sizes: dict[str, int]) -> list[Figure]:
    """The same sizes with no namespace locked down: the largest connection list."""
    cluster = build_cluster(generate_cluster(**sizes, locked_down=0.0))
    gc.collect()
    t0 = time.perf_counter()
    n = len(Analyzer(cluster).analyze(level="workload").connections)
    t_full = time.perf_counter() - t0
    print(f"dense variant (no namespace locked down): {n:,} connections")
    return [
        Figure("engine", "dense variant: full reachability (sorted list)", t_full, "s", 2.0),
        Figure("engine", "dense variant: connections listed", float(n), ""),
    ]
