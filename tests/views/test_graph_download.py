"""The graph page's "Download as SVG/PNG": the current view (the page's query string) drawn
by Graphviz, the same nodes and edges as the page's payload; a sentence when it cannot."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import pytest
from django.urls import reverse

from tests.engine.test_pictures import SVG, XLINK_TITLE, svg_structure

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz cannot be installed here (make test installs it)"),
]


def picture_url(cluster, fmt: str, query: str = "") -> str:
    return reverse("graph-picture", args=[cluster.pk, fmt]) + (f"?{query}" if query else "")


def boxes_of(svg: bytes) -> dict[str, list[str]]:
    """Node id -> the labels of the boxes (dot clusters) drawn around it, outermost first.
    Graphviz writes clusters and nodes side by side: a box holds what lies inside it."""
    root = ET.fromstring(svg)
    boxes = []
    centres = {}
    for group in root.iter(f"{SVG}g"):
        title = group.findtext(f"{SVG}title", "")
        if group.get("class") == "cluster":
            points = [tuple(map(float, p.split(","))) for p in group.find(f"{SVG}polygon").get("points").split()]
            xs, ys = [x for x, _ in points], [y for _, y in points]
            label = " ".join(t.text or "" for t in group.iter(f"{SVG}text"))
            boxes.append(((max(xs) - min(xs)) * (max(ys) - min(ys)), min(xs), max(xs), min(ys), max(ys), label))
        elif group.get("class") == "node":
            shape = group.find(f".//{SVG}ellipse")
            centres[title] = (float(shape.get("cx")), float(shape.get("cy")))
    return {
        node: [label for _area, x0, x1, y0, y1, label in sorted(boxes, reverse=True) if x0 < x < x1 and y0 < y < y1]
        for node, (x, y) in centres.items()
    }


def drawn(svg: bytes) -> tuple[set[str], set[str]]:
    lines = [line.split(" ⟨")[0] for line in svg_structure(svg)]
    nodes = {line.split(": ")[0].removeprefix("node ") for line in lines if line.startswith("node ")}
    edges = {line.removeprefix("edge ") for line in lines if line.startswith("edge ")}
    return nodes, edges


def page_payload(client, cluster, query: str = "") -> dict:
    """What the graph page at `?query` draws: the payload of its graph-data script."""
    html = client.get(reverse("graph", args=[cluster.pk]) + (f"?{query}" if query else "")).content.decode()
    script = html.split('<script id="graph-data" type="application/json">', 1)[1].split("</script>", 1)[0]
    return json.loads(script)


def page_drawing(payload: dict) -> tuple[set[str], set[str]]:
    nodes = {n["id"] for n in payload["nodes"]}
    edges = {
        f"{e['source']}->{e['target']}: {e['pairs']} pairs · {e['label']}" if e["pairs"] > 1
        else f"{e['source']}->{e['target']}: {e['label']}"
        for e in payload["edges"]
    }
    return nodes, edges


def test_svg_download_draws_the_tier_view_of_the_page(client_for, demo_cluster):
    client = client_for("viewer")
    response = client.get(picture_url(demo_cluster, "svg"))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Content-Disposition"] == 'attachment; filename="demo-tier-graph.svg"'
    nodes, edges = drawn(response.content)
    assert (nodes, edges) == page_drawing(page_payload(client, demo_cluster))
    assert "shop/tier=backend->shop/tier=database: TCP 5432" in edges
    # address ranges named as the page names them, by the policies' ipBlocks
    assert "other IPv4 addresses" in nodes
    assert not any(n.endswith("[External]") for n in nodes)


OPENED = "level=namespace&expand=shop&expand_tier=shop/tier=backend"


def test_download_draws_the_opened_namespaces_and_tiers_of_the_page(client_for, demo_cluster):
    client = client_for("viewer")
    response = client.get(picture_url(demo_cluster, "svg", OPENED))
    assert response.status_code == 200
    nodes, edges = drawn(response.content)
    assert (nodes, edges) == page_drawing(page_payload(client, demo_cluster, OPENED))
    assert "shop/backend[Deployment]" in nodes  # the opened tier's workload
    assert "shop/tier=frontend" in nodes  # a tier of the opened namespace
    assert "payments" in nodes  # a namespace left closed
    assert "shop/tier=backend" not in nodes
    boxes = boxes_of(response.content)
    assert boxes["shop/backend[Deployment]"] == ["shop", "tier=backend"]
    assert boxes["shop/tier=frontend"] == ["shop"]
    assert boxes["payments"] == []


def test_download_names_the_edges_the_badges_imply(client_for, demo_cluster):
    client = client_for("viewer")
    payload = page_payload(client, demo_cluster, "level=workload")
    assert payload["implied_edges"] > 0
    svg = client.get(picture_url(demo_cluster, "svg", "level=workload")).content
    assert drawn(svg) == page_drawing(payload)
    caption = f"the {payload['implied_edges']} all-ports edges from a ⇥ node to a ⇤ node are not drawn"
    texts = [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert any(caption in text for text in texts)


def tooltips(svg: bytes) -> dict[str, str]:
    """The hover text of each node and edge, by its dot id."""
    return {
        group.findtext(f"{SVG}title", ""): anchor.get(XLINK_TITLE, "")
        for group in ET.fromstring(svg).iter(f"{SVG}g")
        if group.get("class") in ("node", "edge")
        for anchor in group.iter(f"{SVG}a")
    }


@pytest.mark.parametrize("query", ["", "level=workload", OPENED])
def test_download_names_nodes_and_edges_in_words_not_kind_brackets(client_for, demo_cluster, query):
    client = client_for("viewer")
    payload = page_payload(client, demo_cluster, query)
    svg = client.get(picture_url(demo_cluster, "svg", query)).content
    hover = tooltips(svg)
    assert len(hover) == len(payload["nodes"]) + len(payload["edges"])
    texts = [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert not [text for text in [*texts, *hover.values()] if "[" in text]


def test_download_tooltips_say_the_workload_kind_and_the_edge_pairs(client_for, demo_cluster):
    client = client_for("viewer")
    hover = tooltips(client.get(picture_url(demo_cluster, "svg", OPENED)).content)
    assert hover["shop/backend[Deployment]"] == "shop/backend (Deployment)"
    assert hover["shop/tier=frontend->shop/backend[Deployment]"] == "shop/tier=frontend → shop/backend: TCP 8080"
    assert any(" pairs · " in text for text in hover.values())


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
