"""/api/cluster-policies/: cluster-wide policies with scope, tier, priority and their
ordered rules; /api/policies/ says NetworkPolicies are namespaced, in their own tier."""

from __future__ import annotations

import pytest

from policies.services.sync import ClusterSpec, load_manifests, register_cluster

pytestmark = pytest.mark.django_db

MANIFESTS = """
apiVersion: v1
kind: Pod
metadata: {name: pg, namespace: db, labels: {app: pg}}
spec: {containers: [{name: c}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: db}
spec: {podSelector: {}}
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: BaselineAdminNetworkPolicy
metadata: {name: default}
spec:
  subject: {namespaces: {}}
  ingress: [{name: base, action: Deny, from: [{namespaces: {}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: baseline-web}
spec:
  tier: Baseline
  priority: 3
  subject: {namespaces: {}}
  ingress: [{name: web, action: Accept, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: web}}}}], protocols: [{tcp: {destinationPort: {number: 5432}}}]}]
---
apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: guard}
spec:
  priority: 7
  subject: {pods: {namespaceSelector: {}, podSelector: {matchLabels: {app: pg}}}}
  egress:
  - {name: metadata, action: Deny, to: [{networks: [169.254.169.254/32]}]}
  - {name: dns, action: Allow, to: [{namespaces: {}}], ports: [{portNumber: {protocol: UDP, port: 53}}]}
"""


@pytest.fixture
def tiered(tmp_path):
    (tmp_path / "all.yaml").write_text(MANIFESTS)
    cluster = register_cluster(ClusterSpec(name="tiered", source="manifests", manifests_dir=str(tmp_path)))
    load_manifests(cluster)
    return cluster


def test_cluster_policies_in_evaluation_order_with_rules(api, tiered):
    body = api("viewer").get(f"/api/cluster-policies/?cluster={tiered.pk}").json()
    rows = [(r["scope"], r["kind"], r["name"], r["tier"], r["priority"]) for r in body["results"]]
    assert rows == [
        ("Cluster", "AdminNetworkPolicy", "guard", "Admin", 7),
        ("Cluster", "ClusterNetworkPolicy", "baseline-web", "Baseline", 3),
        ("Cluster", "BaselineAdminNetworkPolicy", "default", "Baseline", None),
    ]
    guard = body["results"][0]
    assert [(r["index"], r["name"], r["action"]) for r in guard["rules"]["egress"]] == [
        (0, "metadata", "Deny"),
        (1, "dns", "Allow"),
    ]
    assert guard["rules"]["egress"][0]["peers"] == ["networks 169.254.169.254/32"]
    assert guard["rules"]["egress"][1]["ports"] == "UDP 53"
    assert "kind: AdminNetworkPolicy" in guard["yaml"]
    assert "uid" not in guard["yaml"]


def test_cluster_policy_filters_and_detail(api, tiered):
    client = api("viewer")
    baseline = client.get(f"/api/cluster-policies/?cluster={tiered.pk}&tier=Baseline").json()
    assert {r["name"] for r in baseline["results"]} == {"baseline-web", "default"}
    first = baseline["results"][0]
    detail = client.get(f"/api/cluster-policies/{first['id']}/").json()
    assert detail["name"] == first["name"]
    assert client.get("/api/cluster-policies/?tier=Middle").status_code == 400


def test_network_policies_say_scope_and_tier(api, tiered):
    body = api("viewer").get(f"/api/policies/?cluster={tiered.pk}").json()
    assert [(r["name"], r["scope"], r["tier"], r["priority"]) for r in body["results"]] == [
        ("deny", "Namespaced", "NetworkPolicy", None)
    ]


def test_anonymous_is_refused(client, tiered):
    assert client.get("/api/cluster-policies/").status_code in (401, 403)
