"""A policy the sync writes while an analyzer is being built must show in the next
analysis: the cache records each policy's version and derives later analyzers from it."""

from __future__ import annotations

import copy

import pytest

from policies import mirror
from policies.models import Cluster
from policies.services import engine_cache
from tests.fake_k8s import objects
from tests.k8s.test_sync_tiers import DENY_WEB_TO_DB

pytestmark = pytest.mark.django_db


def front_to_pg(cluster: Cluster) -> str:
    cluster.refresh_from_db()
    reach = engine_cache.analyzer(cluster).analyze(level="workload")
    return str(reach.conns_between("web/front[Deployment]", "db/pg[StatefulSet]"))


def test_a_policy_written_while_the_model_is_read_shows_in_the_next_analysis(monkeypatch):
    cluster = Cluster.objects.create(name="race", source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")
    mirror.load_snapshot(
        cluster,
        [
            objects.namespace("web"),
            objects.namespace("db"),
            *objects.deployment_stack("web", "front", {"app": "front"}, replicas=1),
            objects.statefulset("db", "pg", {"app": "pg"}, ports=[("pg", 5432, "TCP")]),
        ],
    )
    assert front_to_pg(cluster) == "All Connections"
    # The next build reads the objects, and the sync's write lands right after that read
    # (a watch event: the row and the state version in one transaction, as apply_event).
    policy = copy.deepcopy(DENY_WEB_TO_DB)
    policy["metadata"].update(uid="u-cnp", resourceVersion="7")
    real = engine_cache.engine_objects

    def objects_then_a_write(*args, **kwargs):
        read = real(*args, **kwargs)
        monkeypatch.setattr(engine_cache, "engine_objects", real)  # once
        mirror._upsert(cluster.pk, "ClusterNetworkPolicy", [policy])  # noqa: SLF001 - what apply_event writes
        mirror._bump(cluster.pk, topology=False)  # noqa: SLF001
        return read

    monkeypatch.setattr(engine_cache, "engine_objects", objects_then_a_write)
    mirror._bump(cluster.pk, topology=True)  # noqa: SLF001 - a pod moved: the next analyzer is rebuilt
    front_to_pg(cluster)  # built from the objects read before the policy
    assert front_to_pg(cluster) == "No Connections"  # the version after the write
