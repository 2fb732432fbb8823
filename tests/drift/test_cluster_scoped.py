"""Cluster-scoped policies (ClusterNetworkPolicy, AdminNetworkPolicy,
BaselineAdminNetworkPolicy) in drift review, on the demo cluster and its three
cluster-wide policies: compared on their canonical form (rule order matters), with the
reachability each difference makes, the kubectl command that deletes an extra one, and
never reported when the desired state holds no cluster-scoped policy at all."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from policies.models import ClusterPolicy, DesiredSource, DriftItem
from policies.services import drift

from .conftest import DEMO_DIR, demo_policies

pytestmark = pytest.mark.django_db


def cluster_wide() -> list[dict[str, Any]]:
    """The demo's cluster-wide policies, as documents."""
    docs = yaml.safe_load_all((DEMO_DIR / "cluster-policies.yaml").read_text())
    return [d for d in docs if d]


def named(docs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(d for d in docs if d["metadata"]["name"] == name)


def upload(cluster, docs: list[dict[str, Any]], **fields: Any) -> DesiredSource:
    return DesiredSource.objects.create(
        cluster=cluster, kind=DesiredSource.Kind.UPLOAD, yaml_text=yaml.safe_dump_all(docs), file_name="desired.yaml", **fields
    )


def items(result: drift.DriftResult) -> set[tuple[str, str]]:
    return {(d.kind, d.key) for d in result.differences}


def test_the_demo_with_its_cluster_wide_policies_has_no_drift(demo_cluster):
    upload(demo_cluster, demo_policies() + cluster_wide())
    result = drift.run_drift(demo_cluster)
    assert items(result) == set()
    assert result.in_sync == len(demo_policies()) + ClusterPolicy.objects.filter(cluster=demo_cluster).count()


def test_a_directory_source_reads_the_cluster_wide_policies(demo_cluster, settings):
    DesiredSource.objects.create(cluster=demo_cluster, kind=DesiredSource.Kind.DIRECTORY, location=str(DEMO_DIR))
    result = drift.run_drift(demo_cluster)
    assert items(result) == set()
    assert result.desired_count == len(demo_policies()) + len(cluster_wide())


def test_a_desired_state_without_cluster_wide_policies_speaks_for_none(demo_cluster):
    upload(demo_cluster, demo_policies())
    result = drift.run_drift(demo_cluster)
    assert items(result) == set()
    assert result.live_count == len(demo_policies())


def test_a_changed_rule_is_drift_with_its_reachability(demo_cluster):
    desired = cluster_wide()
    guard = named(desired, "team-a-guardrails")
    guard["spec"]["ingress"] = guard["spec"]["ingress"][1:]  # the Deny from default is gone
    upload(demo_cluster, demo_policies() + desired)
    result = drift.run_drift(demo_cluster)
    assert items(result) == {("changed", "ClusterNetworkPolicy/team-a-guardrails")}
    diff = result.differences[0]
    assert (diff.namespace, diff.name) == ("ClusterNetworkPolicy", "team-a-guardrails")
    assert diff.desired["spec"]["ingress"] == guard["spec"]["ingress"]
    gained = {(r["src"], r["dst"]) for r in diff.effect["desired_only"]}
    assert ("default/toolbox[Pod]", "team-a/web[Deployment]") in gained
    assert diff.effect["live_only"] == []
    assert ("default/toolbox[Pod]", "team-a/web[Deployment]") in {
        (r["src"], r["dst"]) for r in result.reachability["desired_only"]
    }


def test_rule_order_is_meaning(demo_cluster):
    desired = cluster_wide()
    baseline = named(desired, "baseline-prod-isolation")
    baseline["spec"]["ingress"].reverse()  # the Deny first: nothing is accepted any more
    upload(demo_cluster, demo_policies() + desired)
    result = drift.run_drift(demo_cluster)
    assert items(result) == {("changed", "ClusterNetworkPolicy/baseline-prod-isolation")}
    lost = {(r["src"], r["dst"]) for r in result.differences[0].effect["live_only"]}
    assert ("store/checkout[Deployment]", "payments/payments-api[Deployment]") in lost


def test_the_same_policy_written_differently_is_not_drift(demo_cluster):
    desired = cluster_wide()
    baseline = named(desired, "baseline-prod-isolation")
    # the peers of one rule are a set: the same peer written twice is that peer once
    rule = baseline["spec"]["ingress"][0]
    rule["from"] = [{"namespaces": {"matchLabels": {"env": "prod"}}}, {"namespaces": {"matchLabels": {"env": "prod"}}}]
    upload(demo_cluster, demo_policies() + desired)
    assert items(drift.run_drift(demo_cluster)) == set()


def test_extra_and_missing_cluster_wide_policies_and_their_exports(demo_cluster):
    desired = [d for d in cluster_wide() if d["metadata"]["name"] != "baseline-prod-isolation"]
    new = copy.deepcopy(named(desired, "team-a-guardrails"))
    new["metadata"]["name"] = "deny-metadata"
    new["spec"] = {
        "tier": "Admin",
        "priority": 5,
        "subject": {"namespaces": {}},
        "egress": [{"action": "Deny", "to": [{"networks": ["169.254.169.254/32"]}]}],
    }
    upload(demo_cluster, demo_policies() + desired + [new])
    report = drift.compute_drift(demo_cluster)
    assert {(i.kind, i.namespace, i.name) for i in report.items.all()} == {
        (DriftItem.Kind.EXTRA, "ClusterNetworkPolicy", "baseline-prod-isolation"),
        (DriftItem.Kind.MISSING, "ClusterNetworkPolicy", "deny-metadata"),
    }
    assert drift.delete_commands(report) == ["kubectl delete clusternetworkpolicy baseline-prod-isolation"]
    reconcile = drift.reconcile_yaml(report)
    docs = [d for d in yaml.safe_load_all(reconcile) if d]
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [("ClusterNetworkPolicy", "deny-metadata")]
    assert "#   kubectl delete clusternetworkpolicy baseline-prod-isolation" in reconcile
    adopt = [d for d in yaml.safe_load_all(drift.adopt_yaml(report)) if d]
    assert [(d["kind"], d["metadata"]["name"]) for d in adopt] == [("ClusterNetworkPolicy", "baseline-prod-isolation")]
    # removing the Baseline policy gives payments back to every namespace
    extra = report.items.get(kind=DriftItem.Kind.EXTRA)
    assert ("team-a/web[Deployment]", "payments/ledger[StatefulSet]") in {
        (r["src"], r["dst"]) for r in extra.effect["desired_only"]
    }


def test_an_invalid_cluster_wide_policy_is_a_problem_and_its_live_twin_is_left_alone(demo_cluster):
    desired = cluster_wide()
    named(desired, "team-a-guardrails")["spec"]["priority"] = 5000
    upload(demo_cluster, demo_policies() + desired)
    result = drift.run_drift(demo_cluster)
    assert items(result) == set()
    assert any("spec.priority" in str(p) and "ClusterNetworkPolicy team-a-guardrails" in str(p) for p in result.problems)


def test_a_source_limited_to_namespaces_speaks_for_no_cluster_wide_policy(demo_cluster):
    upload(demo_cluster, [d for d in demo_policies() if d["metadata"]["namespace"] == "shop"] + cluster_wide()[:1], namespaces="shop")
    result = drift.run_drift(demo_cluster)
    assert items(result) == set()


def test_drift_pages_show_a_cluster_wide_difference(demo_cluster, client_for):
    from django.urls import reverse

    desired = cluster_wide()
    named(desired, "team-a-guardrails")["spec"]["priority"] = 11
    upload(demo_cluster, demo_policies() + desired)
    drift.compute_drift(demo_cluster)
    viewer = client_for("viewer")
    summary = viewer.get(reverse("drift-summary", args=[demo_cluster.pk])).content.decode()
    url = reverse("drift-item", args=[demo_cluster.pk, "ClusterNetworkPolicy", "team-a-guardrails"])
    assert url in summary
    page = viewer.get(url)
    assert page.status_code == 200
    assert "priority: 11" in page.content.decode()
