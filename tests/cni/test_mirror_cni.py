"""CNI objects in the mirror of a manifests cluster: keyed by API group and kind, stable
uids, idempotent reloads, and a state version that moves when one changes."""

from __future__ import annotations

import copy

import pytest

from policies.mirror import load_snapshot, manifest_uid
from policies.models import Cluster, CniObject, NetworkPolicy, ServiceAccount

from .manifests import ANTREA_ANP, CALICO_NP, CILIUM_CNP, SERVICE_ACCOUNT, V1_SAME_NAME

pytestmark = pytest.mark.django_db


@pytest.fixture
def cluster(tmp_path) -> Cluster:
    return Cluster.objects.create(name="files", source=Cluster.Source.MANIFESTS, manifests_dir=str(tmp_path))


def test_policies_sharing_a_name_with_the_v1_one_are_three_rows(cluster):
    counts = load_snapshot(cluster, [V1_SAME_NAME, CALICO_NP, ANTREA_ANP, CILIUM_CNP, SERVICE_ACCOUNT])
    assert NetworkPolicy.objects.get(cluster=cluster).obj["apiVersion"] == "networking.k8s.io/v1"
    assert sorted(CniObject.objects.filter(cluster=cluster).values_list("api_version", "kind", "namespace", "name")) == [
        ("cilium.io/v2", "CiliumNetworkPolicy", "db", "pg-deny-web"),
        ("crd.antrea.io/v1beta1", "NetworkPolicy", "db", "allow-front"),
        ("projectcalico.org/v3", "NetworkPolicy", "db", "allow-front"),
    ]
    assert ServiceAccount.objects.filter(cluster=cluster, name="pg").exists()
    assert counts["NetworkPolicy"] == 1
    assert counts["cni:projectcalico.org/NetworkPolicy"] == 1
    # A Calico and an Antrea NetworkPolicy of the same name do not share a uid.
    assert manifest_uid(CALICO_NP) != manifest_uid(ANTREA_ANP) != manifest_uid(V1_SAME_NAME)


def test_reloading_the_same_files_changes_nothing_and_an_edit_bumps_the_version(cluster):
    load_snapshot(cluster, [CALICO_NP, CILIUM_CNP])
    cluster.refresh_from_db()
    version, topology = cluster.state_version, cluster.topology_version
    load_snapshot(cluster, [CALICO_NP, CILIUM_CNP])
    cluster.refresh_from_db()
    assert cluster.state_version == version
    edited = copy.deepcopy(CALICO_NP)
    edited["spec"]["order"] = 5
    load_snapshot(cluster, [edited, CILIUM_CNP])
    cluster.refresh_from_db()
    assert cluster.state_version > version
    # A CNI object is a policy: the topology stands still, the analyzer derives the change.
    assert cluster.topology_version == topology
    assert CniObject.objects.get(cluster=cluster, cni="calico").order == 5
    load_snapshot(cluster, [edited])
    assert not CniObject.objects.filter(cluster=cluster, cni="cilium").exists()


def test_calico_objects_of_both_groups_are_kept_apart(cluster):
    crd = {**CALICO_NP, "apiVersion": "crd.projectcalico.org/v1"}
    load_snapshot(cluster, [CALICO_NP, crd])
    assert sorted(CniObject.objects.filter(cluster=cluster).values_list("api_version", flat=True)) == [
        "crd.projectcalico.org/v1",
        "projectcalico.org/v3",
    ]
    assert {o.key for o in CniObject.objects.filter(cluster=cluster)} == {"calico:NetworkPolicy:db/allow-front"}
