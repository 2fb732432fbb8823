"""The "delete" fix of a policy that selects nothing, in a real browser on the demo: from
the overview's finding to the fix page, whose what-if of the deletion shows before
anything is saved, to a deletion draft approved through the usual review."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from policies.models import NetworkPolicy, PolicyDraft

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def editor_page(demo_cluster, users, sign_in) -> Any:
    page = sign_in("editor", "pw-editor")
    page.demo = demo_cluster
    return page


def test_delete_a_policy_that_selects_nothing_from_its_finding_to_an_approved_deletion(editor_page):
    page = editor_page
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/?code=policy-selects-nothing")
    finding = page.locator('.finding[data-code="policy-selects-nothing"]').first
    finding.get_by_role("link", name="Fix: adopt or delete").click()
    page.wait_for_load_state("networkidle")

    # adopt: the live policy in the form; delete: the what-if of the removal, nothing saved yet
    expect(page.get_by_label("Name", exact=True)).to_have_value("legacy-allow-batch")
    offer = page.get_by_test_id("deletion-offer")
    expect(offer.get_by_role("heading", name="Or delete payments/legacy-allow-batch")).to_be_visible()
    expect(offer).to_contain_text("payments/legacy-allow-batch is deleted. It selects no workload now.")
    expect(offer).to_contain_text("No change: every connection stays as it is.")
    assert PolicyDraft.objects.count() == 0

    offer.get_by_role("button", name="Propose deleting payments/legacy-allow-batch").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_text("Deletion draft payments/legacy-allow-batch saved")).to_be_visible()
    expect(page.get_by_role("heading", name="Delete payments/legacy-allow-batch")).to_be_visible()
    expect(page.get_by_test_id("draft-status")).to_have_text("draft")
    expect(page.locator("#what-if")).to_contain_text("No change")

    page.get_by_role("button", name="Approve revision 1").click()
    page.wait_for_load_state("networkidle")
    expect(page.get_by_test_id("draft-status")).to_have_text("approved")
    draft = PolicyDraft.objects.get()
    assert (draft.namespace, draft.name, draft.action, draft.status) == (
        "payments",
        "legacy-allow-batch",
        "delete",
        "approved",
    )
    # proposing is not deleting: the live policy stays until someone runs the command
    assert NetworkPolicy.objects.filter(cluster=page.demo, namespace="payments", name="legacy-allow-batch").exists()

    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/drafts/")
    row = page.get_by_role("row", name="legacy-allow-batch")
    expect(row).to_contain_text("deletion")
    expect(row).to_contain_text("approved")
