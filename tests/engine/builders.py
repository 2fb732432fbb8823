"""Small builders for Kubernetes manifests used by the engine tests."""

from __future__ import annotations

from typing import Any


def namespace(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def container_ports(ports: list[tuple[str, str, int]] | None) -> list[dict[str, Any]]:
    return [{"name": n, "protocol": proto, "containerPort": num} for n, proto, num in ports or []]


def pod(
    ns: str,
    name: str,
    labels: dict[str, str] | None = None,
    *,
    ports: list[tuple[str, str, int]] | None = None,
    owner: tuple[str, str] | None = None,
    host_network: bool = False,
    ip: str | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": ns, "labels": labels or {}}
    if owner:
        meta["ownerReferences"] = [
            {"apiVersion": "apps/v1", "kind": owner[0], "name": owner[1], "controller": True}
        ]
    obj: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": meta,
        "spec": {
            "hostNetwork": host_network,
            "containers": [{"name": "c", "ports": container_ports(ports)}],
        },
    }
    if ip:
        obj["status"] = {"podIP": ip}
    return obj


def deployment(
    ns: str,
    name: str,
    labels: dict[str, str],
    *,
    ports: list[tuple[str, str, int]] | None = None,
    kind: str = "Deployment",
    host_network: bool = False,
) -> dict[str, Any]:
    template = {
        "metadata": {"labels": labels},
        "spec": {
            "hostNetwork": host_network,
            "containers": [{"name": "c", "ports": container_ports(ports)}],
        },
    }
    spec: dict[str, Any] = {"selector": {"matchLabels": labels}, "template": template}
    if kind == "CronJob":
        spec = {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}
    return {
        "apiVersion": "apps/v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def netpol(ns: str, name: str, **spec: Any) -> dict[str, Any]:
    spec.setdefault("podSelector", {})
    if "policy_types" in spec:
        spec["policyTypes"] = spec.pop("policy_types")
    if "from_" in spec:
        spec["from"] = spec.pop("from_")
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def labels_sel(**labels: str) -> dict[str, Any]:
    return {"matchLabels": labels}


def cnp(
    name: str,
    tier: str,
    priority: int,
    subject: dict[str, Any],
    *,
    ingress: list[dict[str, Any]] | None = None,
    egress: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2)."""
    spec: dict[str, Any] = {"tier": tier, "priority": priority, "subject": subject}
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha2",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": name},
        "spec": spec,
    }


def anp(
    name: str,
    priority: int | None,
    subject: dict[str, Any],
    *,
    ingress: list[dict[str, Any]] | None = None,
    egress: list[dict[str, Any]] | None = None,
    kind: str = "AdminNetworkPolicy",
) -> dict[str, Any]:
    """An AdminNetworkPolicy, or with kind=BaselineAdminNetworkPolicy (priority None) a
    BaselineAdminNetworkPolicy (v1alpha1)."""
    spec: dict[str, Any] = {"subject": subject}
    if priority is not None:
        spec["priority"] = priority
    if ingress is not None:
        spec["ingress"] = ingress
    if egress is not None:
        spec["egress"] = egress
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha1",
        "kind": kind,
        "metadata": {"name": name},
        "spec": spec,
    }


def banp(
    subject: dict[str, Any],
    *,
    ingress: list[dict[str, Any]] | None = None,
    egress: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return anp(
        "default", None, subject, ingress=ingress, egress=egress, kind="BaselineAdminNetworkPolicy"
    )


def node(name: str, labels: dict[str, str], *addresses: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {"name": name, "labels": labels},
        "status": {"addresses": [{"type": "InternalIP", "address": a} for a in addresses]},
    }
