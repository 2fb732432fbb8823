"""GET /api/workloads/{id}/connections/ in pages: a workload of a cluster where everything
is open has more peers each way than one page holds, so the answer pages its inbound and
outbound lists in step (`page`, `page_size`; `count`, `next`, `previous`, as every list)."""

from __future__ import annotations

import pytest
from django.conf import settings

from policies.models import TOP_LEVEL_WORKLOAD, Cluster, Workload
from policies.services import analysis

pytestmark = pytest.mark.django_db

PAGE_SIZE = settings.REST_FRAMEWORK["PAGE_SIZE"]


@pytest.fixture
def open_cluster(db):
    """150 workloads in 4 namespaces and no policy isolating any: each has 149 workload
    peers (and the address ranges) each way, more than one default page."""
    from bench.generate import generate_cluster
    from policies import mirror

    cluster = Cluster.objects.create(
        name="open", source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent"
    )
    mirror.load_snapshot(
        cluster,
        generate_cluster(
            pods=300, workloads=150, namespaces=4, policies=0, seed=4, locked_down=0.0
        ),
    )
    cluster.refresh_from_db()
    return cluster


def walk(client, url: str) -> tuple[list[dict], list[dict], int]:
    """Every inbound and outbound row, following `next` from `url`; and the pages read."""
    inbound: list[dict] = []
    outbound: list[dict] = []
    pages = 0
    while url:
        body = client.get(url).json()
        inbound += body["inbound"]
        outbound += body["outbound"]
        url = body["next"]
        pages += 1
    return inbound, outbound, pages


def test_pages_walk_every_peer_exactly_once(api, open_cluster):
    workload = (
        Workload.objects.filter(TOP_LEVEL_WORKLOAD, cluster=open_cluster)
        .order_by("namespace", "name")
        .first()
    )
    key = analysis.workload_key(workload)
    whole = analysis.endpoint_reachability(open_cluster, key)
    assert len(whole["inbound"]) > PAGE_SIZE
    assert len(whole["outbound"]) > PAGE_SIZE
    client = api("viewer")
    url = f"/api/workloads/{workload.pk}/connections/"

    first = client.get(url).json()
    assert first["workload"] == key
    assert len(first["inbound"]) == len(first["outbound"]) == PAGE_SIZE
    assert first["inbound_count"] == len(whole["inbound"])
    assert first["outbound_count"] == len(whole["outbound"])
    assert first["count"] == max(first["inbound_count"], first["outbound_count"])
    assert first["previous"] is None
    assert first["next"]

    inbound, outbound, pages = walk(client, url)
    assert inbound == whole["inbound"]
    assert outbound == whole["outbound"]
    assert pages == -(-first["count"] // PAGE_SIZE)

    inbound, outbound, pages = walk(client, f"{url}?page_size=7")
    assert inbound == whole["inbound"]
    assert outbound == whole["outbound"]
    assert len({row["peer"] for row in inbound}) == len(inbound)
    assert pages == -(-first["count"] // 7)

    last = client.get(url, {"page_size": 7, "page": "last"}).json()
    assert last["next"] is None
    assert last["previous"]
    assert last["inbound"] == whole["inbound"][(pages - 1) * 7 :]


def test_a_small_answer_is_one_page(api, demo_cluster):
    database = Workload.objects.get(
        cluster=demo_cluster, namespace="shop", name="database", kind="StatefulSet"
    )
    body = api("viewer").get(f"/api/workloads/{database.pk}/connections/").json()
    assert body["next"] is None
    assert body["previous"] is None
    assert body["inbound_count"] == len(body["inbound"]) == 1
    assert body["outbound_count"] == len(body["outbound"])
    assert body["count"] == max(len(body["inbound"]), len(body["outbound"]))


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5", "²", "99999999999999999999"])
def test_a_bad_page_is_a_400_naming_it(api, demo_cluster, page):
    workload = Workload.objects.filter(cluster=demo_cluster).first()
    response = api("viewer").get(f"/api/workloads/{workload.pk}/connections/", {"page": page})
    assert response.status_code == 400
    assert "is not a page number" in response.json()["page"][0]


def test_a_page_past_the_end_is_a_404_as_for_lists(api, demo_cluster):
    workload = Workload.objects.filter(cluster=demo_cluster).first()
    client = api("viewer")
    response = client.get(f"/api/workloads/{workload.pk}/connections/", {"page": 50})
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid page."}
    assert client.get("/api/pods/", {"page": 5000}).status_code == 404
    # Lists answer a page that is no number the same way.
    assert "page" in client.get("/api/pods/", {"page": "abc"}).json()


def test_a_bad_page_size_falls_back_to_the_default_as_for_lists(api, open_cluster):
    workload = Workload.objects.filter(TOP_LEVEL_WORKLOAD, cluster=open_cluster).first()
    client = api("viewer")
    for size in ("0", "-3", "abc"):
        body = client.get(f"/api/workloads/{workload.pk}/connections/", {"page_size": size}).json()
        assert len(body["inbound"]) == PAGE_SIZE
    body = client.get(f"/api/workloads/{workload.pk}/connections/", {"page_size": 100000}).json()
    assert len(body["inbound"]) == body["inbound_count"]  # at most 1,000: the whole list here
