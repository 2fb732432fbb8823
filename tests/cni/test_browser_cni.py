"""In a real browser against the demo-cilium cluster: the CNI policies page says Cilium
enforces policies and flags the Calico leftover, a Cilium policy's page shows its deny
rule and YAML, the workload page lists the Cilium policies that select it in order, and
an admin switches the enforcing CNI. The `page` fixture fails the test on any
JavaScript or console error (the pages run under the strict CSP)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from policies.models import Workload

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_cni_policy_pages_and_the_workload_listing(cilium_demo, users, sign_in):
    page = sign_in("viewer", "pw-viewer")
    page.goto(f"{page.base_url}/clusters/{cilium_demo.pk}/")
    page.get_by_role("link", name="CNI policies").click()
    expect(page.get_by_role("heading", name=re.compile("CNI policies"))).to_be_visible()
    expect(page.get_by_test_id("enforcing-cni")).to_contain_text("Cilium")
    leftover = page.locator('tr[data-cni-policy="calico:GlobalNetworkPolicy:legacy-deny-payments"]')
    expect(leftover).to_contain_text("not enforced here")
    # Filter to Calico (HTMX swaps the table): the leftover alone.
    page.locator("form[aria-label=\"Filter CNI policies\"] select[name=cni]").select_option("calico")
    expect(page.locator("tr[data-cni-policy]")).to_have_count(1)
    expect(leftover).to_be_visible()
    expect(page).to_have_url(re.compile(r"cni=calico"))

    page.goto(f"{page.base_url}/clusters/{cilium_demo.pk}/cni-policies/?cni=cilium")
    page.get_by_role("link", name="CiliumNetworkPolicy shop/no-scrape-of-backend").click()
    expect(page.locator("pre.yaml")).to_contain_text("ingressDeny")
    expect(page.get_by_test_id("clone-refused")).to_contain_text("spec.ingressDeny")


def test_an_admin_switches_the_enforcing_cni_and_the_workload_page_follows(cilium_demo, users, sign_in):
    ledger = Workload.objects.get(cluster=cilium_demo, namespace="payments", name="ledger")
    page = sign_in("admin", "pw-admin")
    page.goto(f"{page.base_url}/workloads/{ledger.pk}/")
    expect(page.get_by_role("heading", name="StatefulSet payments/ledger")).to_be_visible()
    expect(page.get_by_test_id("cni-applying")).to_have_count(0)  # Calico's policy is not enforced

    page.goto(f"{page.base_url}/clusters/{cilium_demo.pk}/cni-policies/")
    page.locator("form[aria-label=\"Enforcing CNI\"] select[name=cni]").select_option("calico")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Enforcing CNI of demo-cilium: Calico.")
    expect(page.get_by_test_id("enforcing-cni")).to_contain_text("set on the cluster")
    leftover = page.locator('tr[data-cni-policy="calico:GlobalNetworkPolicy:legacy-deny-payments"]')
    expect(leftover).to_contain_text("enforced")
    expect(leftover).not_to_contain_text("not enforced")

    page.goto(f"{page.base_url}/workloads/{ledger.pk}/")
    applying = page.get_by_test_id("cni-applying")
    expect(applying).to_contain_text("GlobalNetworkPolicy legacy-deny-payments")
    applying.get_by_role("link", name="GlobalNetworkPolicy legacy-deny-payments").click()
    expect(page).to_have_url(re.compile(r"/cni-policies/\d+/$"))
    expect(page.get_by_test_id("enforced")).to_be_visible()
    expect(page.locator(".cni-rules")).to_contain_text("Deny")
