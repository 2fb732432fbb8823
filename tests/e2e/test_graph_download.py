"""Browser: after opening a namespace and one of its tiers on the graph page, "Download as
SVG" saves that view: the nodes and edges the page drew, each node in the boxes it sits in
on the page."""

from __future__ import annotations

import re
import shutil
from urllib.parse import quote

import pytest

from policies.services import analysis
from tests.e2e.test_dashboard import DRAWN, load_generated, wait_for_graph
from tests.e2e.test_graph_tiers import CENTER
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
    cluster = load_generated("g80d", pods=240, workloads=80, namespaces=4, policies=120, seed=4)
    tier = next(
        t for t in sorted(analysis.level_nodes(cluster, "tier"), key=lambda t: t["id"])
        if not t["external"] and len(t.get("members") or []) > 1
    )
    sign_in("viewer", "pw-viewer")
    page.goto(f"{page.base_url}/clusters/{cluster.pk}/graph/?level=namespace&expand={quote(tier['namespace'])}")
    wait_for_graph(page)
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
