"""The mirrored CNI objects as the engine and the exports read them: the objects and
ServiceAccounts for the engine, which CNI enforces policies (the cluster's setting), what
the cluster serves, and the objects clean in their own shape. Shared by the engine cache,
the payloads (export) and the CNI pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .. import engine
from ..engine.cni.kinds import CNI_KINDS, CNIS
from ..models import Cluster, CniObject, ServiceAccount, SyncState


def cni_rows(cluster: Cluster) -> list[tuple[str, str, dict[str, Any]]]:
    """(key, resourceVersion, obj) of every mirrored CNI object, in one query."""
    rows = CniObject.objects.filter(cluster=cluster).only("cni", "kind", "namespace", "name", "resource_version", "obj")
    return [(row.key, row.resource_version, row.obj) for row in rows]


def cni_objects(
    cluster: Cluster, rows: list[tuple[str, str, dict[str, Any]]] | None = None
) -> list[dict[str, Any]]:
    """The mirrored CNI objects (from `rows` when given) and ServiceAccounts, in the
    Kubernetes JSON shape, for the engine."""
    if rows is None:
        objects: list[dict[str, Any]] = list(CniObject.objects.filter(cluster=cluster).values_list("obj", flat=True))
    else:
        objects = [obj for _key, _rv, obj in rows]
    if objects:  # only Calico's rules read ServiceAccounts
        objects += ServiceAccount.objects.filter(cluster=cluster).values_list("obj", flat=True)
    return objects


def cni_versions(cluster: Cluster) -> dict[str, str]:
    """Every mirrored CNI object's key and resourceVersion: what the incremental analyzer
    compares to find the CNI objects that changed."""
    rows = CniObject.objects.filter(cluster=cluster).only("cni", "kind", "namespace", "name", "resource_version")
    return {row.key: row.resource_version for row in rows}


def cni_changed_objects(cluster: Cluster, wanted: set[str]) -> list[tuple[str, dict[str, Any]]]:
    """(key, obj) of the mirrored CNI objects whose keys are in `wanted`."""
    if not any(":" in key for key in wanted):
        return []
    rows = CniObject.objects.filter(cluster=cluster).only("cni", "kind", "namespace", "name", "obj")
    return [(row.key, row.obj) for row in rows if row.key in wanted]


def served_cnis(cluster: Cluster) -> list[str]:
    """The CNIs whose resources the cluster serves: for a live cluster what API discovery
    found (the sync keeps a state per served resource), for a manifests cluster the CNIs
    its files hold objects of."""
    if cluster.source == Cluster.Source.MANIFESTS:
        found = set(CniObject.objects.filter(cluster=cluster).values_list("cni", flat=True))
    else:
        found = set()
        for key in SyncState.objects.filter(cluster=cluster).values_list("resource", flat=True):
            plural, _, group = key.partition(".")
            kind = next((k for k in CNI_KINDS if k.group == group and k.plural == plural), None)
            if kind is not None:
                found.add(kind.cni)
    return [c for c in CNIS if c in found]


def engine_setting(cluster: Cluster) -> str | None:
    """What the engine is told about the enforcing CNI: the cluster's setting, or None
    for auto, and the engine detects it: agent pods first (calico-node, cilium,
    antrea-agent), then the one CNI whose policy objects are present. Served resources
    alone decide nothing: a cluster that moved to Cilium often still serves Calico's
    CRDs (served_cnis shows them)."""
    if cluster.cni != Cluster.Cni.AUTO:
        return str(cluster.cni)
    return None


def clean_object(obj: dict[str, Any]) -> dict[str, Any]:
    """A CNI object without server-managed fields, in its own shape (a Cilium policy's
    `specs` list kept)."""
    out = engine.clean_policy(obj)
    if "spec" not in obj:
        out.pop("spec", None)
    if "specs" in obj:
        out["specs"] = obj["specs"]
    return out


def policy_yaml(row: CniObject) -> str:
    return engine.dump_yaml([clean_object(row.obj)])


def export_objects(cluster: Cluster, namespace: str | None = None) -> list[dict[str, Any]]:
    """The mirrored CNI objects (of one namespace, if given), clean, in their own shape:
    per CNI, tiers and sets before the policies that refer to them, cluster-scoped
    before namespaced."""
    rows = CniObject.objects.filter(cluster=cluster).order_by("cni", "policy", "namespace", "kind", "name")
    if namespace:
        rows = rows.filter(namespace=namespace)
    return [clean_object(row.obj) for row in rows]


def cni_object_ids(cluster: Cluster, findings: Iterable[engine.Finding]) -> dict[str, int]:
    """The row ids of the CNI objects findings are about, by their keys."""
    keys = {f.object_key for f in findings if f.object_key}
    if not keys:
        return {}
    return {key: pk for key, pk in object_ids(cluster).items() if key in keys}


def object_ids(cluster: Cluster) -> dict[str, int]:
    """Every mirrored CNI object's row id by its key (for links from explanations)."""
    rows = CniObject.objects.filter(cluster=cluster).only("pk", "cni", "kind", "namespace", "name")
    return {row.key: row.pk for row in rows}
