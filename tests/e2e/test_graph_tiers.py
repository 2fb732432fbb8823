"""Browser: a tier of an opened namespace opens into its workloads on double-click, the URL
and the breadcrumb say so, and the breadcrumb closes it again."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from policies.services import analysis
from tests.e2e.test_dashboard import DRAWN, load_generated, wait_for_graph

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

CENTER = """(id) => { const cy = window.netpoluiGraph.cy; const n = cy.getElementById(id);
  cy.center(n); const p = n.renderedPosition(); const b = cy.container().getBoundingClientRect();
  return {x: b.left + p.x, y: b.top + p.y}; }"""


def open_namespace_of_a_tier(page, sign_in, name: str) -> tuple[object, dict]:
    """A generated cluster's first tier of several workloads, its namespace opened on the
    graph page (signed in as a viewer): (cluster, tier)."""
    cluster = load_generated(name, pods=240, workloads=80, namespaces=4, policies=120, seed=4)
    tier = next(
        t for t in sorted(analysis.level_nodes(cluster, "tier"), key=lambda t: t["id"])
        if not t["external"] and len(t.get("members") or []) > 1
    )
    sign_in("viewer", "pw-viewer")
    page.goto(f"{page.base_url}/clusters/{cluster.pk}/graph/?level=namespace&expand={quote(tier['namespace'])}")
    wait_for_graph(page)
    return cluster, tier


def test_a_tier_opens_into_its_workloads_and_closes_from_the_breadcrumb(page, users, sign_in):
    _, tier = open_namespace_of_a_tier(page, sign_in, "g80t")
    ns = tier["namespace"]
    assert tier["id"] in page.evaluate(DRAWN)["nodes"]
    point = page.evaluate(CENTER, tier["id"])
    page.mouse.dblclick(point["x"], point["y"])
    page.wait_for_url(re.compile(r"expand_tier="))
    wait_for_graph(page)
    drawn = set(page.evaluate(DRAWN)["nodes"])
    assert set(tier["members"]) <= drawn
    assert tier["id"] not in drawn
    # the workloads are drawn inside the tier's box, itself inside the namespace's box
    box = f"box:tier:{tier['id']}"
    assert page.evaluate(f"window.netpoluiGraph.cy.getElementById({box!r}).children().length") == len(tier["members"])
    assert page.evaluate(f"window.netpoluiGraph.cy.getElementById({box!r}).parent().id()") == f"box:ns:{ns}"
    crumbs = page.locator("[data-graph-crumbs]")
    label = tier["id"].split("/", 1)[1]
    expect(crumbs.locator(".crumb-tier")).to_have_text(re.compile(re.escape(label)))
    # the breadcrumb's ✕ closes the tier; the namespace stays open
    crumbs.get_by_role("link", name=f"Close tier {tier['id']}").click()
    wait_for_graph(page)
    assert "expand_tier=" not in page.url
    assert "expand=" in page.url
    assert tier["id"] in page.evaluate(DRAWN)["nodes"]


RECT = "() => window.netpoluiGraph.cy.container().getBoundingClientRect().toJSON()"


def test_selecting_a_tier_does_not_move_the_drawing_and_the_open_button_opens_it(page, users, sign_in):
    # The first click of a double-click selects the node; if that changed the bar above the
    # drawing, the second click landed elsewhere (on a loop edge) and nothing opened.
    _, tier = open_namespace_of_a_tier(page, sign_in, "g80t")
    button = page.locator("[data-graph-open]")
    expect(button).to_be_disabled()
    before = page.evaluate(RECT)
    point = page.evaluate(CENTER, tier["id"])
    page.mouse.click(point["x"], point["y"])
    expect(page.locator("#side-panel")).to_contain_text(tier["id"].split("/", 1)[1].split("=", 1)[1])
    expect(button).to_be_enabled()
    expect(button).to_have_attribute("aria-label", f"Open {tier['id']} into its workloads")
    assert page.evaluate(RECT) == before
    button.click()
    page.wait_for_url(re.compile(r"expand_tier="))
    wait_for_graph(page)
    assert set(tier["members"]) <= set(page.evaluate(DRAWN)["nodes"])
