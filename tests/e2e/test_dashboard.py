"""The dashboard in a real browser against the demo cluster: sign in, find who reaches the
database tier, the graph drawn from the same data as the API, edge and node explanations
that survive a reload, the matrix filtered and explained, a policy's YAML downloaded; a
generated cluster of 200 nodes and 1,000 edges and a 300 x 300 matrix (drawn on a canvas)
still render. The
`page` fixture fails a test on any JavaScript error."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from bench.generate import generate_cluster
from policies import mirror
from policies.models import Cluster, NetworkPolicy
from policies.services import analysis
from tests.builders import demo_counts

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DRAWN = """() => {
  const cy = window.netpoluiGraph.cy;
  const nodes = cy.nodes('.endpoint').map((n) => n.id()).sort();
  const pairs = {};
  cy.edges().forEach((e) => {
    const key = e.data('source') + ' -> ' + e.data('target');
    (pairs[key] = pairs[key] || []).push(e.data('proto'));
  });
  return {nodes, pairs};
}"""


def drawn_nodes_of(api: dict, page: Any) -> list[str]:
    """The API's node ids as the page names them: address ranges under the ipBlock node
    that holds them."""
    to_page = {m: n["id"] for n in page.evaluate("window.netpoluiGraph.data.nodes") if n.get("ranges") for m in n["members"]}
    return sorted({to_page.get(n["id"], n["id"]) for n in api["nodes"]})


def drawn_edges_of(api: dict, page: Any) -> list[dict]:
    """The API's edges as the page draws them: ranges merged under their ipBlock node
    (edges OR-ed), less those the badges imply (all ports from a node whose every member
    may send anywhere to one whose every member accepts anyone)."""
    page_nodes = page.evaluate("window.netpoluiGraph.data.nodes")
    nodes = {n["id"]: n for n in page_nodes}
    to_page = {m: n["id"] for n in page_nodes if n.get("ranges") for m in n["members"]}
    merged: dict[tuple[str, str], Any] = {}
    for e in api["edges"]:
        key = (to_page.get(e["source"], e["source"]), to_page.get(e["target"], e["target"]))
        conns = merged.get(key, {})
        if conns == "all" or e["conns"] == "all":
            merged[key] = "all"
        else:
            merged[key] = {**conns, **{p: conns.get(p, []) + r for p, r in e["conns"].items()}}
    return [
        {"source": s, "target": t, "conns": c}
        for (s, t), c in merged.items()
        if not (c == "all" and nodes[s].get("open_egress") and nodes[t].get("open_ingress"))
    ]


def api_json(page: Any, path: str) -> dict:
    response = page.context.request.get(page.base_url + path)
    assert response.ok, response.text()
    return response.json()


def wait_for_graph(page: Any) -> None:
    page.wait_for_selector("#graph[data-ready='1']", state="attached")


def click_edge(page: Any, source: str, target: str) -> None:
    """A real mouse click on the middle of the drawn edge."""
    point = page.evaluate(
        """([s, t]) => {
          const cy = window.netpoluiGraph.cy;
          const edge = cy.edges().filter((e) => e.data('source') === s && e.data('target') === t)[0];
          cy.fit(edge.union(edge.connectedNodes()), 80);
          const mid = edge.renderedMidpoint();
          const box = cy.container().getBoundingClientRect();
          return {x: box.left + mid.x, y: box.top + mid.y};
        }""",
        [source, target],
    )
    page.mouse.click(point["x"], point["y"])


def click_node(page: Any, node_id: str) -> None:
    point = page.evaluate(
        """(id) => {
          const cy = window.netpoluiGraph.cy;
          const node = cy.getElementById(id);
          cy.fit(node, 120);
          const pos = node.renderedPosition();
          const box = cy.container().getBoundingClientRect();
          return {x: box.left + pos.x, y: box.top + pos.y};
        }""",
        node_id,
    )
    page.mouse.click(point["x"], point["y"])


def test_new_user_finds_who_reaches_the_database_tier_from_the_overview(demo_page):
    page = demo_page
    assert page.url == page.base_url + "/"
    row = page.locator('tr[data-cluster="demo"]')
    assert "static snapshot" in row.inner_text()
    row.get_by_role("link", name="demo").click()
    expect(page.get_by_role("heading", name="Findings, highest risk first")).to_be_visible()
    first = page.locator(".finding").first
    assert "high" in first.inner_text()
    page.get_by_label("Who can reach this tier, on which port, because of which policy?").select_option("shop/tier=database")
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state("networkidle")
    # The answer has its own address (shareable) and comes first on its page.
    assert f"/clusters/{page.demo.pk}/node/?level=tier&id=shop%2Ftier%3Ddatabase" in page.url
    answer = page.locator(".node-panel .conn")
    answer.first.wait_for()
    assert answer.count() >= 1
    inbound = page.locator(".node-panel .conn-list.inbound").inner_text()
    assert "from shop: tier=backend" in inbound
    assert "TCP 5432" in inbound
    assert "shop/database-policy ingress rule #0: from pods [tier=backend]; TCP 5432" in inbound
    headings = page.locator(".node-panel h3").all_inner_texts()
    assert headings[0] == "Who can reach it"


def test_graph_draws_the_apis_nodes_and_edges_at_tier_and_workload_level(demo_page):
    page = demo_page
    cluster = page.demo.pk
    page.goto(f"{page.base_url}/clusters/{cluster}/graph/")
    wait_for_graph(page)
    api = api_json(page, f"/api/clusters/{cluster}/reachability/?level=tier")
    drawn = page.evaluate(DRAWN)
    assert drawn["nodes"] == drawn_nodes_of(api, page)
    assert set(drawn["pairs"]) == {f"{e['source']} -> {e['target']}" for e in drawn_edges_of(api, page)}
    for edge in drawn_edges_of(api, page):
        protocols = drawn["pairs"][f"{edge['source']} -> {edge['target']}"]
        assert sorted(protocols) == (["all"] if edge["conns"] == "all" else sorted(edge["conns"]))
    # colour never alone: a TCP edge is blue and labelled, an "all ports" edge dashed
    styles = page.evaluate(
        """() => {
          const cy = window.netpoluiGraph.cy;
          const tcp = cy.edges('.proto-TCP')[0], all = cy.edges('.all')[0];
          return {tcpColor: tcp.style('line-color'), tcpLabel: tcp.data('label'), allStyle: all.style('line-style'),
                  tcpVar: getComputedStyle(document.documentElement).getPropertyValue('--tcp').trim()};
        }"""
    )
    assert styles["allStyle"] == "dashed"
    assert re.fullmatch(r"(\d+ pairs · )?TCP [\d,-]+", styles["tcpLabel"])
    assert styles["tcpColor"] == "rgb(0,114,178)"
    assert styles["tcpVar"] == "#0072b2"
    # switch to workload level with the controls: the URL carries it
    page.get_by_label("Show", exact=True).select_option("workload")
    page.get_by_role("button", name="Apply").click()
    wait_for_graph(page)
    assert "level=workload" in page.url
    api = api_json(page, f"/api/clusters/{cluster}/reachability/?level=workload")
    drawn = page.evaluate(DRAWN)
    assert drawn["nodes"] == drawn_nodes_of(api, page)
    assert set(drawn["pairs"]) == {f"{e['source']} -> {e['target']}" for e in drawn_edges_of(api, page)}


def test_clicking_an_edge_explains_it_and_the_link_keeps_the_selection(demo_page):
    page = demo_page
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/graph/?level=tier&namespace=shop")
    wait_for_graph(page)
    click_edge(page, "shop/tier=backend", "shop/tier=database")
    panel = page.locator("#side-panel")
    panel.locator(".explanation.allowed").wait_for()
    text = panel.inner_text()
    assert "shop/backend (Deployment) → shop/database (StatefulSet)" in text
    assert "shop/database-policy ingress rule #0: from pods [tier=backend]; TCP 5432" in text
    assert "shop/backend-egress egress rule #0: to pods [tier=database]; TCP 5432" in text
    assert "sel=edge" in page.url
    # the URL is the state: reload it and the same edge is explained again
    page.goto(page.url)
    wait_for_graph(page)
    panel.locator(".explanation.allowed").wait_for()
    assert "shop/database-policy" in panel.inner_text()
    assert page.evaluate("window.netpoluiGraph.cy.edges('.chosen').length") >= 1
    # a node lists its workloads and the policies that select them
    click_node(page, "shop/tier=database")
    panel.locator(".node-panel").wait_for()
    node_text = panel.inner_text()
    assert "shop/database (StatefulSet)" in node_text
    assert "shop/database-policy" in node_text
    assert "shop/default-deny-all" in node_text
    assert "sel=node%3Ashop%2Ftier%3Ddatabase" in page.url or "sel=node:shop/tier=database" in page.url
    # the policy link goes to the policy page
    panel.get_by_role("link", name="shop/database-policy").first.click()
    expect(page.get_by_role("heading", name="NetworkPolicy shop/database-policy")).to_be_visible()


def wait_for_matrix(page: Any, timeout: float = 30_000) -> None:
    page.wait_for_selector("#matrix[data-ready='1']", state="attached", timeout=timeout)


def matrix_rows(page: Any) -> list[str]:
    return page.evaluate("window.netpoluiMatrix.rowIds()")


def click_cell(page: Any, source: str, target: str) -> None:
    """A real mouse click on the middle of the drawn cell (scrolled into view first)."""
    point = page.evaluate(
        """([s, t]) => {
          const m = window.netpoluiMatrix;
          return m.cellCenter(m.rowIds().indexOf(s), m.columnIds().indexOf(t));
        }""",
        [source, target],
    )
    page.mouse.click(point["x"], point["y"])


def test_matrix_filters_by_namespace_and_explains_a_cell(demo_page):
    page = demo_page
    cluster = page.demo.pk
    page.goto(f"{page.base_url}/clusters/{cluster}/matrix/")
    wait_for_matrix(page)
    all_rows = len(matrix_rows(page))
    page.locator(".ns-filter summary").click()
    page.get_by_label("shop", exact=True).check()
    page.get_by_role("button", name="Apply").click()
    wait_for_matrix(page)
    assert "namespace=shop" in page.url
    api = api_json(page, f"/api/clusters/{cluster}/reachability/?level=workload&namespace=shop&format=matrix")
    rows = matrix_rows(page)
    expected_rows = [n["id"] for n in api["nodes"] if not (n["external"] and n.get("external_role") == "destination")]
    assert rows == expected_rows
    assert len(rows) < all_rows
    assert "shop/database" in page.evaluate("window.netpoluiMatrix.rowLabels()")
    # backend -> database: some ports (TCP 5432), hover names the ports, click explains
    point = page.evaluate(
        """() => { const m = window.netpoluiMatrix;
          return m.cellCenter(m.rowIds().indexOf('shop/backend[Deployment]'), m.columnIds().indexOf('shop/database[StatefulSet]')); }"""
    )
    page.mouse.move(point["x"], point["y"])
    tooltip = page.locator("[data-matrix-tooltip]")
    expect(tooltip).to_have_text("shop/backend (Deployment) → shop/database (StatefulSet): TCP 5432")
    expect(tooltip).to_have_attribute("data-kind", "c-some p-TCP")
    page.mouse.click(point["x"], point["y"])
    panel = page.locator("#side-panel")
    panel.locator(".explanation.allowed").wait_for()
    assert "shop/database-policy ingress rule #0" in panel.inner_text()
    assert "sel=cell" in page.url
    # the keyboard reaches the cells too: focus the grid, move, explain
    page.locator("[data-matrix-wrap]").focus()
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    expect(page.locator("#side-panel")).not_to_have_attribute(
        "data-loaded", "shop/backend[Deployment]>shop/database[StatefulSet]"
    )


def test_a_filtered_matrix_draws_no_row_or_column_outside_the_namespaces(demo_page):
    page = demo_page
    cluster = page.demo.pk
    page.goto(f"{page.base_url}/clusters/{cluster}/matrix/?namespace=shop&namespace=payments")
    wait_for_matrix(page)
    nodes = {n["id"]: n for n in page.evaluate("window.netpoluiMatrix.data.nodes")}
    drawn = matrix_rows(page) + page.evaluate("window.netpoluiMatrix.columnIds()")
    namespaces = {nodes[i]["namespace"] for i in drawn if not nodes[i]["external"]}
    assert namespaces == {"shop", "payments"}
    # unfiltered, the same page draws other namespaces' workloads
    page.goto(f"{page.base_url}/clusters/{cluster}/matrix/")
    wait_for_matrix(page)
    everything = page.evaluate("window.netpoluiMatrix.data.nodes")
    assert {n["namespace"] for n in everything if not n["external"]} > namespaces


def test_the_matrix_explains_a_cell_from_the_keyboard(demo_page):
    page = demo_page
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/matrix/?namespace=shop")
    wait_for_matrix(page)
    rows = matrix_rows(page)
    columns = page.evaluate("window.netpoluiMatrix.columnIds()")
    target = (rows.index("shop/backend[Deployment]"), columns.index("shop/database[StatefulSet]"))
    page.locator("[data-matrix-wrap]").focus()
    page.keyboard.press("ArrowRight")  # the first key shows the cursor on the first cell
    announced = page.locator("[data-matrix-focus]")
    expect(announced).to_contain_text(f"Row 1 of {len(rows)}, column 1 of {len(columns)}")
    for _ in range(target[0]):
        page.keyboard.press("ArrowDown")
    for _ in range(target[1]):
        page.keyboard.press("ArrowRight")
    expect(announced).to_have_text(
        f"Row {target[0] + 1} of {len(rows)}, column {target[1] + 1} of {len(columns)}: "
        "shop/backend (Deployment) → shop/database (StatefulSet): TCP 5432"
    )
    page.keyboard.press("Enter")
    panel = page.locator("#side-panel")
    expect(panel).to_have_attribute("data-loaded", "shop/backend[Deployment]>shop/database[StatefulSet]")
    expect(panel.locator(".explanation.allowed")).to_contain_text("shop/database-policy")
    # the row search moves the cursor to a source by name
    page.get_by_label("Find a source").fill("frontend")
    expect(announced).to_contain_text("shop/frontend (Deployment) → shop/database (StatefulSet)")


def test_the_matrix_explains_a_clicked_cell_and_keeps_it_in_the_url(demo_page):
    page = demo_page
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/matrix/")
    wait_for_matrix(page)
    click_cell(page, "shop/frontend[Deployment]", "shop/backend[Deployment]")
    panel = page.locator("#side-panel")
    expect(panel).to_have_attribute("data-loaded", "shop/frontend[Deployment]>shop/backend[Deployment]")
    expect(panel.locator(".explanation.allowed")).to_be_visible()
    assert "sel=cell" in page.url
    # the URL is the state: reload it and the same cell is explained again
    page.goto(page.url)
    wait_for_matrix(page)
    expect(panel).to_have_attribute("data-loaded", "shop/frontend[Deployment]>shop/backend[Deployment]")


def test_policy_browser_filters_and_downloads_the_yaml(demo_page):
    page = demo_page
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/policies/")
    assert page.locator("tr[data-policy]").count() == demo_counts()["policies"]
    page.get_by_label("Namespace").select_option("shop")  # HTMX swaps the table
    expect(page.locator("tr[data-policy]")).to_have_count(7)
    assert "namespace=shop" in page.url
    page.get_by_label("Selects pod").fill("shop/database-0")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("tr[data-policy]")).to_have_count(3)
    page.get_by_role("link", name="shop/database-policy").click()
    expect(page.get_by_role("heading", name="NetworkPolicy shop/database-policy")).to_be_visible()
    page.wait_for_selector("code.language-yaml.hljs")  # highlighted by highlight.js
    assert "from pods [tier=backend] on TCP 5432" in page.locator("#rules-title + p + h3 + ol").inner_text()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download YAML").click()
    download = info.value
    assert download.suggested_filename == "shop-database-policy.yaml"
    policy = NetworkPolicy.objects.get(cluster=page.demo, namespace="shop", name="database-policy")
    with open(download.path(), encoding="utf-8") as handle:
        assert handle.read() == analysis.policy_yaml(policy)


def load_generated(name: str, **sizes: Any) -> Cluster:
    cluster = Cluster.objects.create(name=name, source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")
    mirror.load_snapshot(cluster, generate_cluster(**sizes))
    cluster.refresh_from_db()
    return cluster


def test_a_200_node_1000_edge_graph_and_a_300_by_300_matrix_render(page, users, sign_in):
    # locked-down namespaces keep the edges near 1,000 for about 200 workloads
    graph_cluster = load_generated("g200", pods=570, workloads=190, namespaces=40, policies=380, seed=3, locked_down=1.0)
    matrix_cluster = load_generated("m300", pods=900, workloads=300, namespaces=30, policies=400, seed=2)
    sign_in("viewer", "pw-viewer")
    payload = analysis.reachability(graph_cluster, analysis.ReachabilityQuery(level="workload"))
    assert len(payload["nodes"]) >= 200
    assert len(payload["edges"]) >= 1000
    page.goto(f"{page.base_url}/clusters/{graph_cluster.pk}/graph/?level=workload")
    page.wait_for_selector("#graph[data-ready='1']", state="attached", timeout=60_000)
    drawn = page.evaluate(DRAWN)
    assert len(drawn["nodes"]) == len(drawn_nodes_of(payload, page))
    assert len(drawn["pairs"]) == len(drawn_edges_of(payload, page))
    expect(page.locator("[data-labels-hidden]")).to_be_visible()  # too many edges to label them all
    # still responsive: an edge click is explained
    edge = drawn_edges_of(payload, page)[0]
    page.goto(page.url + "&sel=" + quote(f"edge:{edge['source']}>{edge['target']}"))
    page.wait_for_selector("#graph[data-ready='1']", state="attached", timeout=60_000)
    page.locator("#side-panel .explain-panel").wait_for()

    matrix = analysis.reachability(matrix_cluster, analysis.ReachabilityQuery(level="workload", format="matrix"))
    workloads = [n for n in matrix["nodes"] if not n["external"]]
    assert len(workloads) >= 300
    page.goto(f"{page.base_url}/clusters/{matrix_cluster.pk}/matrix/")
    wait_for_matrix(page, timeout=60_000)
    shape = page.evaluate("[window.netpoluiMatrix.rows.length, window.netpoluiMatrix.columns.length]")
    assert shape[0] * shape[1] >= 300 * 300
    rows, columns = matrix_rows(page), page.evaluate("window.netpoluiMatrix.columnIds()")
    click_cell(page, rows[150], columns[150])
    page.locator("#side-panel .explain-panel").wait_for()


def test_a_large_cluster_graph_starts_at_namespaces_and_drills_down(page, users, sign_in, settings):
    # 16 namespaces of 5 tiers: more than 30 tier groups, so the page starts at namespaces
    cluster = load_generated("g80", pods=240, workloads=80, namespaces=16, policies=120, seed=4)
    sign_in("viewer", "pw-viewer")
    page.goto(f"{page.base_url}/clusters/{cluster.pk}/graph/")
    wait_for_graph(page)
    data = page.evaluate("window.netpoluiGraph.data")
    assert data["level"] == "namespace"
    expect(page.get_by_text("Started at the namespace level")).to_be_visible()
    drawn = page.evaluate(DRAWN)
    namespaces = {n["namespace"] for n in analysis.level_nodes(cluster, "workload") if not n["external"]}
    assert namespaces <= set(drawn["nodes"])
    # the layout uses the width: the drawing is wider than tall
    box = page.evaluate("(() => { const b = window.netpoluiGraph.cy.nodes().boundingBox(); return [b.w, b.h]; })()")
    assert box[0] > box[1]

    # double-click a namespace: it opens into its tiers, the URL and breadcrumb say so
    opened = sorted(namespaces)[1]
    point = page.evaluate(
        """(id) => { const cy = window.netpoluiGraph.cy; const n = cy.getElementById(id);
          cy.center(n); const p = n.renderedPosition(); const b = cy.container().getBoundingClientRect();
          return {x: b.left + p.x, y: b.top + p.y}; }""",
        opened,
    )
    page.mouse.dblclick(point["x"], point["y"])
    page.wait_for_url(re.compile(r"expand=" + re.escape(opened)))
    wait_for_graph(page)
    crumbs = page.locator("[data-graph-crumbs]")
    expect(crumbs.locator(".crumb")).to_have_text(re.compile(opened))
    drawn = page.evaluate(DRAWN)
    tiers = {n["id"] for n in analysis.level_nodes(cluster, "tier") if n["namespace"] == opened}
    assert tiers <= set(drawn["nodes"])
    assert opened not in drawn["nodes"]
    assert page.evaluate(f"window.netpoluiGraph.cy.getElementById('box:ns:{opened}').children().length") == len(tiers)
    # an edge between a tier and a whole namespace is explained by its workload pairs
    edge = next(e for e in page.evaluate("window.netpoluiGraph.data.edges") if e["source"] in tiers and e["target"] in namespaces)
    page.evaluate(f"window.netpoluiGraph.chooseEdge(window.netpoluiGraph.data.edges.findIndex((e) => e.source === {edge['source']!r} && e.target === {edge['target']!r}))")
    panel = page.locator("#side-panel")
    expect(panel.locator(".explanation.allowed").first).to_be_visible()
    assert f"{edge['target']}/" in panel.inner_text()
    # the breadcrumb's ✕ closes the namespace again
    crumbs.get_by_role("link", name=f"Close {opened}").click()
    wait_for_graph(page)
    assert "expand=" not in page.url
    assert opened in page.evaluate(DRAWN)["nodes"]


def test_a_dense_graph_draws_the_nodes_and_the_selected_nodes_edges(page, users, sign_in, settings):
    settings.NETPOLUI_GRAPH_DRAW_LIMIT = 20
    cluster = load_generated("g80", pods=240, workloads=80, namespaces=16, policies=120, seed=4)
    sign_in("viewer", "pw-viewer")
    page.goto(f"{page.base_url}/clusters/{cluster.pk}/graph/?level=namespace")
    wait_for_graph(page)
    data = page.evaluate("window.netpoluiGraph.data")
    assert len(data["edges"]) > 20
    assert page.evaluate("window.netpoluiGraph.cy.edges().length") == 0
    expect(page.locator("[data-graph-status]")).to_contain_text("too many to read in one drawing")
    # selecting a node draws its edges, in and out, and only those
    node = max(data["nodes"], key=lambda n: sum(n["id"] in (e["source"], e["target"]) for e in data["edges"]))["id"]
    page.evaluate(f"window.netpoluiGraph.chooseNode({node!r})")
    expected = {f"{e['source']} -> {e['target']}" for e in data["edges"] if node in (e["source"], e["target"])}
    assert set(page.evaluate(DRAWN)["pairs"]) == expected
    expect(page.locator("[data-graph-status]")).to_contain_text(f"Showing the {len(expected)} connection")
    expect(page.locator("#side-panel .node-panel")).to_be_visible()
    # the draw-all button draws everything
    page.get_by_role("button", name=re.compile(r"Draw all \d+ anyway")).click()
    wait_for_graph(page)
    assert "draw=all" in page.url
    assert len(page.evaluate(DRAWN)["pairs"]) == len(data["edges"])


# The matrix canvas's geometry (matrix.js): a cell's side, the row names' width; the
# column names' height is the longest name's (window.netpoluiMatrix.columnHeadHeight()).
CELL, ROW_HEAD = 18, 220
FOCUS_RGB = (0xFF, 0xBF, 0x47)  # --focus, the keyboard cursor's frame
HEAD_RGB = (0xF7, 0xF8, 0xFA)  # --bg, the headers' background

PIXELS = """(points) => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(() => {
  const canvas = document.getElementById('matrix');
  const ctx = canvas.getContext('2d');
  const dpr = canvas.width / canvas.clientWidth;
  done(points.map(([x, y]) => Array.from(ctx.getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data.slice(0, 3))));
})))"""


def near(rgb: list[int], want: tuple[int, int, int]) -> bool:
    return all(abs(a - b) <= 24 for a, b in zip(rgb, want, strict=True))


def test_a_scrolled_matrix_keeps_its_headers_and_draws_the_keyboard_cursor(page, users, sign_in):
    cluster = load_generated("m120", pods=360, workloads=120, namespaces=12, policies=160, seed=5)
    sign_in("viewer", "pw-viewer")
    page.goto(f"{page.base_url}/clusters/{cluster.pk}/matrix/")
    wait_for_matrix(page)
    wrap = page.locator("[data-matrix-wrap]")
    # a focusable grid that says what it is and how to move in it
    expect(wrap).to_have_attribute("tabindex", "0")
    expect(wrap).to_have_accessible_name(re.compile("Arrow keys move.*Enter explains"))
    expect(wrap).to_have_accessible_description(re.compile(r"\d+ workloads, \d+ allowed pairs"))
    rows, columns = matrix_rows(page), page.evaluate("window.netpoluiMatrix.columnIds()")
    labels = page.evaluate("window.netpoluiMatrix.rowLabels()")
    COL_HEAD = page.evaluate("window.netpoluiMatrix.columnHeadHeight()")  # noqa: N806 - the geometry's name
    longest = page.evaluate("""() => { const ctx = document.createElement('canvas').getContext('2d');
      ctx.font = '500 12px system-ui, sans-serif';
      return Math.max(...window.netpoluiMatrix.columnLabels().map((t) => ctx.measureText(t).width)); }""")
    assert 110 <= COL_HEAD <= 240
    assert longest <= COL_HEAD - 12 or COL_HEAD == 240, "the column names are cut"
    wrap.focus()
    page.keyboard.press("ArrowDown")  # the cursor appears on the first cell
    page.keyboard.press("Control+End")  # the last row's last cell: the grid scrolls to it
    announced = page.locator("[data-matrix-focus]")
    expect(announced).to_contain_text(f"Row {len(rows)} of {len(rows)}, column {len(columns)} of {len(columns)}")
    scroll = page.evaluate("(() => { const w = document.querySelector('[data-matrix-wrap]'); return [w.scrollLeft, w.scrollTop]; })()")
    assert scroll[0] > 0
    assert scroll[1] > 0
    # the cursor is drawn where it is: a focus-coloured frame on the cell
    x = ROW_HEAD + (len(columns) - 1) * CELL - scroll[0]
    y = COL_HEAD + (len(rows) - 1) * CELL - scroll[1]
    frame, centre = page.evaluate(PIXELS, [[x + 2, y + CELL / 2], [x + CELL / 2, y + CELL / 2]])
    assert near(frame, FOCUS_RGB), frame
    assert not near(centre, FOCUS_RGB), centre
    # sticky headers: scrolled far from the origin, the first visible row's name is still
    # drawn at the left and names that row, and the column names stay at the top
    box = page.locator("#matrix").bounding_box()
    name_strip = page.evaluate(PIXELS, [[6 + i, COL_HEAD + CELL / 2] for i in range(0, 120, 2)])
    assert Counter(map(tuple, name_strip)).most_common(1)[0][0] == HEAD_RGB
    assert len({tuple(p) for p in name_strip}) > 2, "no row name drawn beside the scrolled cells"
    column_strip = page.evaluate(PIXELS, [[ROW_HEAD + 2 + i, COL_HEAD - 30 - j] for i in range(90) for j in (0, 7, 15)])
    assert Counter(map(tuple, column_strip)).most_common(1)[0][0] == HEAD_RGB
    assert len({tuple(p) for p in column_strip}) > 2, "no column name drawn above the scrolled cells"
    page.mouse.move(box["x"] + 20, box["y"] + COL_HEAD + CELL / 2)
    expect(page.locator("[data-matrix-tooltip]")).to_contain_text(labels[(scroll[1] + CELL // 2) // CELL])
    # the column search moves the cursor to a destination by name and scrolls back to it
    target = columns[0].split("[")[0]
    page.get_by_label("Find a destination").fill(target)
    expect(announced).to_contain_text(f"column {columns.index(next(c for c in columns if target in c)) + 1} of")
    assert page.evaluate("document.querySelector('[data-matrix-wrap]').scrollLeft") < scroll[0]
    expect(page.locator("[data-matrix-find-status]")).to_contain_text("Destination ")
