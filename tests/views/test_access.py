"""Who may open which page: nothing is anonymous, a signed-in user needs a role, a viewer
reads every page but the editor ones (the cluster export)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from policies.models import Namespace, NetworkPolicy, Pod, Workload

pytestmark = pytest.mark.django_db


@pytest.fixture
def page_urls(demo_cluster) -> dict[str, str]:
    c = demo_cluster.pk
    policy = NetworkPolicy.objects.get(cluster=demo_cluster, namespace="shop", name="database-policy")
    workload = Workload.objects.get(cluster=demo_cluster, namespace="shop", name="backend", kind="Deployment")
    pod = Pod.objects.filter(cluster=demo_cluster, namespace="shop", top_name="database").first()
    namespace = Namespace.objects.get(cluster=demo_cluster, name="shop")
    return {
        "clusters": reverse("clusters"),
        "cluster-overview": reverse("cluster-overview", args=[c]),
        "graph": reverse("graph", args=[c]),
        "matrix": reverse("matrix", args=[c]),
        "explain": reverse("explain", args=[c]) + "?src=shop/backend&dst=shop/database",
        "node": reverse("node", args=[c]) + "?id=shop/tier%3Ddatabase&level=tier",
        "policy-list": reverse("policy-list", args=[c]),
        "policy-detail": reverse("policy-detail", args=[policy.pk]),
        "policy-yaml": reverse("policy-yaml", args=[policy.pk]),
        "workload-detail": reverse("workload-detail", args=[workload.pk]),
        "pod-detail": reverse("pod-detail", args=[pod.pk]),
        "namespace-detail": reverse("namespace-detail", args=[namespace.pk]),
    }


READ_PAGES = [
    "clusters", "cluster-overview", "graph", "matrix", "explain", "node", "policy-list",
    "policy-detail", "policy-yaml", "workload-detail", "pod-detail", "namespace-detail",
]


@pytest.mark.parametrize("name", READ_PAGES)
def test_anonymous_user_is_sent_to_sign_in(client, page_urls, name):
    response = client.get(page_urls[name])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.parametrize("name", READ_PAGES)
def test_signed_in_user_without_a_role_is_refused(client_for, page_urls, name):
    assert client_for("nobody").get(page_urls[name]).status_code == 403


def test_refusal_page_says_the_user_has_no_role(client_for, page_urls):
    response = client_for("nobody").get(page_urls["graph"])
    assert response.status_code == 403
    html = response.content.decode()
    assert "This page needs the viewer role." in html
    assert "with <strong>no role</strong>" in html


@pytest.mark.parametrize("name", READ_PAGES)
def test_viewer_reads_every_page(client_for, page_urls, name):
    assert client_for("viewer").get(page_urls[name]).status_code == 200


def test_viewer_cannot_download_the_cluster_export(client_for, demo_cluster):
    url = reverse("cluster-export", args=[demo_cluster.pk])
    assert client_for("viewer").get(url).status_code == 403


def test_editor_downloads_the_cluster_export_as_yaml(client_for, demo_cluster):
    from policies.services import analysis

    response = client_for("editor").get(reverse("cluster-export", args=[demo_cluster.pk]) + "?namespace=shop")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="demo-shop-networkpolicies.yaml"'
    assert response.content.decode() == analysis.export_yaml(demo_cluster, namespace="shop")


def test_export_link_is_shown_to_editors_only(client_for, demo_cluster):
    url = reverse("policy-list", args=[demo_cluster.pk])
    export = reverse("cluster-export", args=[demo_cluster.pk])
    assert export not in client_for("viewer").get(url).content.decode()
    assert export in client_for("editor").get(url).content.decode()


def test_anonymous_fragment_request_is_not_served(client, page_urls):
    response = client.get(page_urls["node"], HTTP_HX_REQUEST="true")
    assert response.status_code == 302
    assert "Who can reach it" not in response.content.decode()
