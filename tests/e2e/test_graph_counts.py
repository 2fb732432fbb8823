"""An aggregated edge of the graph says how many workload pairs it stands for, beside its
ports, in the drawing, in the keyboard's edge list and in its explanation."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.test_dashboard import click_node, wait_for_graph

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DRAWN_LABELS = """() => {
  const labels = {};
  window.netpoluiGraph.cy.edges().forEach((e) => {
    const key = e.data('source') + ' -> ' + e.data('target');
    (labels[key] = labels[key] || []).push(e.data('label'));
  });
  return labels;
}"""


def test_an_aggregated_edge_shows_its_pair_count_with_its_ports(demo_page):
    page = demo_page
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/graph/?level=namespace")
    wait_for_graph(page)
    edges = page.evaluate("window.netpoluiGraph.data.edges")
    labels = page.evaluate(DRAWN_LABELS)
    several = [e for e in edges if e["pairs"] > 1]
    single = [e for e in edges if e["pairs"] == 1]
    assert several
    assert single
    for edge in edges:
        drawn = labels[f"{edge['source']} -> {edge['target']}"]
        # the first protocol's edge carries the count; one pair says no count
        count = f"{edge['pairs']} pairs · " if edge["pairs"] > 1 else ""
        assert drawn[0].startswith(count)
        for text in [drawn[0].removeprefix(count), *drawn[1:]]:
            assert re.fullmatch(r"all|(TCP|UDP|SCTP) [\d,-]+", text)
    # the keyboard's list names the count too
    edge = max(several, key=lambda e: e["pairs"])
    page.locator("[data-graph-lists] summary").click()
    listed = page.locator("[data-edge-list] button").filter(has_text=f": {edge['pairs']} pairs · {edge['label']}")
    expect(listed.first).to_be_visible()
    # and its explanation counts the same workload pairs
    listed.first.click()
    expect(page.locator("#side-panel")).to_contain_text(f"{edge['pairs']} workload pairs in this edge")


def test_a_range_node_standing_for_several_ranges_lists_them_all_in_its_panel(demo_page):
    page = demo_page
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/graph/?level=tier")
    wait_for_graph(page)
    nodes = page.evaluate("window.netpoluiGraph.data.nodes")
    node = max((n for n in nodes if n.get("ranges")), key=lambda n: len(n["ranges"]))
    assert len(node["ranges"]) > 1
    click_node(page, node["id"])
    listed = page.locator("#side-panel [data-testid='node-ranges'] li")
    expect(listed).to_have_count(len(node["ranges"]))
    for first, last in node["ranges"]:
        expect(listed.filter(has_text=f"{first} – {last}")).to_have_count(1)
    expect(page.locator("#side-panel .node-panel")).to_contain_text("Policies that name them")


def test_under_a_port_filter_an_aggregated_edges_explanation_counts_what_its_label_counts(demo_page):
    page = demo_page
    graph = f"{page.base_url}/clusters/{page.demo.pk}/graph/?level=namespace"
    page.goto(graph)
    wait_for_graph(page)
    every_port = {(e["source"], e["target"]): e["pairs"] for e in page.evaluate("window.netpoluiGraph.data.edges")}
    for port in (53, 80, 443, 5432, 8080):
        page.goto(f"{graph}&protocol=TCP&port={port}")
        wait_for_graph(page)
        edges = page.evaluate("window.netpoluiGraph.data.edges")
        # (an edge missing from the unfiltered drawing is implied there by its nodes' badges)
        narrowed = [e for e in edges if e["pairs"] < every_port.get((e["source"], e["target"]), 0)]
        if narrowed:
            break
    edge = narrowed[0]
    page.locator("[data-graph-lists] summary").click()
    page.locator(f"[data-edge-list] button[data-edge-index='{edges.index(edge)}']").click()
    count = edge["pairs"]
    expect(page.locator("#side-panel")).to_contain_text(f"{count} workload pair{'s' if count > 1 else ''} in this edge")
    expect(page.locator("#side-panel article.explanation")).to_have_count(min(count, 25))
    expect(page.locator("#side-panel article.explanation.denied")).to_have_count(0)
