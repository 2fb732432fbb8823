"""Cluster registration and sync: what `add_cluster`, `sync_cluster`, the Celery tasks and
the pages call. The Kubernetes side lives in policies.k8s, the rows in policies.mirror."""

from __future__ import annotations

import contextlib
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import audit
from ..k8s.client import (
    RESOURCES,
    ConnectionSettings,
    ConnectionSettingsError,
    SyncFailure,
    build_api_client,
    discover_resources,
)
from ..k8s.sync import ClusterSync, SyncOptions
from ..mirror import DatabaseMirror, clear_unserved, load_snapshot
from ..models import Cluster

log = logging.getLogger(__name__)

LOCK_SECONDS = 60


class ClusterBusy(Exception):
    """Another process holds the cluster's sync lock."""


class ClusterSetupError(ValueError):
    """The cluster cannot be registered or loaded as asked; the message says why."""


# --- registration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ClusterSpec:
    name: str
    source: str
    kubeconfig_path: str = ""
    context: str = ""
    server_url: str = ""
    token_file: str = ""
    ca_file: str = ""
    insecure_skip_tls_verify: bool = False
    manifests_dir: str = ""
    description: str = ""


def register_cluster(spec: ClusterSpec, *, actor: Any = None, replace: bool = False) -> Cluster:
    """Create (or with replace=True, update) a cluster after checking its settings."""
    from django.core.validators import validate_slug

    try:
        validate_slug(spec.name)
    except Exception as exc:
        raise ClusterSetupError(
            f"cluster name {spec.name!r} must be letters, digits, '-' or '_'"
        ) from exc
    if spec.source == Cluster.Source.MANIFESTS:
        if not spec.manifests_dir or not Path(spec.manifests_dir).exists():
            raise ClusterSetupError(f"manifests directory {spec.manifests_dir!r} does not exist")
    elif spec.source == Cluster.Source.KUBECONFIG:
        path = spec.kubeconfig_path or os.environ.get("KUBECONFIG", "") or str(Path.home() / ".kube/config")
        if not Path(path.split(os.pathsep)[0]).is_file():
            raise ClusterSetupError(f"kubeconfig {path} does not exist")
        spec = ClusterSpec(**{**spec.__dict__, "kubeconfig_path": path})
    elif spec.source == Cluster.Source.TOKEN:
        if not spec.server_url.startswith(("https://", "http://")):
            raise ClusterSetupError("--server must be a URL such as https://api.example:6443")
        if not Path(spec.token_file).is_file():
            raise ClusterSetupError(f"token file {spec.token_file!r} does not exist")
        if spec.ca_file and not Path(spec.ca_file).is_file():
            raise ClusterSetupError(f"CA file {spec.ca_file!r} does not exist")
    elif spec.source != Cluster.Source.IN_CLUSTER:
        raise ClusterSetupError(f"unknown source {spec.source!r}")
    if spec.source != Cluster.Source.MANIFESTS:
        try:
            build_api_client(_connection(spec)).close()  # type: ignore[no-untyped-call]
        except ConnectionSettingsError as exc:
            raise ClusterSetupError(str(exc)) from exc
    fields = {k: v for k, v in spec.__dict__.items() if k != "name"}
    with transaction.atomic():
        existing = Cluster.objects.filter(name=spec.name).first()
        if existing and not replace:
            raise ClusterSetupError(f"a cluster named {spec.name!r} exists already")
        if existing:
            for key, value in fields.items():
                setattr(existing, key, value)
            existing.save()
            cluster = existing
        else:
            cluster = Cluster.objects.create(name=spec.name, **fields)
        audit.record(
            audit.Action.CLUSTER_UPDATED if existing else audit.Action.CLUSTER_REGISTERED,
            actor=actor,
            cluster=cluster,
            object_type="cluster",
            object_id=cluster.pk,
            summary=f"{cluster.name} ({cluster.get_source_display()})",
        )
    return cluster


def _connection(spec: ClusterSpec | Cluster) -> ConnectionSettings:
    return ConnectionSettings(
        source=spec.source,
        kubeconfig_path=spec.kubeconfig_path,
        context=spec.context,
        server_url=spec.server_url,
        token_file=spec.token_file,
        ca_file=spec.ca_file,
        insecure_skip_tls_verify=spec.insecure_skip_tls_verify,
    )


# --- the lock -------------------------------------------------------------------------------

_local_locks: dict[int, threading.Lock] = {}
_local_guard = threading.Lock()


def _redis_url() -> str | None:
    url = settings.REDIS_URL or settings.CELERY_BROKER_URL or ""
    return url if url.startswith(("redis://", "rediss://", "unix://")) else None


def sync_lock_key(cluster_id: int) -> str:
    """The Redis key of a cluster's sync lock.

    Cluster ids are numbered per database, so the key names the database too: two
    installations (or test runs) sharing one Redis never lock each other's clusters."""
    from django.db import connection

    db = connection.settings_dict
    where = f"{db.get('HOST') or ''}:{db.get('PORT') or ''}/{db.get('NAME') or ''}"
    return f"netpolui:sync-lock:{where}:{cluster_id}"


class ClusterLock:
    """One sync per cluster across every worker: a Redis lock, renewed by the heartbeat.

    Without Redis (the embedded default) the lock is per process, which is all there is."""

    def __init__(self, cluster_id: int, *, ttl: int = LOCK_SECONDS) -> None:
        self.cluster_id = cluster_id
        self.ttl = ttl
        self.key = sync_lock_key(cluster_id)
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex}"
        self._redis: Any = None
        self._local: threading.Lock | None = None

    def acquire(self) -> bool:
        url = _redis_url()
        if url:
            import redis

            self._redis = redis.Redis.from_url(url)
            return bool(self._redis.set(self.key, self.token, nx=True, ex=self.ttl))
        with _local_guard:
            self._local = _local_locks.setdefault(self.cluster_id, threading.Lock())
        return self._local.acquire(blocking=False)

    def refresh(self) -> bool:
        """Extend the lock if we still hold it (compare-and-set in Redis)."""
        if self._redis is None:
            return True
        script = (
            "if redis.call('get', KEYS[1]) == ARGV[1] then "
            "return redis.call('expire', KEYS[1], ARGV[2]) else return 0 end"
        )
        return bool(self._redis.eval(script, 1, self.key, self.token, self.ttl))

    def release(self) -> None:
        if self._redis is not None:
            script = (
                "if redis.call('get', KEYS[1]) == ARGV[1] then "
                "return redis.call('del', KEYS[1]) else return 0 end"
            )
            self._redis.eval(script, 1, self.key, self.token)
            self._redis.close()
            self._redis = None
        elif self._local is not None:
            self._local.release()
            self._local = None

    def holder(self) -> str | None:
        if self._redis is None:
            return None
        value = self._redis.get(self.key)
        return value.decode() if value else None


@contextlib.contextmanager
def cluster_lock(cluster_id: int) -> Iterator[ClusterLock]:
    lock = ClusterLock(cluster_id)
    if not lock.acquire():
        raise ClusterBusy(f"cluster {cluster_id} is being synced by another worker")
    try:
        yield lock
    finally:
        lock.release()


# --- sync -----------------------------------------------------------------------------------


def load_manifests(cluster: Cluster) -> dict[str, int]:
    """Read a manifests cluster's directory into the mirror (the demo is one)."""
    from ..engine import ManifestError, load_paths

    root = os.path.realpath(cluster.manifests_dir)
    try:
        inventory = load_paths([cluster.manifests_dir])
    except ManifestError as exc:
        # File names relative to the directory: its location is for admins only.
        message = "; ".join(
            str(e).replace(root + os.sep, "").replace(cluster.manifests_dir.rstrip("/") + "/", "")
            for e in exc.errors[:5]
        )
        Cluster.objects.filter(pk=cluster.pk).update(
            status=Cluster.Status.FAILING, last_error=message, last_error_at=timezone.now()
        )
        raise ClusterSetupError(message) from exc
    except OSError as exc:
        message = f"cannot read the manifests directory: {exc.strerror}"
        Cluster.objects.filter(pk=cluster.pk).update(
            status=Cluster.Status.FAILING, last_error=message, last_error_at=timezone.now()
        )
        raise ClusterSetupError(message) from exc
    return load_snapshot(cluster, inventory.objects)


def sync_options() -> SyncOptions:
    return SyncOptions(
        watch_timeout_seconds=settings.NETPOLUI_WATCH_TIMEOUT,
        read_timeout_seconds=float(settings.NETPOLUI_READ_TIMEOUT),
    )


def sync_cluster(
    cluster: Cluster,
    *,
    once: bool = False,
    duration: float | None = None,
    options: SyncOptions | None = None,
    progress: Callable[[str], None] | None = None,
    on_start: Callable[[ClusterSync], None] | None = None,
) -> bool:
    """Sync one cluster under its lock. once=True: one list pass. Otherwise list, then
    watch for `duration` seconds (forever when None). Raises ClusterBusy when another
    worker holds the lock. Returns False when the cluster could not be reached."""
    if cluster.source == Cluster.Source.MANIFESTS:
        counts = load_manifests(cluster)
        if progress:
            progress("loaded " + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
        return True
    with cluster_lock(cluster.pk) as lock:
        try:
            api_client = build_api_client(_connection(cluster))
        except ConnectionSettingsError as exc:
            # Stored and shown to every viewer: the words without server paths.
            DatabaseMirror(cluster.pk).record_failure(None, SyncFailure("settings", exc.public))
            if progress:
                progress(exc.public)
            return False
        Cluster.objects.filter(pk=cluster.pk, status=Cluster.Status.PENDING).update(
            status=Cluster.Status.SYNCING
        )
        resources = _served_resources(cluster, api_client, progress)
        sync = ClusterSync(
            api_client,
            lambda: DatabaseMirror(cluster.pk),
            options=options or sync_options(),
            resources=resources,
            on_progress=progress,
            heartbeat_hook=lambda: _keep_lock(lock, sync),
        )
        try:
            if on_start:
                on_start(sync)
            if once:
                return sync.list_once()
            sync.run(duration=duration)
            return True
        finally:
            api_client.close()  # type: ignore[no-untyped-call]


def _served_resources(
    cluster: Cluster, api_client: Any, progress: Callable[[str], None] | None
) -> tuple[Any, ...]:
    """What to mirror: API discovery says whether the cluster serves the cluster-wide
    policy kinds (absent is normal). Kinds no longer served lose their stored rows."""
    try:
        resources = discover_resources(api_client)
    except Exception:  # the list that follows reports an unreachable cluster
        log.info("API discovery of cluster %s failed; mirroring the built-in kinds", cluster.pk)
        return RESOURCES
    extra = [r.plural for r in resources if r not in RESOURCES and not r.cni and r.kind != "ServiceAccount"]
    cni = [r.key for r in resources if r.cni]
    if progress:
        progress(
            "cluster-wide policies served: " + ", ".join(extra)
            if extra
            else "no cluster-wide policy kinds served (policy.networking.k8s.io)"
        )
        progress("CNI resources served: " + ", ".join(cni) if cni else "no Calico, Cilium or Antrea resources served")
    clear_unserved(cluster.pk, resources)
    return resources


def _keep_lock(lock: ClusterLock, sync: ClusterSync) -> None:
    if not lock.refresh():
        log.warning("lost the sync lock of cluster %s; stopping", lock.cluster_id)
        sync.stop()


def clusters_to_sync() -> list[int]:
    return list(
        Cluster.objects.exclude(source=Cluster.Source.MANIFESTS).values_list("pk", flat=True)
    )
