"""The CNIs' own policy resources (Calico, Cilium, Antrea) for the pages and the API:
which CNI enforces policies on a cluster, each mirrored object as the engine reads it
(tier, order, rules with their actions, whether it is enforced here), the objects that
apply to a pod, and their YAML in their own shape."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from .. import audit
from ..models import Cluster, CniObject
from . import engine_cache
from .cni_mirror import clean_object, engine_setting, export_objects, policy_yaml, served_cnis

__all__ = ["clean_object", "engine_setting", "export_objects", "policy_yaml", "served_cnis"]

def enforcing_cni(cluster: Cluster) -> dict[str, Any]:
    """{"cni": calico|cilium|antrea|none, "detected_by": why, "setting": auto|..., "served":
    the CNIs whose resources the cluster serves}."""
    model = engine_cache.engine_cluster(cluster)
    return {
        "cni": model.cni or "none",
        "detected_by": "set on the cluster" if cluster.cni != Cluster.Cni.AUTO else model.cni_detected_by,
        "setting": str(cluster.cni),
        "served": served_cnis(cluster),
    }


def policy_info(row: CniObject) -> dict[str, Any]:
    """The engine's reading of one CNI object: enforced or why not, tier, order, what it
    selects, its rules with their actions, problems and notes. Objects that hold no rules
    (tiers, network sets, groups) are listed with their tier/order columns alone."""
    model = engine_cache.engine_cluster(row.cluster)
    info = model.cni_policies.get(row.key)
    if info is not None:
        out = info.to_dict()
        out["namespace"] = out.get("namespace") or ""
        return out
    return {
        "key": row.key,
        "cni": row.cni,
        "kind": row.kind,
        "api_version": row.api_version,
        "namespace": row.namespace,
        "name": row.name,
        "enforced": False,
        "not_enforced_reason": "" if not row.policy else "the analysis did not read it",
        "tier": row.tier,
        "order": row.order,
        "selects": "",
        "types": [],
        "rules": [],
        "problems": [],
        "notes": [],
    }


def enforced_keys(cluster: Cluster) -> set[str]:
    model = engine_cache.engine_cluster(cluster)
    return {key for key, info in model.cni_policies.items() if info.enforced}


def filter_enforced(rows: QuerySet[CniObject], enforced: bool) -> QuerySet[CniObject]:
    """Policies the cluster's CNI enforces (or, with False, does not); tiers, sets and
    groups are neither."""
    rows = rows.filter(policy=True)
    ids: list[int] = []
    by_cluster: dict[int, set[str]] = {}
    for row in rows.select_related("cluster").defer("obj"):
        if row.cluster_id not in by_cluster:
            by_cluster[row.cluster_id] = enforced_keys(row.cluster)
        if (row.key in by_cluster[row.cluster_id]) == enforced:
            ids.append(row.pk)
    return rows.filter(pk__in=ids)


class SettingError(ValueError):
    """The CNI setting asked for is not one of the choices; the message says which are."""


def set_setting(cluster: Cluster, value: str, *, actor: Any = None) -> Cluster:
    """Set which CNI enforces policies on the cluster (auto: detect it). Every answer
    changes with it, so the cluster's state version moves on."""
    choices = [c.value for c in Cluster.Cni]
    if value not in choices:
        raise SettingError(f"cni {value!r} is not one of {', '.join(choices)}")
    if cluster.cni == value:
        return cluster
    before = cluster.cni
    with transaction.atomic():
        Cluster.objects.filter(pk=cluster.pk).update(cni=value)
        cluster.cni = value
        cluster.bump_state_version(topology=True)
        audit.record(
            audit.Action.CLUSTER_UPDATED,
            actor=actor,
            cluster=cluster,
            object_type="cluster",
            object_id=cluster.pk,
            summary=f"{cluster.name}: enforcing CNI {before} -> {value}",
        )
    return cluster


def applying(cluster: Cluster, *, endpoint_key: str = "", pod: tuple[str, str] | None = None) -> list[dict[str, Any]]:
    """The enforced CNI policies that select a workload (by its endpoint key, its pods or
    its template's stand-in) or one pod, in evaluation order, with the directions they
    select it in and each one's id for a link."""
    if not CniObject.objects.filter(cluster=cluster, policy=True).exists():
        return []
    model = engine_cache.engine_cluster(cluster)
    if pod is not None:
        found = model.pod(*pod)
        pods = [found] if found is not None else []
    else:
        pods = [p for p in model.pods if p.workload_key == endpoint_key]
    directions: dict[str, set[str]] = {}
    order: list[str] = []
    for engine_pod in pods:
        ns_labels = model.namespace_labels(engine_pod.namespace)
        for policy in model.cni_tier_policies:  # the enforced ones, in evaluation order
            if not policy.subject.matches_pod(
                ns_labels, engine_pod.labels, engine_pod.host_network, engine_pod.service_account
            ):
                continue
            for direction in ("ingress", "egress"):
                if policy.applies_to(direction) and policy.key in model.cni_policies:
                    if policy.key not in directions:
                        order.append(policy.key)
                    directions.setdefault(policy.key, set()).add(direction)
    ids = {
        row.key: row.pk
        for row in CniObject.objects.filter(cluster=cluster, policy=True).only("pk", "cni", "kind", "namespace", "name")
    }
    return [
        {**model.cni_policies[key].to_dict(), "id": ids.get(key), "directions": sorted(directions[key])}
        for key in order
    ]


def clone_verdict(row: CniObject) -> dict[str, Any]:
    """Whether the object clones exactly into a v1 NetworkPolicy draft, and why not."""
    from .cni_clone import clone_verdict as verdict

    found = verdict(row)
    return {"possible": found.possible, "reason": found.reason, "obj": found.obj}


def ids_by_key(cluster: Cluster, keys: Iterable[str]) -> dict[str, int]:
    """The ids of the mirrored CNI objects with these keys (for links)."""
    wanted = set(keys)
    if not wanted:
        return {}
    rows = CniObject.objects.filter(cluster=cluster).only("pk", "cni", "kind", "namespace", "name")
    return {row.key: row.pk for row in rows if row.key in wanted}


def selected_endpoints(row: CniObject) -> list[str]:
    """Endpoint keys (`ns/name[Kind]`) of the workloads and pods an enforced CNI policy
    selects (host-networked pods never are); empty for one not enforced here."""
    model = engine_cache.engine_cluster(row.cluster)
    compiled = [p for p in model.cni_tier_policies if p.key == row.key]
    if not compiled:
        return []
    found = {
        pod.workload_key
        for pod in model.pods
        if any(
            p.subject.matches_pod(model.namespace_labels(pod.namespace), pod.labels, pod.host_network, pod.service_account)
            for p in compiled
        )
    }
    return sorted(found)
