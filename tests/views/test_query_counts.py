"""List pages cost a fixed number of queries, however many rows they show."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from policies.models import Cluster

pytestmark = pytest.mark.django_db


def count_queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_policy_list_queries_do_not_grow_with_rows(client_for, make_cluster, django_assert_max_num_queries):
    few = make_cluster("few", rows=5)
    many = make_cluster("many", rows=150)
    client = client_for("viewer")
    # The first look at a cluster builds its engine model (one query per kind): warm both.
    count_queries(client, reverse("policy-list", args=[few.pk]))
    count_queries(client, reverse("policy-list", args=[many.pk]))
    small = count_queries(client, reverse("policy-list", args=[few.pk]))
    with django_assert_max_num_queries(small):
        response = client.get(reverse("policy-list", args=[many.pk]))
    # A page of 100 rows, with the 100 selection counts the engine computes.
    assert response.content.decode().count('<tr data-policy="') == 100
    assert response.content.decode().count("1 workload</td>") == 100


def test_policy_list_filtered_by_pod_stays_bounded(client_for, make_cluster, django_assert_max_num_queries):
    cluster = make_cluster("many", rows=150)
    client = client_for("viewer")
    with django_assert_max_num_queries(25):
        response = client.get(reverse("policy-list", args=[cluster.pk]) + "?pod=ns-042/web-1")
    assert response.content.decode().count('<tr data-policy="') == 1
    assert 'data-policy="ns-042/deny"' in response.content.decode()


def test_clusters_page_queries_do_not_grow_with_clusters(client_for, make_cluster, django_assert_max_num_queries):
    make_cluster("c-000", rows=3)
    client = client_for("viewer")
    one = count_queries(client, reverse("clusters"))
    for i in range(1, 40):
        make_cluster(f"c-{i:03d}", rows=1)
    with django_assert_max_num_queries(one):
        response = client.get(reverse("clusters"))
    assert response.content.decode().count("<tr data-cluster=") == Cluster.objects.count() == 40


def test_overview_queries_do_not_grow_with_rows(client_for, make_cluster, django_assert_max_num_queries):
    few = make_cluster("few", rows=5)
    many = make_cluster("many", rows=150)
    client = client_for("viewer")
    count_queries(client, reverse("cluster-overview", args=[few.pk]))
    count_queries(client, reverse("cluster-overview", args=[many.pk]))
    small = count_queries(client, reverse("cluster-overview", args=[few.pk]))
    with django_assert_max_num_queries(small):
        response = client.get(reverse("cluster-overview", args=[many.pk]))
    assert response.context["counts"] == {"namespaces": 150, "workloads": 150, "pods": 150, "policies": 150}
