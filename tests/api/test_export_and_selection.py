"""GET /api/clusters/{id}/export/ (editor), /api/pods/{id}/policies/,
/api/policies/{id}/selected/ and the workload views of the same questions."""

from __future__ import annotations

import pytest
import yaml

from policies.models import ClusterPolicy, NetworkPolicy, Pod, Workload
from policies.services import analysis

pytestmark = pytest.mark.django_db


def test_export_is_a_multi_document_yaml_attachment(api, demo_cluster):
    response = api("editor").get(f"/api/clusters/{demo_cluster.pk}/export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    assert response["Content-Disposition"] == 'attachment; filename="demo-networkpolicies.yaml"'
    text = response.content.decode()
    assert text == analysis.export_yaml(demo_cluster)
    docs = [d for d in yaml.safe_load_all(text) if d]
    # The cluster-wide policies come first, Admin tier by priority then Baseline, then
    # every NetworkPolicy.
    cluster_wide = ClusterPolicy.objects.filter(cluster=demo_cluster)
    assert cluster_wide.exists()
    head, tail = docs[: cluster_wide.count()], docs[cluster_wide.count() :]
    assert [(d["kind"], d["metadata"]["name"]) for d in head] == [
        (p.kind, p.name) for p in sorted(cluster_wide, key=lambda p: (p.tier, p.priority))
    ]
    assert all(d["apiVersion"].startswith("policy.networking.k8s.io/") for d in head)
    assert len(tail) == NetworkPolicy.objects.filter(cluster=demo_cluster).count()
    assert all(d["kind"] == "NetworkPolicy" and d["apiVersion"] == "networking.k8s.io/v1" for d in tail)
    for doc in docs:
        assert set(doc["metadata"]) <= {"name", "namespace", "labels", "annotations"}
        assert "status" not in doc


def test_export_of_one_namespace(api, demo_cluster):
    response = api("admin").get(f"/api/clusters/{demo_cluster.pk}/export/?namespace=payments")
    assert response["Content-Disposition"] == 'attachment; filename="demo-payments-networkpolicies.yaml"'
    docs = [d for d in yaml.safe_load_all(response.content) if d]
    assert docs
    assert {d["metadata"]["namespace"] for d in docs} == {"payments"}


def test_export_accepting_only_yaml_still_works(api, demo_cluster):
    client = api("editor")
    ok = client.get(f"/api/clusters/{demo_cluster.pk}/export/", HTTP_ACCEPT="application/yaml")
    assert ok.status_code == 200
    bad = client.get(f"/api/clusters/{demo_cluster.pk}/export/?namespace=nope", HTTP_ACCEPT="application/yaml")
    assert bad.status_code == 400
    assert yaml.safe_load(bad.content) == {"namespace": ["no namespace 'nope' in cluster demo"]}


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("nobody", 403), ("viewer", 403), ("editor", 200), ("admin", 200)])
def test_export_needs_the_editor_role(api, demo_cluster, role, status):
    assert api(role).get(f"/api/clusters/{demo_cluster.pk}/export/").status_code == status


def test_export_bad_namespace_and_unknown_cluster(api, demo_cluster):
    client = api("editor")
    response = client.get(f"/api/clusters/{demo_cluster.pk}/export/?namespace=nope")
    assert response.status_code == 400
    assert response.json() == {"namespace": ["no namespace 'nope' in cluster demo"]}
    assert client.get("/api/clusters/999999/export/").status_code == 404


# --- which policies select a pod; which pods a policy selects ------------------------------


def test_policies_selecting_a_pod(api, demo_cluster):
    pod = Pod.objects.filter(cluster=demo_cluster, namespace="shop", top_name="backend").first()
    response = api("viewer").get(f"/api/pods/{pod.pk}/policies/")
    assert response.status_code == 200
    body = response.json()
    assert body["pod"]["id"] == pod.pk
    assert {p["name"] for p in body["policies"]} == {"default-deny-all", "backend-policy", "backend-egress", "allow-dns", "allow-prometheus-scrape"}
    assert body["ingress_isolated"] is True
    assert body["egress_isolated"] is True


def test_a_pod_no_policy_selects(api, demo_cluster):
    pod = Pod.objects.filter(cluster=demo_cluster, namespace="team-a").exclude(labels__has_key="tier").first()
    body = api("viewer").get(f"/api/pods/{pod.pk}/policies/").json()
    expected = analysis.policies_selecting_pod(pod)
    assert {p["id"] for p in body["policies"]} == {p.pk for p in expected["policies"]}
    assert body["ingress_isolated"] == expected["ingress_isolated"]


def test_pods_and_workloads_a_policy_selects(api, demo_cluster):
    policy = NetworkPolicy.objects.get(cluster=demo_cluster, namespace="shop", name="backend-policy")
    body = api("viewer").get(f"/api/policies/{policy.pk}/selected/").json()
    backend_pods = set(Pod.objects.filter(cluster=demo_cluster, namespace="shop", top_name="backend").values_list("pk", flat=True))
    assert {p["id"] for p in body["pods"]} == backend_pods
    assert body["workloads"] == ["shop/backend[Deployment]"]
    assert body["stand_ins"] == []
    assert body["policy"]["name"] == "backend-policy"


def test_the_selected_pods_come_in_pages(api, demo_cluster):
    policy = NetworkPolicy.objects.get(cluster=demo_cluster, namespace="shop", name="backend-policy")
    client = api("viewer")
    whole = client.get(f"/api/policies/{policy.pk}/selected/", {"page_size": 1000}).json()
    assert whole["count"] == len(whole["pods"]) >= 2
    first = client.get(f"/api/policies/{policy.pk}/selected/", {"page_size": 1}).json()
    assert first["count"] == whole["count"]
    assert [p["id"] for p in first["pods"]] == [whole["pods"][0]["id"]]
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert [p["id"] for p in second["pods"]] == [whole["pods"][1]["id"]]
    assert second["workloads"] == whole["workloads"] == ["shop/backend[Deployment]"]


def test_stand_in_workloads_are_listed_by_key(api, demo_cluster):
    # A Deployment with no mirrored pods stands for pods with its template's labels.
    backend = Workload.objects.get(cluster=demo_cluster, namespace="shop", name="backend", kind="Deployment")
    Pod.objects.filter(cluster=demo_cluster, namespace="shop", top_name="backend").delete()
    Workload.objects.filter(cluster=demo_cluster, namespace="shop", owner_name="backend").delete()
    demo_cluster.bump_state_version()
    policy = NetworkPolicy.objects.get(cluster=demo_cluster, namespace="shop", name="backend-policy")
    body = api("viewer").get(f"/api/policies/{policy.pk}/selected/").json()
    assert body["pods"] == []
    assert body["stand_ins"] == [analysis.workload_key(backend)] == ["shop/backend[Deployment]"]


def test_workload_policies_and_connections(api, demo_cluster):
    client = api("viewer")
    database = Workload.objects.get(cluster=demo_cluster, namespace="shop", name="database", kind="StatefulSet")
    body = client.get(f"/api/workloads/{database.pk}/policies/").json()
    assert body["workload"] == "shop/database[StatefulSet]"
    assert "database-policy" in {p["name"] for p in body["policies"]}
    conns = client.get(f"/api/workloads/{database.pk}/connections/").json()
    assert {c["peer"]: c["label"] for c in conns["inbound"]} == {"shop/backend[Deployment]": "TCP 5432"}
    assert {c["peer"] for c in conns["outbound"]} == {"kube-system/coredns[Deployment]"}


@pytest.mark.parametrize(
    "path", ["/api/pods/{pod}/policies/", "/api/policies/{policy}/selected/", "/api/workloads/{workload}/policies/", "/api/workloads/{workload}/connections/"]
)
def test_selection_views_need_a_role_and_known_ids(api, demo_cluster, path):
    ids = {
        "pod": Pod.objects.filter(cluster=demo_cluster).first().pk,
        "policy": NetworkPolicy.objects.filter(cluster=demo_cluster).first().pk,
        "workload": Workload.objects.filter(cluster=demo_cluster).first().pk,
    }
    assert api("viewer").get(path.format(**ids)).status_code == 200
    assert api("nobody").get(path.format(**ids)).status_code == 403
    assert api(None).get(path.format(**ids)).status_code == 401
    assert api("viewer").get(path.format(pod=999999, policy=999999, workload=999999)).status_code == 404
    assert api("viewer").get(path.format(**ids) + "?cluster=999999").status_code == 400
