"""A list is streamed into the mirror page by page (limit/continue): every page stored,
nothing kept from a list that had to restart, rows no page named removed, and each
page written before the next one is asked for (memory follows the page size)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from policies.k8s.client import RESOURCES_BY_KIND, ConnectionSettings, build_api_client
from policies.k8s.objects import slim_object
from policies.k8s.sync import ListPage, SyncOptions, list_pages
from policies.mirror import DatabaseMirror
from policies.models import Cluster, Pod, SyncState
from policies.services.sync import ClusterSpec, register_cluster, sync_cluster
from tests.fake_k8s import objects
from tests.fake_k8s.server import FakeKubeApiServer

pytestmark = pytest.mark.django_db(transaction=True)

PAGED = SyncOptions(page_size=7, read_timeout_seconds=4, connect_timeout_seconds=2)
PODS = RESOURCES_BY_KIND["Pod"]


@pytest.fixture
def cluster(fake_k8s: FakeKubeApiServer, tmp_path: Path) -> Cluster:
    kubeconfig = fake_k8s.write_kubeconfig(tmp_path / "kubeconfig")
    return register_cluster(ClusterSpec(name="paged", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake"))


def stored_pods(cluster: Cluster) -> set[tuple[str, str]]:
    return set(Pod.objects.filter(cluster=cluster).values_list("name", "uid"))


def fake_pods(fake: FakeKubeApiServer) -> set[tuple[str, str]]:
    return {(o["metadata"]["name"], o["metadata"]["uid"]) for o in fake.objects("Pod")}


def test_a_list_of_many_pages_is_stored_completely_and_a_relist_removes_what_went(cluster, fake_k8s):
    fake_k8s.put(objects.namespace("bulk"))
    fake_k8s.put_all(objects.pod("bulk", f"p-{i:03d}", {"app": "bulk"}) for i in range(47))
    assert sync_cluster(cluster, once=True, options=PAGED) is True
    assert stored_pods(cluster) == fake_pods(fake_k8s)
    assert len(stored_pods(cluster)) == 47
    # 47 pods at 7 a page: 7 requests, each after the first with the continue token
    lists = fake_k8s.find_requests("GET", "/api/v1/pods", watch=False)
    assert len(lists) == 7
    assert sum("continue" in r.query for r in lists) == 6
    assert SyncState.objects.get(cluster=cluster, resource="pods").object_count == 47

    for i in range(0, 47, 5):
        fake_k8s.delete("Pod", "bulk", f"p-{i:03d}")
    fake_k8s.put_all(objects.pod("bulk", f"q-{i}", {"app": "bulk"}) for i in range(3))
    version = Cluster.objects.get(pk=cluster.pk).state_version
    assert sync_cluster(cluster, once=True, options=PAGED) is True
    assert stored_pods(cluster) == fake_pods(fake_k8s)
    assert len(stored_pods(cluster)) == 47 - 10 + 3
    assert Cluster.objects.get(pk=cluster.pk).state_version > version


def test_a_list_whose_continue_token_expired_starts_over(cluster, fake_k8s):
    fake_k8s.put(objects.namespace("bulk"))
    fake_k8s.put_all(objects.pod("bulk", f"p-{i:03d}", {"app": "bulk"}) for i in range(20))
    api_client = build_api_client(
        ConnectionSettings(source="kubeconfig", kubeconfig_path=cluster.kubeconfig_path, context=cluster.context)
    )
    lister = PODS.lister(api_client)
    pages = list_pages(lister, PODS, PAGED)
    first = next(pages)
    assert first.first
    # between two pages the server compacts: the token is too old, the list restarts
    fake_k8s.delete("Pod", "bulk", "p-019")
    fake_k8s.compact()
    rest = list(pages)
    assert rest[0].first
    restarted = [rest[0], *(p for p in rest[1:] if not p.first)]
    names = {i["metadata"]["name"] for p in restarted for i in p.items}
    assert names == {f"p-{i:03d}" for i in range(19)}


def pod_page(names: list[str], version: str, *, first: bool) -> ListPage:
    items = []
    for name in names:
        obj = objects.pod("bulk", name)
        obj["metadata"]["uid"] = f"uid-{name}"
        obj["metadata"]["resourceVersion"] = version
        items.append(slim_object("Pod", obj))
    return ListPage(items, version, first)


def test_each_page_is_written_before_the_next_is_read(cluster):
    store = DatabaseMirror(cluster.pk)
    seen_before: list[int] = []

    def pages() -> Iterator[ListPage]:
        yield pod_page(["a", "b", "c"], "10", first=True)
        seen_before.append(Pod.objects.filter(cluster=cluster).count())
        yield pod_page(["d", "e"], "10", first=False)
        seen_before.append(Pod.objects.filter(cluster=cluster).count())

    assert store.replace_listed(PODS, pages()) == 5
    assert seen_before == [3, 5]
    assert {n for n, _ in stored_pods(cluster)} == {"a", "b", "c", "d", "e"}


def test_pages_before_a_restart_do_not_count(cluster):
    store = DatabaseMirror(cluster.pk)
    store.replace_listed(PODS, iter([pod_page(["old"], "5", first=True)]))
    pages = [
        pod_page(["a", "gone"], "10", first=True),
        pod_page(["b"], "10", first=False),
        pod_page(["a", "b", "c"], "12", first=True),  # the list started over
    ]
    assert store.replace_listed(PODS, iter(pages)) == 3
    assert {n for n, _ in stored_pods(cluster)} == {"a", "b", "c"}
    assert SyncState.objects.get(cluster=cluster, resource="pods").resource_version == "12"
