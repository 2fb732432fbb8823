"""Calico, Cilium and Antrea resources through the sync: API discovery decides which are
mirrored (absent is not an error), each is listed and watched in the version the
cluster serves, keyed by API group and kind (Calico's and Antrea's NetworkPolicy are not
the v1 one of the same name)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from policies.models import Cluster, CniObject, NetworkPolicy, ServiceAccount, SyncState
from policies.services.sync import ClusterSpec, register_cluster, sync_cluster
from tests.fake_k8s import objects
from tests.fake_k8s.server import FakeKubeApiServer
from tests.k8s.test_sync import FAST, Running, wait_until

from .manifests import (
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

pytestmark = pytest.mark.django_db(transaction=True)


def seed(fake: FakeKubeApiServer) -> None:
    fake.put(objects.namespace("web"))
    fake.put(objects.namespace("db"))
    fake.put_all(objects.deployment_stack("web", "front", {"app": "front"}, replicas=1))
    fake.put(objects.statefulset("db", "pg", {"app": "pg"}, ports=[("pg", 5432, "TCP")]))
    fake.put(V1_SAME_NAME)


@pytest.fixture
def all_cnis() -> Iterator[FakeKubeApiServer]:
    with FakeKubeApiServer(bookmark_interval=1.0, cni_api={"calico", "cilium", "antrea"}) as server:
        yield server
    assert not server.errors


def register(fake: FakeKubeApiServer, tmp_path: Path, name: str = "fake") -> Cluster:
    kubeconfig = fake.write_kubeconfig(tmp_path / f"kubeconfig-{name}")
    return register_cluster(
        ClusterSpec(name=name, source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake")
    )


def keys(cluster: Cluster) -> set[str]:
    return {o.key for o in CniObject.objects.filter(cluster=cluster)}


def test_a_cluster_without_cni_resources_asks_for_none_and_is_not_an_error(fake_k8s, tmp_path):
    seed(fake_k8s)
    cluster = register(fake_k8s, tmp_path)
    messages: list[str] = []
    assert sync_cluster(cluster, once=True, options=FAST, progress=messages.append) is True
    cluster.refresh_from_db()
    assert cluster.last_error == ""
    assert not CniObject.objects.filter(cluster=cluster).exists()
    assert "no Calico, Cilium or Antrea resources served" in messages
    assert not [r for r in fake_k8s.requests if "projectcalico" in r.path or "cilium" in r.path or "antrea" in r.path]
    assert not fake_k8s.find_requests("GET", "/api/v1/serviceaccounts")


def test_served_cni_kinds_are_listed_beside_the_v1_policy_of_the_same_name(all_cnis, tmp_path):
    seed(all_cnis)
    all_cnis.put_all([CALICO_GNP, CALICO_NP, CALICO_TIER, CILIUM_CNP, CILIUM_CCNP, ANTREA_ACNP, ANTREA_ANP, SERVICE_ACCOUNT])
    cluster = register(all_cnis, tmp_path)
    messages: list[str] = []
    assert sync_cluster(cluster, once=True, options=FAST, progress=messages.append) is True
    assert keys(cluster) == {
        "calico:GlobalNetworkPolicy:deny-db-from-web",
        "calico:NetworkPolicy:db/allow-front",
        "calico:Tier:security",
        "cilium:CiliumNetworkPolicy:db/pg-deny-web",
        "cilium:CiliumClusterwideNetworkPolicy:fqdn-egress",
        "antrea:ClusterNetworkPolicy:drop-web-to-db",
        "antrea:NetworkPolicy:db/allow-front",
    }
    # The v1 policy of the same name is still the one v1 row, untouched.
    v1 = NetworkPolicy.objects.get(cluster=cluster)
    assert (v1.namespace, v1.name, v1.obj["apiVersion"]) == ("db", "allow-front", "networking.k8s.io/v1")
    calico = CniObject.objects.get(cluster=cluster, cni="calico", kind="NetworkPolicy")
    assert (calico.api_version, calico.namespace, calico.tier, calico.order) == ("projectcalico.org/v3", "db", "default", 100)
    assert calico.obj["spec"]["ingress"][0]["destination"]["ports"] == [5432]
    assert "managedFields" not in calico.obj["metadata"]
    antrea = CniObject.objects.get(cluster=cluster, cni="antrea", kind="ClusterNetworkPolicy")
    assert (antrea.namespace, antrea.tier, antrea.order, antrea.policy) == ("", "securityops", 5, True)
    assert CniObject.objects.get(cluster=cluster, kind="Tier").policy is False
    # Calico's serviceAccounts selectors need the ServiceAccounts' labels.
    assert list(ServiceAccount.objects.filter(cluster=cluster).values_list("namespace", "name", "labels")) == [
        ("db", "pg", {"role": "database"})
    ]
    # One sync state per resource: the shared plural `networkpolicies` is three.
    states = set(SyncState.objects.filter(cluster=cluster).values_list("resource", flat=True))
    assert {"networkpolicies", "networkpolicies.projectcalico.org", "networkpolicies.crd.antrea.io"} <= states
    assert any(m.startswith("CNI resources served: ") and "ciliumnetworkpolicies.cilium.io" in m for m in messages)


def test_calico_crd_datastore_is_read_when_the_api_server_is_not_installed(tmp_path):
    crd_np = {**CALICO_NP, "apiVersion": "crd.projectcalico.org/v1"}
    with FakeKubeApiServer(cni_api={"calico-crd"}) as fake:
        seed(fake)
        fake.put(crd_np)
        cluster = register(fake, tmp_path)
        assert sync_cluster(cluster, once=True, options=FAST) is True
    row = CniObject.objects.get(cluster=cluster)
    assert (row.key, row.api_version) == ("calico:NetworkPolicy:db/allow-front", "crd.projectcalico.org/v1")


def test_calico_served_both_ways_is_read_once_through_its_api_server(tmp_path):
    with FakeKubeApiServer(cni_api={"calico-both"}) as fake:
        seed(fake)
        fake.put(CALICO_NP)
        fake.put({**CALICO_NP, "apiVersion": "crd.projectcalico.org/v1"})
        cluster = register(fake, tmp_path)
        assert sync_cluster(cluster, once=True, options=FAST) is True
        assert not fake.find_requests("GET", "/apis/crd.projectcalico.org/v1/networkpolicies")
    assert list(CniObject.objects.filter(cluster=cluster).values_list("api_version", flat=True)) == [
        "projectcalico.org/v3"
    ]


def test_watch_follows_cni_adds_changes_and_deletes(all_cnis, tmp_path, api):
    seed(all_cnis)
    cluster = register(all_cnis, tmp_path)
    viewer = api("viewer")

    def listed() -> dict[str, int | float | None]:
        response = viewer.get("/api/cni-policies/", {"cluster": cluster.pk})
        assert response.status_code == 200
        return {row["key"]: row["order"] for row in response.json()["results"]}

    run = Running(cluster).start()
    try:
        wait_until(lambda: NetworkPolicy.objects.filter(cluster=cluster).exists(), 10, "the first list")
        version = Cluster.objects.get(pk=cluster.pk).state_version
        all_cnis.put(CILIUM_CNP)
        wait_until(lambda: keys(cluster) == {"cilium:CiliumNetworkPolicy:db/pg-deny-web"}, 10, "the added CNP")
        assert listed() == {"cilium:CiliumNetworkPolicy:db/pg-deny-web": None}
        assert Cluster.objects.get(pk=cluster.pk).state_version > version
        changed = {**ANTREA_ANP, "spec": {**ANTREA_ANP["spec"], "priority": 7}}
        all_cnis.put(ANTREA_ANP)
        wait_until(lambda: CniObject.objects.filter(cluster=cluster, cni="antrea", order=3).exists(), 10, "the ANP")
        all_cnis.put(changed)
        wait_until(lambda: CniObject.objects.filter(cluster=cluster, cni="antrea", order=7).exists(), 10, "the change")
        assert listed()["antrea:NetworkPolicy:db/allow-front"] == 7
        all_cnis.delete("ciliumnetworkpolicies", "db", "pg-deny-web")
        wait_until(lambda: keys(cluster) == {"antrea:NetworkPolicy:db/allow-front"}, 10, "the deletion")
        assert list(listed()) == ["antrea:NetworkPolicy:db/allow-front"]
        # Deleting the Antrea policy leaves the v1 one of the same name in place.
        all_cnis.delete("networkpolicies.crd.antrea.io", "db", "allow-front")
        wait_until(lambda: not keys(cluster), 10, "the Antrea deletion")
        assert NetworkPolicy.objects.filter(cluster=cluster, name="allow-front").exists()
    finally:
        run.stop()


def test_rows_of_a_cni_no_longer_served_are_dropped(all_cnis, fake_k8s, tmp_path):
    seed(all_cnis)
    all_cnis.put_all([CALICO_GNP, CILIUM_CNP, SERVICE_ACCOUNT])
    cluster = register(all_cnis, tmp_path)
    sync_cluster(cluster, once=True, options=FAST)
    assert len(keys(cluster)) == 2
    seed(fake_k8s)
    kubeconfig = fake_k8s.write_kubeconfig(tmp_path / "kubeconfig2")
    Cluster.objects.filter(pk=cluster.pk).update(kubeconfig_path=str(kubeconfig))
    cluster.refresh_from_db()
    assert sync_cluster(cluster, once=True, options=FAST) is True
    assert not keys(cluster)
    assert not ServiceAccount.objects.filter(cluster=cluster).exists()


def test_a_cni_kind_the_role_may_not_list_names_the_missing_rule(all_cnis, tmp_path):
    seed(all_cnis)
    all_cnis.deny("list", "ciliumnetworkpolicies")
    cluster = register(all_cnis, tmp_path)
    assert sync_cluster(cluster, once=True, options=FAST) is False
    cluster.refresh_from_db()
    assert 'apiGroups: ["cilium.io"], resources: ["ciliumnetworkpolicies"], verbs: ["get", "list", "watch"]' in cluster.last_error


# --- the command line's live read (`--context`) ----------------------------------------------


def test_live_read_includes_the_served_cni_resources_and_calico_service_accounts(all_cnis, tmp_path):
    from policies.k8s.live import read_cluster

    seed(all_cnis)
    all_cnis.put_all([CALICO_NP, CILIUM_CCNP, ANTREA_ANP, SERVICE_ACCOUNT])
    kubeconfig = str(all_cnis.write_kubeconfig(tmp_path / "kubeconfig", context="fake"))
    snapshot = read_cluster("fake", kubeconfig=kubeconfig)
    found = {(o["apiVersion"], o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in snapshot.objects}
    assert {
        ("projectcalico.org/v3", "NetworkPolicy", "db", "allow-front"),
        ("cilium.io/v2", "CiliumClusterwideNetworkPolicy", "", "fqdn-egress"),
        ("crd.antrea.io/v1beta1", "NetworkPolicy", "db", "allow-front"),
        ("networking.k8s.io/v1", "NetworkPolicy", "db", "allow-front"),
        ("v1", "ServiceAccount", "db", "pg"),
    } <= found
    assert snapshot.notes == []


def test_live_read_of_one_namespace_reads_its_cni_policies_and_every_cluster_scoped_one(all_cnis, tmp_path):
    from policies.k8s.live import read_cluster

    seed(all_cnis)
    all_cnis.put_all([CALICO_NP, {**CALICO_NP, "metadata": {"name": "other", "namespace": "web"}}, CALICO_GNP])
    kubeconfig = str(all_cnis.write_kubeconfig(tmp_path / "kubeconfig", context="fake"))
    snapshot = read_cluster("fake", kubeconfig=kubeconfig, namespaces=("db",))
    calico = {o["metadata"]["name"] for o in snapshot.objects if o["apiVersion"].startswith("projectcalico.org")}
    assert calico == {"allow-front", "deny-db-from-web"}
    assert all_cnis.find_requests("GET", "/apis/projectcalico.org/v3/namespaces/db/networkpolicies")


def test_live_read_notes_a_cni_kind_the_role_may_not_list(all_cnis, tmp_path):
    from policies.k8s.live import read_cluster

    seed(all_cnis)
    all_cnis.deny("list", "ciliumclusterwidenetworkpolicies")
    kubeconfig = str(all_cnis.write_kubeconfig(tmp_path / "kubeconfig", context="fake"))
    snapshot = read_cluster("fake", kubeconfig=kubeconfig)
    assert len(snapshot.notes) == 1
    assert snapshot.notes[0].startswith("ciliumclusterwidenetworkpolicies.cilium.io: permission denied")
    assert 'apiGroups: ["cilium.io"], resources: ["ciliumclusterwidenetworkpolicies"]' in snapshot.notes[0]


def test_the_live_cli_answer_applies_the_clusters_calico_policies(all_cnis, tmp_path, capsys):
    """`netpolui analyze --context` reads Calico's GlobalNetworkPolicy (its agent runs in
    kube-system) and drops web -> pg on TCP, as Calico's docs say a Deny rule does."""
    from tests.k8s.test_live_cli import run

    seed(all_cnis)
    all_cnis.delete("networkpolicies", "db", "allow-front")  # no v1 policy: only Calico decides
    all_cnis.put(objects.pod("kube-system", "calico-node-a", {"k8s-app": "calico-node"}, host_network=True))
    kubeconfig = str(all_cnis.write_kubeconfig(tmp_path / "kubeconfig", context="fake"))
    code, before, err = run(capsys, "analyze", "--context", "fake", "--kubeconfig", kubeconfig)
    assert code == 0, err
    assert "web/front[Deployment] => db/pg[StatefulSet] : All Connections" in before.splitlines()
    all_cnis.put(CALICO_GNP)
    code, after, err = run(capsys, "analyze", "--context", "fake", "--kubeconfig", kubeconfig)
    assert code == 0, err
    # Rule 0 denies TCP from web; rule 1 passes the rest on, and no later tier decides.
    assert "web/front[Deployment] => db/pg[StatefulSet] : SCTP 1-65535,UDP 1-65535" in after.splitlines()


def test_each_kind_is_read_in_its_preferred_served_version(tmp_path):
    """Antrea serves v1beta1 since 1.13 and v1alpha1 before (antrea.io, API versioning):
    an older cluster is read in v1alpha1, one serving both in v1beta1 alone."""
    old_anp = {**ANTREA_ANP, "apiVersion": "crd.antrea.io/v1alpha1"}
    with FakeKubeApiServer(cni_api={"antrea-v1alpha1"}) as old:
        seed(old)
        old.put(old_anp)
        cluster = register(old, tmp_path, "old")
        assert sync_cluster(cluster, once=True, options=FAST) is True
    assert list(CniObject.objects.filter(cluster=cluster).values_list("api_version", flat=True)) == ["crd.antrea.io/v1alpha1"]
    with FakeKubeApiServer(cni_api={"antrea", "antrea-v1alpha1"}) as both:
        seed(both)
        both.put(ANTREA_ANP)
        cluster = register(both, tmp_path, "both")
        assert sync_cluster(cluster, once=True, options=FAST) is True
        assert not both.find_requests("GET", "/apis/crd.antrea.io/v1alpha1/networkpolicies")
    assert list(CniObject.objects.filter(cluster=cluster).values_list("api_version", flat=True)) == ["crd.antrea.io/v1beta1"]
