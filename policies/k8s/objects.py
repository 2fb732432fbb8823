"""Slim copies of Kubernetes objects: only what reachability, the pages and drift need.

A pod's images, env and volumes are not ours to store (they can hold secrets) and would
only cost space; a NetworkPolicy (and a cluster-wide policy) is kept whole but for
server bookkeeping; a Node keeps its labels and addresses.
"""

from __future__ import annotations

from typing import Any

_METADATA_KEYS = ("name", "namespace", "uid", "resourceVersion", "generation", "labels")
_POLICY_METADATA_DROP = ("managedFields", "selfLink")


def _metadata(obj: dict[str, Any]) -> dict[str, Any]:
    meta = obj.get("metadata") or {}
    out = {k: meta[k] for k in _METADATA_KEYS if meta.get(k) not in (None, "", {})}
    owners = [
        {k: ref[k] for k in ("apiVersion", "kind", "name", "uid", "controller") if k in ref}
        for ref in meta.get("ownerReferences") or []
    ]
    if owners:
        out["ownerReferences"] = owners
    if meta.get("deletionTimestamp"):
        out["deletionTimestamp"] = meta["deletionTimestamp"]
    return out


def _ports(containers: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    ports: list[dict[str, Any]] = []
    for container in containers or []:
        for port in container.get("ports") or []:
            slim = {"containerPort": port.get("containerPort"), "protocol": port.get("protocol") or "TCP"}
            if port.get("name"):
                slim["name"] = port["name"]
            ports.append(slim)
    return ports


def _pod_spec(spec: dict[str, Any] | None) -> dict[str, Any]:
    spec = spec or {}
    # Sidecars (init containers with restartPolicy Always) can serve named ports too.
    containers = [{"name": c.get("name", ""), "ports": _ports([c])} for c in spec.get("containers") or []]
    containers += [
        {"name": c.get("name", ""), "ports": _ports([c])}
        for c in spec.get("initContainers") or []
        if c.get("ports")
    ]
    out: dict[str, Any] = {"containers": containers}
    # Calico rules select pods by their ServiceAccount (`serviceAccounts`).
    account = spec.get("serviceAccountName") or spec.get("serviceAccount")
    if account and account != "default":
        out["serviceAccountName"] = account
    if spec.get("hostNetwork"):
        out["hostNetwork"] = True
    if spec.get("nodeName"):
        out["nodeName"] = spec["nodeName"]
    return out


def _template(template: dict[str, Any] | None) -> dict[str, Any]:
    template = template or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    return {"metadata": {"labels": labels}, "spec": _pod_spec(template.get("spec"))}


def slim_object(kind: str, obj: dict[str, Any], listed_version: str = "") -> dict[str, Any]:
    """The parts of `obj` netpolui keeps, in the Kubernetes JSON shape. `listed_version`:
    the apiVersion of the list it came from, for items that do not carry their own."""
    api_version = obj.get("apiVersion") or listed_version or _API_VERSIONS.get(kind, "v1")
    out: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "metadata": _metadata(obj)}
    spec = obj.get("spec") or {}
    if kind in ("Namespace", "ServiceAccount"):
        return out
    if kind == "Node":
        status = obj.get("status") or {}
        out["status"] = {
            "addresses": [
                {"type": a.get("type"), "address": a.get("address")}
                for a in status.get("addresses") or []
                if isinstance(a, dict)
            ]
        }
        return out
    if kind in _POLICY_KINDS:
        meta = dict(obj.get("metadata") or {})
        for key in _POLICY_METADATA_DROP:
            meta.pop(key, None)
        out["metadata"] = meta
        out["spec"] = spec
        return out
    if kind == "Pod":
        out["spec"] = _pod_spec(spec)
        status = obj.get("status") or {}
        out["status"] = {
            k: status[k] for k in ("podIP", "podIPs", "phase", "hostIP") if status.get(k)
        }
        return out
    if kind == "CronJob":
        job_template = (spec.get("jobTemplate") or {}).get("spec") or {}
        out["spec"] = {"jobTemplate": {"spec": {"template": _template(job_template.get("template"))}}}
        return out
    out["spec"] = {"template": _template(spec.get("template"))}
    if "replicas" in spec:
        out["spec"]["replicas"] = spec["replicas"]
    return out


def slim_cni_object(api_version: str, kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """A CNI resource (Calico, Cilium, Antrea) whole but for server bookkeeping and
    status: its rules are its spec (and a CiliumNetworkPolicy's `specs` list)."""
    meta = {k: v for k, v in (obj.get("metadata") or {}).items() if k not in _POLICY_METADATA_DROP}
    out: dict[str, Any] = {"apiVersion": obj.get("apiVersion") or api_version, "kind": kind, "metadata": meta}
    for key in ("spec", "specs"):
        if key in obj:
            out[key] = obj[key]
    return out


_API_VERSIONS = {
    "Namespace": "v1",
    "Pod": "v1",
    "Deployment": "apps/v1",
    "ReplicaSet": "apps/v1",
    "StatefulSet": "apps/v1",
    "DaemonSet": "apps/v1",
    "Job": "batch/v1",
    "CronJob": "batch/v1",
    "NetworkPolicy": "networking.k8s.io/v1",
    "ClusterNetworkPolicy": "policy.networking.k8s.io/v1alpha2",
    "AdminNetworkPolicy": "policy.networking.k8s.io/v1alpha1",
    "BaselineAdminNetworkPolicy": "policy.networking.k8s.io/v1alpha1",
    "Node": "v1",
    "ServiceAccount": "v1",
}
# Kept whole but for server bookkeeping (and status).
_POLICY_KINDS = frozenset(
    {"NetworkPolicy", "ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy"}
)


def controller_of(obj: dict[str, Any]) -> tuple[str, str]:
    """(kind, name) of the object's controlling owner, or ("", "")."""
    refs = (obj.get("metadata") or {}).get("ownerReferences") or []
    for ref in refs:
        if ref.get("controller"):
            return str(ref.get("kind", "")), str(ref.get("name", ""))
    return ("", "")


def pod_template_labels(kind: str, obj: dict[str, Any]) -> dict[str, str]:
    spec = obj.get("spec") or {}
    if kind == "CronJob":
        spec = ((spec.get("jobTemplate") or {}).get("spec")) or {}
    return dict(((spec.get("template") or {}).get("metadata") or {}).get("labels") or {})


def pod_ips(obj: dict[str, Any]) -> list[str]:
    status = obj.get("status") or {}
    ips = [entry.get("ip") for entry in status.get("podIPs") or [] if entry.get("ip")]
    if not ips and status.get("podIP"):
        ips = [status["podIP"]]
    return ips
