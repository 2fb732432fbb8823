"""The mirrored resources: lists with the shared filtersets, pagination, details, 404s,
cluster scoping, and a constant number of queries however many rows a page has."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from policies.models import Namespace, NetworkPolicy, Pod, Workload
from policies.services import analysis
from tests.builders import add_rows, demo_counts

pytestmark = pytest.mark.django_db

LISTS = ["/api/clusters/", "/api/namespaces/", "/api/workloads/", "/api/pods/", "/api/policies/"]


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", LISTS)
def test_list_query_count_does_not_grow_with_rows(api, make_cluster, url, django_assert_max_num_queries):
    client = api("viewer")
    cluster = make_cluster("few", rows=3)
    few = _queries(client, url + "?page_size=500")
    add_rows(cluster, 120, prefix="more")
    for i in range(5):
        make_cluster(f"other-{i}", rows=2)
    many = _queries(client, url + "?page_size=500")
    assert many == few
    with django_assert_max_num_queries(6):
        response = client.get(url + "?page_size=500")
    # 1 + 5 clusters, or every namespaced row of every cluster
    assert response.json()["count"] in (6, 3 + 120 + 5 * 2)


def test_cluster_counts_come_from_the_mirror(api, demo_cluster):
    body = api("viewer").get(f"/api/clusters/{demo_cluster.pk}/").json()
    assert body["counts"] == {
        "namespaces": Namespace.objects.filter(cluster=demo_cluster).count(),
        # Workloads are the top-most owners, as the pages count them (no ReplicaSets of Deployments).
        "workloads": demo_counts()["workloads"],
        "pods": Pod.objects.filter(cluster=demo_cluster).count(),
        "policies": NetworkPolicy.objects.filter(cluster=demo_cluster).count(),
    }
    assert body["counts"]["policies"] > 5
    assert body["sync_status"] == "snapshot"
    assert body["sync_status_text"] == "static snapshot read from manifests"
    assert body["state_version"] == demo_cluster.state_version
    assert {"last_error", "heartbeat_at", "last_event_at"} <= set(body)


def test_lists_are_paginated(api, make_cluster):
    make_cluster(rows=7)
    client = api("viewer")
    first = client.get("/api/pods/?page_size=3").json()
    assert first["count"] == 7
    assert len(first["results"]) == 3
    assert first["next"].endswith("page=2&page_size=3")
    last = client.get("/api/pods/?page_size=3&page=3").json()
    assert [p["namespace"] for p in last["results"]] == ["ns-006"]
    assert client.get("/api/pods/?page=9").status_code == 404


def test_namespace_counts_per_namespace(api, demo_cluster):
    rows = api("viewer").get(f"/api/namespaces/?cluster={demo_cluster.pk}&name=shop").json()["results"]
    assert [r["name"] for r in rows] == ["shop"]
    shop = rows[0]
    assert shop["policies"] == NetworkPolicy.objects.filter(cluster=demo_cluster, namespace="shop").count()
    assert shop["pods"] == Pod.objects.filter(cluster=demo_cluster, namespace="shop").count()
    top = [w for w in Workload.objects.filter(cluster=demo_cluster, namespace="shop") if w.is_top]
    assert len(top) < Workload.objects.filter(cluster=demo_cluster, namespace="shop").count()
    assert shop["workloads"] == len(top)


def test_api_and_clusters_page_count_the_same_workloads(api, client_for, demo_cluster):
    from django.urls import reverse

    body = api("viewer").get(f"/api/clusters/{demo_cluster.pk}/").json()
    page = client_for("viewer").get(reverse("clusters"))
    row = next(r for r in page.context["rows"] if r["cluster"].pk == demo_cluster.pk)
    assert body["counts"]["workloads"] == row["cluster"].workload_count == demo_counts()["workloads"]


def test_workload_filters_and_endpoint_key(api, demo_cluster):
    client = api("viewer")
    rows = client.get(f"/api/workloads/?cluster={demo_cluster.pk}&namespace=shop&top=true").json()["results"]
    assert sorted(r["key"] for r in rows) == ["shop/backend[Deployment]", "shop/database[StatefulSet]", "shop/frontend[Deployment]"]
    backend = next(r for r in rows if r["name"] == "backend")
    assert backend["pods"] == Pod.objects.filter(cluster=demo_cluster, namespace="shop", top_name="backend").count() > 0
    assert backend["is_top"] is True
    replicasets = client.get(f"/api/workloads/?cluster={demo_cluster.pk}&namespace=shop&kind=ReplicaSet").json()["results"]
    assert replicasets
    assert {r["key"] for r in replicasets} <= {r["key"] for r in rows}
    by_label = client.get(f"/api/workloads/?cluster={demo_cluster.pk}&namespace=shop&label=tier=database&top=true").json()["results"]
    assert [r["name"] for r in by_label] == ["database"]


def test_pod_filters(api, demo_cluster):
    client = api("viewer")
    pods = client.get(f"/api/pods/?cluster={demo_cluster.pk}&namespace=shop,payments").json()["results"]
    assert {p["namespace"] for p in pods} == {"shop", "payments"}
    repeated = client.get(f"/api/pods/?cluster={demo_cluster.pk}&namespace=shop&namespace=payments").json()["results"]
    assert [p["id"] for p in repeated] == [p["id"] for p in pods]
    one = pods[0]
    by_ip = client.get(f"/api/pods/?cluster={demo_cluster.pk}&ip={one['ips'][0]}").json()["results"]
    assert [p["id"] for p in by_ip] == [one["id"]]
    assert one["key"] == analysis.pod_key(Pod.objects.get(pk=one["id"]))
    assert "obj" not in one


def test_policy_list_and_detail_carry_clean_yaml(api, demo_cluster):
    client = api("viewer")
    rows = client.get(f"/api/policies/?cluster={demo_cluster.pk}&namespace=shop&type=egress").json()["results"]
    names = {r["name"] for r in rows}
    assert {"default-deny-all", "backend-egress", "allow-dns"} <= names
    assert "backend-policy" not in names  # Ingress only
    policy = NetworkPolicy.objects.get(cluster=demo_cluster, namespace="shop", name="backend-policy")
    detail = client.get(f"/api/policies/{policy.pk}/").json()
    assert detail["yaml"] == analysis.policy_yaml(policy)
    assert "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: backend-policy\n" in detail["yaml"]
    for managed in ("uid:", "resourceVersion:", "managedFields", "status:"):
        assert managed not in detail["yaml"]
    assert detail["spec"]["podSelector"] == {"matchLabels": {"tier": "backend"}}
    assert detail["affects_ingress"] is True
    assert detail["affects_egress"] is False


def test_namespaced_lookups_are_scoped_to_the_cluster(api, demo_cluster, make_cluster):
    other = make_cluster("other", rows=2)
    client = api("viewer")
    pod = Pod.objects.filter(cluster=demo_cluster).first()
    assert client.get(f"/api/pods/{pod.pk}/?cluster={demo_cluster.pk}").status_code == 200
    assert client.get(f"/api/pods/{pod.pk}/?cluster={other.pk}").status_code == 404
    rows = client.get(f"/api/namespaces/?cluster={other.pk}").json()["results"]
    assert {r["cluster"] for r in rows} == {other.pk}
    assert len(rows) == 2


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/pods/?cluster=999999", "cluster"),
        ("/api/pods/?cluster=abc", "cluster"),
        ("/api/workloads/?kind=Pizza", "kind"),
        ("/api/policies/?type=sideways", "type"),
        ("/api/clusters/?status=sleeping", "status"),
        ("/api/namespaces/?label==x", "label"),
        ("/api/pods/?page_size=0", None),
    ],
)
def test_bad_filters_are_400_with_the_field(api, make_cluster, url, field):
    make_cluster(rows=1)
    response = api("viewer").get(url)
    if field is None:  # a page size below 1 falls back to the default, as DRF does
        assert response.status_code == 200
        return
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("resource", ["clusters", "namespaces", "workloads", "pods", "policies"])
def test_unknown_ids_are_404(api, make_cluster, resource):
    make_cluster(rows=1)
    response = api("viewer").get(f"/api/{resource}/987654/")
    assert response.status_code == 404
    assert response.json() == {"detail": "No " + {
        "clusters": "Cluster", "namespaces": "Namespace", "workloads": "Workload", "pods": "Pod", "policies": "NetworkPolicy",
    }[resource] + " matches the given query."}


@pytest.mark.parametrize("resource", ["namespaces", "workloads", "pods", "policies"])
def test_mirrored_resources_are_read_only_for_everyone(api, demo_cluster, resource):
    client = api("admin")
    row = client.get(f"/api/{resource}/?cluster={demo_cluster.pk}").json()["results"][0]
    assert client.post(f"/api/{resource}/", {"name": "x"}).status_code == 405
    assert client.delete(f"/api/{resource}/{row['id']}/").status_code == 405
    assert client.patch(f"/api/{resource}/{row['id']}/", {"name": "x"}).status_code == 405
