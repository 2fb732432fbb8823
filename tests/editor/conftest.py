"""Fixtures of the editor tests: small policy builders and a 3-tier cluster."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest


def netpol(name: str = "web", namespace: str = "shop", **spec: Any) -> dict[str, Any]:
    """A NetworkPolicy dict; spec defaults to podSelector {}."""
    body = {"podSelector": {}}
    body.update(copy.deepcopy(spec))
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": body,
    }


BACKEND_POLICY = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "backend-policy", "namespace": "shop"},
    "spec": {
        "podSelector": {"matchLabels": {"tier": "backend"}},
        "policyTypes": ["Ingress"],
        "ingress": [
            {
                "from": [{"podSelector": {"matchLabels": {"tier": "frontend"}}}],
                "ports": [{"protocol": "TCP", "port": 8080}],
            }
        ],
    },
}


THREE_TIER_WORKLOADS = (
    Path(__file__).resolve().parents[1] / "engine" / "golden" / "three_tier" / "input" / "workloads.yaml"
)


@pytest.fixture
def three_tier(tmp_path, users):
    """A cluster with the 3-tier example's workloads (shop: frontend, backend, database;
    kube-system: coredns) and no NetworkPolicy at all."""
    from policies.services.sync import ClusterSpec, load_manifests, register_cluster

    directory = tmp_path / "three-tier"
    directory.mkdir()
    shutil.copy(THREE_TIER_WORKLOADS, directory / "workloads.yaml")
    cluster = register_cluster(
        ClusterSpec(name="three-tier", source="manifests", manifests_dir=str(directory))
    )
    load_manifests(cluster)
    return cluster
