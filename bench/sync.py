"""Sync benchmark: the generated cluster (10,000 pods and their workloads, namespaces and
policies) listed from the fake API server and stored; then how long a watch event takes
to be visible through the REST API (DESIGN.md section 6: under 20 s and under 2 s)."""

from __future__ import annotations

import tempfile
import threading
import time
from pathlib import Path

from bench import Figure
from bench.django_env import throwaway_database


def run() -> list[Figure]:
    with throwaway_database():
        return _run()


def _run() -> list[Figure]:
    from django.contrib.auth.models import User
    from django.test import Client

    from policies.engine import generate_cluster
    from policies.k8s.sync import SyncOptions
    from policies.models import Cluster
    from policies.services.sync import ClusterSpec, register_cluster, sync_cluster
    from tests.fake_k8s import objects
    from tests.fake_k8s.server import FakeKubeApiServer

    generated = generate_cluster()
    figures: list[Figure] = []
    options = SyncOptions(page_size=500, watch_timeout_seconds=60, read_timeout_seconds=30, heartbeat_seconds=1)
    with FakeKubeApiServer(bookmark_interval=5.0) as fake, tempfile.TemporaryDirectory() as tmp:
        fake.put_all(generated)
        kubeconfig = fake.write_kubeconfig(Path(tmp) / "kubeconfig")
        cluster = register_cluster(
            ClusterSpec(name="bench", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake")
        )
        t0 = time.perf_counter()
        ok = sync_cluster(cluster, once=True, options=options)
        list_seconds = time.perf_counter() - t0
        if not ok:
            raise RuntimeError(Cluster.objects.get(pk=cluster.pk).last_error)
        figures.append(Figure("sync", f"list and store {len(generated):,} objects", list_seconds, "s", 20.0))

        runs: list = []
        thread = threading.Thread(
            target=sync_cluster, kwargs={"cluster": cluster, "options": options, "on_start": runs.append}, daemon=True
        )
        thread.start()
        fake.wait_for_watches(9, timeout=60)
        user = User.objects.create_superuser("bench", password="bench")
        client = Client()
        client.force_login(user)
        latencies = []
        for i in range(5):
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
        figures.append(Figure("sync", "watch event visible in the API (worst of 5)", max(latencies), "s", 2.0))
    return figures
