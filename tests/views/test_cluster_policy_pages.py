"""Pages of the cluster-wide policies on the demo cluster, whose platform team set an
Admin tier ClusterNetworkPolicy (Deny, then Pass), a v1alpha1 AdminNetworkPolicy and a
Baseline tier ClusterNetworkPolicy: the list in evaluation order, one policy's ordered
rules, the tiers on workload and pod pages, and explanations that name the deciding rule."""

from __future__ import annotations

import copy
import re
from html import unescape

import pytest
import yaml
from django.urls import reverse

from policies.models import ClusterPolicy, Pod, Workload

pytestmark = pytest.mark.django_db


@pytest.fixture
def viewer(client_for):
    return client_for("viewer")


def cluster_policy(cluster, name: str) -> ClusterPolicy:
    return ClusterPolicy.objects.get(cluster=cluster, name=name)


def rows_of(html: str) -> list[str]:
    return re.findall(r'<tr data-policy="([^"]+)">', html)


def text(html: str) -> str:
    """The page's words without tags or repeated spaces."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_list_shows_every_cluster_wide_policy_in_evaluation_order(viewer, demo_cluster):
    html = viewer.get(reverse("cluster-policy-list", args=[demo_cluster.pk])).content.decode()
    expected = sorted(
        ClusterPolicy.objects.filter(cluster=demo_cluster),
        key=lambda p: (p.tier != "Admin", p.priority if p.priority is not None else 1001, p.kind != "ClusterNetworkPolicy", p.name),
    )
    assert len(expected) >= 3
    assert rows_of(html) == [f"{p.kind}/{p.name}" for p in expected]
    for p in expected:
        row = html[html.index(f'data-policy="{p.kind}/{p.name}"'):]
        row = text(row[: row.index("</tr>")])
        assert p.tier in row
        assert str(p.priority) in row
        for direction in ("ingress", "egress"):
            assert str(len(p.spec.get(direction) or [])) in row


def test_list_names_subject_tier_and_what_it_selects(viewer, demo_cluster):
    html = viewer.get(reverse("cluster-policy-list", args=[demo_cluster.pk])).content.decode()
    row = html[html.index('data-policy="ClusterNetworkPolicy/team-a-guardrails"'):]
    row = text(row[: row.index("</tr>")])
    # team-a has two Deployments: api and web
    assert "pods in namespaces [team=a]" in row
    assert "2 workloads" in row
    assert "Admin" in row


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tier": "Baseline"}, {"ClusterNetworkPolicy/baseline-prod-isolation"}),
        ({"tier": "Admin"}, {"ClusterNetworkPolicy/team-a-guardrails", "AdminNetworkPolicy/prometheus-probes-payments"}),
        ({"kind": "AdminNetworkPolicy"}, {"AdminNetworkPolicy/prometheus-probes-payments"}),
        ({"namespace": "team-a"}, {"ClusterNetworkPolicy/team-a-guardrails"}),
        ({"namespace": "payments"}, {"AdminNetworkPolicy/prometheus-probes-payments", "ClusterNetworkPolicy/baseline-prod-isolation"}),
        ({"namespace": "monitoring"}, set()),
        ({"name": "guard"}, {"ClusterNetworkPolicy/team-a-guardrails"}),
    ],
)
def test_list_filters(viewer, demo_cluster, params, expected):
    response = viewer.get(reverse("cluster-policy-list", args=[demo_cluster.pk]), params)
    assert response.status_code == 200
    assert set(rows_of(response.content.decode())) == expected


def test_list_filter_by_pod_follows_the_subject(viewer, demo_cluster):
    ledger = Pod.objects.get(cluster=demo_cluster, namespace="payments", name="ledger-0")
    html = viewer.get(reverse("cluster-policy-list", args=[demo_cluster.pk]), {"pod": "payments/ledger-0"}).content.decode()
    assert ledger.labels  # the subject of the AdminNetworkPolicy is the whole namespace
    assert set(rows_of(html)) == {
        "AdminNetworkPolicy/prometheus-probes-payments",
        "ClusterNetworkPolicy/baseline-prod-isolation",
    }


def test_list_filter_with_a_bad_value_says_so(viewer, demo_cluster):
    response = viewer.get(reverse("cluster-policy-list", args=[demo_cluster.pk]), {"tier": "Platform"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html
    assert "tier" in html
    assert rows_of(html) == []


def test_navigation_has_a_cluster_wide_entry(viewer, demo_cluster):
    html = viewer.get(reverse("policy-list", args=[demo_cluster.pk])).content.decode()
    nav = html[html.index('aria-label="Main"'):]
    assert f'href="{reverse("cluster-policy-list", args=[demo_cluster.pk])}"' in nav[: nav.index("</nav>")]


def test_detail_shows_ordered_rules_with_actions_peers_and_ports(viewer, demo_cluster):
    policy = cluster_policy(demo_cluster, "baseline-prod-isolation")
    html = viewer.get(reverse("cluster-policy-detail", args=[policy.pk])).content.decode()
    table = html[html.index('data-direction="ingress"'):]
    table = table[: table.index("</table>")]
    rows = re.findall(r'<tr id="ingress-(\d+)">(.*?)</tr>', table, re.S)
    written = policy.spec["ingress"]
    assert [int(i) for i, _ in rows] == list(range(len(written)))
    for (_, row), rule in zip(rows, written, strict=True):
        words = text(row)
        assert rule["name"] in words
        assert rule["action"] in words
    assert "TCP 8443" in text(rows[1][1])
    assert "pods [app=checkout] in namespaces [kubernetes.io/metadata.name=store]" in text(rows[1][1])
    assert "pods in every namespace" in text(rows[2][1])
    page = text(html)
    assert "Baseline" in page
    assert "priority" in page.lower()
    assert "No egress rule" in page


def test_detail_yaml_is_the_policy_without_server_fields(viewer, demo_cluster):
    policy = cluster_policy(demo_cluster, "prometheus-probes-payments")
    response = viewer.get(reverse("cluster-policy-yaml", args=[policy.pk]))
    assert response["Content-Disposition"].startswith("attachment;")
    doc = yaml.safe_load(response.content)
    assert doc["kind"] == "AdminNetworkPolicy"
    assert doc["spec"] == policy.obj["spec"]
    assert set(doc["metadata"]) <= {"name", "labels", "annotations"}


def test_detail_lists_its_findings_and_what_it_selects(viewer, demo_cluster):
    policy = cluster_policy(demo_cluster, "team-a-guardrails")
    html = viewer.get(reverse("cluster-policy-detail", args=[policy.pk])).content.decode()
    findings = html[html.index("object-findings-title"):]
    findings = findings[: findings.index("</section>")]
    # team-a/web: no NetworkPolicy isolates it for ingress, so Pass goes to the Baseline tier
    assert 'data-code="pass-without-network-policy"' in findings
    selected = html[html.index('id="selected-title"'):]
    selected = selected[: selected.index("</section>")]
    for name in ("api", "web"):
        workload = Workload.objects.get(cluster=demo_cluster, namespace="team-a", name=name)
        assert f'href="{reverse("workload-detail", args=[workload.pk])}"' in selected


def test_detail_of_an_unknown_policy_is_a_404(viewer, demo_cluster):
    assert viewer.get(reverse("cluster-policy-detail", args=[999999])).status_code == 404


def _evaluation_order(html: str) -> list[str]:
    block = html[html.index('data-testid="evaluation-order"'):]
    block = block[: block.index("</ol>")]
    return re.findall(r'<li class="tier-(\w+)"(?: data-policy="([^"]+)")?', block)


def test_workload_page_lists_the_tiers_in_evaluation_order(viewer, demo_cluster):
    workload = Workload.objects.get(cluster=demo_cluster, namespace="payments", name="payments-api")
    html = viewer.get(reverse("workload-detail", args=[workload.pk])).content.decode()
    assert _evaluation_order(html) == [
        ("admin", "AdminNetworkPolicy/prometheus-probes-payments"),
        ("networkpolicy", ""),
        ("baseline", "ClusterNetworkPolicy/baseline-prod-isolation"),
    ]
    order = html[html.index('data-testid="evaluation-order"'):]
    for name in ("prometheus-probes-payments", "baseline-prod-isolation", "payments-egress"):
        assert name in order[: order.index("</ol>")]
    probes = cluster_policy(demo_cluster, "prometheus-probes-payments")
    assert f'href="{reverse("cluster-policy-detail", args=[probes.pk])}"' in html


def test_workload_page_without_cluster_wide_policies_keeps_the_plain_list(viewer, demo_cluster):
    workload = Workload.objects.get(cluster=demo_cluster, namespace="monitoring", name="prometheus")
    html = viewer.get(reverse("workload-detail", args=[workload.pk])).content.decode()
    assert 'data-testid="evaluation-order"' not in html


def test_workload_page_connections_name_the_deciding_tier_rule(viewer, demo_cluster):
    workload = Workload.objects.get(cluster=demo_cluster, namespace="payments", name="payments-api")
    html = viewer.get(reverse("workload-detail", args=[workload.pk])).content.decode()
    inbound = html[html.index('id="inbound-title"'):]
    inbound = inbound[: inbound.index("</section>")]
    # not isolated by a NetworkPolicy for ingress, yet the tiers decide: a list, not "everything"
    assert "everything may reach it" not in inbound
    prometheus = inbound[inbound.index('data-peer="monitoring/prometheus[Deployment]"'):]
    prometheus = text(prometheus[: prometheus.index("</li>\n  </ul>") if "</li>\n  </ul>" in prometheus else 3000])
    assert "TCP 8443" in prometheus
    assert 'ingress rule #0 "allow-prometheus-http"' in prometheus
    assert "Allow" in prometheus


def test_pod_page_lists_the_tiers(viewer, demo_cluster):
    pod = Pod.objects.filter(cluster=demo_cluster, namespace="team-a", top_name="web").first()
    html = viewer.get(reverse("pod-detail", args=[pod.pk])).content.decode()
    assert _evaluation_order(html) == [("admin", "ClusterNetworkPolicy/team-a-guardrails"), ("networkpolicy", "")]


def _explain(viewer, cluster, src: str, dst: str, **params) -> str:
    response = viewer.get(
        reverse("explain", args=[cluster.pk]), {"src": src, "dst": dst, **params}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    return response.content.decode()


def test_explanation_names_the_admin_tier_rule_that_denied(viewer, demo_cluster):
    html = _explain(viewer, demo_cluster, "default/toolbox", "team-a/web", port="80", protocol="TCP")
    ingress = html[html.index("Ingress to"):]
    decisions = ingress[ingress.index('data-testid="tier-decisions"'):]
    words = text(decisions[: decisions.index("</ol>")])
    assert "Admin tier" in words
    assert "team-a-guardrails" in words
    assert "ingress rule #0 deny-from-default-namespace" in words
    assert "Deny denied" in words
    guardrails = cluster_policy(demo_cluster, "team-a-guardrails")
    assert f'href="{reverse("cluster-policy-detail", args=[guardrails.pk])}"' in decisions
    assert "✖ denied" in html
    answer = html[html.index('data-testid="answer"'):]
    answer = unescape(text(answer[: answer.index("</p>")]))
    assert (
        'ingress to team-a/web is denied by the Admin tier ClusterNetworkPolicy team-a-guardrails '
        'ingress rule #0 "deny-from-default-namespace" (Deny)'
    ) in answer


def test_one_line_answer_names_the_tier_rule_that_allowed(viewer, demo_cluster):
    html = _explain(viewer, demo_cluster, "monitoring/prometheus", "payments/payments-api", port="8443", protocol="TCP")
    answer = html[html.index('data-testid="answer"'):]
    answer = unescape(text(answer[: answer.index("</p>")]))
    assert "allowed by Admin tier AdminNetworkPolicy prometheus-probes-payments ingress rule #0" in answer
    assert "ingress is not isolated" not in answer


def test_explanation_names_the_baseline_tier_rule(viewer, demo_cluster):
    html = _explain(viewer, demo_cluster, "team-a/web", "payments/ledger")
    words = text(html[html.index("Ingress to"):])
    assert "Baseline tier" in words
    assert "baseline-prod-isolation" in words
    assert "ingress rule #2 deny-other-namespaces" in words


def test_explanation_says_when_the_selecting_policies_decided_nothing(viewer, demo_cluster):
    # team-a-guardrails selects team-a/web, but neither of its rules matches shop's pods.
    html = _explain(viewer, demo_cluster, "shop/frontend", "team-a/web", port="80", protocol="TCP")
    ingress = html[html.index("Ingress to"):]
    assert 'data-testid="tier-undecided"' in ingress
    assert "team-a-guardrails" in text(ingress)


def test_explanation_of_a_graph_edge_at_namespace_level_names_the_tier(viewer, demo_cluster):
    html = _explain(viewer, demo_cluster, "monitoring", "payments", level="namespace")
    words = text(html)
    assert "prometheus-probes-payments" in words
    assert "Allow" in words


def test_overview_findings_include_the_tier_findings(viewer, demo_cluster):
    html = viewer.get(reverse("cluster-overview", args=[demo_cluster.pk])).content.decode()
    policy = cluster_policy(demo_cluster, "team-a-guardrails")
    assert "pass-without-network-policy" in html or "Pass without network policy" in html
    assert f'href="{reverse("cluster-policy-detail", args=[policy.pk])}"' in html


def test_namespace_page_lists_the_cluster_wide_policies_that_apply(viewer, demo_cluster):
    from policies.models import Namespace

    payments = Namespace.objects.get(cluster=demo_cluster, name="payments")
    html = viewer.get(reverse("namespace-detail", args=[payments.pk])).content.decode()
    block = html[html.index('data-testid="namespace-cluster-policies"'):]
    words = text(block[: block.index("</ol>")])
    assert words.index("prometheus-probes-payments") < words.index("baseline-prod-isolation")
    monitoring = Namespace.objects.get(cluster=demo_cluster, name="monitoring")
    html = viewer.get(reverse("namespace-detail", args=[monitoring.pk])).content.decode()
    assert "namespace-cluster-policies" not in html


def test_api_filters_cluster_policies_by_namespace_and_pod_like_the_page(api, demo_cluster):
    client = api("viewer")
    base = f"/api/cluster-policies/?cluster={demo_cluster.pk}"

    def names(query: str) -> set[str]:
        response = client.get(base + query)
        assert response.status_code == 200, response.content
        return {row["name"] for row in response.json()["results"]}

    assert names("&namespace=payments") == {"prometheus-probes-payments", "baseline-prod-isolation"}
    assert names("&namespace=team-a,monitoring") == {"team-a-guardrails"}
    assert names("&pod=payments/ledger-0") == {"prometheus-probes-payments", "baseline-prod-isolation"}
    assert names("&pod=toolbox") == set()


def test_graph_node_panel_lists_the_cluster_wide_policies_in_order(viewer, demo_cluster):
    response = viewer.get(
        reverse("node", args=[demo_cluster.pk]),
        {"id": "payments", "level": "namespace"},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    block = html[html.index('data-testid="node-tier-policies"'):]
    words = text(block[: block.index("</ol>")])
    assert words.index("prometheus-probes-payments") < words.index("baseline-prod-isolation")
    assert "ingress" in words
    assert "team-a-guardrails" not in words


def test_a_pass_with_nothing_behind_it_is_allowed_by_default_and_says_so(viewer, demo_cluster):
    html = _explain(viewer, demo_cluster, "monitoring/prometheus", "team-a/web")
    answer = html[html.index('data-testid="answer"'):]
    answer = unescape(text(answer[: answer.index("</p>")]))
    assert (
        'ingress: Admin tier ClusterNetworkPolicy team-a-guardrails ingress rule #1 "monitoring-decided-by-team" (Pass) '
        "passed it on and nothing else decided, so it is allowed by default"
    ) in answer
    ingress = text(html[html.index("Ingress to"):])
    assert "Pass passed to the NetworkPolicies" in ingress
    assert "Nothing decided All Connections: allowed by default." in ingress


def test_a_rule_that_fails_closed_says_so_on_the_detail_page_and_in_the_api(viewer, demo_cluster):
    policy = cluster_policy(demo_cluster, "baseline-prod-isolation")
    obj = copy.deepcopy(policy.obj)
    obj["spec"]["ingress"][0]["from"] = [{"serviceAccounts": {"namespace": "store", "name": "checkout"}}]
    ClusterPolicy.objects.filter(pk=policy.pk).update(obj=obj, resource_version="fail-closed")
    demo_cluster.bump_state_version(topology=False)
    html = viewer.get(reverse("cluster-policy-detail", args=[policy.pk])).content.decode()
    row = re.search(r'<tr id="ingress-0">(.*?)</tr>', html, re.S)
    assert row is not None
    assert "[fails closed: unknown peer field serviceAccounts]" in text(row.group(1))
    rules = viewer.get(f"/api/cluster-policies/{policy.pk}/").json()["rules"]
    assert rules["ingress"][0]["marks"] == ["fails closed: unknown peer field serviceAccounts"]


def test_a_finding_names_the_workloads_as_the_pages_do(viewer, demo_cluster):
    policy = cluster_policy(demo_cluster, "team-a-guardrails")
    words = text(viewer.get(reverse("cluster-policy-detail", args=[policy.pk])).content.decode())
    assert "passes traffic of pods no NetworkPolicy isolates for ingress (team-a/web (Deployment))" in words
    assert "[Deployment]" not in words
