"""The matrix page over NETPOLUI_MATRIX_MAX_NODES rows: no matrix embedded, a namespace
filter asked for, with the biggest namespaces as links that each draw a matrix."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.urls import reverse

from policies.models import Cluster, Workload


@pytest.fixture
def cluster(db):
    from bench.generate import generate_cluster
    from policies import mirror

    cluster = Cluster.objects.create(name="big", source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")
    mirror.load_snapshot(cluster, generate_cluster(pods=240, workloads=80, namespaces=4, policies=120, seed=4))
    cluster.refresh_from_db()
    return cluster


def top_level_workloads_by_namespace(cluster: Cluster) -> Counter:
    rows = Workload.objects.filter(cluster=cluster, owner_name="").values_list("namespace", flat=True)
    return Counter(rows)


def test_a_matrix_over_the_bound_asks_for_namespaces_instead_of_embedding_pairs(client_for, cluster, settings):
    sizes = top_level_workloads_by_namespace(cluster)
    assert sum(sizes.values()) > 30 >= max(sizes.values())
    settings.NETPOLUI_MATRIX_MAX_NODES = 30
    url = reverse("matrix", args=[cluster.pk])
    html = client_for("viewer").get(url, {"level": "workload"}).content.decode()
    assert 'id="matrix-data"' not in html
    assert "js/matrix.js" not in html
    assert "data-matrix-too-large" in html
    assert "more than the 30 a page draws" in html
    assert "Nothing matches these filters" not in html  # the pairs were not counted, not found empty
    links = re.findall(r'<li><a href="([^"]+)">([^<]+)</a> <span class="muted">(\d+) rows?</span></li>', html)
    listed = [(name, int(size)) for _url, name, size in links]
    assert listed == sorted(listed, key=lambda pair: -pair[1])
    assert dict(listed) == {ns: n for ns, n in sizes.items() if ns in dict(listed)}
    biggest_url = links[0][0].replace("&amp;", "&")
    assert "level=workload" in biggest_url
    narrowed = client_for("viewer").get(biggest_url).content.decode()
    assert 'id="matrix-data"' in narrowed
    assert "data-matrix-too-large" not in narrowed


def test_a_matrix_within_the_bound_is_embedded(client_for, cluster):
    html = client_for("viewer").get(reverse("matrix", args=[cluster.pk]), {"level": "workload"}).content.decode()
    assert 'id="matrix-data"' in html
    assert "data-matrix-too-large" not in html


def test_a_graph_over_the_bound_asks_for_namespaces_instead_of_computing_every_pair(client_for, cluster, settings):
    """The pod level of a 10,000-pod cluster took over ten minutes to answer: the graph
    page (and its picture download) are bounded as the matrix is."""
    sizes = top_level_workloads_by_namespace(cluster)
    settings.NETPOLUI_MATRIX_MAX_NODES = 30
    client = client_for("viewer")
    url = reverse("graph", args=[cluster.pk])
    html = client.get(url, {"level": "workload"}).content.decode()
    assert 'id="graph-data"' not in html
    assert "data-graph-too-large" in html
    assert "more than the 30 a page draws" in html
    assert "Nothing matches these filters" not in html
    links = re.findall(r'<li><a href="([^"]+)">([^<]+)</a> <span class="muted">(\d+) nodes?</span></li>', html)
    assert {name: int(size) for _url, name, size in links} == {ns: n for ns, n in sizes.items() if ns in {n for _u, n, _s in links}}
    narrowed = client.get(links[0][0].replace("&amp;", "&")).content.decode()
    assert 'id="graph-data"' in narrowed
    assert "data-graph-too-large" not in narrowed
    picture = client.get(reverse("graph-picture", args=[cluster.pk, "svg"]), {"level": "pod"})
    assert picture.status_code == 400
    assert "filter it to a few namespaces" in picture.content.decode()
    # the aggregated levels are never refused
    assert 'id="graph-data"' in client.get(url, {"level": "namespace"}).content.decode()
