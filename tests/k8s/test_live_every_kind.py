"""`--context` reads every kind the engine reads from manifests: v1 NetworkPolicies, the
Network Policy API's AdminNetworkPolicy, BaselineAdminNetworkPolicy and ClusterNetworkPolicy
(v1alpha2 or v1beta1, whichever the cluster serves), Nodes, and each CNI's resources; and
every command answers as it does on the same objects written as files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from policies.k8s.live import read_cluster
from policies.k8s.sync import SyncOptions
from tests.cni.manifests import (
    ANTREA_ACNP,
    ANTREA_ANP,
    CALICO_GNP,
    CALICO_NP,
    CALICO_TIER,
    CILIUM_CCNP,
    CILIUM_CNP,
    SERVICE_ACCOUNT,
    V1_SAME_NAME,
)
from tests.fake_k8s import objects
from tests.fake_k8s.server import FakeKubeApiServer

from .test_live_cli import deny_frontend_to_backend, run, seed

POLICY_GROUP = "policy.networking.k8s.io"
NODE = {
    "apiVersion": "v1",
    "kind": "Node",
    "metadata": {"name": "node-a", "labels": {"node-role.kubernetes.io/worker": ""}},
    "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.10"}]},
}
BASELINE = {
    "apiVersion": f"{POLICY_GROUP}/v1alpha1",
    "kind": "BaselineAdminNetworkPolicy",
    "metadata": {"name": "default"},
    "spec": {
        "subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "ops"}}},
        "ingress": [{"name": "nobody-in", "action": "Deny",
                     "from": [{"namespaces": {"matchLabels": {}}}]}],
    },
}


def cluster_network_policy(version: str) -> dict:
    """Admin tier: nothing in ops may reach the nodes; web may reach only db's port 5432."""
    return {
        "apiVersion": f"{POLICY_GROUP}/{version}",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": "guardrails"},
        "spec": {
            "tier": "Admin",
            "priority": 5,
            "subject": {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "ops"}}},
            "egress": [{"name": "no-nodes", "action": "Deny", "to": [{"nodes": {"matchLabels": {}}}]},
                       {"name": "no-internet", "action": "Deny", "to": [{"networks": ["0.0.0.0/0"]}]}],
        },
    }


def second_admin_policy() -> dict:
    """Another AdminNetworkPolicy, so that its list takes two pages of one."""
    policy = deny_frontend_to_backend()
    return {**policy, "metadata": {"name": "freeze-backend-later"}, "spec": {**policy["spec"], "priority": 20}}


CNI_OBJECTS = {
    "calico": [CALICO_TIER, CALICO_GNP, CALICO_NP, SERVICE_ACCOUNT],
    "cilium": [CILIUM_CNP, CILIUM_CCNP],
    "antrea": [ANTREA_ACNP, ANTREA_ANP],
}


def every_kind(fake: FakeKubeApiServer, cni: str, version: str) -> None:
    """Two sets of apps, every policy kind, a Node."""
    seed(fake)
    fake.put_all([
        objects.namespace("web"), objects.namespace("db"),
        *objects.deployment_stack("web", "front", {"app": "front"}, replicas=1),
        objects.statefulset("db", "pg", {"app": "pg"}, ports=[("pg", 5432, "TCP")]),
        V1_SAME_NAME, NODE, deny_frontend_to_backend(), second_admin_policy(), BASELINE,
        cluster_network_policy(version),
        *CNI_OBJECTS[cni],
    ])


@pytest.fixture(params=[(cni, version) for cni in CNI_OBJECTS for version in ("v1alpha2", "v1beta1")],
                ids=lambda p: f"{p[0]}-{p[1]}")
def cluster(request, tmp_path) -> Iterator[tuple[FakeKubeApiServer, str, Path]]:
    """A cluster of one CNI serving ClusterNetworkPolicy in one version: its kubeconfig
    and its objects as a manifest file (as `kubectl get -o yaml` writes them)."""
    cni, version = request.param
    with FakeKubeApiServer(policy_api=True, cni_api={cni}, cluster_network_policy_versions=(version,)) as fake:
        every_kind(fake, cni, version)
        kubeconfig = str(fake.write_kubeconfig(tmp_path / "kubeconfig", context="fake"))
        files = tmp_path / "cluster.yaml"
        files.write_text(yaml.safe_dump_all([o for r in fake.served for o in fake.objects(r.qualified)]))
        yield fake, kubeconfig, files


def kinds_read(snapshot) -> set[tuple[str, str]]:
    return {(o["apiVersion"], o["kind"]) for o in snapshot.objects}


def test_every_policy_kind_is_read_in_the_version_the_cluster_serves(cluster, request):
    fake, kubeconfig, _files = cluster
    cni, version = request.node.callspec.params["cluster"]
    snapshot = read_cluster("fake", kubeconfig=kubeconfig, options=SyncOptions(page_size=1))
    assert snapshot.notes == []
    assert {
        ("networking.k8s.io/v1", "NetworkPolicy"),
        (f"{POLICY_GROUP}/v1alpha1", "AdminNetworkPolicy"),
        (f"{POLICY_GROUP}/v1alpha1", "BaselineAdminNetworkPolicy"),
        (f"{POLICY_GROUP}/{version}", "ClusterNetworkPolicy"),
        ("v1", "Node"),
        *((o["apiVersion"], o["kind"]) for o in CNI_OBJECTS[cni]),
    } <= kinds_read(snapshot)
    # every list, the custom resources' too, asked for pages (limit, then continue)
    for path in (f"/apis/{POLICY_GROUP}/{version}/clusternetworkpolicies", "/api/v1/nodes",
                 f"/apis/{POLICY_GROUP}/v1alpha1/adminnetworkpolicies"):
        assert fake.find_requests("GET", path, limit="1"), path
    admin_pages = fake.find_requests("GET", f"/apis/{POLICY_GROUP}/v1alpha1/adminnetworkpolicies", limit="1")
    assert [bool(r.query.get("continue")) for r in admin_pages] == [False, True]
    group_version = CNI_OBJECTS[cni][0]["apiVersion"]
    assert [r for r in fake.requests if r.path.startswith(f"/apis/{group_version}/") and r.query.get("limit") == "1"]


@pytest.mark.parametrize(
    "command",
    [
        ["analyze"],
        ["lint", "-o", "json"],
        ["explain", "--src", "ops/monitor", "--dst", "192.0.2.10", "--port", "10250"],
        ["explain", "--src", "web/front", "--dst", "db/pg", "--port", "5432"],
    ],
    ids=lambda c: " ".join(c),
)
def test_live_answers_equal_the_answers_on_the_same_objects_as_files(cluster, command, capsys):
    _fake, kubeconfig, files = cluster
    code, live, err = run(capsys, *command, "--context", "fake", "--kubeconfig", kubeconfig)
    assert code == 0, err
    code, from_files, file_err = run(capsys, *command, str(files))
    assert code == 0, file_err
    assert live == from_files
    assert live.strip()


def test_the_cluster_network_policy_decides_in_the_live_answer(cluster, capsys):
    _fake, kubeconfig, _files = cluster
    code, out, err = run(capsys, "explain", "--context", "fake", "--kubeconfig", kubeconfig,
                         "--src", "ops/monitor", "--dst", "192.0.2.10", "--port", "10250")
    assert code == 0, err
    assert "guardrails" in out
    assert "no-nodes" in out


def test_a_cluster_serving_both_versions_is_read_in_v1beta1_alone(tmp_path):
    with FakeKubeApiServer(policy_api=True, cluster_network_policy_versions=("v1alpha2", "v1beta1")) as fake:
        fake.put(cluster_network_policy("v1beta1"))
        kubeconfig = str(fake.write_kubeconfig(tmp_path / "kubeconfig", context="fake"))
        snapshot = read_cluster("fake", kubeconfig=kubeconfig)
        assert not fake.find_requests("GET", f"/apis/{POLICY_GROUP}/v1alpha2/clusternetworkpolicies")
    assert [o["apiVersion"] for o in snapshot.objects if o["kind"] == "ClusterNetworkPolicy"] == [
        f"{POLICY_GROUP}/v1beta1"
    ]
    assert snapshot.notes == []
