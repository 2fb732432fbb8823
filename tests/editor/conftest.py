"""Fixtures of the editor tests: clean caches, clients per role, small policy builders."""

from __future__ import annotations

import copy
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from policies.services import analysis


@pytest.fixture(scope="session", autouse=True)
def _sync_database_calls_beside_playwright():
    # Playwright's sync API leaves an event loop running in the test thread for as long as
    # the session's browser lives; Django's database calls from that thread (fixtures, the
    # live server, later tests) are still synchronous and safe. Set from the first editor
    # test of the session to its end, then restored (as tests/e2e does).
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _fresh_caches():
    # Rolled-back tests can hand the next test the same cluster id and state version.
    cache.clear()
    analysis.clear_process_caches()
    yield
    cache.clear()
    analysis.clear_process_caches()


@pytest.fixture
def api(users) -> Callable[[str | None], APIClient]:
    """api("editor") -> an API client signed in (session) as that role; api(None) -> anonymous."""

    def client_for(role: str | None) -> APIClient:
        client = APIClient()
        if role is not None:
            client.force_login(users[role])
        return client

    return client_for


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
