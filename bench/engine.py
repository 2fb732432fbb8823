"""Engine benchmark: the whole CLI run (`netpolui analyze` on the generated cluster
written as YAML files, one per namespace, as kubectl writes them), full workload-level
reachability of that cluster, its peak memory, and the recompute after each kind of
policy change (the targets of docs/architecture.md): a port added, egress isolation
switched on and off, a default deny removed, a podSelector changed, an ipBlock changed
with and without a new address boundary, and several changes at once.

Times are wall-clock without tracing (a recompute is the median of three derivations
from the same analyzed cluster, each up to the materialised workload-level list); peak
memory comes from a second, traced run. Run this part alone with
`python -c 'from bench import engine, __main__ as m; m.print_table(engine.run())'`.
"""

from __future__ import annotations

import copy
import gc
import io
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from contextlib import redirect_stdout
from pathlib import Path
from typing import Any

import yaml

from bench import Figure
from bench.generate import generate_cluster
from policies.engine import (
    Analyzer,
    Cluster,
    build_cluster,
    diff_reachability,
    load_paths,
    render,
)
from policies.engine.cli import main as cli_main

SIZES = {"pods": 10_000, "workloads": 1_000, "namespaces": 200, "policies": 2_000}


def _policies(objs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        f"{o['metadata']['namespace']}/{o['metadata']['name']}": o
        for o in objs
        if o["kind"] == "NetworkPolicy"
    }


def _port_added(policies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One existing ingress policy with a port added: what the editor's what-if submits."""
    target = next(
        o for o in policies.values() if (o["spec"].get("ingress") or [{}])[0].get("ports")
    )
    changed = copy.deepcopy(target)
    changed["spec"]["ingress"][0]["ports"].append({"protocol": "TCP", "port": 9443})
    return changed


def _egress_deny(cluster: Cluster) -> dict[str, Any]:
    """A default deny of egress in a namespace that had no egress policy: switches egress
    isolation on for every pod there (each of their rows changes at every destination)."""
    ns = next(
        ns
        for ns in cluster.namespaces
        if any(w.namespace == ns for w in cluster.workloads)
        and not any(p.namespace == ns and p.affects_egress for p in cluster.policies)
    )
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny-egress", "namespace": ns},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"]},
    }


def _selector_changed(policies: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """A policy selecting another tier, an egress one when there is one (its rules name
    a whole environment's namespaces: many destinations, few sources)."""
    tiered = [
        o for o in policies.values() if "tier" in o["spec"]["podSelector"].get("matchLabels", {})
    ]
    target = next((o for o in tiered if o["spec"].get("egress")), tiered[0])
    changed = copy.deepcopy(target)
    tier = changed["spec"]["podSelector"]["matchLabels"]["tier"]
    changed["spec"]["podSelector"]["matchLabels"]["tier"] = (
        "worker" if tier != "worker" else "cache"
    )
    return changed


def _ip_block_changes(
    policies: dict[str, dict[str, Any]],
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """An egress ipBlock swapped for one other policies already use (the cut of the
    address space stays), and the same policy with a new CIDR added (the cut moves)."""

    def peers(o: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            p for r in o["spec"].get("egress") or [] for p in r.get("to") or [] if "ipBlock" in p
        ]

    uses = Counter(
        json.dumps(p["ipBlock"], sort_keys=True) for o in policies.values() for p in peers(o)
    )
    for o in policies.values():
        own = [json.dumps(p["ipBlock"], sort_keys=True) for p in peers(o)]
        swap = next((b for b in uses if b not in own), None)
        # The block given up must stay in another policy, or a boundary would go.
        if not own or uses[own[0]] < 2 or swap is None:
            continue
        kept, moved = copy.deepcopy(o), copy.deepcopy(o)
        peers(kept)[0]["ipBlock"] = json.loads(swap)
        rule = next(
            r for r in moved["spec"]["egress"] if any("ipBlock" in p for p in r.get("to") or [])
        )
        rule["to"].append({"ipBlock": {"cidr": "198.51.100.0/24"}})  # TEST-NET-2: nobody's
        return kept, moved
    return None


def _recompute(
    analyzer: Analyzer, upserts: list[dict[str, Any]], removals: list[str]
) -> tuple[float, bool]:
    """Median of three: derive, then materialise the workload-level sorted list; and
    whether the engine had to start from scratch."""
    times = []
    for _ in range(3):
        gc.collect()
        t0 = time.perf_counter()
        derived = analyzer.with_policies_changed(upserts, removals)
        derived.analyze(level="workload").connections  # noqa: B018 - materialise
        times.append(time.perf_counter() - t0)
    rebuilt = derived._u is not analyzer._u  # noqa: SLF001 - a figure about the internals
    return sorted(times)[1], rebuilt


def _recompute_figures(
    analyzer: Analyzer, objs: list[dict[str, Any]], cluster: Cluster
) -> list[Figure]:
    """Each kind of change derived from the analyzed cluster; the 200 ms target
    applies to all but the one that moves the address cut (a full rebuild)."""
    policies = _policies(objs)
    deny = _egress_deny(cluster)
    denied = analyzer.replace_policy(deny)
    denied.analyze(level="workload").connections  # noqa: B018 - the state the removal starts from
    default_deny = next(k for k in policies if k.rsplit("/", 1)[1] == "default-deny")
    selector = _selector_changed(policies)
    changes: list[tuple[str, Analyzer, list[dict[str, Any]], list[str], float | None]] = [
        ("port added to an ingress rule", analyzer, [_port_added(policies)], [], 0.2),
        ("new egress deny (egress isolation on)", analyzer, [deny], [], 0.2),
        (
            "that egress deny removed (isolation off)",
            denied,
            [],
            [f"{deny['metadata']['namespace']}/deny-egress"],
            0.2,
        ),
        ("default deny removed", analyzer, [], [default_deny], 0.2),
        (f"podSelector changed ({selector['metadata']['name']})", analyzer, [selector], [], 0.2),
    ]
    ip_blocks = _ip_block_changes(policies)
    if ip_blocks is not None:
        kept, moved = ip_blocks
        changes += [
            ("ipBlock changed, address cut kept", analyzer, [kept], [], 0.2),
            ("ipBlock with a new boundary (full rebuild)", analyzer, [moved], [], None),
        ]
    changes.append(
        (
            "3 changes at once (with_policies_changed)",
            analyzer,
            [deny, selector, _port_added(policies)],
            [],
            0.2,
        )
    )
    recompute = []
    for label, base, upserts, removals, target in changes:
        t, rebuilt = _recompute(base, upserts, removals)
        how = "full rebuild" if rebuilt else "incremental"
        print(f"recompute, {label}: {t * 1000:.0f} ms ({how})")
        recompute.append(Figure("engine", f"recompute: {label}", t, "s", target))
    return recompute


class _NoAliases(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
    """kubectl never writes anchors: neither do the bench's files."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _write_manifests(objs: list[dict[str, Any]], directory: Path) -> int:
    by_ns: dict[str, list[dict[str, Any]]] = {}
    for o in objs:
        by_ns.setdefault(o["metadata"].get("namespace") or "cluster", []).append(o)
    size = 0
    for ns, docs in by_ns.items():
        text = yaml.dump_all(docs, Dumper=_NoAliases, sort_keys=False)
        (directory / f"{ns}.yaml").write_text(text)
        size += len(text)
    return size


def _cli_figures(objs: list[dict[str, Any]]) -> list[Figure]:
    """`netpolui analyze DIR -o txt` as a user runs it (a new process, median of three),
    and in-process: reading the files, the model, the analysis and the txt output."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        size = _write_manifests(objs, directory)
        runs = []
        cpu = []
        for _ in range(3):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            t0 = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "policies.cli", "analyze", str(directory)],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            runs.append(time.perf_counter() - t0)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
        whole = statistics.median(runs)
        gc.collect()
        t0 = time.perf_counter()
        inventory = load_paths([directory])
        t_read = time.perf_counter() - t0
        cluster = build_cluster(inventory)
        t_model = time.perf_counter() - t0 - t_read
        t1 = time.perf_counter()
        render(Analyzer(cluster).analyze(level="workload"), "txt")
        t_analyze = time.perf_counter() - t1
        with redirect_stdout(io.StringIO()):
            t0 = time.perf_counter()
            cli_main(["analyze", str(directory)])
            in_process = time.perf_counter() - t0
    print(
        f"CLI run on {len(objs):,} objects in {size / 2**20:.1f} MiB of YAML: "
        f"{whole * 1000:.0f} ms (runs: {', '.join(f'{r * 1000:.0f}' for r in runs)} ms)"
    )
    return [
        Figure("engine", "whole CLI run: netpolui analyze YAML-DIR -o txt (new process)", whole, "s", 1.0),
        # On a busy machine wall time waits for the cores; the CPU time the run used does not.
        Figure("engine", "  CPU time of that process (user + system)", statistics.median(cpu), "s"),
        Figure("engine", "  the same in-process (no interpreter start)", in_process, "s"),
        Figure("engine", "  of which reading the YAML files", t_read, "s"),
        Figure("engine", "  of which the cluster model", t_model, "s"),
        Figure("engine", "  of which analysis and txt output", t_analyze, "s"),
    ]


def run(
    sizes: dict[str, int] | None = None, *, dense: bool = True, cli: bool = True
) -> list[Figure]:
    sizes = sizes or SIZES
    objs = generate_cluster(**sizes)
    cli_figures = _cli_figures(objs) if cli else []
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

    recompute = _recompute_figures(analyzer, objs, cluster)
    del analyzer, reach
    gc.collect()
    tracemalloc.start()
    Analyzer(cluster).analyze(level="workload").connections  # noqa: B018 - materialise
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return [
        *cli_figures,
        Figure("engine", "full workload-level reachability (sorted list)", t_full, "s", 2.0),
        Figure("engine", "  of which class and policy indexes", t_index, "s"),
        Figure("engine", "peak memory of the analysis (tracemalloc)", peak / 2**20, "MiB", 1024),
        Figure("engine", "process max RSS (generator, model, analyses)", rss_mib, "MiB", 1024),
        *recompute,
        Figure("engine", "connections listed", float(n), ""),
        *(_dense(sizes) if dense else []),
        *_tiered(sizes),
        *_cni(sizes),
    ]


CNI_POLICIES = 500


def _cni(sizes: dict[str, int]) -> list[Figure]:
    """The same cluster plus 500 policies of each CNI (Calico tiers, Cilium deny and
    allow rules, Antrea tiers with namespaces.match Self): building the model and the
    full analysis."""
    out = []
    for cni in ("calico", "cilium", "antrea"):
        objs = generate_cluster(**sizes, cni_policies=CNI_POLICIES, cni=cni)
        gc.collect()
        t0 = time.perf_counter()
        cluster = build_cluster(objs)
        t_build = time.perf_counter() - t0
        t0 = time.perf_counter()
        n = len(Analyzer(cluster).analyze(level="workload").connections)
        t_full = time.perf_counter() - t0
        applied = sum(1 for i in cluster.cni_policies.values() if i.enforced)
        print(
            f"with {CNI_POLICIES} {cni} policies ({applied} applied, CNI {cluster.cni}): "
            f"{n:,} connections, model {t_build * 1000:.0f} ms, analysis {t_full * 1000:.0f} ms"
        )
        out.append(
            Figure("engine", f"with {CNI_POLICIES} {cni} policies: full reachability (sorted list)", t_full, "s", 2.0)
        )
    return out


TIER_POLICIES = 50


def _timed(step: Any) -> tuple[float, float]:
    """Median of three (wall, CPU) times of `step()`: on a loaded machine wall time waits
    for a core, the CPU time the step used does not."""
    walls, cpus = [], []
    for _ in range(3):
        gc.collect()
        t0, c0 = time.perf_counter(), time.process_time()
        step()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), statistics.median(cpus)


def _new_admin(name: str, subject: dict[str, Any], **rules: Any) -> dict[str, Any]:
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha2",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": name},
        "spec": {"tier": "Admin", "priority": 3, "subject": subject, **rules},
    }


def _what_ifs() -> list[tuple[str, dict[str, Any]]]:
    """New Admin policies as the editor's what-if submits them: one denying a whole
    environment's ingress from another (many destinations), one accepting DNS egress for
    every namespace (every source, few destinations), one whose subject selects nothing."""
    dev = {"namespaces": {"matchLabels": {"env": "dev"}}}
    dns = {
        "pods": {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    }
    return [
        (
            "dev denied into prod",
            _new_admin(
                "whatif-no-dev-into-prod",
                {"namespaces": {"matchLabels": {"env": "prod"}}},
                ingress=[{"name": "dev", "action": "Deny", "from": [dev]}],
            ),
        ),
        (
            "DNS accepted for every namespace",
            _new_admin(
                "whatif-dns",
                {"namespaces": {}},
                egress=[
                    {
                        "name": "dns",
                        "action": "Accept",
                        "to": [dns],
                        "protocols": [{"udp": {"destinationPort": {"number": 53}}}],
                    }
                ],
            ),
        ),
        (
            "subject selecting nothing",
            _new_admin(
                "whatif-nobody",
                {"namespaces": {"matchLabels": {"netpolui.io/nobody": "true"}}},
                ingress=[{"name": "all", "action": "Deny", "from": [{"namespaces": {}}]}],
            ),
        ),
    ]


def _tiered(sizes: dict[str, int]) -> list[Figure]:
    """The same cluster plus 50 cluster-wide policies (Admin and Baseline tiers): the
    full analysis; the recompute after one change of a NetworkPolicy, of an Admin and of
    a Baseline ClusterNetworkPolicy (and of AdminNetworkPolicies); and the what-if of a
    new Admin policy as the editor runs it (derive, the workload-level list, the diff
    against the live analysis). Each with the CPU time it used."""
    objs = generate_cluster(**sizes, cluster_policies=TIER_POLICIES)
    cluster = build_cluster(objs)
    gc.collect()
    t0, c0 = time.perf_counter(), time.process_time()
    analyzer = Analyzer(cluster)
    n = len(analyzer.analyze(level="workload").connections)
    t_full, c_full = time.perf_counter() - t0, time.process_time() - c0
    print(f"with {len(cluster.cluster_policies)} cluster-wide policies: {n:,} connections")
    tiers = [o for o in objs if o["kind"] in ("ClusterNetworkPolicy", "AdminNetworkPolicy")]
    admin = next(
        o for o in tiers if o["spec"].get("ingress") and o["kind"] == "ClusterNetworkPolicy"
    )
    reprioritised = copy.deepcopy(admin)
    reprioritised["spec"]["priority"] = 999
    admin_dev = copy.deepcopy(admin)  # its Deny now also from the staging environment
    admin_dev["spec"]["ingress"][0]["from"].append(
        {"namespaces": {"matchLabels": {"env": "staging"}}}
    )
    baseline = next(o for o in tiers if o["spec"].get("tier") == "Baseline")
    opened = copy.deepcopy(baseline)  # its same-team Accept now for the next team too
    opened["spec"]["ingress"][0]["from"].append(
        {"namespaces": {"matchLabels": {"team": "group-19"}}}
    )
    egress = next(o for o in tiers if o["spec"].get("egress") and o["kind"] == "AdminNetworkPolicy")
    rule_added = copy.deepcopy(egress)
    rule_added["spec"]["egress"].append(
        {
            "name": "no-smtp",
            "action": "Deny",
            "to": [{"namespaces": {}}],
            "ports": [{"portNumber": {"protocol": "TCP", "port": 25}}],
        }
    )
    changes: list[tuple[str, list[dict[str, Any]], list[str]]] = [
        ("NetworkPolicy port added, tiers present", [_port_added(_policies(objs))], []),
        ("Admin ClusterNetworkPolicy's priority changed", [reprioritised], []),
        ("Admin ClusterNetworkPolicy's Deny peer added", [admin_dev], []),
        ("Baseline ClusterNetworkPolicy's Accept peer added", [opened], []),
        ("AdminNetworkPolicy egress rule added", [rule_added], []),
        ("AdminNetworkPolicy removed", [], [f"AdminNetworkPolicy/{egress['metadata']['name']}"]),
    ]
    out = [
        Figure(
            "engine",
            f"with {TIER_POLICIES} cluster-wide policies: full reachability (sorted list)",
            t_full,
            "s",
            2.0,
        ),
        Figure("engine", "  CPU time of that analysis", c_full, "s"),
    ]
    for label, upserts, removals in changes:

        def derive(upserts: list[dict[str, Any]] = upserts, removals: list[str] = removals) -> None:
            analyzer.with_policies_changed(upserts, removals).analyze(level="workload").connections  # noqa: B018

        t, cpu = _timed(derive)
        rebuilt = analyzer.with_policies_changed(upserts, removals)._u is not analyzer._u  # noqa: SLF001
        how = "full rebuild" if rebuilt else "incremental"
        print(f"recompute with tiers, {label}: {t * 1000:.0f} ms, CPU {cpu * 1000:.0f} ms ({how})")
        out.append(Figure("engine", f"recompute with tiers: {label}", t, "s", 0.2))
        out.append(Figure("engine", "  CPU time of that recompute", cpu, "s"))
    live = analyzer.analyze(level="workload")
    live.connections  # noqa: B018 - the live analysis the editor diffs against is cached
    for label, obj in _what_ifs():

        def what_if(obj: dict[str, Any] = obj) -> None:
            derived = analyzer.with_policies_changed([obj])
            diff_reachability(live, derived.analyze(level="workload")).lines()

        t, cpu = _timed(what_if)
        print(f"what-if of a new Admin policy, {label}: {t * 1000:.0f} ms, CPU {cpu * 1000:.0f} ms")
        out.append(Figure("engine", f"what-if of a new Admin policy: {label}", t, "s", 0.2))
        out.append(Figure("engine", "  CPU time of that what-if", cpu, "s"))
    return out


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
