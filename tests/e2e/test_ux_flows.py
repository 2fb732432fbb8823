"""From answers to actions, in a real browser on the demo cluster: fix a finding from the
overview to an approved draft, share an ask-the-cluster address, add and remove a peer by
clicking the three-zone picture, the preview and the action bar in view at 1024 px, the
editor's warnings and YAML errors in Problems, and dark mode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from policies.models import PolicyDraft

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def editor_page(demo_cluster, users, sign_in) -> Any:
    page = sign_in("editor", "pw-editor")
    page.demo = demo_cluster
    return page


def in_viewport(page: Any, locator: Any) -> bool:
    box = locator.bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] < size["height"] and box["y"] + box["height"] > 0 and box["x"] < size["width"]


def test_fix_a_finding_from_the_overview_to_an_approved_draft(editor_page):
    page = editor_page
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/?namespace=payments&severity=high")
    finding = page.locator(".finding-object", has_text="payments/payments-api (Deployment)").locator(
        '.finding[data-code="egress-without-dns"]'
    )
    assert finding.count() == 1
    finding.get_by_role("link", name="Fix: allow DNS").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_role("heading", name="New NetworkPolicy")).to_be_visible()
    assert page.get_by_label("Name", exact=True).input_value() == "allow-dns-payments-api"
    # the what-if shows the effect before anything is saved
    what_if = page.locator("#what-if")
    what_if.locator("table.allowed").wait_for()
    assert "0 newly denied" in what_if.inner_text()
    assert "payments/payments-api (Deployment)" in what_if.locator("table.allowed").inner_text()
    assert PolicyDraft.objects.count() == 0
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("Draft payments/allow-dns-payments-api saved (revision 1).")).to_be_visible()
    page.get_by_role("button", name="Approve revision 1").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_test_id("draft-status").inner_text() == "approved"
    draft = PolicyDraft.objects.get()
    assert (draft.namespace, draft.name, draft.status) == ("payments", "allow-dns-payments-api", "approved")
    assert {"protocol": "UDP", "port": 53} in draft.obj["spec"]["egress"][0]["ports"]


def test_findings_are_on_the_workload_page(editor_page):
    page = editor_page
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/?namespace=payments")
    page.locator(".finding-object", has_text="payments/payments-api (Deployment)").get_by_role(
        "link", name="payments/payments-api (Deployment)"
    ).click()
    page.wait_for_load_state("networkidle")
    box = page.locator(".object-findings")
    assert "DNS lookups will fail" in box.inner_text()
    expect(box.get_by_role("link", name="Fix: allow DNS")).to_be_visible()


def test_share_an_ask_the_cluster_address(demo_page, browser):
    page = demo_page
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/")
    form = page.locator("form.ask", has=page.get_by_role("button", name="Explain"))
    form.get_by_label("From", exact=True).fill("shop/backend[Deployment]")
    form.get_by_label("To", exact=True).fill("shop/database[StatefulSet]")
    form.get_by_label("Port", exact=True).fill("5432")
    form.get_by_role("button", name="Explain").click()
    page.wait_for_load_state("networkidle")
    assert "/explain/?src=shop%2Fbackend%5BDeployment%5D" in page.url
    answer = page.get_by_test_id("answer")
    expected = "shop/backend → shop/database: TCP 5432, allowed by shop/database-policy ingress rule #0"
    assert expected in answer.inner_text()
    assert in_viewport(page, answer)
    # someone else opens the shared address and reads the same answer first
    shared = page.url
    other = browser.new_context(storage_state=page.context.storage_state())
    try:
        tab = other.new_page()
        tab.goto(shared)
        assert expected in tab.get_by_test_id("answer").inner_text()
    finally:
        other.close()


def _blank_editor(page: Any, name: str = "clicked") -> None:
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/drafts/new/?start=blank&namespace=shop")
    page.get_by_label("Name", exact=True).fill(name)
    page.locator("#zones .ed-zone-grid").wait_for()


def test_add_edit_and_remove_a_peer_by_clicking_the_picture(editor_page):
    page = editor_page
    _blank_editor(page)
    page.get_by_role("button", name="Add an ingress peer in this namespace").click()
    rule = page.locator('[data-rules="ingress"] > [data-rule]')
    assert rule.count() == 1
    peer = rule.locator("[data-peer]")
    assert peer.get_by_label("Kind of peer").input_value() == "pods"
    peer.get_by_role("button", name="Add label").first.click()
    peer.get_by_label("Label key").fill("tier")
    peer.get_by_label("Label value").fill("frontend")
    item = page.locator('#zones .ed-zone-item[data-direction="ingress"]', has_text="tier=frontend")
    item.wait_for()
    assert "shop/frontend (Deployment)" in item.inner_text()
    # outside the cluster: an ipBlock peer in a new egress rule, Egress turned on by the YAML
    page.get_by_role("button", name="Add an egress peer outside the cluster").click()
    egress_peer = page.locator('[data-rules="egress"] [data-peer]')
    assert egress_peer.get_by_label("Kind of peer").input_value() == "ip_block"
    egress_peer.get_by_label("CIDR").fill("203.0.113.0/24")
    page.locator('#zones .ed-zone-item[data-direction="egress"]', has_text="203.0.113.0/24").wait_for()
    # edit from the picture focuses the peer in the form; remove takes it out
    page.get_by_role("button", name="Edit ingress rule 1 peer 1").click()
    assert page.evaluate("document.activeElement.closest('[data-peer]') !== null")
    page.get_by_role("button", name="Remove ingress rule 1 peer 1").click()
    assert page.locator('[data-rules="ingress"] [data-peer]').count() == 0
    # (locator waits, not wait_for_function: the pages' CSP forbids the eval it needs)
    page.locator("#yaml-out", has_text="tier: frontend").wait_for(state="detached")


def test_picture_stays_with_the_broken_part_marked(editor_page):
    page = editor_page
    _blank_editor(page)
    page.get_by_role("button", name="Add an egress peer outside the cluster").click()
    cidr = page.locator('[data-rules="egress"] [data-peer]').get_by_label("CIDR")
    cidr.fill("203.0.113.0/24")
    page.locator('#zones .ed-zone-item[data-direction="egress"]', has_text="203.0.113.0/24").wait_for()
    cidr.fill("203.0.113.0/99")
    page.locator("#zones.ed-stale").wait_for()
    expect(page.locator("#zones .ed-zone-grid")).to_be_visible()
    assert page.locator("#zones .ed-zone-item.ed-zone-broken").count() == 1
    assert int(page.locator("#problem-count").inner_text()) >= 1


def test_preview_and_action_bar_stay_in_view_at_1024_px(editor_page):
    page = editor_page
    page.set_viewport_size({"width": 1024, "height": 768})
    _blank_editor(page)
    for _ in range(3):
        page.get_by_role("button", name="Add ingress rule").click()
        page.get_by_role("button", name="Add egress rule").click()
    page.get_by_role("button", name="Add egress rule").scroll_into_view_if_needed()
    assert page.evaluate("window.scrollY") > 300
    assert in_viewport(page, page.locator("#zones"))
    assert in_viewport(page, page.get_by_role("button", name="Save draft"))
    page.get_by_role("heading", name="What-if: how the cluster's reachability changes").scroll_into_view_if_needed()
    assert in_viewport(page, page.get_by_role("button", name="Save draft"))


def test_warnings_and_yaml_errors_are_in_problems(editor_page):
    page = editor_page
    _blank_editor(page)
    page.get_by_role("button", name="Add an egress peer outside the cluster").click()
    page.locator('[data-rules="egress"] [data-peer]').get_by_label("CIDR").fill("10.0.0.5/8")
    warnings = page.locator("#warning-list")
    page.locator("#warning-list", has_text="host bits").wait_for()
    assert "10.0.0.5/8 has host bits set: it means 10.0.0.0/8" in warnings.inner_text()
    page.get_by_role("button", name="Add an ingress peer in this namespace").click()
    page.locator("#warning-list", has_text="selects every pod of namespace shop").wait_for()
    page.get_by_label("Namespace", exact=True).fill("shpo")
    page.locator("#warning-list", has_text="Namespace shpo does not exist").wait_for()
    page.get_by_role("button", name="Edit as YAML").click()
    page.get_by_label("Policy YAML").fill("spec: [unclosed")
    page.locator("#error-list", has_text="YAML").wait_for()
    assert page.locator("#problem-count").inner_text() != "0"
    # The parse endpoint answers unreadable YAML with a 400, which Chromium logs; expected here.
    page.js_errors[:] = [e for e in page.js_errors if "status of 400" not in e]


def test_dark_mode_follows_the_browser_and_keeps_the_graph_light(demo_page):
    page = demo_page
    page.emulate_media(color_scheme="dark")
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/graph/")
    page.wait_for_selector("#graph[data-ready='1']", state="attached")
    colours = page.evaluate(
        """() => ({body: getComputedStyle(document.body).backgroundColor,
                  ink: getComputedStyle(document.body).color,
                  graph: getComputedStyle(document.querySelector('.graph-wrap')).backgroundColor})"""
    )
    assert colours["body"] == "rgb(18, 22, 31)"
    assert colours["ink"] == "rgb(230, 233, 239)"
    assert colours["graph"] == "rgb(247, 248, 250)"


def test_truth_table_from_the_matrix_with_a_csv_download(demo_page):
    page = demo_page
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/matrix/")
    page.get_by_role("link", name="Per-port truth table").click()
    page.get_by_label("Ports").fill("TCP/5432, UDP/53")
    page.get_by_label("Namespaces").select_option(["shop"])
    page.get_by_role("button", name="Show").click()
    page.wait_for_load_state("networkidle")
    assert "ports=TCP%2F5432" in page.url
    table = page.locator('.truth-table[data-port="TCP/5432"]')
    row = table.locator("tbody tr", has=page.locator("th", has_text="shop/backend (Deployment)"))
    headers = table.locator("thead th").all_inner_texts()
    column = headers.index("shop/database (StatefulSet)")
    assert row.locator("th, td").nth(column).inner_text().startswith("✔")
    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    text = Path(download.value.path()).read_text()
    assert text.startswith("port,source \\ destination (combined),")
