"""Sync benchmark (docs/architecture.md, Targets): the generated cluster (10,000 pods and their
workloads, namespaces and policies) listed from the fake API server and stored, under
20 s; then a watch event visible through the REST API, under 2 s.

`--size=large` (`run_large`): the 5,000-workload cluster listed and stored in under 60 s,
pages streamed into the database. Counted as such a cluster has them: 50,000 pods, 10,000
policies, 1,000 namespaces, 5,000 workloads (3,952 Deployments), and each Deployment's
current ReplicaSet plus 9 older ones scaled to 0 (a Deployment keeps up to 10 by default)
- 105,520 objects. The fake API server runs in a process of
its own there, so the figure "peak memory added by the sync" is the syncing process's
alone (a whole list held in memory would be several hundred MiB).

The Django part runs in a child process on a throwaway database (see bench.django_env)."""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import Figure
from bench.django_env import django_setup, print_figures, run_child, throwaway_database

EVENTS = 5
LARGE = {"pods": 50_000, "workloads": 5_000, "namespaces": 1_000, "policies": 10_000, "old_replicasets": 9}
TARGET_LARGE_SECONDS = 60.0
# a 500-object page of slim pods is a few MiB; the rows' uids and Django's own are the rest
TARGET_LARGE_MIB = 256.0


def run() -> list[Figure]:
    with throwaway_database() as database_url:
        env = {
            **os.environ,
            "NETPOLUI_ENV": "development",
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "netpolui.settings",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("CELERY_BROKER_URL", None)
        return run_child("bench.sync", [], env)


def run_large() -> list[Figure]:
    with throwaway_database() as database_url:
        env = {
            **os.environ,
            "NETPOLUI_ENV": "development",
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "netpolui.settings",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("CELERY_BROKER_URL", None)
        return run_child("bench.sync", ["--large", json.dumps(LARGE)], env)


def _serve(sizes: dict[str, int], kubeconfig: str, ready: object, stop: object) -> None:
    """The fake API server with the generated cluster, in a process of its own."""
    from bench.generate import generate_cluster
    from tests.fake_k8s.server import FakeKubeApiServer

    generated = generate_cluster(**sizes)
    with FakeKubeApiServer(bookmark_interval=30.0) as fake:
        fake.put_all(generated)
        fake.write_kubeconfig(Path(kubeconfig))
        kinds: dict[str, int] = {}
        for obj in generated:
            kinds[obj["kind"]] = kinds.get(obj["kind"], 0) + 1
        ready.send((len(generated), kinds))  # type: ignore[attr-defined]
        stop.wait()  # type: ignore[attr-defined]


def _rss_peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_large(sizes: dict[str, int]) -> list[Figure]:
    django_setup()
    from policies.k8s.sync import SyncOptions
    from policies.models import Cluster, NetworkPolicy, Pod, Workload
    from policies.services.sync import ClusterSpec, register_cluster, sync_cluster

    context = multiprocessing.get_context("fork")
    parent_end, child_end = context.Pipe()
    stop = context.Event()
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = str(Path(tmp) / "kubeconfig")
        server = context.Process(target=_serve, args=(sizes, kubeconfig, child_end, stop), daemon=True)
        server.start()
        try:
            if not parent_end.poll(600):
                raise RuntimeError("the fake API server did not start")
            count, served = parent_end.recv()
            cluster = register_cluster(
                ClusterSpec(name="bench-large", source="kubeconfig", kubeconfig_path=kubeconfig, context="fake")
            )
            options = SyncOptions(page_size=500, watch_timeout_seconds=60, read_timeout_seconds=120, heartbeat_seconds=5)
            before = _rss_peak_mib()
            t0 = time.perf_counter()
            if not sync_cluster(cluster, once=True, options=options):
                raise RuntimeError(Cluster.objects.get(pk=cluster.pk).last_error)
            seconds = time.perf_counter() - t0
            added = _rss_peak_mib() - before
        finally:
            stop.set()
            server.join(timeout=30)
    stored = (
        Pod.objects.filter(cluster=cluster).count(),
        Workload.objects.filter(cluster=cluster).count(),
        NetworkPolicy.objects.filter(cluster=cluster).count(),
    )
    kinds = ", ".join(f"{n:,} {k}" for k, n in sorted(served.items(), key=lambda kv: -kv[1]))
    print(f"sync large: the fake API server serves {count:,} objects: {kinds}")
    print(
        f"sync large: {count:,} objects served; stored {stored[0]:,} pods, {stored[1]:,} workloads, "
        f"{stored[2]:,} policies in {seconds:.1f} s; peak memory of the syncing process +{added:.0f} MiB"
    )
    return [
        Figure("sync", f"large: list and store {count:,} objects (pages of 500)", seconds, "s", TARGET_LARGE_SECONDS),
        Figure("sync", "large: peak memory added by the sync", added, "MiB", TARGET_LARGE_MIB),
    ]


def child() -> list[Figure]:
    django_setup()
    from django.contrib.auth.models import User
    from django.test import Client

    from bench.generate import generate_cluster
    from policies.k8s.sync import SyncOptions
    from policies.models import Cluster
    from policies.services.sync import ClusterSpec, register_cluster, sync_cluster
    from tests.fake_k8s import objects
    from tests.fake_k8s.server import FakeKubeApiServer

    generated = generate_cluster()
    options = SyncOptions(page_size=500, watch_timeout_seconds=60, read_timeout_seconds=30, heartbeat_seconds=1)
    figures: list[Figure] = []
    with FakeKubeApiServer(bookmark_interval=5.0) as fake, tempfile.TemporaryDirectory() as tmp:
        fake.put_all(generated)
        kubeconfig = fake.write_kubeconfig(Path(tmp) / "kubeconfig")
        cluster = register_cluster(
            ClusterSpec(name="bench", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake")
        )
        t0 = time.perf_counter()
        if not sync_cluster(cluster, once=True, options=options):
            raise RuntimeError(Cluster.objects.get(pk=cluster.pk).last_error)
        figures.append(Figure("sync", f"list and store {len(generated):,} objects", time.perf_counter() - t0, "s", 20.0))

        runs: list = []
        thread = threading.Thread(
            target=sync_cluster, kwargs={"cluster": cluster, "options": options, "on_start": runs.append}, daemon=True
        )
        thread.start()
        fake.wait_for_watches(9, timeout=60)
        client = Client()
        client.force_login(User.objects.create_superuser("bench", password="bench-password"))
        latencies = []
        for i in range(EVENTS):
            name = f"bench-watch-{i}"
            fake.put(objects.default_deny("team-001", name))
            start = time.perf_counter()
            while time.perf_counter() - start < 10:
                response = client.get("/api/policies/", {"cluster": cluster.pk, "name": name})
                if response.status_code == 200 and response.json().get("count"):
                    break
                time.sleep(0.02)
            latencies.append(time.perf_counter() - start)
        for sync in runs:
            sync.stop()
        thread.join(timeout=30)
    figures.append(Figure("sync", f"watch event visible in the API (worst of {EVENTS})", max(latencies), "s", 2.0))
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--large", help=argparse.SUPPRESS)
    parser.add_argument("--size", choices=("default", "large"), default="default")
    args = parser.parse_args()
    if args.child:
        print_figures(child_large(json.loads(args.large)) if args.large else child())
        return 0
    from bench.__main__ import print_table

    print_table(run_large() if args.size == "large" else run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
