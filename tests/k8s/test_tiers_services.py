"""Services on a cluster with cluster-wide policies: export, findings tied to their rows,
the cluster-wide policies applying to a pod, explain."""

from __future__ import annotations

import pytest
import yaml

from policies.models import ClusterPolicy
from policies.services import analysis
from policies.services.sync import ClusterSpec, load_manifests, register_cluster

pytestmark = pytest.mark.django_db

MANIFESTS = """
apiVersion: v1
kind: Namespace
metadata: {name: web}
---
apiVersion: v1
kind: Namespace
metadata: {name: db}
---
apiVersion: v1
kind: Pod
metadata: {name: front, namespace: web, labels: {app: front}}
spec: {containers: [{name: c}]}
---
apiVersion: v1
kind: Pod
metadata: {name: pg, namespace: db, labels: {app: pg}}
spec: {containers: [{name: c}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: a-deny}
spec:
  tier: Admin
  priority: 10
  subject: {namespaces: {matchLabels: {kubernetes.io/metadata.name: db}}}
  ingress:
  - {name: no-web, action: Deny, from: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: web}}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: b-allow}
spec:
  priority: 10
  subject: {namespaces: {}}
  ingress:
  - {name: all, action: Allow, from: [{namespaces: {}}]}
"""


@pytest.fixture
def cluster(tmp_path):
    (tmp_path / "all.yaml").write_text(MANIFESTS)
    c = register_cluster(ClusterSpec(name="tiers", source="manifests", manifests_dir=str(tmp_path)))
    load_manifests(c)
    c.refresh_from_db()
    return c


def test_manifest_cluster_mirrors_cluster_policies_and_answers_with_them(cluster):
    assert sorted(ClusterPolicy.objects.filter(cluster=cluster).values_list("kind", "tier", "priority")) == [
        ("AdminNetworkPolicy", "Admin", 10),
        ("ClusterNetworkPolicy", "Admin", 10),
    ]
    reach = analysis.analyzer(cluster).analyze(level="workload")
    assert reach.conns_between("web/front[Pod]", "db/pg[Pod]").is_empty
    explained = analysis.explain(cluster, "web/front", "db/pg", port=5432, protocol="TCP")
    assert explained["ingress"]["tier_matches"][0]["policy"] == "ClusterNetworkPolicy/a-deny"


def test_export_puts_cluster_policies_first_in_evaluation_order(cluster):
    docs = list(yaml.safe_load_all(analysis.export_yaml(cluster)))
    assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
        ("ClusterNetworkPolicy", "a-deny"),
        ("AdminNetworkPolicy", "b-allow"),
    ]
    assert "namespace" not in docs[0]["metadata"]
    assert analysis.export_yaml(cluster, namespace="db").strip() in ("", "[]")


def test_tier_findings_link_their_rows(cluster):
    found = [f for f in analysis.findings(cluster) if f.code == "tier-equal-priority"]
    assert len(found) == 1
    row = ClusterPolicy.objects.get(cluster=cluster, kind="AdminNetworkPolicy")
    assert (found[0].object_kind, found[0].object_name, found[0].object_id) == ("AdminNetworkPolicy", "b-allow", row.pk)


def test_cluster_policies_applying_to_a_pod_in_evaluation_order(cluster):
    applying = analysis.cluster_policies_applying(cluster, "db", {"app": "pg"})
    assert [p["key"] for p in applying["ingress"]] == ["ClusterNetworkPolicy/a-deny", "AdminNetworkPolicy/b-allow"]
    assert applying["egress"] == []
    assert [p["key"] for p in analysis.cluster_policies_applying(cluster, "web", {"app": "front"})["ingress"]] == [
        "AdminNetworkPolicy/b-allow"
    ]
    assert analysis.cluster_policies_applying(cluster, "web", {}, host_network=True)["ingress"] == []
