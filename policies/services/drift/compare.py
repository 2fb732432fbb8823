"""Comparison (``compare``): per policy (namespace/name) missing in the cluster, extra in the
cluster, or changed. "Changed" is semantic: ``engine.normalize_policy`` applies the API
server's defaults and compares peers, ports and rules as sets, so a reordered or
re-defaulted policy is not drift.

Reachability (``reachability_effects``): what the live cluster allows that the desired
state does not ("live_only") and the reverse ("desired_only"), by workload and port, in
all and per difference, from the engine's Analyzer and diff_reachability; and the
coverage findings of the desired state.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ... import engine
from ...choices import SEVERITY_RANK
from ...models import Cluster, CniObject, DriftItem, NetworkPolicy
from .. import drift_tiers, engine_cache, payloads
from ..cni_mirror import clean_object, engine_setting
from .keys import is_cluster_scoped, is_cni_key, join_key, policy_key, split_key
from .sources import DesiredPolicy

# Caps that keep a report's JSON bounded on big clusters; counts always give the totals.
# A CNI object's effect costs a rebuild of the engine's model: fewer get one.
CNI_EFFECT_LIMIT = 20
CONNECTION_LIMIT = 500
ITEM_CONNECTION_LIMIT = 200
EFFECT_ITEM_LIMIT = 200
FINDING_LIMIT = 500
KIND_ORDER: dict[str, int] = {DriftItem.Kind.MISSING: 0, DriftItem.Kind.CHANGED: 1, DriftItem.Kind.EXTRA: 2}
COVERAGE_CODES = ("namespace-without-policy", "ingress-not-isolated", "egress-not-isolated")


# --- comparison ----------------------------------------------------------------------------------


@dataclass
class Difference:
    kind: str
    namespace: str
    name: str
    desired: dict[str, Any] = field(default_factory=dict)
    live: dict[str, Any] = field(default_factory=dict)
    origin: str = ""
    effect: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return join_key(self.namespace, self.name)


def clean(key: str, obj: Mapping[str, Any]) -> dict[str, Any]:
    """Without server-managed fields, in the object's own shape."""
    return clean_object(dict(obj)) if is_cni_key(key) else engine.clean_policy(obj)


def semantically_equal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal after the API server's defaults, with peers, ports and rules as sets. CNI
    objects: equal once cleaned of server-managed fields, with the defaults their CNI's
    API server or webhook fills in (in their own shape)."""
    if engine.cni_kind(a) is not None or engine.cni_kind(b) is not None:
        return engine.canonical_cni_object(clean_object(dict(a))) == engine.canonical_cni_object(clean_object(dict(b)))
    if is_cluster_scoped(a) or is_cluster_scoped(b):
        return drift_tiers.semantically_equal(a, b)
    try:
        return engine.normalize_policy(a) == engine.normalize_policy(b)
    except (TypeError, ValueError, AttributeError, KeyError):
        return engine.clean_policy(a) == engine.clean_policy(b)


def compare(
    desired: Mapping[str, DesiredPolicy],
    live: Mapping[str, Mapping[str, Any]],
    *,
    covers: Callable[[str], bool] = lambda namespace: True,
    ignored: Iterable[str] = (),
) -> tuple[list[Difference], int]:
    """(differences, number of policies in sync). Keys are "namespace/name"."""
    skip = set(ignored)
    diffs: list[Difference] = []
    in_sync = 0
    for key in sorted(set(desired) | set(live)):
        if key in skip:
            continue
        namespace, name = split_key(key)
        want = desired.get(key)
        have = live.get(key)
        if want is None:
            assert have is not None
            if covers(namespace):
                diffs.append(Difference(DriftItem.Kind.EXTRA, namespace, name, live=clean(key, have)))
            continue
        if have is None:
            diffs.append(
                Difference(DriftItem.Kind.MISSING, namespace, name, desired=clean(key, want.obj), origin=want.origin)
            )
        elif semantically_equal(want.obj, have):
            in_sync += 1
        else:
            diffs.append(
                Difference(
                    DriftItem.Kind.CHANGED,
                    namespace,
                    name,
                    desired=clean(key, want.obj),
                    live=clean(key, have),
                    origin=want.origin,
                )
            )
    diffs.sort(key=lambda d: (KIND_ORDER[d.kind], d.namespace, d.name))
    return diffs, in_sync


def live_policies(
    cluster: Cluster, *, cluster_scoped: bool = False, cnis: Iterable[str] = ()
) -> dict[str, dict[str, Any]]:
    """The live NetworkPolicies by "namespace/name", with `cluster_scoped` the
    cluster-wide policies by "Kind/name", and the objects of the CNIs in `cnis` by their
    key. A desired state speaks only for the CNIs it holds objects of: a repository of
    Calico policies does not call the cluster's Cilium policies extra."""
    rows = NetworkPolicy.objects.filter(cluster=cluster).values_list("namespace", "name", "obj")
    out = {f"{ns}/{name}": obj for ns, name, obj in rows}
    if cluster_scoped:
        out.update(drift_tiers.live_policies(cluster))
    wanted = set(cnis)
    if wanted:
        out.update((row.key, row.obj) for row in CniObject.objects.filter(cluster=cluster, cni__in=wanted))
    return out


# --- reachability ----------------------------------------------------------------------------------


def _row(src: str, dst: str, conns: engine.ConnSet) -> dict[str, Any]:
    return {"src": src, "dst": dst, "conns": conns.to_json(), "label": str(conns)}


def connection_delta(
    live: engine.Reachability, desired: engine.Reachability, limit: int = CONNECTION_LIMIT
) -> dict[str, Any]:
    """What the live cluster allows that the desired state does not, and the reverse,
    per workload pair and port (a pair both allow shows only the ports that differ)."""
    diff = engine.diff_reachability(live, desired)
    live_only = [_row(c.src.key, c.dst.key, c.conns) for c in diff.removed]
    desired_only = [_row(c.src.key, c.dst.key, c.conns) for c in diff.added]
    for c in diff.changed:
        if not (lost := c.old_conns - c.new_conns).is_empty:
            live_only.append(_row(c.src, c.dst, lost))
        if not (gained := c.new_conns - c.old_conns).is_empty:
            desired_only.append(_row(c.src, c.dst, gained))
    live_only.sort(key=lambda r: (r["src"], r["dst"]))
    desired_only.sort(key=lambda r: (r["src"], r["dst"]))
    return {
        "live_only": live_only[:limit],
        "desired_only": desired_only[:limit],
        "counts": {"live_only": len(live_only), "desired_only": len(desired_only)},
        "truncated": len(live_only) > limit or len(desired_only) > limit,
    }


def _reconcile_one(base: engine.Analyzer, diff: Difference) -> engine.Analyzer:
    if drift_tiers.is_cluster_key(diff.key):
        return drift_tiers.reconcile(base, diff.kind == DriftItem.Kind.EXTRA, diff.namespace, diff.name, diff.desired)
    if diff.kind == DriftItem.Kind.EXTRA:
        return base.remove_policy(diff.namespace, diff.name)
    return base.replace_policy(diff.desired)


def reachability_effects(
    cluster: Cluster, diffs: Sequence[Difference]
) -> tuple[dict[str, Any], engine.Cluster]:
    """Fill each difference's `effect` (what reconciling that one policy would change)
    and return (the delta of the whole desired state, the desired engine cluster).

    Policy differences derive the analyzer incrementally; a CNI object's take a rebuild
    of the model from the mirrored objects with that object changed (its tier, order and
    the enforcing CNI decide what it does)."""
    base = engine_cache.analyzer(cluster)
    live = engine_cache.base_reachability(cluster, "workload", "combined")
    desired = base
    cni_diffs = [d for d in diffs if is_cni_key(d.key)]
    cni_effects = 0
    for i, diff in enumerate(diffs):
        if is_cni_key(diff.key):
            if cni_effects >= CNI_EFFECT_LIMIT:
                diff.effect = {"error": f"not computed: only the first {CNI_EFFECT_LIMIT} CNI objects get one"}
                continue
            cni_effects += 1
            before, one = engine.on_common_families(base, _rebuilt(cluster, [diff]))
            now = live if before is base else before.analyze(level="workload")
            diff.effect = connection_delta(now, one.analyze(level="workload"), ITEM_CONNECTION_LIMIT)
            continue
        try:
            desired = _reconcile_one(desired, diff)
        except KeyError:
            diff.effect = {"error": "the live policy is not valid, so the analysis leaves it out already"}
            continue
        except ValueError as exc:
            diff.effect = {"error": str(exc)}
            continue
        if i < EFFECT_ITEM_LIMIT:
            before, one = engine.on_common_families(base, _reconcile_one(base, diff))
            now = live if before is base else before.analyze(level="workload")
            diff.effect = connection_delta(now, one.analyze(level="workload"), ITEM_CONNECTION_LIMIT)
        else:
            diff.effect = {"error": f"not computed: only the first {EFFECT_ITEM_LIMIT} differences get one"}
    if cni_diffs:  # CNI objects: the whole desired state from a rebuilt model
        desired = _rebuilt(cluster, diffs)
    before, desired = engine.on_common_families(base, desired)
    now = live if before is base else before.analyze(level="workload")
    delta = connection_delta(now, desired.analyze(level="workload"))
    return delta, desired.cluster


def _rebuilt(cluster: Cluster, diffs: Sequence[Difference]) -> engine.Analyzer:
    """The analyzer of the mirrored objects with these differences reconciled: extra
    objects gone, missing and changed ones as desired."""
    replaced = {d.key for d in diffs}
    objects = [
        obj
        for obj in engine_cache.engine_objects(cluster)
        if policy_key(obj) not in replaced
        or (engine.cni_kind(obj) is None and obj.get("kind") != "NetworkPolicy" and not is_cluster_scoped(obj))
    ]
    objects += [d.desired for d in diffs if d.kind != DriftItem.Kind.EXTRA and d.desired]
    model = engine.build_cluster(objects, strict=False, cni=engine_setting(cluster))
    return engine.Analyzer(model)


def coverage_findings(cluster: Cluster, desired_cluster: engine.Cluster) -> dict[str, Any]:
    """The desired state's findings (each marked whether the live cluster has it too)
    and the live findings the desired state would resolve."""

    def ident(f: Any) -> tuple[str, str, str, str]:
        return (f.code, f.namespace, f.object_kind, f.object_name)

    live = {ident(f): f for f in payloads.findings(cluster)}
    wanted = engine.findings(desired_cluster)
    desired_ids = {ident(f) for f in wanted}
    rows = [{**f.to_dict(), "in_live": ident(f) in live} for f in wanted]
    rows.sort(key=lambda r: (r["code"] not in COVERAGE_CODES, SEVERITY_RANK.get(r["severity"], 3)))
    resolved = [
        {k: v for k, v in f.to_dict().items() if k in ("code", "severity", "namespace", "object_kind", "object_name", "message")}
        for key, f in live.items()
        if key not in desired_ids
    ]
    return {
        "desired": rows[:FINDING_LIMIT],
        "resolved": resolved[:FINDING_LIMIT],
        "counts": {"desired": len(rows), "resolved": len(resolved)},
    }
