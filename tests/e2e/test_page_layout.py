"""Browser: what a platform engineer sees at 1440 and 1024 px wide — nothing drawn over
something else, nothing cut off, nothing that needs a horizontal scroll bar."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_dashboard import load_generated, wait_for_graph

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

VIEWPORTS = [(1440, 900), (1024, 768)]


def intersects(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


def box(locator: Any) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not displayed"
    return found


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_the_too_many_edges_sentence_is_a_line_of_its_own(page, users, sign_in, settings, width, height):
    settings.NETPOLUI_GRAPH_DRAW_LIMIT = 20
    cluster = load_generated("g80", pods=240, workloads=80, namespaces=16, policies=120, seed=4)
    sign_in("viewer", "pw-viewer")
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{page.base_url}/clusters/{cluster.pk}/graph/?level=namespace")
    wait_for_graph(page)
    status = page.locator("[data-graph-status]")
    expect(status).to_contain_text("too many to read in one drawing")
    sentence = box(status.locator("span").first)
    draw_all = box(status.get_by_role("button", name="Draw all", exact=False))
    tools = page.locator(".graph-tools").locator("button:visible, a:visible")
    assert tools.count() == 5  # with "Open selected", in its place before anything is selected
    for i in range(tools.count()):
        tool = box(tools.nth(i))
        assert not intersects(sentence, tool), f"the sentence runs under {tools.nth(i).inner_text()!r}"
        assert not intersects(draw_all, tool), f"'Draw all' runs under {tools.nth(i).inner_text()!r}"
    # ... and over no node: the drawing starts below it
    canvas = box(page.locator("#graph"))
    assert not intersects(sentence, canvas)
    assert not intersects(draw_all, canvas)
    assert not intersects(box(page.locator(".graph-tools")), canvas)


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_the_graph_legend_is_on_screen_below_the_graph(demo_page, width, height):
    page = demo_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/graph/")
    wait_for_graph(page)
    legend = box(page.locator("section.legend"))
    canvas = box(page.locator("#graph"))
    assert legend["y"] >= canvas["y"] + canvas["height"]
    assert legend["y"] + legend["height"] <= height, "the legend is cut off at the bottom of the window"
    assert canvas["height"] >= 300


# Characters of the drawn labels that the canvas draws as the "missing glyph" box: each is
# drawn beside U+E000 (a private-use code point no font has) and compared pixel by pixel.
MISSING_GLYPHS = """() => {
  const cy = window.netpoluiGraph.cy;
  const chars = new Set();
  cy.elements().forEach((e) => { for (const ch of (e.data('label') || '')) if (ch.trim()) chars.add(ch); });
  const font = '13px ' + cy.nodes('.endpoint').first().style('font-family');
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 40;
  const ctx = canvas.getContext('2d');
  const draw = (ch) => {
    ctx.clearRect(0, 0, 40, 40); ctx.font = font; ctx.fillText(ch, 5, 25);
    return Array.from(ctx.getImageData(0, 0, 40, 40).data).join(',');
  };
  const missing = draw('\\ue000');
  return [...chars].filter((ch) => draw(ch) === missing);
}"""


def test_the_graph_labels_use_no_character_the_browser_cannot_draw(page, users, sign_in):
    cluster = load_generated("g40", pods=120, workloads=40, namespaces=12, policies=60, seed=4)
    sign_in("viewer", "pw-viewer")
    page.goto(f"{page.base_url}/clusters/{cluster.pk}/graph/?level=namespace")
    wait_for_graph(page)
    labels = page.evaluate("window.netpoluiGraph.cy.nodes('.endpoint').map((n) => n.data('label'))")
    assert any("5 workloads" in label or "workload" in label for label in labels)
    assert page.evaluate(MISSING_GLYPHS) == []


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_an_editor_label_row_keeps_its_remove_button_beside_its_fields(page, users, sign_in, demo_cluster, width, height):
    from policies.services import fixes

    sign_in("editor", "pw-editor")
    page.set_viewport_size({"width": width, "height": height})
    query = fixes.fix_query("egress-without-dns", "payments", "Deployment", "payments-api")
    page.goto(f"{page.base_url}/clusters/{demo_cluster.pk}/drafts/new/?{query}")
    rows = page.locator(".ed-left .ed-pair[data-row=label]:visible")
    expect(rows.first).to_be_visible()
    for i in range(rows.count()):
        value = box(rows.nth(i).locator("input[data-field=value]"))
        remove = box(rows.nth(i).get_by_role("button", name="Remove label"))
        middle = remove["y"] + remove["height"] / 2
        assert value["y"] <= middle <= value["y"] + value["height"], f"row {i}: the ✕ wrapped under the fields"


def test_the_cni_policy_list_needs_no_horizontal_scroll_at_1024(page, users, sign_in, cilium_demo):
    sign_in("viewer", "pw-viewer")
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{page.base_url}/clusters/{cilium_demo.pk}/cni-policies/")
    expect(page.locator("table.cni-table")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls {overflow} px sideways"


@pytest.mark.parametrize(("width", "height"), VIEWPORTS)
def test_the_top_bar_is_one_row(demo_page, width, height):
    # At 1024 px the user's name and "Sign out" wrapped onto a second row of the bar.
    page = demo_page
    page.set_viewport_size({"width": width, "height": height})
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/graph/")
    brand = box(page.locator(".topbar .brand"))
    for part in (page.locator(".topbar .nav li").last, page.get_by_role("button", name="Sign out")):
        other = box(part)
        assert abs((other["y"] + other["height"] / 2) - (brand["y"] + brand["height"] / 2)) < 8, part
    expect(page.locator(".topbar .role-badge")).to_contain_text("viewer")
