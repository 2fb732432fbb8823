"""Fixtures of the page tests: clients per role, clean caches, a cluster of many rows."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.cache import cache
from django.test import Client

from policies.models import Cluster, Namespace, NetworkPolicy, Pod, Workload
from policies.services import analysis


@pytest.fixture(autouse=True)
def _fresh_caches():
    # Rolled-back tests can hand the next test the same cluster id and state version.
    cache.clear()
    analysis.clear_process_caches()
    yield
    cache.clear()
    analysis.clear_process_caches()


@pytest.fixture
def client_for(users) -> Callable[[str | None], Client]:
    """client_for("viewer") -> a client signed in as that user; None -> anonymous."""

    def make(username: str | None) -> Client:
        client = Client()
        if username is not None:
            client.force_login(users[username])
        return client

    return make


def policy_obj(ns: str, name: str, selector: dict | None = None, **spec) -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns, "uid": f"np-{ns}-{name}"},
        "spec": {"podSelector": selector or {}, **spec},
    }


def add_rows(cluster: Cluster, n: int) -> None:
    """n namespaces, each with a Deployment, a pod of it and an ingress policy selecting it."""
    namespaces, workloads, pods, policies = [], [], [], []
    for i in range(n):
        ns = f"ns-{i:03d}"
        namespaces.append(Namespace(cluster=cluster, uid=f"{cluster.pk}-ns-{ns}", name=ns,
                                    obj={"kind": "Namespace", "metadata": {"name": ns}}))
        workloads.append(Workload(cluster=cluster, uid=f"{cluster.pk}-wl-{ns}", name="web", namespace=ns,
                                  kind="Deployment", top_kind="Deployment", top_name="web",
                                  template_labels={"app": "web"},
                                  obj={"kind": "Deployment", "metadata": {"name": "web", "namespace": ns},
                                       "spec": {"template": {"metadata": {"labels": {"app": "web"}}}}}))
        pods.append(Pod(cluster=cluster, uid=f"{cluster.pk}-pod-{ns}", name="web-1", namespace=ns,
                        labels={"app": "web"}, ips=[f"10.1.{i // 250}.{i % 250 + 1}"], top_kind="Deployment",
                        top_name="web", owner_kind="Deployment", owner_name="web", phase="Running",
                        obj={"kind": "Pod", "metadata": {"name": "web-1", "namespace": ns, "labels": {"app": "web"},
                                                         "ownerReferences": [{"kind": "Deployment", "name": "web",
                                                                              "controller": True}]},
                             "status": {"podIP": f"10.1.{i // 250}.{i % 250 + 1}"}}))
        policies.append(NetworkPolicy(cluster=cluster, uid=f"{cluster.pk}-np-{ns}", name="deny", namespace=ns,
                                      policy_types=["Ingress"],
                                      obj=policy_obj(ns, "deny", {"matchLabels": {"app": "web"}},
                                                     policyTypes=["Ingress"])))
    Namespace.objects.bulk_create(namespaces)
    Workload.objects.bulk_create(workloads)
    Pod.objects.bulk_create(pods)
    NetworkPolicy.objects.bulk_create(policies)


@pytest.fixture
def make_cluster(db) -> Callable[..., Cluster]:
    def make(name: str = "bulk", rows: int = 0) -> Cluster:
        cluster = Cluster.objects.create(name=name, source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")
        add_rows(cluster, rows)
        cluster.bump_state_version()
        return cluster

    return make
