"""The sync against the fake API server: list, watch, and recovery from every fault.

After each fault the mirror must equal the fake's state: nothing lost, nothing left
behind, no duplicate rows."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from policies.k8s.client import RESOURCES
from policies.k8s.sync import SyncOptions
from policies.models import Cluster, Namespace, NetworkPolicy, Pod, Workload
from policies.services.sync import ClusterBusy, ClusterSpec, register_cluster, sync_cluster
from tests.fake_k8s import objects
from tests.fake_k8s.server import FakeKubeApiServer

pytestmark = pytest.mark.django_db(transaction=True)

FAST = SyncOptions(
    page_size=3,
    watch_timeout_seconds=30,
    read_timeout_seconds=4,
    connect_timeout_seconds=2,
    heartbeat_seconds=0.2,
    backoff_base=0.05,
    backoff_cap=0.5,
)

KINDS = [
    "Namespace",
    "Deployment",
    "ReplicaSet",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Pod",
    "NetworkPolicy",
]


def seed(fake: FakeKubeApiServer) -> None:
    fake.put(objects.namespace("shop", {"team": "shop"}))
    fake.put(objects.namespace("kube-system"))
    fake.put_all(
        objects.deployment_stack(
            "shop", "frontend", {"tier": "frontend"}, ports=[("http", 80, "TCP")], replicas=2
        )
    )
    fake.put_all(
        objects.deployment_stack(
            "shop", "backend", {"tier": "backend"}, ports=[("http", 8080, "TCP")], replicas=2
        )
    )
    fake.put(objects.statefulset("shop", "db", {"tier": "database"}, ports=[("pg", 5432, "TCP")]))
    fake.put_all(objects.cronjob_stack("shop", "report"))
    fake.put(objects.default_deny("shop"))
    fake.put(
        objects.allow_from(
            "shop", "backend-from-frontend", {"tier": "backend"}, {"tier": "frontend"}, 8080
        )
    )


def fake_state(fake: FakeKubeApiServer) -> set[tuple[str, str, str, str, str]]:
    state = set()
    for kind in KINDS:
        for obj in fake.objects(kind):
            meta = obj["metadata"]
            state.add(
                (
                    kind,
                    meta.get("namespace", ""),
                    meta["name"],
                    meta["uid"],
                    meta["resourceVersion"],
                )
            )
    return state


def mirror_state(cluster: Cluster) -> set[tuple[str, str, str, str, str]]:
    rows = set()
    for ns in Namespace.objects.filter(cluster=cluster):
        rows.add(("Namespace", "", ns.name, ns.uid, ns.resource_version))
    for w in Workload.objects.filter(cluster=cluster):
        rows.add((w.kind, w.namespace, w.name, w.uid, w.resource_version))
    for p in Pod.objects.filter(cluster=cluster):
        rows.add(("Pod", p.namespace, p.name, p.uid, p.resource_version))
    for n in NetworkPolicy.objects.filter(cluster=cluster):
        rows.add(("NetworkPolicy", n.namespace, n.name, n.uid, n.resource_version))
    return rows


def row_count(cluster: Cluster) -> int:
    return sum(
        m.objects.filter(cluster=cluster).count() for m in (Namespace, Workload, Pod, NetworkPolicy)
    )


def wait_until(predicate, timeout: float = 10.0, message: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {message}")


def assert_mirror_converges(
    cluster: Cluster, fake: FakeKubeApiServer, timeout: float = 10.0
) -> None:
    try:
        wait_until(
            lambda: mirror_state(cluster) == fake_state(fake),
            timeout,
            "the mirror to equal the fake",
        )
    except AssertionError:
        missing = fake_state(fake) - mirror_state(cluster)
        extra = mirror_state(cluster) - fake_state(fake)
        raise AssertionError(
            f"mirror differs: missing {sorted(missing)}, extra {sorted(extra)}"
        ) from None
    assert row_count(cluster) == len(fake_state(fake)), "duplicate rows"


@pytest.fixture
def cluster(fake_k8s: FakeKubeApiServer, tmp_path: Path) -> Cluster:
    kubeconfig = fake_k8s.write_kubeconfig(tmp_path / "kubeconfig")
    return register_cluster(
        ClusterSpec(
            name="fake", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake"
        )
    )


class Running:
    """A sync running in a thread for the length of a test."""

    def __init__(self, cluster: Cluster, options: SyncOptions = FAST) -> None:
        self.syncs: list = []
        self.errors: list[BaseException] = []
        self.thread = threading.Thread(target=self._run, args=(cluster, options), daemon=True)

    def _run(self, cluster: Cluster, options: SyncOptions) -> None:
        try:
            sync_cluster(cluster, options=options, on_start=self.syncs.append)
        except BaseException as exc:  # surfaced by stop()
            self.errors.append(exc)
        finally:
            from django.db import connection

            connection.close()

    def start(self) -> Running:
        self.thread.start()
        wait_until(lambda: self.syncs or self.errors, 5, "the sync to start")
        return self

    def stop(self) -> None:
        for sync in self.syncs:
            sync.stop()
        self.thread.join(timeout=15)
        assert not self.thread.is_alive(), "the sync did not stop"
        if self.errors:
            raise self.errors[0]


@pytest.fixture
def running(cluster: Cluster, fake_k8s: FakeKubeApiServer) -> Iterator[Running]:
    seed(fake_k8s)
    run = Running(cluster).start()
    try:
        assert_mirror_converges(cluster, fake_k8s)
        # Every resource is being watched before the test changes anything.
        fake_k8s.wait_for_watches(len(RESOURCES), timeout=10)
        yield run
    finally:
        run.stop()


def test_list_once_mirrors_every_resource_paged(cluster, fake_k8s):
    seed(fake_k8s)
    assert sync_cluster(cluster, once=True, options=FAST) is True
    assert mirror_state(cluster) == fake_state(fake_k8s)
    # page_size=3 with five pods: the pods list took two pages.
    pod_lists = fake_k8s.find_requests("GET", "/api/v1/pods", watch=False)
    assert len(pod_lists) >= 2
    assert any("continue" in r.query for r in pod_lists)
    cluster.refresh_from_db()
    assert cluster.state_version > 0
    assert cluster.last_error == ""


def test_owners_resolve_to_the_top_most_workload(cluster, fake_k8s):
    seed(fake_k8s)
    sync_cluster(cluster, once=True, options=FAST)
    tops = {
        (p.top_kind, p.top_name)
        for p in Pod.objects.filter(cluster=cluster, name__startswith="frontend")
    }
    assert tops == {("Deployment", "frontend")}
    job = Workload.objects.get(cluster=cluster, kind="Job")
    assert (job.top_kind, job.top_name) == ("CronJob", "report")


def test_watch_applies_added_modified_and_deleted(running, cluster, fake_k8s):
    before = Cluster.objects.get(pk=cluster.pk).state_version
    fake_k8s.put(
        objects.networkpolicy(
            "shop",
            "allow-dns",
            {
                "podSelector": {},
                "policyTypes": ["Egress"],
                "egress": [{"ports": [{"port": 53, "protocol": "UDP"}]}],
            },
        )
    )
    fake_k8s.put_all(objects.deployment_stack("shop", "worker", {"tier": "backend"}, replicas=1))
    fake_k8s.delete("networkpolicies", "shop", "default-deny")
    fake_k8s.delete("deployments", "shop", "frontend")  # cascades to its ReplicaSet and Pods
    assert_mirror_converges(cluster, fake_k8s)
    assert Cluster.objects.get(pk=cluster.pk).state_version > before
    assert (
        fake_k8s.find_requests("GET", "/networkpolicies", watch=True)[0].query[
            "allowWatchBookmarks"
        ]
        == "true"
    )


def test_watch_uses_server_timeout_and_resumes_from_last_version(running, cluster, fake_k8s):
    watches = fake_k8s.find_requests(
        "GET", "/apis/networking.k8s.io/v1/networkpolicies", watch=True
    )
    assert "timeoutSeconds" in watches[0].query
    assert watches[0].query.get("resourceVersion")
    lists_before = len(
        fake_k8s.find_requests("GET", "/apis/networking.k8s.io/v1/networkpolicies", watch=False)
    )
    fake_k8s.close_watches()  # as the server does when timeoutSeconds runs out
    fake_k8s.put(objects.default_deny("kube-system"))
    assert_mirror_converges(cluster, fake_k8s)
    # A clean end of the stream resumes the watch; it does not list again.
    lists_after = len(
        fake_k8s.find_requests("GET", "/apis/networking.k8s.io/v1/networkpolicies", watch=False)
    )
    assert lists_after == lists_before


def test_stream_cut_mid_event_loses_nothing(running, cluster, fake_k8s):
    fake_k8s.cut_next_watch(after_events=0, path_contains="/networkpolicies")
    fake_k8s.close_watches()
    fake_k8s.wait_for_watches(len(RESOURCES), timeout=10)
    fake_k8s.put(objects.default_deny("kube-system"))
    fake_k8s.put(
        objects.allow_from(
            "shop", "db-from-backend", {"tier": "database"}, {"tier": "backend"}, 5432
        )
    )
    assert_mirror_converges(cluster, fake_k8s)


def test_server_errors_are_retried_and_reported(running, cluster, fake_k8s):
    fake_k8s.fail_next(3, status=500, path_contains="/networkpolicies")
    fake_k8s.close_watches()
    wait_until(
        lambda: len([r for r in fake_k8s.requests if r.status == 500]) == 3, 10, "three 500s"
    )
    wait_until(
        lambda: "answered 500" in Cluster.objects.get(pk=cluster.pk).last_error,
        5,
        "the error recorded",
    )
    fake_k8s.put(objects.default_deny("kube-system"))
    assert_mirror_converges(cluster, fake_k8s)
    wait_until(lambda: Cluster.objects.get(pk=cluster.pk).last_error == "", 5, "the error cleared")


def test_429_retry_after_is_honoured(running, cluster, fake_k8s):
    fake_k8s.fail_next(1, status=429, retry_after=1, path_contains="/networkpolicies")
    fake_k8s.close_watches()

    def policy_requests():
        return [
            r for r in fake_k8s.requests if "/networkpolicies" in r.path and r.status is not None
        ]

    wait_until(lambda: any(r.status == 429 for r in policy_requests()), 10, "the 429")
    wait_until(lambda: policy_requests()[-1].status != 429, 10, "the retry")
    requests = policy_requests()
    throttled = next(i for i, r in enumerate(requests) if r.status == 429)
    assert requests[throttled + 1].started - requests[throttled].started >= 0.95
    fake_k8s.put(objects.default_deny("kube-system"))
    assert_mirror_converges(cluster, fake_k8s)


def test_410_relists_and_applies_deletions_missed_while_down(running, cluster, fake_k8s):
    fake_k8s.pause()
    fake_k8s.delete("networkpolicies", "shop", "default-deny")
    fake_k8s.delete("deployments", "shop", "backend")
    fake_k8s.put(objects.default_deny("kube-system"))
    fake_k8s.compact()
    fake_k8s.resume()
    assert_mirror_converges(cluster, fake_k8s, timeout=15)
    relists = fake_k8s.find_requests(
        "GET", "/apis/networking.k8s.io/v1/networkpolicies", watch=False
    )
    assert len(relists) >= 2


def test_expired_watch_event_relists(running, cluster, fake_k8s):
    fake_k8s.delete("networkpolicies", "shop", "default-deny")
    fake_k8s.expire_watches()
    fake_k8s.put(objects.default_deny("kube-system"))
    assert_mirror_converges(cluster, fake_k8s, timeout=15)


def test_slow_server_hits_read_timeout_and_recovers(running, cluster, fake_k8s):
    fake_k8s.slow(6, path_contains="/networkpolicies")  # beyond the 4 s read timeout
    fake_k8s.close_watches()
    fake_k8s.put(objects.default_deny("kube-system"))
    time.sleep(1)
    fake_k8s.slow(0)
    assert_mirror_converges(cluster, fake_k8s, timeout=20)


def test_heartbeat_and_live_status(running, cluster, fake_k8s):
    wait_until(
        lambda: Cluster.objects.get(pk=cluster.pk).status == Cluster.Status.LIVE, 5, "live status"
    )
    first = Cluster.objects.get(pk=cluster.pk).heartbeat_at
    wait_until(
        lambda: Cluster.objects.get(pk=cluster.pk).heartbeat_at > first, 5, "a newer heartbeat"
    )


def test_failure_is_recorded_then_cleared(running, cluster, fake_k8s):
    fake_k8s.pause()
    wait_until(
        lambda: Cluster.objects.get(pk=cluster.pk).status == Cluster.Status.FAILING, 10, "failing"
    )
    # The open streams break first; the reconnects then find nobody listening.
    wait_until(
        lambda: "cannot reach" in Cluster.objects.get(pk=cluster.pk).last_error, 10, "unreachable"
    )
    fake_k8s.resume()
    wait_until(
        lambda: Cluster.objects.get(pk=cluster.pk).status == Cluster.Status.LIVE, 15, "live again"
    )
    assert Cluster.objects.get(pk=cluster.pk).last_error == ""


def test_second_sync_of_the_same_cluster_is_refused(running, cluster):
    with pytest.raises(ClusterBusy):
        sync_cluster(cluster, once=True, options=FAST)


def test_a_cluster_of_another_database_with_the_same_id_is_not_locked(cluster, monkeypatch):
    """Cluster ids are numbered per database: installations (or parallel test runs) that
    share one Redis must not refuse each other's syncs (CI failed on exactly this)."""
    from django.db import connection

    from policies.services.sync import cluster_lock

    with cluster_lock(cluster.pk):
        with pytest.raises(ClusterBusy), cluster_lock(cluster.pk):
            pass
        monkeypatch.setitem(
            connection.settings_dict, "NAME", f"{connection.settings_dict['NAME']}_other"
        )
        with cluster_lock(cluster.pk) as other:
            assert other.cluster_id == cluster.pk


# --- connection problems in plain words -----------------------------------------------------


def test_wrong_token_is_reported_as_401(tmp_path):
    with FakeKubeApiServer(token="right") as fake:
        kubeconfig = fake.write_kubeconfig(tmp_path / "kc", token="wrong")
        cluster = register_cluster(
            ClusterSpec(
                name="c401", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake"
            )
        )
        assert sync_cluster(cluster, once=True, options=FAST) is False
    cluster.refresh_from_db()
    assert cluster.status == Cluster.Status.FAILING
    assert "401 Unauthorized" in cluster.last_error


def test_forbidden_names_the_missing_rbac_rule(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("secret-token\n")
    with FakeKubeApiServer(token="secret-token") as fake:
        fake.deny("list", "deployments")
        cluster = register_cluster(
            ClusterSpec(
                name="c403", source="token", server_url=fake.url, token_file=str(token_file)
            )
        )
        assert sync_cluster(cluster, once=True, options=FAST) is False
        assert Namespace.objects.filter(cluster=cluster).count() == len(fake.objects("namespaces"))
    cluster.refresh_from_db()
    assert "403 Forbidden" in cluster.last_error
    assert (
        'apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "watch"]'
        in cluster.last_error
    )
    assert "secret-token" not in cluster.last_error


def test_unreachable_server_is_reported(tmp_path):
    with FakeKubeApiServer() as fake:
        kubeconfig = fake.write_kubeconfig(tmp_path / "kc")
    # The server is gone: nothing listens on its port any more.
    cluster = register_cluster(
        ClusterSpec(
            name="cgone", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake"
        )
    )
    assert sync_cluster(cluster, once=True, options=FAST) is False
    cluster.refresh_from_db()
    assert "cannot reach" in cluster.last_error
    assert "connection refused" in cluster.last_error


def test_tls_failure_is_reported(tmp_path):
    with FakeKubeApiServer(tls=True) as fake:
        kubeconfig = fake.write_kubeconfig(tmp_path / "kc", ca_file="")
        cluster = register_cluster(
            ClusterSpec(
                name="ctls", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake"
            )
        )
        assert sync_cluster(cluster, once=True, options=FAST) is False
    cluster.refresh_from_db()
    assert "TLS failure" in cluster.last_error
    assert "certificate verify failed" in cluster.last_error


def test_tls_with_the_right_ca_syncs(tmp_path):
    with FakeKubeApiServer(tls=True) as fake:
        seed(fake)
        kubeconfig = fake.write_kubeconfig(tmp_path / "kc")
        cluster = register_cluster(
            ClusterSpec(
                name="ctlsok", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake"
            )
        )
        assert sync_cluster(cluster, once=True, options=FAST) is True
        assert mirror_state(cluster) == fake_state(fake)
