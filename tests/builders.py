"""Small builders for tests: policy dicts and clusters of many mirrored rows."""

from __future__ import annotations

from typing import Any

from policies.models import Cluster, Namespace, NetworkPolicy, Pod, Workload


def policy_obj(ns: str, name: str, selector: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    """A NetworkPolicy as the API returns it (with a uid); spec fields as keywords."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns, "uid": f"np-{ns}-{name}"},
        "spec": {"podSelector": selector or {}, **spec},
    }


def add_rows(cluster: Cluster, n: int, *, prefix: str = "ns") -> None:
    """n namespaces, each with a Deployment, a pod of it and an ingress policy selecting
    it, written as plain rows (no sync): for lists and query counts."""
    namespaces, workloads, pods, policies = [], [], [], []
    for i in range(n):
        ns = f"{prefix}-{i:03d}"
        ip = f"10.1.{i // 250}.{i % 250 + 1}"
        namespaces.append(Namespace(
            cluster=cluster, uid=f"{cluster.pk}-ns-{ns}", name=ns, labels={"team": f"t{i % 3}"},
            obj={"kind": "Namespace", "metadata": {"name": ns, "labels": {"team": f"t{i % 3}"}}},
        ))
        workloads.append(Workload(
            cluster=cluster, uid=f"{cluster.pk}-wl-{ns}", name="web", namespace=ns, kind="Deployment",
            top_kind="Deployment", top_name="web", template_labels={"app": "web"},
            obj={"kind": "Deployment", "metadata": {"name": "web", "namespace": ns},
                 "spec": {"template": {"metadata": {"labels": {"app": "web"}}}}},
        ))
        pods.append(Pod(
            cluster=cluster, uid=f"{cluster.pk}-pod-{ns}", name="web-1", namespace=ns, labels={"app": "web"},
            ips=[ip], top_kind="Deployment", top_name="web", owner_kind="Deployment", owner_name="web",
            phase="Running",
            obj={"kind": "Pod",
                 "metadata": {"name": "web-1", "namespace": ns, "labels": {"app": "web"},
                              "ownerReferences": [{"kind": "Deployment", "name": "web", "controller": True}]},
                 "status": {"podIP": ip}},
        ))
        policies.append(NetworkPolicy(
            cluster=cluster, uid=f"{cluster.pk}-np-{ns}", name="deny", namespace=ns, policy_types=["Ingress"],
            obj=policy_obj(ns, "deny", {"matchLabels": {"app": "web"}}, policyTypes=["Ingress"]),
        ))
    Namespace.objects.bulk_create(namespaces)
    Workload.objects.bulk_create(workloads)
    Pod.objects.bulk_create(pods)
    NetworkPolicy.objects.bulk_create(policies)


def make_cluster(name: str = "bulk", rows: int = 0) -> Cluster:
    cluster = Cluster.objects.create(name=name, source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")
    add_rows(cluster, rows)
    cluster.bump_state_version()
    return cluster


def demo_counts() -> dict[str, int]:
    """What the bundled demo holds, read from its manifests (tests never hard-code it)."""
    from pathlib import Path

    import yaml

    docs = [
        d
        for path in sorted((Path(__file__).resolve().parents[1] / "policies" / "demo").glob("*.yaml"))
        for d in yaml.safe_load_all(path.read_text())
        if d
    ]
    kinds = [d["kind"] for d in docs]
    top_workloads = [
        d for d in docs
        if d["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job", "ReplicaSet"}
        and not d["metadata"].get("ownerReferences")
    ]
    return {
        "namespaces": kinds.count("Namespace"),
        "workloads": len(top_workloads),
        "pods": kinds.count("Pod"),
        "policies": kinds.count("NetworkPolicy"),
        "policies_outside_shop": sum(
            1 for d in docs if d["kind"] == "NetworkPolicy" and d["metadata"]["namespace"] != "shop"
        ),
    }
