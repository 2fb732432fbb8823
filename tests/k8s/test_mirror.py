"""The database mirror: idempotent upserts keyed by uid, deletions on re-list, owners."""

from __future__ import annotations

import threading
import time

import pytest
from django.conf import settings
from django.db import connection

from policies.k8s.client import RESOURCES_BY_KIND
from policies.k8s.objects import slim_object
from policies.mirror import DatabaseMirror, _writing, replace_objects, resolve_owners
from policies.models import Cluster, NetworkPolicy, Pod, SyncState, Workload

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster():
    return Cluster.objects.create(name="c1", source=Cluster.Source.TOKEN)


def pod(name, uid, rv="1", owner=None, ns="shop", labels=None, ip="10.0.0.1"):
    meta = {"name": name, "namespace": ns, "uid": uid, "resourceVersion": rv, "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "uid": "x", "controller": True}]
    return slim_object(
        "Pod",
        {
            "metadata": meta,
            "spec": {
                "containers": [
                    {"name": "c", "image": "secret-image", "env": [{"name": "PASSWORD", "value": "hunter2"}],
                     "ports": [{"name": "http", "containerPort": 8080}]}
                ]
            },
            "status": {"podIP": ip, "phase": "Running"},
        },
    )


def workload(kind, name, uid, rv="1", owner=None, ns="shop"):
    meta = {"name": name, "namespace": ns, "uid": uid, "resourceVersion": rv}
    if owner:
        meta["ownerReferences"] = [{"kind": owner[0], "name": owner[1], "uid": "y", "controller": True}]
    return slim_object(kind, {"metadata": meta, "spec": {"template": {"metadata": {"labels": {"app": name}}}}})


def test_slim_pod_keeps_ports_and_drops_images_and_env():
    obj = pod("p", "u1")
    container = obj["spec"]["containers"][0]
    assert container["ports"] == [{"containerPort": 8080, "protocol": "TCP", "name": "http"}]
    assert "image" not in container
    assert "env" not in container
    assert obj["status"]["podIP"] == "10.0.0.1"


def test_replace_is_idempotent_and_keyed_by_uid(cluster):
    items = [pod("a", "u1"), pod("b", "u2")]
    assert replace_objects(cluster.pk, "Pod", items) is True
    assert replace_objects(cluster.pk, "Pod", items) is False
    assert Pod.objects.filter(cluster=cluster).count() == 2


def test_replace_applies_deletions_and_updates(cluster):
    replace_objects(cluster.pk, "Pod", [pod("a", "u1"), pod("b", "u2")])
    replace_objects(cluster.pk, "Pod", [pod("a", "u1", rv="5", ip="10.0.0.9"), pod("c", "u3")])
    rows = {p.name: p for p in Pod.objects.filter(cluster=cluster)}
    assert set(rows) == {"a", "c"}
    assert rows["a"].ips == ["10.0.0.9"]
    assert rows["a"].resource_version == "5"


def test_replace_of_one_workload_kind_leaves_other_kinds(cluster):
    replace_objects(cluster.pk, "Deployment", [workload("Deployment", "web", "d1")])
    replace_objects(cluster.pk, "StatefulSet", [workload("StatefulSet", "db", "s1")])
    replace_objects(cluster.pk, "Deployment", [])
    assert list(Workload.objects.values_list("kind", "name")) == [("StatefulSet", "db")]


def test_pod_top_owner_walks_replicaset_to_deployment(cluster):
    replace_objects(cluster.pk, "Deployment", [workload("Deployment", "web", "d1")])
    replace_objects(
        cluster.pk, "ReplicaSet", [workload("ReplicaSet", "web-5d9", "r1", owner=("Deployment", "web"))]
    )
    replace_objects(cluster.pk, "Pod", [pod("web-5d9-x", "p1", owner=("ReplicaSet", "web-5d9")), pod("bare", "p2")])
    tops = dict(Pod.objects.values_list("name", "top_kind"))
    assert tops == {"web-5d9-x": "Deployment", "bare": "Pod"}
    assert Pod.objects.get(name="web-5d9-x").top_name == "web"


def test_pod_whose_owner_is_missing_names_its_direct_owner(cluster):
    replace_objects(cluster.pk, "Pod", [pod("web-5d9-x", "p1", owner=("ReplicaSet", "web-5d9"))])
    resolve_owners(cluster.pk)
    row = Pod.objects.get(name="web-5d9-x")
    assert (row.top_kind, row.top_name) == ("ReplicaSet", "web-5d9")


def test_events_upsert_delete_and_bump_state_version(cluster):
    store = DatabaseMirror(cluster.pk)
    resource = RESOURCES_BY_KIND["NetworkPolicy"]
    policy = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny", "namespace": "shop", "uid": "n1", "resourceVersion": "7",
                     "managedFields": [{"manager": "kubectl"}]},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
    }
    store.apply_event(resource, "ADDED", slim_object("NetworkPolicy", policy), "7")
    cluster.refresh_from_db()
    first = cluster.state_version
    stored = NetworkPolicy.objects.get(uid="n1")
    assert "managedFields" not in stored.obj["metadata"]
    assert stored.policy_types == ["Ingress"]
    # The same event again (a replay after reconnect) changes nothing.
    store.apply_event(resource, "MODIFIED", slim_object("NetworkPolicy", policy), "7")
    cluster.refresh_from_db()
    assert cluster.state_version == first
    store.apply_event(resource, "DELETED", slim_object("NetworkPolicy", policy), "8")
    cluster.refresh_from_db()
    assert cluster.state_version == first + 1
    assert not NetworkPolicy.objects.exists()
    assert SyncState.objects.get(cluster=cluster, resource="networkpolicies").resource_version == "8"


def test_policy_changes_leave_the_topology_version_alone(cluster):
    store = DatabaseMirror(cluster.pk)
    policy = slim_object(
        "NetworkPolicy",
        {"metadata": {"name": "deny", "namespace": "shop", "uid": "n1", "resourceVersion": "3"},
         "spec": {"podSelector": {}}},
    )
    store.apply_event(RESOURCES_BY_KIND["Pod"], "ADDED", pod("a", "u1", rv="2"), "2")
    cluster.refresh_from_db()
    state, topology = cluster.state_version, cluster.topology_version
    store.apply_event(RESOURCES_BY_KIND["NetworkPolicy"], "ADDED", policy, "3")
    cluster.refresh_from_db()
    assert (cluster.state_version, cluster.topology_version) == (state + 1, topology)
    store.apply_event(RESOURCES_BY_KIND["Pod"], "MODIFIED", pod("a", "u1", rv="4", ip="10.0.0.7"), "4")
    cluster.refresh_from_db()
    assert (cluster.state_version, cluster.topology_version) == (state + 2, topology + 1)


@pytest.mark.django_db(transaction=True)
def test_sync_threads_write_through_a_few_connections_kept_open():
    """Many sync threads' writes share NETPOLUI_SYNC_DB_CONNECTIONS PostgreSQL connections
    that stay open between writes (a pool), not a new connection per write."""
    if connection.vendor != "postgresql":
        pytest.skip("the connection pool is PostgreSQL's")
    backends: list[int] = []

    def write_five_times() -> None:
        for _ in range(5):
            with _writing(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                backends.append(cursor.fetchone()[0])

    threads = [threading.Thread(target=write_five_times) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(backends) == 100
    assert len(set(backends)) <= settings.NETPOLUI_SYNC_DB_CONNECTIONS


@pytest.mark.django_db(transaction=True)
def test_a_thread_holding_a_connection_gives_it_back_before_waiting_for_a_place():
    """Threads that read outside the places (a sync task's own reads) and then write, while
    every place is taken by writers that still need a connection: no deadlock."""
    if connection.vendor != "postgresql":
        pytest.skip("the connection pool is PostgreSQL's")
    places = settings.NETPOLUI_SYNC_DB_CONNECTIONS
    writers_in = threading.Barrier(places + 1)
    readers_hold = threading.Barrier(2 * places)
    done: list[str] = []

    def read() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    def writer() -> None:
        with _writing():
            writers_in.wait()
            readers_hold.wait()
            read()
        done.append("writer")

    def reader() -> None:
        read()
        readers_hold.wait()
        with _writing():
            read()
        connection.close()
        done.append("reader")

    # A fresh pool: the threads need every connection, and one left checked out by an
    # earlier test in this process would make the last reader wait for nothing.
    connection.close()
    connection.close_pool()
    writers = [threading.Thread(target=writer, daemon=True) for _ in range(places)]
    for thread in writers:
        thread.start()
    writers_in.wait()
    readers = [threading.Thread(target=reader, daemon=True) for _ in range(places)]
    for thread in readers:
        thread.start()
    deadline = time.monotonic() + 20
    for thread in writers + readers:
        thread.join(timeout=max(0.0, deadline - time.monotonic()))
    finished = sorted(done)
    connection.close_pool()  # threads still waiting (the deadlock) fail instead of holding on
    assert finished == ["reader"] * places + ["writer"] * places
