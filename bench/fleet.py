"""Fleet benchmark: one sync worker process following many clusters.

A real `celery worker` process with the sync queue's shape (a thread pool) is given one
sync task per cluster (CLUSTERS fake clusters, 50 by default, all served by one fake API
server): every cluster is listed, goes live and watches. Then EVENTS policies are written
on the server, one at a time, and the figure is the time until the policy is stored for
every cluster (the rows the REST API answers from), worst of EVENTS, against 2 s.

Needs PostgreSQL (DATABASE_URL) and Redis (NETPOLUI_BENCH_BROKER, default
redis://127.0.0.1:6379/14, on a queue of its own). The Django part runs in a child
process on a throwaway database (see bench.django_env)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from bench import Figure
from bench.django_env import ROOT, django_setup, print_figures, run_child, throwaway_database

CLUSTERS = 50
EVENTS = 5
TARGET_SECONDS = 2.0
BROKER = os.environ.get("NETPOLUI_BENCH_BROKER", "redis://127.0.0.1:6379/14")


def run(clusters: int = CLUSTERS) -> list[Figure]:
    with throwaway_database() as database_url:
        if not database_url.startswith(("postgres://", "postgresql://")):
            print("fleet: skipped (a worker process needs PostgreSQL: set DATABASE_URL)")
            return []
        env = {
            **os.environ,
            "NETPOLUI_ENV": "development",
            "DATABASE_URL": database_url,
            "DJANGO_SETTINGS_MODULE": "netpolui.settings",
            "LOG_LEVEL": "WARNING",
        }
        env.pop("CELERY_BROKER_URL", None)
        return run_child("bench.fleet", ["--clusters", str(clusters)], env)


def _wait(check, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"fleet: timed out waiting for {what}")
        time.sleep(0.05)


def child(clusters: int) -> list[Figure]:
    django_setup()
    from netpolui.celery import app as celery_app
    from policies.models import Cluster, NetworkPolicy
    from policies.services.sync import ClusterSpec, register_cluster
    from tests.fake_k8s import objects
    from tests.fake_k8s.server import FakeKubeApiServer
    from tests.k8s.test_sync import seed

    queue = f"netpolui-bench-{uuid.uuid4().hex[:8]}"
    path = "/apis/networking.k8s.io/v1/networkpolicies"
    with FakeKubeApiServer(bookmark_interval=5.0) as fake, tempfile.TemporaryDirectory() as tmp:
        seed(fake)
        kubeconfig = fake.write_kubeconfig(Path(tmp) / "kubeconfig")
        fleet = [
            register_cluster(
                ClusterSpec(name=f"fleet-{i:02d}", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake")
            )
            for i in range(clusters)
        ]
        log_path = Path(tmp) / "worker.log"
        env = {
            **os.environ,
            "CELERY_BROKER_URL": BROKER,
            "CELERY_QUEUE": queue,
            "NETPOLUI_WATCH_TIMEOUT": "60",
            "NETPOLUI_READ_TIMEOUT": "10",
        }
        with log_path.open("w") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "celery", "-A", "netpolui", "worker", "--loglevel=WARNING",
                 "--pool=threads", f"--concurrency={clusters + 4}", f"--hostname=bench-{queue}@%h", "-Q", queue,
                 "--without-gossip", "--without-mingle", "--without-heartbeat"],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
            )
            try:
                t0 = time.perf_counter()
                with celery_app.connection_for_write(BROKER) as conn:
                    for cluster in fleet:
                        celery_app.send_task(
                            "policies.tasks.sync_cluster", args=[cluster.pk, 600], queue=queue, connection=conn
                        )
                pks = [c.pk for c in fleet]
                _wait(
                    lambda: worker.poll() is None
                    and Cluster.objects.filter(pk__in=pks, status=Cluster.Status.LIVE).count() == clusters
                    and fake.watch_count(path) >= clusters,
                    300,
                    f"{clusters} clusters live and watching",
                )
                if worker.poll() is not None:
                    raise RuntimeError("fleet: the worker exited:\n" + log_path.read_text()[-3000:])
                live = time.perf_counter() - t0
                latencies = []
                for i in range(EVENTS):
                    name = f"fleet-change-{i}"
                    fake.put(objects.default_deny("shop", name))
                    start = time.perf_counter()
                    _wait(
                        lambda name=name: NetworkPolicy.objects.filter(cluster__in=pks, name=name).count() >= clusters,
                        60,
                        f"{name} in every cluster",
                    )
                    latencies.append(time.perf_counter() - start)
                    time.sleep(0.5)
            finally:
                worker.terminate()
                try:
                    worker.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
    print(
        f"fleet: one worker process, {clusters} clusters live and watching after {live:.1f} s; "
        f"a change stored for all {clusters}: " + ", ".join(f"{s:.2f}" for s in latencies) + " s"
    )
    return [
        Figure("sync", f"fleet: {clusters} clusters live in one worker process", live, "s", None),
        Figure(
            "sync", f"fleet: a change stored for all {clusters} clusters (worst of {EVENTS})", max(latencies), "s", TARGET_SECONDS
        ),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--clusters", type=int, default=CLUSTERS)
    args = parser.parse_args()
    if args.child:
        print_figures(child(args.clusters))
        return 0
    from bench.__main__ import print_table

    print_table(run(args.clusters))
    return 0


if __name__ == "__main__":
    sys.exit(main())
