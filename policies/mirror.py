"""The live mirror in the database: idempotent writes of what a sync sees.

`DatabaseMirror` is the MirrorStore a ClusterSync writes into. Every write is keyed by
(cluster, uid), so replaying a list or an event changes nothing; a full list is diffed
against the stored rows so deletions missed while a watch was down are applied. Every
change bumps the cluster's state_version, which caches key on.
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections.abc import Iterable, Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import close_old_connections, connection, transaction
from django.db.models import F, Model
from django.utils import timezone

from .engine.cni.kinds import cni_kind
from .engine.model import effective_policy_types
from .k8s.client import (
    ALL_RESOURCES,
    CNI_RESOURCES,
    POLICY_KINDS,
    SERVICE_ACCOUNTS,
    Resource,
    SyncFailure,
    resource_for_object,
)
from .k8s.objects import controller_of, pod_ips, pod_template_labels
from .k8s.sync import ListPage
from .models import (
    Cluster,
    ClusterPolicy,
    CniObject,
    Namespace,
    NetworkPolicy,
    Node,
    Pod,
    ServiceAccount,
    SyncState,
    Workload,
)

BATCH = 1000
WORKLOAD_KINDS = {k.value for k in Workload.Kind}
CLUSTER_POLICY_KINDS = {k.value for k in ClusterPolicy.Kind}
CNI_PREFIX = "cni:"


def store_kind(resource: Resource) -> str:
    """The name the mirror files a resource's rows under: its kind, or for a CNI's own
    resources `cni:group/Kind` (Calico's and Antrea's kinds reuse built-in names)."""
    return f"{CNI_PREFIX}{resource.group}/{resource.kind}" if resource.cni else resource.kind


CNI_STORE_KINDS = tuple(dict.fromkeys(store_kind(r) for r in CNI_RESOURCES))
# Mirrored only where served.
OPTIONAL_KINDS = CLUSTER_POLICY_KINDS | {"Node", "ServiceAccount", *CNI_STORE_KINDS}
_sqlite_writer = threading.RLock()


_gate_lock = threading.Lock()
_gate: threading.BoundedSemaphore | None = None
_held = threading.local()


def _connection_gate() -> threading.BoundedSemaphore:
    global _gate
    with _gate_lock:
        if _gate is None:
            _gate = threading.BoundedSemaphore(settings.NETPOLUI_SYNC_DB_CONNECTIONS)
        return _gate


@contextlib.contextmanager
def _writing() -> Iterator[None]:
    """SQLite has one writer at a time: the sync's threads take turns (in one process,
    which is all the embedded default runs).

    Elsewhere a sync worker follows many clusters with a thread per watched resource
    (hundreds of threads): each would hold a database connection for as long as it
    watches. Writes take one of NETPOLUI_SYNC_DB_CONNECTIONS places instead, and give
    the connection back when done (outside a transaction), so a process never holds
    more connections than that however many clusters it follows. With PostgreSQL's pool
    (settings) giving back keeps the connection open for the next write."""
    if connection.vendor == "sqlite":
        with _sqlite_writer:
            yield
        return
    depth = getattr(_held, "depth", 0)
    if depth:
        _held.depth = depth + 1
        try:
            yield
        finally:
            _held.depth = depth
        return
    gate = _connection_gate()
    with gate:
        _held.depth = 1
        try:
            yield
        finally:
            _held.depth = 0
            if not connection.in_atomic_block:
                connection.close()


def model_for(
    kind: str,
) -> type[Namespace | Workload | Pod | NetworkPolicy | ClusterPolicy | Node | CniObject | ServiceAccount]:
    if kind.startswith(CNI_PREFIX):
        return CniObject
    if kind == "ServiceAccount":
        return ServiceAccount
    if kind == "Namespace":
        return Namespace
    if kind == "Node":
        return Node
    if kind in CLUSTER_POLICY_KINDS:
        return ClusterPolicy
    if kind == "Pod":
        return Pod
    if kind == "NetworkPolicy":
        return NetworkPolicy
    return Workload


def row_fields(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """Model column values for a slim object."""
    meta = obj.get("metadata") or {}
    fields: dict[str, Any] = {
        "name": meta.get("name", ""),
        "resource_version": str(meta.get("resourceVersion") or ""),
        "labels": meta["labels"] if isinstance(meta.get("labels"), dict) else {},
        "obj": obj,
    }
    if kind == "Namespace":
        return fields
    if kind.startswith(CNI_PREFIX):
        return fields | cni_fields(kind, obj)
    if kind == "Node":
        status = obj.get("status") or {}
        fields["addresses"] = [
            a.get("address") for a in status.get("addresses") or [] if isinstance(a, dict) and a.get("address")
        ]
        return fields
    if kind in CLUSTER_POLICY_KINDS:
        spec = obj.get("spec") or {}
        spec = spec if isinstance(spec, dict) else {}
        priority = spec.get("priority")
        fields["kind"] = kind
        fields["api_version"] = str(obj.get("apiVersion") or "")
        fields["tier"] = (
            str(spec.get("tier") or "")
            if kind == "ClusterNetworkPolicy"
            else ("Admin" if kind == "AdminNetworkPolicy" else "Baseline")
        )
        fields["priority"] = (
            priority
            if isinstance(priority, int) and not isinstance(priority, bool) and -(2**31) <= priority < 2**31
            else None
        )
        fields["generation"] = _generation(meta)
        return fields
    fields["namespace"] = meta.get("namespace") or "default"
    if kind == "ServiceAccount":
        return fields
    if kind == "NetworkPolicy":
        spec = obj.get("spec") or {}
        effective = effective_policy_types(spec if isinstance(spec, dict) else {})
        fields["generation"] = _generation(meta)
        fields["policy_types"] = spec.get("policyTypes") or []
        fields["affects_ingress"] = "Ingress" in effective
        fields["affects_egress"] = "Egress" in effective
        return fields
    owner_kind, owner_name = controller_of(obj)
    fields["owner_kind"] = owner_kind
    fields["owner_name"] = owner_name
    if kind == "Pod":
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        fields["ips"] = pod_ips(obj)
        fields["ports"] = [p for c in spec.get("containers") or [] for p in c.get("ports") or []]
        fields["host_network"] = bool(spec.get("hostNetwork"))
        fields["node_name"] = spec.get("nodeName") or ""
        fields["phase"] = status.get("phase") or ""
        return fields
    fields["kind"] = kind
    fields["template_labels"] = pod_template_labels(kind, obj)
    return fields


def _generation(meta: Any) -> int:
    """metadata.generation as the column holds it (0 when absent or not a usable number)."""
    raw = meta.get("generation") if isinstance(meta, dict) else None
    return raw if isinstance(raw, int) and not isinstance(raw, bool) and 0 <= raw < 2**63 else 0


def cni_fields(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """The columns of a CNI object: which CNI, its tier and order (Calico `order`,
    Antrea `priority`) as written, for the lists; the engine reads `obj`."""
    group, name = kind.removeprefix(CNI_PREFIX).split("/", 1)
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    spec = spec if isinstance(spec, dict) else {}
    found = cni_kind({"apiVersion": f"{group}/v", "kind": name})
    cni = found.cni if found else ""
    api_version = obj.get("apiVersion") or ""
    order: Any = spec.get("priority") if cni == "antrea" else spec.get("order")
    if isinstance(order, bool) or not isinstance(order, int | float) or not -1e300 < order < 1e300:
        order = None  # also NaN, infinities and integers too large for a float
    tier = spec.get("tier") if found and found.policy else ""
    if found and found.policy and not tier and cni != "cilium":
        # The tier a policy without one lands in, as each CNI defaults it.
        tier = "default" if cni == "calico" else "application"
    return {
        "cni": cni,
        "api_version": str(api_version),
        "kind": name,
        "namespace": (meta.get("namespace") or "default") if found and found.namespaced else "",
        "policy": bool(found and found.policy),
        "tier": str(tier or "")[:253],
        "order": order,
        "generation": _generation(meta),
    }


def _scope(cluster_id: int, kind: str) -> Any:
    model = model_for(kind)
    qs = model.objects.filter(cluster_id=cluster_id)
    if model is CniObject:
        group, name = kind.removeprefix(CNI_PREFIX).split("/", 1)
        qs = qs.filter(kind=name, api_version__startswith=f"{group}/")
    elif model is Workload or model is ClusterPolicy:
        qs = qs.filter(kind=kind)
    return qs


def _update_fields(kind: str) -> list[str]:
    return list(row_fields(kind, {"metadata": {}}))



class DatabaseMirror:
    """MirrorStore over the Django models for one cluster (one per thread)."""

    def __init__(self, cluster_id: int) -> None:
        self.cluster_id = cluster_id

    # --- versions ------------------------------------------------------------------------

    def resource_version(self, resource: Resource) -> str:
        with _writing():  # a read, but through the same few connections
            state = SyncState.objects.filter(cluster_id=self.cluster_id, resource=resource.key).first()
        return state.resource_version if state else ""

    def _save_version(self, resource: Resource, resource_version: str, *, listed: bool, count: int | None = None) -> None:
        now = timezone.now()
        defaults: dict[str, Any] = {"resource_version": resource_version}
        if listed:
            defaults["last_list_at"] = now
        else:
            defaults["last_event_at"] = now
        if count is not None:
            defaults["object_count"] = count
        SyncState.objects.update_or_create(
            cluster_id=self.cluster_id, resource=resource.key, defaults=defaults
        )

    # --- writes --------------------------------------------------------------------------

    def replace_all(self, resource: Resource, items: list[dict[str, Any]], resource_version: str) -> None:
        self.replace_listed(resource, [ListPage(items, resource_version, True)])

    def replace_listed(self, resource: Resource, pages: Iterable[ListPage]) -> int:
        """Make the stored objects of a resource exactly those of a paged list, each page
        written as it arrives: memory holds one page of objects and one uid per object,
        never the whole list. One transaction, so readers see the old set or the new one
        (and the state version moves once). Returns the number of objects listed."""
        kind = store_kind(resource)
        with _writing(), transaction.atomic():
            seen: set[str] = set()
            written = 0
            version = ""
            for page in pages:
                if page.first:
                    seen.clear()  # a restarted list: only what it names from now on counts
                version = page.resource_version
                written += _upsert(self.cluster_id, kind, page.items)
                seen.update(uid for o in page.items if (uid := (o.get("metadata") or {}).get("uid")))
            stale = [
                pk
                for pk, uid in _scope(self.cluster_id, kind).values_list("pk", "uid").iterator(chunk_size=BATCH)
                if uid not in seen
            ]
            model = model_for(kind)
            for start in range(0, len(stale), BATCH):
                model.objects.filter(pk__in=stale[start : start + BATCH]).delete()
            if kind in WORKLOAD_KINDS | {"Pod"} and (written or stale):
                resolve_owners(self.cluster_id)
            self._save_version(resource, version, listed=True, count=len(seen))
            Cluster.objects.filter(pk=self.cluster_id).update(last_list_at=timezone.now())
            if written or stale:
                _bump(self.cluster_id, topology=_topology_kind(kind))
        return len(seen)

    def apply_event(self, resource: Resource, event_type: str, obj: dict[str, Any], resource_version: str) -> None:
        kind = store_kind(resource)
        uid = (obj.get("metadata") or {}).get("uid")
        with _writing(), transaction.atomic():
            changed = False
            if uid:
                if event_type == "DELETED":
                    changed = _scope(self.cluster_id, kind).filter(uid=uid).delete()[0] > 0
                else:
                    changed = _upsert(self.cluster_id, kind, [obj]) > 0
            if changed and kind in WORKLOAD_KINDS | {"Pod"}:
                namespace = (obj.get("metadata") or {}).get("namespace") or "default"
                resolve_owners(self.cluster_id, namespace=namespace)
            self._save_version(resource, resource_version, listed=False)
            versions = _bumped_versions(topology=_topology_kind(kind)) if changed else {}
            Cluster.objects.filter(pk=self.cluster_id).update(last_event_at=timezone.now(), **versions)

    def bookmark(self, resource: Resource, resource_version: str) -> None:
        with _writing():
            self._bookmark(resource, resource_version)

    def _bookmark(self, resource: Resource, resource_version: str) -> None:
        SyncState.objects.filter(cluster_id=self.cluster_id, resource=resource.key).update(
            resource_version=resource_version
        )

    # --- status --------------------------------------------------------------------------

    def heartbeat(self, *, live: bool) -> None:
        update: dict[str, Any] = {"heartbeat_at": timezone.now()}
        if live:
            update["status"] = Cluster.Status.LIVE
        with _writing():
            Cluster.objects.filter(pk=self.cluster_id).update(**update)

    def record_failure(self, resource: Resource | None, failure: SyncFailure) -> None:
        with _writing():
            self._record_failure(failure)

    def _record_failure(self, failure: SyncFailure) -> None:
        Cluster.objects.filter(pk=self.cluster_id).update(
            status=Cluster.Status.FAILING,
            last_error=failure.message,
            last_error_at=timezone.now(),
            heartbeat_at=timezone.now(),
        )

    def clear_failure(self) -> None:
        with _writing():
            self._clear_failure()

    def _clear_failure(self) -> None:
        Cluster.objects.filter(pk=self.cluster_id).exclude(last_error="").update(last_error="")
        Cluster.objects.filter(pk=self.cluster_id, status=Cluster.Status.FAILING).update(
            status=Cluster.Status.SYNCING
        )

    def close(self) -> None:
        # Each sync thread has its own connection; give it back.
        if not connection.in_atomic_block:
            connection.close()
        close_old_connections()


def _topology_kind(kind: str) -> bool:
    """Whether a change of this kind moves the topology. Policies do not, and neither
    do CNI objects (the analyzer derives their changes: a CNI object changes tiers and
    rules, never which pods exist); ServiceAccounts do (they change what Calico's
    serviceAccounts selectors select)."""
    return kind not in POLICY_KINDS and not kind.startswith(CNI_PREFIX)


def _bump(cluster_id: int, *, topology: bool) -> None:
    Cluster.objects.filter(pk=cluster_id).update(**_bumped_versions(topology=topology))


def _bumped_versions(*, topology: bool) -> dict[str, Any]:
    update = {"state_version": F("state_version") + 1}
    if topology:
        update["topology_version"] = F("topology_version") + 1
    return update


def _upsert(cluster_id: int, kind: str, objects: list[dict[str, Any]]) -> int:
    """Insert or update rows keyed by uid, skipping ones already at their version."""
    model = model_for(kind)
    uids = [(o.get("metadata") or {}).get("uid") for o in objects]
    current = dict(
        model.objects.filter(cluster_id=cluster_id, uid__in=uids).values_list("uid", "resource_version")
    )
    rows: list[Model] = []
    for obj in objects:
        meta = obj.get("metadata") or {}
        uid = meta.get("uid")
        if not uid:
            continue
        version = str(meta.get("resourceVersion") or "")
        if uid in current and version and current[uid] == version:
            continue
        rows.append(model(cluster_id=cluster_id, uid=uid, **row_fields(kind, obj)))
    for start in range(0, len(rows), BATCH):
        model.objects.bulk_create(
            rows[start : start + BATCH],
            update_conflicts=True,
            unique_fields=["cluster", "uid"],
            update_fields=_update_fields(kind) + ["updated_at"],
        )
    return len(rows)


def replace_objects(cluster_id: int, kind: str, objects: list[dict[str, Any]]) -> bool:
    """Make the stored objects of `kind` exactly `objects`; True when anything changed."""
    incoming = {(o.get("metadata") or {}).get("uid") for o in objects}
    with transaction.atomic():
        stale = list(_scope(cluster_id, kind).exclude(uid__in=incoming).values_list("pk", flat=True))
        model = model_for(kind)
        for start in range(0, len(stale), BATCH):
            model.objects.filter(pk__in=stale[start : start + BATCH]).delete()
        written = _upsert(cluster_id, kind, objects)
        if kind in WORKLOAD_KINDS | {"Pod"} and (written or stale):
            resolve_owners(cluster_id)
    return bool(written or stale)


def resolve_owners(cluster_id: int, namespace: str | None = None) -> None:
    """Set top_kind/top_name on workloads and pods: ReplicaSet -> Deployment, Job -> CronJob.

    An owner missing from the mirror stops the walk: the pod is shown under the last
    owner found, as the engine names it."""
    workloads = Workload.objects.filter(cluster_id=cluster_id)
    pods = Pod.objects.filter(cluster_id=cluster_id)
    if namespace is not None:
        workloads = workloads.filter(namespace=namespace)
        pods = pods.filter(namespace=namespace)
    owner_of: dict[tuple[str, str, str], tuple[str, str]] = {}
    rows = list(workloads.only("id", "namespace", "kind", "name", "owner_kind", "owner_name", "top_kind", "top_name"))
    for w in rows:
        owner_of[(w.namespace, w.kind, w.name)] = (w.owner_kind, w.owner_name)

    def top(ns: str, kind: str, name: str) -> tuple[str, str]:
        seen = set()
        while (ns, kind, name) in owner_of and (kind, name) not in seen:
            seen.add((kind, name))
            parent = owner_of[(ns, kind, name)]
            if not parent[0] or (ns, parent[0], parent[1]) not in owner_of:
                break
            kind, name = parent
        return kind, name

    changed_workloads = []
    for w in rows:
        resolved = top(w.namespace, w.kind, w.name)
        if (w.top_kind, w.top_name) != resolved:
            w.top_kind, w.top_name = resolved
            changed_workloads.append(w)
    _save_tops(Workload, changed_workloads)

    changed_pods = []
    for p in pods.only("id", "namespace", "name", "owner_kind", "owner_name", "top_kind", "top_name"):
        if p.owner_kind and p.owner_kind != "Node":
            # An owner outside the mirror is still named, as the engine names it.
            resolved = top(p.namespace, p.owner_kind, p.owner_name)
        else:
            resolved = ("Pod", p.name)
        if (p.top_kind, p.top_name) != resolved:
            p.top_kind, p.top_name = resolved
            changed_pods.append(p)
    _save_tops(Pod, changed_pods)


def _save_tops(model: type[Workload] | type[Pod], rows: list[Any]) -> None:
    """Write top_kind/top_name of the rows in one executemany (pipelined by psycopg).
    bulk_update builds a CASE per row, whose construction took most of a 50,000-pod
    first sync."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET top_kind = %s, top_name = %s WHERE id = %s",
            [(row.top_kind, row.top_name, row.pk) for row in rows],
        )


# --- manifests clusters -----------------------------------------------------------------------


def clear_unserved(cluster_id: int, served: Iterable[Resource]) -> None:
    """Drop the stored rows of the optional kinds (cluster-wide policies, Nodes) the
    cluster no longer serves, so an uninstalled API leaves nothing behind."""
    kinds = {store_kind(r) for r in served}
    gone = [k for k in OPTIONAL_KINDS if k not in kinds]
    with _writing(), transaction.atomic():
        deleted = sum(_scope(cluster_id, kind).delete()[0] for kind in gone)
        if deleted:
            _bump(cluster_id, topology=True)


def manifest_uid(obj: dict[str, Any]) -> str:
    meta = obj.get("metadata") or {}
    key = f"{obj.get('kind')}/{meta.get('namespace') or ''}/{meta.get('name')}"
    if cni_kind(obj) is not None:  # a Calico NetworkPolicy is not the v1 one of that name
        key = f"{obj.get('apiVersion')}/{key}"
    return "manifest-" + hashlib.sha1(key.encode()).hexdigest()[:24]


def load_snapshot(cluster: Cluster, objects: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Replace a manifests cluster's mirror with `objects` (plain Kubernetes dicts).

    Objects without uid get a stable one from kind/namespace/name, so reloading the same
    files is a no-op and an edited file updates its row in place."""
    resources = {store_kind(r): r for r in (*ALL_RESOURCES, SERVICE_ACCOUNTS, *CNI_RESOURCES)}
    by_kind: dict[str, list[dict[str, Any]]] = {kind: [] for kind in resources}
    for obj in objects:
        resource = resource_for_object(obj)
        if resource is None:
            continue
        kind = store_kind(resource)
        slim = resource.slim(obj)
        meta = slim.setdefault("metadata", {})
        if resource.namespaced:
            meta.setdefault("namespace", "default")
        meta.setdefault("uid", manifest_uid(slim))
        if not meta.get("resourceVersion"):
            meta["resourceVersion"] = hashlib.sha1(repr(sorted(_flatten(slim))).encode()).hexdigest()[:16]
        by_kind[kind].append(slim)
    counts = {}
    changed = topology_changed = False
    with transaction.atomic():
        for kind, items in by_kind.items():
            kind_changed = replace_objects(cluster.pk, kind, items)
            changed |= kind_changed
            topology_changed |= kind_changed and _topology_kind(kind)
            if items or kind not in OPTIONAL_KINDS:
                counts[kind] = len(items)
        now = timezone.now()
        Cluster.objects.filter(pk=cluster.pk).update(
            status=Cluster.Status.SNAPSHOT, last_list_at=now, heartbeat_at=now, last_error=""
        )
        if changed:
            _bump(cluster.pk, topology=topology_changed)
    return counts


def _flatten(value: Any, prefix: str = "") -> Iterable[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _flatten(item, f"{prefix}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _flatten(item, f"{prefix}[{index}]")
    else:
        yield prefix, repr(value)


def display_status(cluster: Cluster, *, now: Any = None, lag_after: timedelta = timedelta(minutes=2)) -> str:
    """live / lagging / failing / pending / snapshot, from the stored state and heartbeat age."""
    now = now or timezone.now()
    if cluster.source == Cluster.Source.MANIFESTS:
        return "failing" if cluster.last_error else "snapshot"
    if cluster.status == Cluster.Status.FAILING:
        return "failing"
    if cluster.heartbeat_at is None:
        return "pending"
    if now - cluster.heartbeat_at > lag_after:
        return "lagging"
    return str(cluster.status)
