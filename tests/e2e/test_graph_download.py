"""Browser: after opening a namespace and one of its tiers on the graph page, "Download as
SVG" saves that view: the nodes and edges the page drew, each node in the boxes it sits in
on the page."""

from __future__ import annotations

import re
import shutil

import pytest

from tests.e2e.test_dashboard import DRAWN, wait_for_graph
from tests.e2e.test_graph_tiers import CENTER, open_namespace_of_a_tier
from tests.views.test_graph_download import boxes_of, drawn

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz cannot be installed here (make test installs it)"),
]

PARENTS = """() => {
  const cy = window.netpoluiGraph.cy;
  const out = {};
  cy.nodes('.endpoint').forEach((n) => {
    const path = [];
    for (let p = n.parent(); p.nonempty(); p = p.parent()) path.unshift(p.data('label'));
    out[n.id()] = path;
  });
  return out;
}"""


def test_the_svg_download_is_the_drilled_down_view_on_screen(page, users, sign_in, tmp_path):
    _, tier = open_namespace_of_a_tier(page, sign_in, "g80d")
    point = page.evaluate(CENTER, tier["id"])
    page.mouse.dblclick(point["x"], point["y"])
    page.wait_for_url(re.compile(r"expand_tier="))
    wait_for_graph(page)
    on_screen = page.evaluate(DRAWN)
    parents = page.evaluate(PARENTS)

    with page.expect_download() as download:
        page.get_by_role("link", name="Download as SVG").click()
    saved = tmp_path / "graph.svg"
    download.value.save_as(saved)
    nodes, edges = drawn(saved.read_bytes())

    assert nodes == set(on_screen["nodes"])
    assert set(tier["members"]) <= nodes
    assert {edge.split(": ")[0].replace("->", " -> ") for edge in edges} == set(on_screen["pairs"])
    boxes = boxes_of(saved.read_bytes())
    assert {node: boxes[node] for node in nodes} == {node: parents[node] for node in nodes}
