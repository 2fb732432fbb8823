"""Fixtures of the API tests: clients per role, a cluster of many rows, clean caches."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from policies.models import Cluster, Namespace, NetworkPolicy, Pod, Workload
from policies.services import analysis


@pytest.fixture(autouse=True)
def _fresh_caches():
    # Rolled-back tests can hand the next test the same cluster id and state version, so
    # answers cached by one must not leak into the next.
    cache.clear()
    analysis.clear_process_caches()
    yield
    cache.clear()
    analysis.clear_process_caches()


@pytest.fixture
def api(users) -> Callable[[str | None], APIClient]:
    """api("viewer") -> a client signed in (session) as that role; api(None) -> anonymous."""

    def client_for(role: str | None) -> APIClient:
        client = APIClient()
        if role is not None:
            client.force_login(users[role])
        return client

    return client_for


def policy_obj(ns: str, name: str, selector: dict | None = None, **spec) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns, "uid": f"np-{ns}-{name}"},
        "spec": {"podSelector": selector or {}, **spec},
    }


def add_rows(cluster: Cluster, n: int, *, prefix: str = "ns") -> None:
    """n namespaces, each with a Deployment, a pod of it and a policy (plain rows)."""
    namespaces, workloads, pods, policies = [], [], [], []
    for i in range(n):
        ns = f"{prefix}-{i:03d}"
        namespaces.append(Namespace(cluster=cluster, uid=f"{cluster.pk}-ns-{ns}", name=ns, labels={"team": f"t{i % 3}"},
                                    obj={"kind": "Namespace", "metadata": {"name": ns}}))
        workloads.append(Workload(cluster=cluster, uid=f"{cluster.pk}-wl-{ns}", name="web", namespace=ns, kind="Deployment",
                                  top_kind="Deployment", top_name="web", template_labels={"app": "web"},
                                  obj={"kind": "Deployment", "metadata": {"name": "web", "namespace": ns}}))
        pods.append(Pod(cluster=cluster, uid=f"{cluster.pk}-pod-{ns}", name="web-1", namespace=ns, labels={"app": "web"},
                        ips=[f"10.1.{i // 250}.{i % 250 + 1}"], top_kind="Deployment", top_name="web", phase="Running",
                        obj={"kind": "Pod", "metadata": {"name": "web-1", "namespace": ns, "labels": {"app": "web"}}}))
        policies.append(NetworkPolicy(cluster=cluster, uid=f"{cluster.pk}-np-{ns}", name="deny", namespace=ns,
                                      policy_types=["Ingress"], obj=policy_obj(ns, "deny", policyTypes=["Ingress"])))
    Namespace.objects.bulk_create(namespaces)
    Workload.objects.bulk_create(workloads)
    Pod.objects.bulk_create(pods)
    NetworkPolicy.objects.bulk_create(policies)


@pytest.fixture
def make_cluster(db) -> Callable[..., Cluster]:
    def make(name: str = "bulk", rows: int = 0) -> Cluster:
        cluster = Cluster.objects.create(name=name, source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")
        add_rows(cluster, rows)
        return cluster

    return make
