from __future__ import annotations

import pytest

from policies.mirror import load_snapshot
from policies.models import Cluster

from .manifests import calico_cluster_objects


@pytest.fixture
def calico_cluster(db, tmp_path) -> Cluster:
    cluster = Cluster.objects.create(name="calico", source=Cluster.Source.MANIFESTS, manifests_dir=str(tmp_path))
    load_snapshot(cluster, calico_cluster_objects())
    cluster.refresh_from_db()
    return cluster
