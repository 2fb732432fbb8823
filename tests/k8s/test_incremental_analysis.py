"""Reachability after a policy event is derived from the previous analyzer, and always
equals a rebuild from the rows; any other change rebuilds."""

from __future__ import annotations

import copy

import pytest

from policies import engine
from policies.k8s.client import RESOURCES_BY_KIND
from policies.k8s.objects import slim_object
from policies.mirror import DatabaseMirror
from policies.models import Cluster, NetworkPolicy, Pod
from policies.services import analysis

pytestmark = pytest.mark.django_db
REAL_BUILD = engine.build_cluster  # the reference rebuilds are not counted


@pytest.fixture
def builds(monkeypatch):
    """Counts full model builds: calls across the engine boundary, not into our code."""
    calls = []
    real = engine.build_cluster

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "build_cluster", counting)
    return calls


def txt(cluster: Cluster) -> str:
    cluster.refresh_from_db()
    return engine.render(analysis.base_reachability(cluster, "workload", "combined"), "txt")


def rebuilt_txt(cluster: Cluster) -> str:
    model = REAL_BUILD(analysis.engine_objects(cluster), strict=False)
    return engine.render(engine.analyze(model), "txt")


def policy_event(cluster: Cluster, name: str, mutate, event: str = "MODIFIED") -> None:
    row = NetworkPolicy.objects.get(cluster=cluster, namespace="shop", name=name)
    obj = copy.deepcopy(row.obj)
    mutate(obj)
    obj["metadata"]["resourceVersion"] = str(int(cluster.state_version) + 1000)
    DatabaseMirror(cluster.pk).apply_event(
        RESOURCES_BY_KIND["NetworkPolicy"], event, slim_object("NetworkPolicy", obj), obj["metadata"]["resourceVersion"]
    )


def test_policy_change_is_derived_not_rebuilt_and_equals_a_rebuild(demo_cluster, builds):
    before = txt(demo_cluster)
    assert len(builds) == 1

    def open_database(obj):
        # Anyone (outside addresses, pods of open namespaces) may now reach 5432.
        obj["spec"]["ingress"].append({"ports": [{"protocol": "TCP", "port": 5432}]})

    policy_event(demo_cluster, "database-policy", open_database)
    after = txt(demo_cluster)
    assert len(builds) == 1, "a policy event must not rebuild the model"
    assert after != before
    assert after == rebuilt_txt(demo_cluster)


def test_isolation_change_and_deletion_are_derived_exactly(demo_cluster, builds):
    before = txt(demo_cluster)
    policy_event(demo_cluster, "default-deny-all", lambda obj: None, event="DELETED")
    after_delete = txt(demo_cluster)
    assert after_delete == rebuilt_txt(demo_cluster)
    # Without allow-dns nothing isolates the database for egress any more: a source row
    # of the matrix flips from nothing-but-DNS to everything.
    policy_event(demo_cluster, "allow-dns", lambda obj: None, event="DELETED")
    after_flip = txt(demo_cluster)
    assert len(builds) == 1
    assert after_flip == rebuilt_txt(demo_cluster)
    assert "shop/database[StatefulSet] => team-a/web[Deployment] : All Connections" in after_flip
    assert "shop/database[StatefulSet] => team-a/web[Deployment]" not in before


def test_pod_change_rebuilds(demo_cluster, builds):
    txt(demo_cluster)
    row = Pod.objects.filter(cluster=demo_cluster, namespace="shop").first()
    obj = copy.deepcopy(row.obj)
    obj["metadata"]["labels"] = {**obj["metadata"]["labels"], "tier": "database"}
    obj["metadata"]["resourceVersion"] = "pod-2"
    DatabaseMirror(demo_cluster.pk).apply_event(RESOURCES_BY_KIND["Pod"], "MODIFIED", obj, "pod-2")
    after = txt(demo_cluster)
    assert len(builds) == 2
    assert after == rebuilt_txt(demo_cluster)


def test_an_unreadable_policy_is_set_aside_as_a_rebuild_would(demo_cluster, builds):
    txt(demo_cluster)

    def break_it(obj):
        obj["spec"]["ingress"][0]["from"] = [{"ipBlock": {"cidr": "10.0.0.0/33"}}]

    policy_event(demo_cluster, "database-policy", break_it)
    derived = txt(demo_cluster)
    assert len(builds) == 1
    assert derived == rebuilt_txt(demo_cluster)
