"""Cluster-wide policies in a real browser, on the demo cluster (an Admin tier
ClusterNetworkPolicy with Deny and Pass, a v1alpha1 AdminNetworkPolicy, a Baseline tier
ClusterNetworkPolicy): the list and a policy's page, a workload page listing the tiers in
evaluation order, the matrix's explanation naming the deciding tier rule, and a v1alpha2
policy built with the form, its YAML and its what-if. The `page` fixture fails a test on
any JavaScript error."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest
import yaml
from playwright.sync_api import expect

from policies.models import ClusterPolicy, ClusterPolicyDraft, Workload

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_cluster_wide_list_leads_to_a_policy_page_with_its_ordered_rules(demo_page):
    page = demo_page
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Cluster-wide").click()
    rows = page.locator("table.cluster-policy-table tbody tr")
    expect(rows).to_have_count(ClusterPolicy.objects.filter(cluster=page.demo).count())
    expect(rows.nth(0)).to_contain_text("team-a-guardrails")
    expect(rows.nth(0)).to_contain_text("Admin")
    expect(rows.last).to_contain_text("baseline-prod-isolation")
    # filter by tier: the list follows, and the URL keeps the filter
    page.get_by_label("Tier").select_option("Baseline")
    expect(rows).to_have_count(1)
    expect(page).to_have_url(re.compile(r"tier=Baseline"))
    page.get_by_role("link", name="baseline-prod-isolation").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("ClusterNetworkPolicy baseline-prod-isolation")
    ingress = page.locator('table.rule-table[data-direction="ingress"] tbody tr')
    expect(ingress).to_have_count(3)
    expect(ingress.nth(0)).to_contain_text("accept-from-prod")
    expect(ingress.nth(0)).to_contain_text("Accept")
    expect(ingress.nth(1)).to_contain_text("TCP 8443")
    expect(ingress.nth(2)).to_contain_text("Deny")
    expect(ingress.nth(2)).to_contain_text("pods in every namespace")
    expect(page.locator("pre.yaml code")).to_contain_text("tier: Baseline")
    expect(page.locator("pre.yaml code")).to_contain_text("deny-other-namespaces")


def test_workload_page_lists_the_tiers_in_evaluation_order(demo_page):
    page = demo_page
    workload = Workload.objects.get(cluster=page.demo, namespace="payments", name="payments-api")
    page.goto(f"{page.base_url}/workloads/{workload.pk}/")
    order = page.get_by_test_id("evaluation-order").locator(":scope > li")
    expect(order).to_have_count(3)
    expect(order.nth(0)).to_contain_text("Admin")
    expect(order.nth(0)).to_contain_text("prometheus-probes-payments")
    expect(order.nth(1)).to_contain_text("payments/payments-egress")
    expect(order.nth(2)).to_contain_text("Baseline")
    expect(order.nth(2)).to_contain_text("baseline-prod-isolation")
    # who can reach it: Prometheus on TCP 8443 only, by the Admin tier rule
    inbound = page.locator('.conn-list.inbound li.conn[data-peer="monitoring/prometheus[Deployment]"]')
    expect(inbound).to_contain_text("TCP 8443")
    expect(inbound).to_contain_text('"allow-prometheus-http"')
    order.nth(0).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("AdminNetworkPolicy prometheus-probes-payments")


def test_matrix_explanation_names_the_deciding_tier(demo_page):
    page = demo_page
    sel = "cell:default/toolbox[Pod]>team-a/web[Deployment]"
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/matrix/?level=workload&sel={quote(sel)}")
    panel = page.locator("#side-panel")
    decisions = panel.get_by_test_id("tier-decisions")
    expect(decisions).to_contain_text("Admin tier")
    expect(decisions).to_contain_text("team-a-guardrails")
    expect(decisions).to_contain_text("ingress rule #0 deny-from-default-namespace")
    expect(decisions).to_contain_text("Deny")
    expect(panel.get_by_test_id("answer")).to_contain_text("denied")
    # an allowed cell decided by the v1alpha1 AdminNetworkPolicy
    sel = "cell:monitoring/prometheus[Deployment]>payments/payments-api[Deployment]"
    page.goto(f"{page.base_url}/clusters/{page.demo.pk}/matrix/?level=workload&sel={quote(sel)}")
    decisions = page.locator("#side-panel").get_by_test_id("tier-decisions")
    expect(decisions).to_contain_text("prometheus-probes-payments")
    expect(decisions).to_contain_text("Allow")
    expect(decisions).to_contain_text("TCP 8443")


def test_build_a_cluster_network_policy_with_the_form(demo_cluster, users, sign_in):
    page = sign_in("editor", "pw-editor")
    page.goto(f"{page.base_url}/clusters/{demo_cluster.pk}/cluster-drafts/new/")
    state = page.locator("#cnp-state")
    page.get_by_label("Name metadata.name").fill("no-monitoring-from-default")
    page.get_by_label("Priority spec.priority").fill("30")
    # subject: the default namespace
    page.locator("#cnp-subject").get_by_label("Namespace selector", exact=True).fill("kubernetes.io/metadata.name=default")
    # egress rule #0: Deny to the monitoring namespace, TCP 9090-9100
    page.get_by_role("button", name="Add egress rule").click()
    rule = page.locator('[data-cnp-rules="egress"] [data-cnp-rule]').first
    rule.get_by_label("Rule name").fill("no-monitoring")
    rule.get_by_label("Namespace selector", exact=True).fill("team=platform")
    rule.get_by_role("button", name="Add port").click()
    rule.get_by_label("Port kind").select_option("range")
    rule.get_by_label("Port", exact=True).fill("9090")
    rule.get_by_label("End port").fill("9100")
    # egress rule #1: Accept to the metadata address, then moved up before the Deny
    page.get_by_role("button", name="Add egress rule").click()
    second = page.locator('[data-cnp-rules="egress"] [data-cnp-rule]').nth(1)
    second.get_by_label("Action").select_option("Accept")
    second.get_by_label("Peer kind").select_option("networks")
    second.get_by_label("Networks", exact=True).fill("169.254.169.254/32")
    second.get_by_role("button", name="Move rule up").click()
    expect(page.locator('[data-cnp-rules="egress"] [data-cnp-rule]').first.get_by_label("Action")).to_have_value("Accept")
    expect(state).to_have_text("Valid")
    code = page.locator("#cnp-yaml")
    expect(code).to_contain_text("169.254.169.254/32")
    doc = yaml.safe_load(code.inner_text())
    assert doc["spec"]["priority"] == 30
    assert [r["action"] for r in doc["spec"]["egress"]] == ["Accept", "Deny"]
    assert doc["spec"]["egress"][1]["protocols"] == [{"tcp": {"destinationPort": {"range": {"start": 9090, "end": 9100}}}}]
    # the what-if: the toolbox loses TCP 9090-9100 to Prometheus
    what_if = page.locator("#cnp-what-if")
    expect(what_if.get_by_test_id("cnp-whatif-summary")).to_contain_text("newly denied")
    expect(what_if.locator('li[data-src="default/toolbox[Pod]"][data-dst="monitoring/prometheus[Deployment]"]')).to_contain_text(
        "TCP 9090-9100"
    )
    # a mistake is shown beside its field
    page.get_by_label("Priority spec.priority").fill("5000")
    expect(page.locator("#cnp-errors")).to_contain_text("spec.priority")
    expect(page.get_by_label("Priority spec.priority")).to_have_attribute("aria-invalid", "true")
    page.get_by_label("Priority spec.priority").fill("30")
    expect(state).to_have_text("Valid")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("ClusterNetworkPolicy no-monitoring-from-default")
    draft = ClusterPolicyDraft.objects.get(cluster=demo_cluster, name="no-monitoring-from-default")
    assert [r["action"] for r in draft.obj["spec"]["egress"]] == ["Accept", "Deny"]
    assert draft.obj["spec"]["subject"] == {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "default"}}}


def test_clone_a_v1alpha1_policy_into_a_v1alpha2_draft(demo_cluster, users, sign_in):
    page = sign_in("editor", "pw-editor")
    anp = ClusterPolicy.objects.get(cluster=demo_cluster, kind="AdminNetworkPolicy")
    page.goto(f"{page.base_url}/cluster-policies/{anp.pk}/")
    page.get_by_role("link", name="Clone into a v1alpha2 draft").click()
    expect(page.locator(".ed-note").first).to_contain_text(f"converted from AdminNetworkPolicy/{anp.name}")
    expect(page.locator("#cnp-state")).to_have_text("Valid")
    rule = page.locator('[data-cnp-rules="ingress"] [data-cnp-rule]')
    expect(rule).to_have_count(1)
    expect(rule.get_by_label("Action")).to_have_value("Accept")
    expect(rule.get_by_label("Named port")).to_have_value("http")
    code = page.locator("#cnp-yaml")
    expect(code).to_contain_text("kind: ClusterNetworkPolicy")
    expect(code).to_contain_text("destinationNamedPort: http")
    # it means what the AdminNetworkPolicy means: no change
    expect(page.get_by_test_id("cnp-whatif-summary")).to_contain_text("No change")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"ClusterNetworkPolicy {anp.name}")
    draft = ClusterPolicyDraft.objects.get(cluster=demo_cluster, name=anp.name)
    assert draft.origin == f"AdminNetworkPolicy/{anp.name}"
    assert draft.obj["spec"]["tier"] == "Admin"


def test_a_template_opens_ready_with_its_what_if(demo_cluster, users, sign_in):
    page = sign_in("editor", "pw-editor")
    page.goto(f"{page.base_url}/clusters/{demo_cluster.pk}/cluster-drafts/new/")
    page.get_by_role("link", name="Always allow DNS to kube-system").click()
    expect(page.locator("#cnp-state")).to_have_text("Valid")
    # payments-api's own NetworkPolicy forgot DNS; the Admin tier gives it back
    expect(
        page.locator('#cnp-what-if li[data-src="payments/payments-api[Deployment]"][data-dst="kube-system/coredns[Deployment]"]')
    ).to_contain_text("UDP 53")


def test_a_refused_save_of_an_odd_policy_shows_its_problems_without_script_errors(demo_cluster, users, sign_in):
    page = sign_in("editor", "pw-editor")
    page.goto(f"{page.base_url}/clusters/{demo_cluster.pk}/cluster-drafts/new/")
    odd = {
        "metadata": {"name": 5},
        "spec": {"tier": None, "priority": "high", "subject": [], "ingress": {"a": 1}, "egress": [None, {"to": "x", "protocols": [{"tcp": None}]}]},
    }
    # the form's own submit handler would send what the fields hold: post another form
    page.evaluate(
        """(odd) => {
          const f = document.createElement('form');
          f.method = 'post';
          f.action = document.getElementById('cnp-form').action;
          for (const [name, value] of [['csrfmiddlewaretoken', document.querySelector('[name=csrfmiddlewaretoken]').value], ['obj', JSON.stringify(odd)]]) {
            const i = document.createElement('input'); i.type = 'hidden'; i.name = name; i.value = value; f.appendChild(i);
          }
          document.body.appendChild(f); f.submit();
        }""",
        odd,
    )
    page.wait_for_load_state("load")
    expect(page.locator("#cnp-errors li").first).to_be_visible()
    expect(page.locator("#cnp-problem-count")).not_to_have_text("0")
    assert not ClusterPolicyDraft.objects.exists()
    # The refused save answers 400, which Chromium logs; nothing else may have been logged.
    refused = [e for e in page.js_errors if "status of 400" in e]
    assert len(refused) == 1
    page.js_errors.remove(refused[0])
