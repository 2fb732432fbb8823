"""A CNI object's watch event moves the state, not the topology: the next analyzer is
derived from the previous one (no model built from the rows) and answers exactly as a
rebuild; a ServiceAccount's event rebuilds."""

from __future__ import annotations

import copy

import pytest

from policies import engine
from policies.k8s.client import CNI_RESOURCES, SERVICE_ACCOUNTS
from policies.mirror import DatabaseMirror
from policies.models import Cluster, CniObject
from policies.services import analysis, cni

from .manifests import CALICO_GNP

pytestmark = pytest.mark.django_db
REAL_BUILD = engine.build_cluster


@pytest.fixture
def builds(monkeypatch):
    """Counts full model builds: calls across the engine boundary, not into our code."""
    calls = []

    def counting(*args, **kwargs):
        calls.append(1)
        return REAL_BUILD(*args, **kwargs)

    monkeypatch.setattr(engine, "build_cluster", counting)
    return calls


def resource(group: str, kind: str):
    return next(r for r in CNI_RESOURCES if (r.group, r.kind) == (group, kind))


def txt(cluster: Cluster) -> str:
    cluster.refresh_from_db()
    return engine.render(analysis.base_reachability(cluster, "workload", "combined"), "txt")


def rebuilt_txt(cluster: Cluster) -> str:
    cluster.refresh_from_db()
    model = REAL_BUILD(analysis.engine_objects(cluster), strict=False, cni=cni.engine_setting(cluster))
    return engine.render(engine.analyze(model), "txt")


def test_cni_policy_events_are_derived_and_equal_a_rebuild(calico_cluster, builds):
    gnp = resource("projectcalico.org", "GlobalNetworkPolicy")
    before = txt(calico_cluster)
    assert len(builds) == 1
    topology = calico_cluster.topology_version
    allow = copy.deepcopy(CALICO_GNP)
    allow["spec"]["ingress"][0]["action"] = "Allow"
    allow["metadata"].update(uid=CniObject.objects.get(cluster=calico_cluster, name="deny-db-from-web").uid, resourceVersion="900")
    DatabaseMirror(calico_cluster.pk).apply_event(gnp, "MODIFIED", gnp.slim(allow), "900")
    after = txt(calico_cluster)
    assert calico_cluster.topology_version == topology  # derived, not rebuilt
    assert len(builds) == 1
    assert after != before
    assert after == rebuilt_txt(calico_cluster)

    DatabaseMirror(calico_cluster.pk).apply_event(gnp, "DELETED", gnp.slim(allow), "901")
    gone = txt(calico_cluster)
    assert len(builds) == 1
    assert gone == rebuilt_txt(calico_cluster)
    assert "calico:GlobalNetworkPolicy:deny-db-from-web" not in analysis.engine_cluster(calico_cluster).cni_policies


def test_a_service_account_event_rebuilds(calico_cluster, builds):
    txt(calico_cluster)
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "new", "namespace": "db", "uid": "sa-2", "resourceVersion": "5", "labels": {"a": "b"}}}
    DatabaseMirror(calico_cluster.pk).apply_event(SERVICE_ACCOUNTS, "ADDED", SERVICE_ACCOUNTS.slim(account), "5")
    txt(calico_cluster)
    assert len(builds) == 2
