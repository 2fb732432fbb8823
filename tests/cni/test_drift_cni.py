"""CNI objects in drift review: a directory (or Git) source holding Calico and Cilium
objects is compared with the mirror object by object (keyed by API group and kind, never
confused with the v1 NetworkPolicy of the same name), with the reachability each change
makes, and the exports name them in their own shape."""

from __future__ import annotations

import copy

import pytest
import yaml

from policies.models import DesiredSource, DriftItem
from policies.services import drift

from .manifests import (
    ANTREA_ANP,
    CALICO_GNP,
    CALICO_NP,
    CALICO_TIER,
    CILIUM_CCNP,
    CILIUM_CNP,
    V1_SAME_NAME,
)

pytestmark = pytest.mark.django_db


def directory(cluster, tmp_path, docs) -> DesiredSource:
    root = tmp_path / "desired"
    root.mkdir(exist_ok=True)
    (root / "policies.yaml").write_text(yaml.safe_dump_all(copy.deepcopy(docs), sort_keys=False))
    return DesiredSource.objects.create(cluster=cluster, kind=DesiredSource.Kind.DIRECTORY, location=str(root))


def items(report) -> dict[str, str]:
    return {item.key: item.kind for item in report.items.all()}


def test_cni_objects_are_missing_extra_or_changed_by_their_key(calico_cluster, tmp_path):
    relaxed = copy.deepcopy(CALICO_GNP)
    relaxed["spec"]["ingress"][0]["action"] = "Allow"  # the desired state allows web -> pg
    directory(calico_cluster, tmp_path, [relaxed, CALICO_NP, CALICO_TIER, V1_SAME_NAME, CILIUM_CCNP])
    report = drift.store_report(drift.run_drift(calico_cluster))
    assert items(report) == {
        "calico:GlobalNetworkPolicy:deny-db-from-web": "changed",
        "cilium:CiliumNetworkPolicy:db/pg-deny-web": "extra",  # live, not desired
        "cilium:CiliumClusterwideNetworkPolicy:fqdn-egress": "missing",
        "db/allow-front": "missing",  # the v1 policy of that name is not confused with Calico's
    }
    gnp = report.items.get(name="calico:GlobalNetworkPolicy:deny-db-from-web")
    assert gnp.namespace == ""
    assert gnp.desired["apiVersion"] == "projectcalico.org/v3"
    assert "action: Allow" in drift.unified_diff(gnp)
    assert "action: Deny" in drift.unified_diff(gnp)
    # Reconciling the GNP would open web -> db on TCP: Calico enforces it here.
    assert any(
        row["src"] == "web/front[Deployment]" and row["dst"] == "db/pg[StatefulSet]"
        for row in gnp.effect["desired_only"]
    ), gnp.effect
    # The extra Cilium policy is not enforced here: removing it changes no answer.
    cnp = report.items.get(kind=DriftItem.Kind.EXTRA)
    assert cnp.effect["counts"] == {"live_only": 0, "desired_only": 0}


def test_exports_apply_and_delete_cni_objects_in_their_own_shape(calico_cluster, tmp_path):
    directory(calico_cluster, tmp_path, [CALICO_GNP, CALICO_NP, CALICO_TIER, CILIUM_CNP])
    in_sync = drift.store_report(drift.run_drift(calico_cluster))
    assert items(in_sync) == {}
    directory_source = DesiredSource.objects.get(cluster=calico_cluster)
    (tmp_path / "desired" / "policies.yaml").write_text(
        yaml.safe_dump_all([CALICO_NP, CALICO_TIER, CILIUM_CCNP], sort_keys=False)
    )
    report = drift.store_report(drift.run_drift(calico_cluster, [directory_source]))
    assert items(report) == {
        "calico:GlobalNetworkPolicy:deny-db-from-web": "extra",
        "cilium:CiliumNetworkPolicy:db/pg-deny-web": "extra",
        "cilium:CiliumClusterwideNetworkPolicy:fqdn-egress": "missing",
    }
    commands = drift.delete_commands(report)
    assert "kubectl delete globalnetworkpolicies.projectcalico.org deny-db-from-web" in commands
    assert "kubectl delete ciliumnetworkpolicies.cilium.io -n db pg-deny-web" in commands
    adopt = list(yaml.safe_load_all(drift.adopt_yaml(report)))
    kinds = {(d["apiVersion"], d["kind"]) for d in adopt if d}
    assert kinds == {("projectcalico.org/v3", "GlobalNetworkPolicy"), ("cilium.io/v2", "CiliumNetworkPolicy")}


def test_a_desired_state_speaks_for_its_namespaces_and_its_cnis_only(calico_cluster, tmp_path):
    source = directory(calico_cluster, tmp_path, [CALICO_NP])
    source.namespaces = "db"
    source.save()
    # The GlobalNetworkPolicy and the Tier are outside the source's namespaces; the Cilium
    # policy belongs to a CNI the desired state holds nothing of.
    assert items(drift.store_report(drift.run_drift(calico_cluster))) == {}
    source.namespaces = ""
    source.save()
    assert items(drift.store_report(drift.run_drift(calico_cluster))) == {
        "calico:GlobalNetworkPolicy:deny-db-from-web": "extra",
        "calico:Tier:security": "extra",
    }


def test_drift_pages_link_cni_items_including_cluster_scoped_ones(calico_cluster, tmp_path, client_for):
    from django.urls import reverse

    directory(calico_cluster, tmp_path, [CALICO_NP, CALICO_TIER, CILIUM_CNP])
    drift.store_report(drift.run_drift(calico_cluster))
    viewer = client_for("viewer")
    page = viewer.get(reverse("drift-summary", args=[calico_cluster.pk])).content.decode()
    item_url = reverse("drift-item-cluster-scoped", args=[calico_cluster.pk, "calico:GlobalNetworkPolicy:deny-db-from-web"])
    assert item_url in page
    item = viewer.get(item_url)
    assert item.status_code == 200
    detail = item.content.decode()
    assert "calico:GlobalNetworkPolicy:deny-db-from-web" in detail
    gnp = next(o for o in calico_cluster.cni_objects.all() if o.name == "deny-db-from-web")
    assert reverse("cni-policy-detail", args=[gnp.pk]) in detail


def cluster_with(tmp_path, live: list[dict]):
    from policies.mirror import load_snapshot
    from policies.models import Cluster

    from .manifests import calico_cluster_objects

    cluster = Cluster.objects.create(name="defaults", source=Cluster.Source.MANIFESTS, manifests_dir=str(tmp_path))
    base = [o for o in calico_cluster_objects() if o["kind"] in ("Namespace", "Pod", "Deployment", "ReplicaSet", "StatefulSet")]
    load_snapshot(cluster, [*base, *live])
    cluster.refresh_from_db()
    return cluster


def as_calico_api_server_returns(obj: dict, types: list[str]) -> dict:
    live = copy.deepcopy(obj)
    live["metadata"]["labels"] = {"projectcalico.org/tier": "default"}
    live["spec"].update(tier="default", types=types)
    return live


def test_calico_defaults_the_api_server_fills_in_are_not_drift(tmp_path):
    egress_only = {
        "apiVersion": "projectcalico.org/v3",
        "kind": "GlobalNetworkPolicy",
        "metadata": {"name": "egress-dns"},
        "spec": {"selector": "all()", "egress": [{"action": "Allow", "protocol": "UDP", "destination": {"ports": [53]}}]},
    }
    cluster = cluster_with(
        tmp_path, [as_calico_api_server_returns(CALICO_NP, ["Ingress"]), as_calico_api_server_returns(egress_only, ["Egress"])]
    )
    directory(cluster, tmp_path, [CALICO_NP, egress_only])
    assert items(drift.store_report(drift.run_drift(cluster))) == {}


def test_calico_fields_the_api_server_keeps_as_written_are_drift(tmp_path):
    cluster = cluster_with(tmp_path, [as_calico_api_server_returns(CALICO_NP, ["Ingress"])])
    both_ways = copy.deepcopy(CALICO_NP)
    both_ways["spec"]["types"] = ["Ingress", "Egress"]  # egress isolated too: not the default
    directory(cluster, tmp_path, [both_ways])
    assert items(drift.store_report(drift.run_drift(cluster))) == {"calico:NetworkPolicy:db/allow-front": "changed"}
    unordered = copy.deepcopy(CALICO_NP)
    del unordered["spec"]["order"]  # no order is "last", never a default of 100
    directory(cluster, tmp_path, [unordered])
    assert items(drift.store_report(drift.run_drift(cluster))) == {"calico:NetworkPolicy:db/allow-front": "changed"}


def as_antrea_webhook_writes(obj: dict) -> dict:
    live = copy.deepcopy(obj)
    live["spec"]["tier"] = "application"
    live["spec"]["ingress"][0]["name"] = "ingress-allow-3f9c2d1"
    return live


def test_antrea_defaults_its_webhook_fills_in_are_not_drift(tmp_path):
    cluster = cluster_with(tmp_path, [as_antrea_webhook_writes(ANTREA_ANP)])
    float_priority = copy.deepcopy(ANTREA_ANP)
    float_priority["spec"]["priority"] = 3.0
    directory(cluster, tmp_path, [float_priority])
    assert items(drift.store_report(drift.run_drift(cluster))) == {}


def test_antrea_rule_names_and_tiers_chosen_by_the_writer_are_drift(tmp_path):
    cluster = cluster_with(tmp_path, [as_antrea_webhook_writes(ANTREA_ANP)])
    named = copy.deepcopy(ANTREA_ANP)
    named["spec"]["ingress"][0]["name"] = "from-anywhere"
    directory(cluster, tmp_path, [named])
    assert items(drift.store_report(drift.run_drift(cluster))) == {"antrea:NetworkPolicy:db/allow-front": "changed"}
    platform = copy.deepcopy(ANTREA_ANP)
    platform["spec"]["tier"] = "platform"
    directory(cluster, tmp_path, [platform])
    assert items(drift.store_report(drift.run_drift(cluster))) == {"antrea:NetworkPolicy:db/allow-front": "changed"}
