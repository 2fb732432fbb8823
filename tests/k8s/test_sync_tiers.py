"""Cluster-wide policies through the sync: API discovery decides whether the
policy.networking.k8s.io kinds (and Nodes) are mirrored; absent is not an error; when
served they are listed and watched like NetworkPolicies, and the analysis uses them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from policies.models import Cluster, ClusterPolicy, Node
from policies.services import analysis, drift_tiers, pages, payloads
from policies.services.sync import ClusterSpec, register_cluster, sync_cluster
from tests.fake_k8s import objects
from tests.fake_k8s.server import FakeKubeApiServer

from .test_sync import FAST, Running, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

DENY_WEB_TO_DB = {
    "apiVersion": "policy.networking.k8s.io/v1alpha2",
    "kind": "ClusterNetworkPolicy",
    "metadata": {"name": "no-web-to-db"},
    "spec": {
        "tier": "Admin",
        "priority": 10,
        "subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "db"}}},
        "ingress": [
            {
                "name": "deny-web",
                "action": "Deny",
                "from": [{"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "web"}}}],
            }
        ],
    },
}
BANP = {
    "apiVersion": "policy.networking.k8s.io/v1alpha1",
    "kind": "BaselineAdminNetworkPolicy",
    "metadata": {"name": "default"},
    "spec": {
        "subject": {"namespaces": {}},
        "egress": [{"name": "no-nodes", "action": "Deny", "to": [{"nodes": {}}]}],
    },
}
NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "node-1", "labels": {"kubernetes.io/hostname": "node-1"}},
    "status": {"addresses": [{"type": "InternalIP", "address": "10.0.0.10"}, {"type": "Hostname", "address": "node-1"}]},
}


def seed(fake: FakeKubeApiServer) -> None:
    fake.put(objects.namespace("web"))
    fake.put(objects.namespace("db"))
    fake.put_all(objects.deployment_stack("web", "front", {"app": "front"}, replicas=1))
    fake.put(objects.statefulset("db", "pg", {"app": "pg"}, ports=[("pg", 5432, "TCP")]))


@pytest.fixture
def policy_api() -> Iterator[FakeKubeApiServer]:
    with FakeKubeApiServer(bookmark_interval=1.0, policy_api=True) as server:
        yield server
    assert not server.errors


def register(fake: FakeKubeApiServer, tmp_path: Path) -> Cluster:
    kubeconfig = fake.write_kubeconfig(tmp_path / "kubeconfig")
    return register_cluster(
        ClusterSpec(name="fake", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake")
    )


def front_to_pg(cluster: Cluster) -> str:
    cluster.refresh_from_db()
    reach = analysis.analyzer(cluster).analyze(level="workload")
    return str(reach.conns_between("web/front[Deployment]", "db/pg[StatefulSet]"))


def test_absent_policy_api_is_not_an_error(fake_k8s, tmp_path):
    seed(fake_k8s)
    cluster = register(fake_k8s, tmp_path)
    messages: list[str] = []
    assert sync_cluster(cluster, once=True, options=FAST, progress=messages.append) is True
    cluster.refresh_from_db()
    assert cluster.last_error == ""
    assert ClusterPolicy.objects.filter(cluster=cluster).count() == 0
    assert any("no cluster-wide policy kinds served" in m for m in messages)
    # Neither the policy kinds nor nodes were asked for.
    assert not fake_k8s.find_requests("GET", "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies")
    assert not fake_k8s.find_requests("GET", "/api/v1/nodes")
    assert front_to_pg(cluster) == "All Connections"


def test_served_kinds_are_listed_with_nodes_and_change_the_analysis(policy_api, tmp_path):
    seed(policy_api)
    policy_api.put(DENY_WEB_TO_DB)
    policy_api.put(BANP)
    policy_api.put(NODE)
    cluster = register(policy_api, tmp_path)
    assert sync_cluster(cluster, once=True, options=FAST) is True
    rows = {(p.kind, p.name, p.tier, p.priority) for p in ClusterPolicy.objects.filter(cluster=cluster)}
    assert rows == {
        ("ClusterNetworkPolicy", "no-web-to-db", "Admin", 10),
        ("BaselineAdminNetworkPolicy", "default", "Baseline", None),
    }
    assert list(Node.objects.filter(cluster=cluster).values_list("name", "addresses")) == [
        ("node-1", ["10.0.0.10", "node-1"])
    ]
    assert front_to_pg(cluster) == "No Connections"
    reach = analysis.analyzer(cluster).analyze(level="workload")
    # The Baseline denies egress to the node's address, nothing else outside.
    assert reach.conns_between("web/front[Deployment]", "10.0.0.10-10.0.0.10[External]").is_empty
    assert str(reach.conns_between("web/front[Deployment]", "10.0.0.11-255.255.255.255[External]")) == "All Connections"


def test_watch_follows_cluster_policy_changes(policy_api, tmp_path):
    seed(policy_api)
    cluster = register(policy_api, tmp_path)
    run = Running(cluster).start()
    try:
        wait_until(lambda: front_to_pg(cluster) == "All Connections", 10, "the first list")
        policy_api.put(DENY_WEB_TO_DB)
        wait_until(lambda: front_to_pg(cluster) == "No Connections", 10, "the ClusterNetworkPolicy")
        changed = {**DENY_WEB_TO_DB, "spec": {**DENY_WEB_TO_DB["spec"], "ingress": [{**DENY_WEB_TO_DB["spec"]["ingress"][0], "action": "Pass"}]}}
        policy_api.put(changed)
        wait_until(lambda: front_to_pg(cluster) == "All Connections", 10, "the Pass")
        policy_api.delete("clusternetworkpolicies", None, "no-web-to-db")
        wait_until(lambda: not ClusterPolicy.objects.filter(cluster=cluster).exists(), 10, "the deletion")
    finally:
        run.stop()


def test_rows_of_kinds_no_longer_served_are_dropped(policy_api, fake_k8s, tmp_path):
    seed(policy_api)
    policy_api.put(DENY_WEB_TO_DB)
    cluster = register(policy_api, tmp_path)
    sync_cluster(cluster, once=True, options=FAST)
    assert ClusterPolicy.objects.filter(cluster=cluster).count() == 1
    # The same cluster after the CRDs were uninstalled.
    seed(fake_k8s)
    kubeconfig = fake_k8s.write_kubeconfig(tmp_path / "kubeconfig2")
    Cluster.objects.filter(pk=cluster.pk).update(kubeconfig_path=str(kubeconfig))
    cluster.refresh_from_db()
    assert sync_cluster(cluster, once=True, options=FAST) is True
    assert ClusterPolicy.objects.filter(cluster=cluster).count() == 0
    assert front_to_pg(cluster) == "All Connections"


@pytest.mark.parametrize("served", [("v1beta1",), ("v1alpha2", "v1beta1")], ids=["v1beta1", "both"])
def test_cluster_network_policy_is_mirrored_as_v1beta1_when_served(served, tmp_path):
    written = {**DENY_WEB_TO_DB, "apiVersion": "policy.networking.k8s.io/v1beta1"}
    with FakeKubeApiServer(policy_api=True, cluster_network_policy_versions=served) as fake:
        seed(fake)
        fake.put(written)
        cluster = register(fake, tmp_path)
        assert sync_cluster(cluster, once=True, options=FAST) is True
        assert not fake.find_requests("GET", "/apis/policy.networking.k8s.io/v1alpha2/clusternetworkpolicies")
    policy = ClusterPolicy.objects.get(cluster=cluster, kind="ClusterNetworkPolicy")
    assert policy.api_version == policy.obj["apiVersion"] == "policy.networking.k8s.io/v1beta1"
    assert front_to_pg(cluster) == "No Connections"
    assert pages.cluster_policy_rules(policy)["ingress"][0]["action"] == "Deny"
    assert "apiVersion: policy.networking.k8s.io/v1beta1\nkind: ClusterNetworkPolicy" in payloads.export_yaml(cluster)
    live = drift_tiers.live_policies(cluster)
    assert list(live) == ["ClusterNetworkPolicy/no-web-to-db"]
    # The same policy written as v1alpha2 in Git is no drift.
    assert drift_tiers.semantically_equal(live["ClusterNetworkPolicy/no-web-to-db"], DENY_WEB_TO_DB)


def test_watch_follows_a_v1beta1_cluster_network_policy(tmp_path):
    written = {**DENY_WEB_TO_DB, "apiVersion": "policy.networking.k8s.io/v1beta1"}
    with FakeKubeApiServer(bookmark_interval=1.0, policy_api=True, cluster_network_policy_versions=("v1beta1",)) as fake:
        seed(fake)
        cluster = register(fake, tmp_path)
        run = Running(cluster).start()
        try:
            wait_until(lambda: front_to_pg(cluster) == "All Connections", 10, "the first list")
            fake.put(written)
            wait_until(lambda: front_to_pg(cluster) == "No Connections", 10, "the ClusterNetworkPolicy")
        finally:
            run.stop()
    assert ClusterPolicy.objects.get(cluster=cluster).api_version == "policy.networking.k8s.io/v1beta1"
