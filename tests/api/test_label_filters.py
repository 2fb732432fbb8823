"""Label filters on every list that has one: the key is data, never an ORM lookup, and
a value that is not a label key or value is a 400 naming the parameter."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

LISTS = ["/api/namespaces/", "/api/workloads/", "/api/pods/", "/api/policies/"]
PAGES = ["/clusters/{c}/policies/"]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("value", ["regex=(", "=x", "a b=c", "app=\x00", "k=" + "v" * 100, "-bad=x", "app=a,b c"])
def test_malformed_label_filters_are_a_400_naming_label(api, demo_cluster, url, value):
    response = api("viewer").get(url, {"label": value})
    assert response.status_code == 400, response.content[:200]
    assert list(response.json()) == ["label"]


@pytest.mark.parametrize("url", LISTS)
@pytest.mark.parametrize("value", ["isnull=x", "contains=x", "contained_by=x", "app__isnull=true", "regex=x"])
def test_lookup_words_are_label_keys_like_any_other(api, demo_cluster, url, value):
    """`isnull` or `a__b` is a label key to match, never an ORM lookup."""
    from policies.models import Namespace, NetworkPolicy, Pod, Workload

    key, _, wanted = value.partition("=")
    model, field = {
        "/api/namespaces/": (Namespace, "labels"),
        "/api/workloads/": (Workload, "template_labels"),
        "/api/pods/": (Pod, "labels"),
        "/api/policies/": (NetworkPolicy, "labels"),
    }[url]
    row = model.objects.filter(cluster=demo_cluster).order_by("pk").first()
    setattr(row, field, {**(getattr(row, field) or {}), key: wanted})
    row.save()
    response = api("viewer").get(url, {"label": value})
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [row.pk]


@pytest.mark.parametrize("url", PAGES)
@pytest.mark.parametrize("value", ["isnull=x", "regex=(", "contains=x", "contained_by=x"])
def test_pages_with_a_label_filter_do_not_fail(client_for, demo_cluster, url, value):
    response = client_for("viewer").get(url.format(c=demo_cluster.pk), {"label": value})
    assert response.status_code in (200, 400)


def test_label_filters_still_match(api, demo_cluster):
    pods = api("viewer").get("/api/pods/", {"label": "app=frontend"}).json()
    assert pods["count"] > 0
    assert all(p["labels"]["app"] == "frontend" for p in pods["results"])
    keys_only = api("viewer").get("/api/pods/", {"label": "app"}).json()
    assert keys_only["count"] >= pods["count"]
    none = api("viewer").get("/api/pods/", {"label": "app=frontend,app=backend"}).json()
    assert none["count"] == 0


def test_label_keys_with_double_underscores_are_matched_as_keys(api, demo_cluster):
    from policies.models import Pod

    pod = Pod.objects.filter(cluster=demo_cluster).first()
    pod.labels = {**pod.labels, "team__name": "blue"}
    pod.save()
    found = api("viewer").get("/api/pods/", {"label": "team__name=blue"}).json()
    assert [p["name"] for p in found["results"]] == [pod.name]


@pytest.mark.parametrize(
    ("url", "param"),
    [
        ("/api/drafts/export/?cluster={c}&ids=99999999999999999999", "ids"),
        ("/api/drafts/export/?cluster={c}&ids=²", "ids"),
        ("/api/drafts/export/?cluster=99999999999999999999", "cluster"),
    ],
)
def test_huge_or_odd_ids_are_a_400_naming_the_parameter(api, demo_cluster, url, param):
    response = api("editor").get(url.format(c=demo_cluster.pk))
    assert response.status_code == 400
    assert param in response.json()


@pytest.mark.parametrize(
    "url",
    [
        "/clusters/{c}/drafts/new/?clone=abc",
        "/clusters/{c}/drafts/new/?clone=99999999999999999999",
        "/clusters/{c}/drafts/what-if/?ids=99999999999999999999",
        "/clusters/{c}/drafts/export/?ids=99999999999999999999",
    ],
)
def test_pages_with_odd_ids_are_404_not_500(client_for, demo_cluster, url):
    response = client_for("editor").get(url.format(c=demo_cluster.pk))
    assert response.status_code == 404
