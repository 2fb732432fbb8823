"""Browser: the graph page of the 1,000-workload benchmark cluster (bench.generate, with
fewer pods per workload) as first drawn: namespaces, human names, address ranges named by
the CIDRs of the policies, a layout as wide as the page, its labels at a readable size,
and a wheel notch that zooms noticeably."""

from __future__ import annotations

import re

import pytest

from tests.e2e.test_dashboard import load_generated, wait_for_graph

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PROBE = """() => {
  const g = window.netpoluiGraph;
  const cy = g.cy;
  const b = cy.nodes().boundingBox();
  return {
    level: g.data.level,
    zoom: cy.zoom(),
    box: [b.w, b.h],
    labels: cy.nodes().map((n) => n.data('label') || ''),
    external: cy.nodes('.external').map((n) => n.data('label')),
    fontSize: parseFloat(cy.nodes('.endpoint').first().style('font-size')),
  };
}"""
KIND_SUFFIX = re.compile(r"\[(Deployment|StatefulSet|DaemonSet|ReplicaSet|Job|CronJob|Pod|External)\]")
COMPUTED_RANGE = re.compile(r"\d+\.\d+\.\d+\.\d+\s*[-–]\s*\n?\s*\d+\.\d+\.\d+\.\d+")
# what a policy writes: "10.0.0.0/8", "0.0.0.0/0\nexcept 10.0.0.0/8, ...", or the rest of an
# address family no policy names
CIDR_LABEL = re.compile(r"^(any address\n)?[0-9a-f:.]+/\d+(\nexcept [0-9a-f:.]+/\d+(, [0-9a-f:.]+/\d+)*)?$|^other IPv[46] addresses$")
# 13 px labels drawn at 10 px or more
READABLE_PX = 10


def open_graph(page, cluster):
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{page.base_url}/clusters/{cluster.pk}/graph/")
    wait_for_graph(page)
    return page.evaluate(PROBE)


def test_the_benchmark_clusters_graph_starts_readable_and_names_things_as_people_do(page, users, sign_in):
    cluster = load_generated("bench1000", pods=2000, workloads=1000, namespaces=200, policies=2000)
    sign_in("viewer", "pw-viewer")
    drawn = open_graph(page, cluster)
    assert drawn["level"] == "namespace"
    assert not [label for label in drawn["labels"] if KIND_SUFFIX.search(label)]
    assert drawn["external"]
    assert not [label for label in drawn["external"] if COMPUTED_RANGE.search(label)]
    assert all(CIDR_LABEL.match(label) for label in drawn["external"]), drawn["external"]
    # the layout uses the width of the page, not one column
    assert drawn["box"][0] > drawn["box"][1]
    # a workload's tooltip and panel name it "namespace/name (Kind)", never name[Kind]
    workload = next(n for n in page.evaluate("window.netpoluiGraph.data.nodes") if not n.get("external"))
    page.goto(f"{page.base_url}/clusters/{cluster.pk}/graph/?level=workload&namespace={workload['id']}")
    wait_for_graph(page)
    node = next(n for n in page.evaluate("window.netpoluiGraph.data.nodes") if n.get("object_kind"))
    page.evaluate(f"window.netpoluiGraph.chooseNode({node['id']!r})")
    panel = page.locator("#side-panel .node-panel")
    panel.wait_for()
    assert f"{node['namespace']}/{node['name']}" in panel.inner_text()
    assert not KIND_SUFFIX.search(panel.inner_text())


def test_two_hundred_namespaces_are_drawn_with_readable_labels(page, users, sign_in):
    cluster = load_generated("ns200", pods=400, workloads=400, namespaces=200, policies=400)
    sign_in("viewer", "pw-viewer")
    drawn = open_graph(page, cluster)
    assert drawn["level"] == "namespace"
    assert drawn["zoom"] * drawn["fontSize"] >= READABLE_PX


def test_a_wheel_notch_zooms_the_graph_by_more_than_a_tenth(demo_page):
    page = demo_page
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/graph/")
    wait_for_graph(page)
    box = page.locator("#graph").bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    ratios = []
    for _ in range(8):  # a mouse: equal notches of 100 px, as Chromium sends them
        before = page.evaluate("window.netpoluiGraph.cy.zoom()")
        page.mouse.wheel(0, 100 if len(ratios) % 2 else -100)
        page.wait_for_timeout(200)
        ratios.append(max(before, z := page.evaluate("window.netpoluiGraph.cy.zoom()")) / min(before, z))
    assert min(ratios) > 1.1, ratios
