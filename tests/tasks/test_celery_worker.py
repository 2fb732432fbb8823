"""A real `celery worker` process, PostgreSQL and Redis, syncing from the fake API server.

These are the production shape's moving parts over real connections: the test enqueues
through the Redis broker, the worker (a separate process) writes into the test's
PostgreSQL database, and two workers never sync one cluster at the same time."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.db import connection

from netpolui.celery import app as celery_app
from policies.models import Cluster, NetworkPolicy
from policies.services.sync import ClusterSpec, register_cluster, sync_lock_key
from tests.fake_k8s import objects
from tests.fake_k8s.server import FakeKubeApiServer
from tests.k8s.test_sync import assert_mirror_converges, seed, wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.django_db(transaction=True),
    # send_task always goes to the broker, which is what these tests want.
    pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored"),
]

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("NETPOLUI_TEST_BROKER", "redis://127.0.0.1:6379/14")
REDIS = os.environ.get("NETPOLUI_TEST_REDIS", "redis://127.0.0.1:6379/13")


@pytest.fixture(autouse=True)
def _services() -> None:
    problems = []
    if connection.vendor != "postgresql":
        problems.append("the worker tests need PostgreSQL: set DATABASE_URL (make test does)")
    try:
        redis.Redis.from_url(BROKER, socket_connect_timeout=2).ping()
    except redis.RedisError as exc:
        problems.append(f"Redis at {BROKER} is not answering: {exc}")
    if problems:
        if os.environ.get("NETPOLUI_REQUIRE_SERVICES"):
            pytest.fail("; ".join(problems))
        pytest.skip("; ".join(problems))


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Worker:
    def __init__(
        self,
        name: str,
        queue: str,
        log: Path,
        pool: tuple[str, ...] = ("--concurrency=1", "--pool=solo"),
        settings: dict[str, str] | None = None,
    ) -> None:
        env = {
            **os.environ,
            "NETPOLUI_ENV": "test",
            "DATABASE_URL": database_url(),
            "CELERY_BROKER_URL": BROKER,
            "REDIS_URL": REDIS,
            "CELERY_QUEUE": queue,
            # Test runs in parallel share this Redis; cluster ids repeat across their databases.
            "NETPOLUI_CACHE_PREFIX": f"netpolui-{queue}",
            "NETPOLUI_WATCH_TIMEOUT": "20",
            "NETPOLUI_READ_TIMEOUT": "5",
            "DJANGO_SETTINGS_MODULE": "netpolui.settings",
            # Names the worker's database connections (libpq reads it).
            "PGAPPNAME": f"netpolui-{name}-{queue}",
            **(settings or {}),
        }
        self.log = log
        self.handle = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "netpolui", "worker", "--loglevel=INFO",
             *pool, f"--hostname={name}@%h", "-Q", queue,
             "--without-gossip", "--without-mingle", "--without-heartbeat"],
            cwd=ROOT, env=env, stdout=self.handle, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 30) -> None:
        wait_until(lambda: "ready." in self.log.read_text() or self.process.poll() is not None, timeout, "worker start")
        assert self.process.poll() is None, self.log.read_text()

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.handle.close()


@pytest.fixture
def queue() -> str:
    return f"netpolui-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def start_worker(tmp_path: Path, queue: str) -> Iterator[Callable[[str], Worker]]:
    workers: list[Worker] = []

    def start(
        name: str, pool: tuple[str, ...] = ("--concurrency=1", "--pool=solo"), settings: dict[str, str] | None = None
    ) -> Worker:
        worker = Worker(name, queue, tmp_path / f"{name}.log", pool, settings)
        workers.append(worker)
        worker.wait_ready()
        return worker

    yield start
    for worker in workers:
        worker.stop()


def enqueue_sync(cluster: Cluster, queue: str, duration: float) -> None:
    with celery_app.connection_for_write(BROKER) as conn:
        celery_app.send_task(
            "policies.tasks.sync_cluster", args=[cluster.pk, duration], queue=queue, connection=conn
        )


@pytest.fixture
def cluster(fake_k8s: FakeKubeApiServer, tmp_path: Path) -> Cluster:
    seed(fake_k8s)
    kubeconfig = fake_k8s.write_kubeconfig(tmp_path / "kubeconfig")
    return register_cluster(
        ClusterSpec(name="fake", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake")
    )


def test_worker_process_syncs_and_follows_the_watch(cluster, fake_k8s, start_worker, queue):
    worker = start_worker("w1")
    enqueue_sync(cluster, queue, duration=12)
    assert_mirror_converges(cluster, fake_k8s, timeout=20)
    # A change on the server shows up through the worker's watch, not a new list.
    lists = len(fake_k8s.find_requests("GET", "/apis/networking.k8s.io/v1/networkpolicies", watch=False))
    fake_k8s.put(objects.default_deny("kube-system"))
    wait_until(lambda: NetworkPolicy.objects.filter(cluster=cluster, namespace="kube-system").exists(), 5, "the watch event")
    assert len(fake_k8s.find_requests("GET", "/apis/networking.k8s.io/v1/networkpolicies", watch=False)) == lists
    wait_until(lambda: Cluster.objects.get(pk=cluster.pk).status == Cluster.Status.LIVE, 5, "live status")
    wait_until(lambda: "succeeded" in worker.log.read_text(), 30, "the run to finish")
    assert "'synced'" in worker.log.read_text()
    # The run released its lock when it finished.
    assert redis.Redis.from_url(REDIS).get(sync_lock_key(cluster.pk)) is None


def test_two_workers_never_sync_one_cluster_at_once(cluster, fake_k8s, start_worker, queue):
    first, second = start_worker("w1"), start_worker("w2")
    watch_peak = [0]
    done = threading.Event()

    def watch_counter() -> None:
        while not done.is_set():
            watch_peak[0] = max(watch_peak[0], fake_k8s.watch_count("/apis/networking.k8s.io/v1/networkpolicies"))
            time.sleep(0.01)

    counter = threading.Thread(target=watch_counter, daemon=True)
    counter.start()
    enqueue_sync(cluster, queue, duration=8)
    enqueue_sync(cluster, queue, duration=8)
    logs = lambda: first.log.read_text() + second.log.read_text()  # noqa: E731
    wait_until(lambda: logs().count("succeeded") == 2, 40, "both tasks to finish")
    done.set()
    counter.join()
    assert logs().count("'busy'") == 1, logs()
    assert logs().count("'synced'") == 1, logs()
    assert watch_peak[0] == 1, "two syncs watched the same resource at once"
    assert_mirror_converges(cluster, fake_k8s)


FOLLOWED = int(os.environ.get("NETPOLUI_TEST_FOLLOWED_CLUSTERS", "50"))
CHANGES = 3
# The target is 2 s (bench.fleet prints it: speed is shown by benchmarks); on a loaded
# 2-core machine a change takes 1.5-4 s to reach all 50, so the test's bound is looser
# unless NETPOLUI_TEST_VISIBLE_WITHIN tightens it.
VISIBLE_WITHIN = float(os.environ.get("NETPOLUI_TEST_VISIBLE_WITHIN", "10"))


@pytest.fixture
def fleet_k8s() -> Iterator[FakeKubeApiServer]:
    """A fake API server for 50 clusters' 500 watches: a bookmark every 5 s per watch,
    within the worker's 10 s read timeout (the 1 s of `fake_k8s` would be 500
    resourceVersion writes a second), as bench.fleet has it."""
    with FakeKubeApiServer(bookmark_interval=5.0) as server:
        yield server
    assert not server.errors, "the fake API server hit a bug:\n" + "\n".join(server.errors)


def test_one_thread_pool_worker_process_follows_50_clusters(fleet_k8s, tmp_path, start_worker, queue, api):
    """The sync queue's worker shape (a thread pool): one process lists and watches 50
    clusters at once, and each change on the server reaches every cluster's API answer
    through its watch within VISIBLE_WITHIN seconds, while the process holds few
    database connections."""
    fake_k8s = fleet_k8s
    seed(fake_k8s)
    kubeconfig = fake_k8s.write_kubeconfig(tmp_path / "kubeconfig")
    clusters = [
        register_cluster(
            ClusterSpec(name=f"fleet-{i:02d}", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake")
        )
        for i in range(FOLLOWED)
    ]
    pks = {c.pk for c in clusters}
    worker = start_worker(
        "sync",
        ("--pool=threads", f"--concurrency={FOLLOWED + 4}"),
        {"NETPOLUI_WATCH_TIMEOUT": "60", "NETPOLUI_READ_TIMEOUT": "10"},
    )
    for cluster in clusters:
        enqueue_sync(cluster, queue, duration=300)
    path = "/apis/networking.k8s.io/v1/networkpolicies"
    # Every cluster watches at the same time, all from the one worker process.
    wait_until(lambda: fake_k8s.watch_count(path) >= FOLLOWED, 300, f"{FOLLOWED} clusters watching")
    wait_until(
        lambda: Cluster.objects.filter(pk__in=pks, status=Cluster.Status.LIVE).count() == FOLLOWED,
        60,
        "every cluster live",
    )
    lists = len(fake_k8s.find_requests("GET", path, watch=False))
    client = api("viewer")

    def clusters_showing(name: str) -> set[int]:
        body = client.get("/api/policies/", {"name": name, "page_size": 1000}).json()
        return {row["cluster"] for row in body["results"] if row["name"] == name}

    latencies = []
    for change in range(CHANGES):
        name = f"fleet-change-{change}"
        fake_k8s.put(objects.default_deny("kube-system", name))
        start = time.monotonic()
        wait_until(lambda name=name: clusters_showing(name) == pks, 60, f"{name} in all {FOLLOWED} clusters' API")
        latencies.append(round(time.monotonic() - start, 2))
    assert max(latencies) <= VISIBLE_WITHIN, f"seconds until a change was in all {FOLLOWED} clusters' API: {latencies}"
    # Through the watches, not new lists.
    assert len(fake_k8s.find_requests("GET", path, watch=False)) == lists
    assert worker.process.poll() is None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [f"netpolui-sync-{queue}"]
        )
        (others,) = cursor.fetchone()
    # The worker's sync threads share NETPOLUI_SYNC_DB_CONNECTIONS (8) connections.
    assert others <= 8, f"{others} database connections for {FOLLOWED} clusters"
