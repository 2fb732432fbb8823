"""The editor in a real browser: building policies through the form alone, the live YAML,
the what-if, errors next to their fields, AND/OR peers, YAML round trips, and the
download that `netpolui analyze` reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from .conftest import THREE_TIER_WORKLOADS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BACKEND_YAML = """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: backend-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      tier: backend
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          tier: frontend
    ports:
    - protocol: TCP
      port: 8080
"""

THREE_POLICIES_YAML = BACKEND_YAML + """\
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: database-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      tier: database
  policyTypes:
  - Ingress
  ingress:
  - from:
    - podSelector:
        matchLabels:
          tier: backend
    ports:
    - protocol: TCP
      port: 5432
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: frontend-policy
  namespace: shop
spec:
  podSelector:
    matchLabels:
      tier: frontend
  policyTypes:
  - Ingress
  - Egress
  ingress:
  - ports:
    - protocol: TCP
      port: 80
  egress:
  - to:
    - podSelector:
        matchLabels:
          tier: backend
    ports:
    - protocol: TCP
      port: 8080
"""


# --- driving the form -----------------------------------------------------------------------


def wait_for_yaml(page: Any, expected: str) -> None:
    page.wait_for_function(
        "(want) => document.getElementById('yaml-out').textContent === want", arg=expected
    )


def add_labels(container: Any, labels: dict[str, str]) -> None:
    for key, value in labels.items():
        container.get_by_role("button", name="Add label").first.click()
        row = container.locator("[data-row=label]").last
        row.get_by_label("Label key").fill(key)
        row.get_by_label("Label value").fill(value)


def add_rule(page: Any, direction: str, *, peers: list[tuple[str, dict[str, str]]], ports: list[tuple[str, str]]) -> None:
    page.get_by_role("button", name=f"Add {direction} rule").click()
    rule = page.locator(f'[data-rules="{direction}"] > [data-rule]').last
    for kind, labels in peers:
        rule.get_by_role("button", name="Add peer").click()
        peer = rule.locator("[data-peer]").last
        peer.get_by_label("Kind of peer").select_option(kind)
        part = "namespace_selector" if kind == "namespaces" else "pod_selector"
        add_labels(peer.locator(f'[data-part="{part}"]'), labels)
    for protocol, port in ports:
        rule.get_by_role("button", name="Add port").click()
        row = rule.locator("[data-row=port]").last
        row.get_by_label("Protocol").select_option(protocol)
        row.get_by_label("Port number or name").fill(port)


def build_policy(page: Any, base: str, cluster_id: int, *, name: str, pods: dict[str, str],
                 ingress: bool = True, egress: bool = False, rules: dict[str, list[dict[str, Any]]]) -> None:
    page.goto(f"{base}/clusters/{cluster_id}/drafts/new/?start=blank&namespace=shop")
    page.get_by_label("Name", exact=True).fill(name)
    add_labels(page.locator("#pod-selector"), pods)
    page.get_by_label("Ingress: isolate incoming traffic").set_checked(ingress)
    page.get_by_label("Egress: isolate outgoing traffic").set_checked(egress)
    for direction, items in rules.items():
        for rule in items:
            add_rule(page, direction, **rule)


def save(page: Any, note: str = "") -> None:
    if note:
        page.get_by_label("Change note").fill(note)
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_load_state("networkidle")


# --- tests -----------------------------------------------------------------------------------


def test_backend_policy_built_through_the_form_exports_the_expected_yaml(page, sign_in, three_tier):
    sign_in("editor", "pw-editor")
    build_policy(
        page, page.base_url, three_tier.pk, name="backend-policy", pods={"tier": "backend"},
        rules={"ingress": [{"peers": [("pods", {"tier": "frontend"})], "ports": [("TCP", "8080")]}]},
    )
    wait_for_yaml(page, BACKEND_YAML)
    assert page.locator("#problem-count").inner_text() == "0"

    save(page, note="only the frontend talks to the backend")
    assert page.get_by_text("Draft shop/backend-policy saved (revision 1).").is_visible()
    with page.expect_download() as download:
        page.get_by_role("link", name="Download YAML").click()
    assert download.value.suggested_filename == "shop-backend-policy.yaml"
    assert Path(download.value.path()).read_text() == BACKEND_YAML


def test_what_if_shows_connections_the_draft_would_deny(page, sign_in, three_tier):
    sign_in("editor", "pw-editor")
    build_policy(
        page, page.base_url, three_tier.pk, name="backend-policy", pods={"tier": "backend"},
        rules={"ingress": [{"peers": [("pods", {"tier": "frontend"})], "ports": [("TCP", "8080")]}]},
    )
    # The what-if follows the form as it is filled in: wait for the finished draft's answer
    # (an earlier one, before the port was set, denies the frontend everything).
    wait_for_yaml(page, BACKEND_YAML)
    what_if = page.locator("#what-if")
    denied = what_if.locator("table.denied")
    # The frontend keeps 8080 only: everything else towards the backend goes.
    frontend = denied.locator("tr", has_text="shop/frontend (Deployment)").filter(has_text="shop/backend (Deployment)")
    expect(frontend).to_contain_text("these ports only")
    # The database could reach the backend on every port; after the policy it cannot.
    row = denied.locator("tr", has_text="shop/database (StatefulSet)").filter(has_text="shop/backend (Deployment)")
    assert row.locator("td").nth(2).inner_text() == "All Connections"
    assert "TCP 8080" not in frontend.locator("td").nth(2).inner_text().split(",")
    assert what_if.locator("table.allowed").count() == 0
    assert "shop/backend (Deployment): ingress open → isolated" in what_if.inner_text()
    assert "[Deployment]" not in what_if.inner_text()


def test_three_tier_policies_built_through_forms_download_as_one_file_netpolui_analyze_reads(
    page, sign_in, three_tier, tmp_path
):
    sign_in("editor", "pw-editor")
    base = page.base_url
    build_policy(
        page, base, three_tier.pk, name="frontend-policy", pods={"tier": "frontend"}, egress=True,
        rules={
            "ingress": [{"peers": [], "ports": [("TCP", "80")]}],
            "egress": [{"peers": [("pods", {"tier": "backend"})], "ports": [("TCP", "8080")]}],
        },
    )
    page.locator("#what-if table.denied").wait_for()
    save(page)
    build_policy(
        page, base, three_tier.pk, name="backend-policy", pods={"tier": "backend"},
        rules={"ingress": [{"peers": [("pods", {"tier": "frontend"})], "ports": [("TCP", "8080")]}]},
    )
    page.locator("#what-if table.denied").wait_for()
    save(page)
    build_policy(
        page, base, three_tier.pk, name="database-policy", pods={"tier": "database"},
        rules={"ingress": [{"peers": [("pods", {"tier": "backend"})], "ports": [("TCP", "5432")]}]},
    )
    page.locator("#what-if table.denied").wait_for()
    save(page)

    page.goto(f"{base}/clusters/{three_tier.pk}/drafts/")
    for name in ("frontend-policy", "backend-policy", "database-policy"):
        page.get_by_label(f"Select shop/{name}").check()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download selected as one YAML file").click()
    exported = tmp_path / download.value.suggested_filename
    download.value.save_as(exported)
    assert exported.read_text() == THREE_POLICIES_YAML

    cli = Path(sys.executable).with_name("netpolui")
    result = subprocess.run(
        [str(cli), "analyze", str(exported), str(THREE_TIER_WORKLOADS)],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "shop/frontend[Deployment] => shop/backend[Deployment] : TCP 8080" in lines
    assert "shop/backend[Deployment] => shop/database[StatefulSet] : TCP 5432" in lines
    assert "0.0.0.0-255.255.255.255[External] => shop/frontend[Deployment] : TCP 80" in lines
    assert not [line for line in lines if line.startswith("shop/frontend[Deployment] => shop/database")]
    assert not [line for line in lines if "=> shop/backend[Deployment]" in line and not line.startswith("shop/frontend")]


def test_an_error_appears_next_to_its_field_with_the_path(page, sign_in, three_tier):
    sign_in("editor", "pw-editor")
    build_policy(
        page, page.base_url, three_tier.pk, name="web", pods={"tier": "backend"},
        rules={"ingress": [{"peers": [], "ports": [("TCP", "8080")]}]},
    )
    row = page.locator('[data-rules="ingress"] [data-row=port]').first
    row.get_by_label("End port").fill("80")
    message = page.locator(".ed-error", has_text="spec.ingress[0].ports[0].endPort")
    message.wait_for()
    assert "80 is below port 8080" in message.inner_text()
    # It sits right after the port row it is about, and the summary names it too.
    assert message.evaluate("(m) => m.previousElementSibling.getAttribute('data-row')") == "port"
    assert page.locator("#problem-count").inner_text() == "1"
    assert page.locator("#what-if").inner_text().startswith("Fix the problems")
    row.get_by_label("End port").fill("")
    page.locator(".ed-error").first.wait_for(state="detached")


def test_same_peer_and_separate_peers_are_a_visible_choice(page, sign_in, three_tier):
    sign_in("editor", "pw-editor")
    build_policy(page, page.base_url, three_tier.pk, name="from-dns", pods={}, rules={"ingress": []})
    page.get_by_role("button", name="Add ingress rule").click()
    rule = page.locator('[data-rules="ingress"] > [data-rule]').first
    rule.get_by_role("button", name="Add peer").click()
    peer = rule.locator("[data-peer]").first
    peer.get_by_label("Kind of peer").select_option("pods_in_namespaces")
    add_labels(peer.locator('[data-part="namespace_selector"]'), {"kubernetes.io/metadata.name": "kube-system"})
    add_labels(peer.locator('[data-part="pod_selector"]'), {"k8s-app": "kube-dns"})
    assert peer.get_by_label("Same peer (AND)").is_checked()
    assert "only pods matching the pod labels, in namespaces matching" in peer.locator("[data-andor-hint]").inner_text()
    page.wait_for_function("() => document.getElementById('yaml-out').textContent.includes('namespaceSelector')")
    assert page.locator("#yaml-out").inner_text().count("- podSelector") + page.locator("#yaml-out").inner_text().count("- namespaceSelector") == 1

    # Choosing replaces the peers, so click rather than check (the radio is gone after).
    peer.get_by_label("Separate peers (OR)").click()
    peers = rule.locator("[data-peer]")
    assert peers.count() == 2
    assert peers.nth(0).get_by_label("Kind of peer").input_value() == "namespaces"
    assert peers.nth(1).get_by_label("Kind of peer").input_value() == "pods"
    page.locator(".ed-warning", has_text="alternatives (OR)").wait_for()

    peers.nth(1).get_by_label("Same peer (AND)").click()
    assert rule.locator("[data-peer]").count() == 1
    merged = rule.locator("[data-peer]").first
    assert merged.get_by_label("Kind of peer").input_value() == "pods_in_namespaces"
    assert merged.locator('[data-part="pod_selector"] [data-row=label] [aria-label="Label value"]').input_value() == "kube-dns"


def test_pasted_yaml_round_trips_through_the_form_without_losing_a_field(page, sign_in, three_tier):
    from policies import engine

    text = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: everything
  namespace: shop
  labels: {team: payments}
  annotations: {netpolui.io/description: "every field, once"}
spec:
  podSelector:
    matchLabels: {tier: backend}
    matchExpressions:
    - {key: track, operator: NotIn, values: [canary, ""]}
    - {key: legacy, operator: DoesNotExist}
  policyTypes: [Egress, Ingress]
  ingress:
  - from:
    - namespaceSelector: {matchLabels: {team: ops}}
    - namespaceSelector: {matchExpressions: [{key: env, operator: Exists}]}
      podSelector: {matchLabels: {app: prometheus}}
    - podSelector: {}
    ports:
    - {port: metrics}
    - {protocol: UDP, port: 5000, endPort: 5010}
  - {}
  egress:
  - to:
    - ipBlock: {cidr: 203.0.113.0/24, except: [203.0.113.128/25, 203.0.113.8/29]}
    ports:
    - {protocol: SCTP}
"""
    sign_in("editor", "pw-editor")
    page.goto(f"{page.base_url}/clusters/{three_tier.pk}/drafts/new/")
    page.get_by_label("Paste YAML").fill(text)
    page.get_by_role("button", name="Read YAML").click()
    page.wait_for_load_state("networkidle")
    expected = engine.dump_yaml(engine.load_yaml_text(text))
    wait_for_yaml(page, expected)
    assert page.locator("#problem-count").inner_text() == "0"
    # The form shows what it read: the AND peer, the named port, the unset protocol.
    ingress = page.locator('[data-rules="ingress"] > [data-rule]')
    assert ingress.count() == 2
    assert ingress.first.locator("[data-peer]").nth(1).get_by_label("Kind of peer").input_value() == "pods_in_namespaces"
    assert ingress.first.locator("[data-row=port]").first.get_by_label("Protocol").input_value() == ""
    # Touching a field and undoing it changes nothing.
    name = page.get_by_label("Name", exact=True)
    name.fill("everything-x")
    name.fill("everything")
    wait_for_yaml(page, expected)


def test_viewer_reads_a_draft_but_cannot_change_it(page, sign_in, three_tier, users):
    from policies.services import drafts

    from .conftest import BACKEND_POLICY

    draft = drafts.create_draft(three_tier, BACKEND_POLICY, actor=users["editor"])
    sign_in("viewer", "pw-viewer")
    page.goto(f"{page.base_url}/clusters/{three_tier.pk}/drafts/{draft.pk}/")
    wait_for_yaml(page, BACKEND_YAML)
    assert page.get_by_label("Name", exact=True).is_disabled()
    assert page.get_by_role("button", name="Save new revision").count() == 0
    assert page.get_by_role("button", name="Add ingress rule").is_hidden()
    page.locator("#what-if").get_by_text("is a new policy").wait_for()


def test_copy_puts_the_canonical_yaml_on_the_clipboard(page, sign_in, three_tier):
    sign_in("editor", "pw-editor")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=page.base_url)
    build_policy(
        page, page.base_url, three_tier.pk, name="backend-policy", pods={"tier": "backend"},
        rules={"ingress": [{"peers": [("pods", {"tier": "frontend"})], "ports": [("TCP", "8080")]}]},
    )
    wait_for_yaml(page, BACKEND_YAML)
    page.get_by_role("button", name="Copy").click()
    page.get_by_text("YAML copied to the clipboard.").wait_for()
    assert page.evaluate("() => navigator.clipboard.readText()") == BACKEND_YAML


def test_the_three_zone_picture_places_each_peer_in_its_zone(page, sign_in, three_tier):
    sign_in("editor", "pw-editor")
    build_policy(
        page, page.base_url, three_tier.pk, name="backend-policy", pods={"tier": "backend"}, egress=True,
        rules={
            "ingress": [{"peers": [("pods", {"tier": "frontend"})], "ports": [("TCP", "8080")]}],
            "egress": [
                {"peers": [("namespaces", {"kubernetes.io/metadata.name": "kube-system"})], "ports": [("UDP", "53")]},
            ],
        },
    )
    add_rule(page, "egress", peers=[], ports=[])
    rule = page.locator('[data-rules="egress"] > [data-rule]').last
    rule.get_by_role("button", name="Add peer").click()
    peer = rule.locator("[data-peer]").last
    peer.get_by_label("Kind of peer").select_option("ip_block")
    peer.get_by_label("CIDR").fill("203.0.113.0/24")
    zones = page.locator("#zones")
    page.wait_for_function("() => document.getElementById('zones').textContent.includes('203.0.113.0/24')")
    cells = zones.locator(".ed-zone-cell")
    # Rows: this namespace, the cluster, outside; columns: ingress, egress.
    assert "pods [tier=frontend] in shop · TCP 8080" in cells.nth(0).inner_text()
    assert "now: shop/frontend (Deployment)" in cells.nth(0).inner_text()
    assert "kube-system" in cells.nth(3).inner_text()
    assert "now: kube-system/coredns (Deployment)" in cells.nth(3).inner_text()
    assert "203.0.113.0/24 · all ports" in cells.nth(5).inner_text()
    assert "shop/backend (Deployment)" in zones.locator(".ed-zone-selected").inner_text()
    assert "[Deployment]" not in zones.inner_text()


def test_editing_the_yaml_fills_in_the_form(page, sign_in, three_tier):
    sign_in("editor", "pw-editor")
    page.goto(f"{page.base_url}/clusters/{three_tier.pk}/drafts/new/?start=blank&namespace=shop")
    page.get_by_role("button", name="Edit as YAML").click()
    page.get_by_label("Policy YAML").fill(BACKEND_YAML)
    page.wait_for_function("() => document.getElementById('f-name').value === 'backend-policy'")
    rule = page.locator('[data-rules="ingress"] > [data-rule]')
    assert rule.count() == 1
    assert rule.locator("[data-row=port]").get_by_label("Port number or name").input_value() == "8080"
    page.get_by_role("button", name="Edit as YAML").click()
    wait_for_yaml(page, BACKEND_YAML)
