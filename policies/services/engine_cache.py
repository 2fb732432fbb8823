"""Engine models of a mirrored cluster, cached per state version.

The one place where database rows become engine objects (``engine_objects``,
``engine_cluster``, ``analyzer``). Models are cached per (cluster, state_version) in this
process, and a new state version derives the analyzer from the previous one when only
policies changed, so any sync write (which bumps state_version) makes every cached answer
stale at once and a repeated question costs no engine work.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

from .. import engine
from ..models import Cluster, ClusterPolicy, Namespace, NetworkPolicy, Node, Pod, Workload
from . import page_cache
from .cni_mirror import cni_changed_objects, cni_objects, cni_rows, cni_versions, engine_setting

# Pods that finished hold no address and take no traffic.
FINISHED_PHASES = ("Succeeded", "Failed")


# --- engine models, cached per state version -------------------------------------------------


_T = TypeVar("_T")


class VersionCache:
    """A small LRU of engine objects keyed by (cluster id, state_version, what)."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...], build: Callable[[], _T]) -> _T:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]  # type: ignore[no-any-return]
        value = build()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()


engine_models = VersionCache()


def engine_objects(
    cluster: Cluster, *, cni: list[tuple[str, str, dict[str, Any]]] | None = None
) -> list[dict[str, Any]]:
    """The cluster's mirrored objects in the Kubernetes JSON shape, as the engine reads
    (the CNI objects from `cni`, cni_rows, when the caller fetched them already)."""
    objects: list[dict[str, Any]] = []
    objects += Namespace.objects.filter(cluster=cluster).values_list("obj", flat=True)
    objects += Workload.objects.filter(cluster=cluster).values_list("obj", flat=True)
    objects += (
        Pod.objects.filter(cluster=cluster)
        .exclude(phase__in=FINISHED_PHASES)
        .values_list("obj", flat=True)
    )
    objects += NetworkPolicy.objects.filter(cluster=cluster).values_list("obj", flat=True)
    objects += ClusterPolicy.objects.filter(cluster=cluster).values_list("obj", flat=True)
    objects += Node.objects.filter(cluster=cluster).values_list("obj", flat=True)
    objects += cni_objects(cluster, cni)
    return objects


def engine_cluster(cluster: Cluster) -> engine.Cluster:
    """The engine's model of the cluster as mirrored now (invalid policies set aside)."""
    return analyzer(cluster).cluster


@dataclass
class _NewestAnalyzer:
    """The newest analyzer of a cluster, and the policy versions it was built from."""

    state_version: int
    topology_version: int
    policy_versions: dict[str, str]  # "ns/name" -> resourceVersion, every stored policy
    analyzed: set[str]  # the keys the analyzer holds (the valid ones)
    analyzer: engine.Analyzer


_newest: dict[int, _NewestAnalyzer] = {}
_newest_lock = threading.Lock()


def analyzer(cluster: Cluster) -> engine.Analyzer:
    """The engine's Analyzer for the cluster as mirrored now.

    When only policies changed since the newest analyzer this process holds (the
    topology version stands still), the new one is derived from it with the changed
    policies alone, which costs a fraction of a rebuild on a large cluster."""
    return engine_models.get(
        (cluster.pk, cluster.state_version, "analyzer"), lambda: _build_analyzer(cluster)
    )


def _build_analyzer(cluster: Cluster) -> engine.Analyzer:
    with _newest_lock:
        newest = _newest.get(cluster.pk)
    derived = None
    if (
        newest is not None
        and newest.topology_version == cluster.topology_version
        and newest.state_version <= cluster.state_version
    ):
        derived = _derive(cluster, newest)
    if derived is None:
        derived = _rebuild(cluster)
    with _newest_lock:
        current = _newest.get(cluster.pk)
        if current is None or current.state_version <= derived.state_version:
            _newest[cluster.pk] = derived
    return derived.analyzer


def _policy_versions(cluster: Cluster, cni: list[tuple[str, str, dict[str, Any]]] | None = None) -> dict[str, str]:
    """Every stored policy's key ("ns/name", "Kind/name" for cluster-wide ones, the CNI
    object key) and resourceVersion."""
    versions = {
        f"{ns}/{name}": rv
        for ns, name, rv in NetworkPolicy.objects.filter(cluster=cluster).values_list(
            "namespace", "name", "resource_version"
        )
    }
    versions.update(
        (f"{kind}/{name}", rv)
        for kind, name, rv in ClusterPolicy.objects.filter(cluster=cluster).values_list(
            "kind", "name", "resource_version"
        )
    )
    versions.update(cni_versions(cluster) if cni is None else {key: rv for key, rv, _obj in cni})
    return versions


def _changed_policy_objects(cluster: Cluster, wanted: set[str]) -> Iterable[tuple[str, dict[str, Any], bool]]:
    """(key, obj, valid) of the stored policies in `wanted`."""
    for ns, name, obj in NetworkPolicy.objects.filter(cluster=cluster).values_list("namespace", "name", "obj"):
        key = f"{ns}/{name}"
        if key in wanted:
            yield key, obj, not engine.validate_network_policy(obj)
    for kind, name, obj in ClusterPolicy.objects.filter(cluster=cluster).values_list("kind", "name", "obj"):
        key = f"{kind}/{name}"
        if key in wanted:
            yield key, obj, not engine.validate_cluster_policy(obj)
    # A CNI object is always handed over: the engine lists an invalid one with its
    # problems and applies it nowhere, as a rebuild does.
    yield from ((key, obj, True) for key, obj in cni_changed_objects(cluster, wanted))


def _rebuild(cluster: Cluster) -> _NewestAnalyzer:
    rows = cni_rows(cluster)
    # The policies' versions are read before their objects. A policy a sync writes between
    # the two reads is then newer in the model than in `versions`, and the next derive
    # applies it again; read after, its version was recorded while the model lacked it,
    # and every later analyzer was derived without it (seen as a watched change that never
    # showed).
    versions = _policy_versions(cluster, rows)
    model = engine.build_cluster(engine_objects(cluster, cni=rows), strict=False, cni=engine_setting(cluster))
    return _NewestAnalyzer(
        cluster.state_version,
        cluster.topology_version,
        versions,
        # Every CNI object is the engine's (an invalid one is listed, applied nowhere).
        {p.key for p in model.policies} | {p.key for p in model.cluster_policies} | {k for k in versions if ":" in k},
        engine.Analyzer(model),
    )


def _derive(cluster: Cluster, newest: _NewestAnalyzer) -> _NewestAnalyzer | None:
    versions = _policy_versions(cluster)
    changed = [key for key, rv in versions.items() if newest.policy_versions.get(key) != rv]
    gone = [key for key in newest.policy_versions if key not in versions]
    upserts: list[dict[str, Any]] = []
    analyzed = set(newest.analyzed)
    removals = [key for key in gone if key in analyzed]
    added: list[str] = []
    if changed:
        for key, obj, valid in _changed_policy_objects(cluster, set(changed)):
            if not valid:
                # Set aside, as a rebuild would: the API server let it in, we cannot read it.
                if key in analyzed:
                    removals.append(key)
                continue
            upserts.append(obj)
            added.append(key)
    analyzed.difference_update(removals)
    analyzed.update(added)
    try:
        derived = newest.analyzer.with_policies_changed(upserts, removals)
    except (ValueError, KeyError):
        return None  # anything unexpected: rebuild from the rows
    return _NewestAnalyzer(cluster.state_version, cluster.topology_version, versions, analyzed, derived)


def base_reachability(cluster: Cluster, level: str, direction: str) -> engine.Reachability:
    base_level = "pod" if level == "pod" else "workload"
    return engine_models.get(
        (cluster.pk, cluster.state_version, "reach", base_level, direction),
        lambda: analyzer(cluster).analyze(level=base_level, direction=direction),  # type: ignore[arg-type]
    )


def pair_table(cluster: Cluster, level: str, direction: str) -> engine.PairTable:
    """The implicit connection list (workload or pod level) of the cluster as mirrored
    now: pages, the edges of one node, counts and aggregated levels without listing
    every pair (cached per state version like the analyzer)."""
    return engine_models.get(
        (cluster.pk, cluster.state_version, "pairs", level, direction),
        lambda: engine.PairTable(analyzer(cluster), level, direction),
    )


# Reachability payloads rendered as JSON bytes (payloads.reachability_json), same keys.
rendered_json = VersionCache(size=8)
# Pages of the connection list (offset/limit) rendered as JSON: small, many per version.
rendered_pages = VersionCache(size=64)


def clear_process_caches() -> None:
    """Forget the engine models and rendered payloads held by this process (tests, and
    anything that reuses cluster ids, call it; state versions make it needless otherwise)."""
    engine_models.clear()
    rendered_json.clear()
    rendered_pages.clear()
    page_cache.clear()
    with _newest_lock:
        _newest.clear()
