"""Sync benchmark (docs/architecture.md, Targets): the generated cluster (10,000 pods and their
workloads, namespaces and policies) listed from the fake API server and stored, under
20 s; then a watch event visible through the REST API, under 2 s.

The Django part runs in a child process on a throwaway database (see bench.django_env)."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import Figure
from bench.django_env import django_setup, print_figures, run_child, throwaway_database

EVENTS = 5


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
    if parser.parse_args().child:
        print_figures(child())
        return 0
    from bench.__main__ import print_table

    print_table(run())
    return 0


if __name__ == "__main__":
    sys.exit(main())
