"""The graph page's "Download as SVG/PNG": the current view (the page's query string) drawn
by Graphviz, the same nodes and edges as the page's payload; a sentence when it cannot."""

from __future__ import annotations

import shutil

import pytest
from django.urls import reverse

from policies.services import analysis
from tests.engine.test_pictures import svg_structure

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz cannot be installed here (make test installs it)"),
]


def picture_url(cluster, fmt: str, query: str = "") -> str:
    return reverse("graph-picture", args=[cluster.pk, fmt]) + (f"?{query}" if query else "")


def drawn(svg: bytes) -> tuple[set[str], set[str]]:
    lines = svg_structure(svg)
    nodes = {line.split(": ")[0].removeprefix("node ") for line in lines if line.startswith("node ")}
    edges = {line.removeprefix("edge ") for line in lines if line.startswith("edge ")}
    return nodes, edges


def test_svg_download_draws_the_tier_view_of_the_page(client_for, demo_cluster):
    response = client_for("viewer").get(picture_url(demo_cluster, "svg"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == 'attachment; filename="demo-tier-graph.svg"'
    payload = analysis.reachability(demo_cluster, analysis.ReachabilityQuery(level="tier"))
    nodes, edges = drawn(response.content)
    assert nodes == {n["id"] for n in payload["nodes"]}
    assert edges == {f"{e['source']}->{e['target']}: {e['label']}" for e in payload["edges"]}
    assert "shop/tier=backend->shop/tier=database: TCP 5432" in edges


def test_download_keeps_the_filters_of_the_current_view(client_for, demo_cluster):
    query = "level=workload&namespace=shop&protocol=TCP&port=5432"
    response = client_for("viewer").get(picture_url(demo_cluster, "svg", query))
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="demo-workload-graph.svg"'
    _nodes, edges = drawn(response.content)
    assert edges == {"shop/backend[Deployment]->shop/database[StatefulSet]: TCP 5432"}


def test_png_download_is_an_image(client_for, demo_cluster):
    response = client_for("viewer").get(picture_url(demo_cluster, "png", "level=namespace"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_graph_page_links_both_downloads_with_its_query_string(client_for, demo_cluster):
    query = "level=workload&namespace=shop"
    html = client_for("viewer").get(reverse("graph", args=[demo_cluster.pk]) + f"?{query}").content.decode()
    for fmt in ("svg", "png"):
        href = picture_url(demo_cluster, fmt, query).replace("&", "&amp;")
        assert f'href="{href}" download data-graph-download="{fmt}">Download as {fmt.upper()}</a>' in html


def test_downloads_need_a_role(client, client_for, demo_cluster):
    url = picture_url(demo_cluster, "svg")
    assert client.get(url).status_code == 302
    assert client_for("nobody").get(url).status_code == 403


def test_without_graphviz_the_download_says_what_to_install(client_for, demo_cluster, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    response = client_for("viewer").get(picture_url(demo_cluster, "png"))
    assert response.status_code == 503
    assert response.content.decode() == (
        "The demo graph cannot be downloaded as PNG: png output needs Graphviz's `dot` program: "
        "install Graphviz (Debian/Ubuntu: apt-get install graphviz; `make run` does it).\n"
    )
