"""Reports (``compute_drift``): stored with a timestamp; a difference keeps the time it first
appeared while it persists. A run that finds what the latest report holds only updates
its ``checked_at``, so the history lists changes. Also reading reports back: history,
grouped items, diffs.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from ... import engine
from ...models import Cluster, DesiredSource, DriftItem, DriftReport
from .. import drift_tiers
from ..cni_mirror import clean_object
from .compare import Difference, compare, coverage_findings, live_policies, reachability_effects
from .errors import NoSources
from .keys import is_cni_key
from .sources import SourceProblem, read_desired_state


def keep_reports() -> int:
    return int(getattr(settings, "NETPOLUI_DRIFT_KEEP_REPORTS", 1000))


# --- a whole run ---------------------------------------------------------------------------------




@dataclass
class DriftResult:
    cluster: Cluster
    status: str
    differences: list[Difference]
    in_sync: int
    desired_count: int
    live_count: int
    problems: list[SourceProblem]
    sources: list[dict[str, Any]]
    reachability: dict[str, Any]
    findings: dict[str, Any]
    state_version: int

    def counts(self) -> dict[str, int]:
        out = {kind.value: 0 for kind in DriftItem.Kind}
        for d in self.differences:
            out[d.kind] += 1
        return out

    def fingerprint(self) -> str:
        data = {
            "status": self.status,
            "items": [(d.kind, d.key, d.desired, d.live, d.origin, d.effect) for d in self.differences],
            "problems": [p.to_dict() for p in self.problems],
            "reachability": self.reachability,
            "findings": self.findings,
            "in_sync": self.in_sync,
            "desired": self.desired_count,
            "live": self.live_count,
        }
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def run_drift(cluster: Cluster, sources: Iterable[DesiredSource] | None = None) -> DriftResult:
    """Read the desired state and compare it with the mirror; nothing is stored."""
    if sources is None:
        sources = list(DesiredSource.objects.filter(cluster=cluster, enabled=True).order_by("pk"))
    sources = list(sources)
    if not sources:
        raise NoSources(f"cluster {cluster.name} has no desired-state source")
    cluster.refresh_from_db(fields=["state_version"])
    state = read_desired_state(cluster, sources)
    # A desired state with no cluster-scoped policy speaks for none (drift_tiers).
    cluster_scoped = any(drift_tiers.is_cluster_key(k) for k in [*state.policies, *state.ignored])
    # Nor for the CNIs it holds no object of.
    cnis = {k.split(":", 1)[0] for k in [*state.policies, *state.ignored] if is_cni_key(k)}
    live = live_policies(cluster, cluster_scoped=cluster_scoped, cnis=cnis)
    if state.fatal:
        return DriftResult(
            cluster, DriftReport.Status.ERROR, [], 0, len(state.policies), len(live), state.problems,
            state.sources, {}, {}, cluster.state_version,
        )
    diffs, in_sync = compare(
        state.policies,
        live,
        covers=lambda namespace: namespace in drift_tiers.CLUSTER_KINDS or state.covers(namespace),
        ignored=state.ignored,
    )
    delta, desired_cluster = reachability_effects(cluster, diffs)
    status = DriftReport.Status.PARTIAL if state.problems else DriftReport.Status.OK
    return DriftResult(
        cluster,
        status,
        diffs,
        in_sync,
        len(state.policies),
        len(live),
        state.problems,
        state.sources,
        delta,
        coverage_findings(cluster, desired_cluster),
        cluster.state_version,
    )


def build_report(
    result: DriftResult, *, now: datetime, seen: Mapping[tuple[str, str, str], datetime] | None = None
) -> tuple[DriftReport, list[DriftItem]]:
    """The (unsaved) report and items of a result; `seen` gives earlier first-seen times."""
    seen = seen or {}
    counts = result.counts()
    report = DriftReport(
        cluster=result.cluster,
        computed_at=now,
        checked_at=now,
        status=result.status,
        missing_count=counts[DriftItem.Kind.MISSING],
        extra_count=counts[DriftItem.Kind.EXTRA],
        changed_count=counts[DriftItem.Kind.CHANGED],
        in_sync_count=result.in_sync,
        desired_count=result.desired_count,
        live_count=result.live_count,
        errors=[p.to_dict() for p in result.problems],
        sources=result.sources,
        reachability=result.reachability,
        findings=result.findings,
        state_version=result.state_version,
        fingerprint=result.fingerprint(),
    )
    items = [
        DriftItem(
            report=report,
            kind=d.kind,
            namespace=d.namespace,
            name=d.name,
            desired=d.desired,
            live=d.live,
            origin=d.origin[:500],
            first_seen_at=seen.get((d.kind, d.namespace, d.name), now),
            effect=d.effect,
        )
        for d in result.differences
    ]
    return report, items


def store_report(result: DriftResult, *, now: datetime | None = None) -> DriftReport:
    """Store the result: a new report, or the latest one re-confirmed when identical.
    A difference keeps `first_seen_at` from the latest compared report while it persists."""
    now = now or timezone.now()
    fingerprint = result.fingerprint()
    with transaction.atomic():
        # One writer per cluster at a time, so two runs cannot both start a history.
        Cluster.objects.select_for_update().filter(pk=result.cluster.pk).first()
        latest = DriftReport.objects.filter(cluster=result.cluster).order_by("-computed_at", "-pk").first()
        if latest is not None and latest.fingerprint == fingerprint:
            latest.checked_at = now
            latest.runs += 1
            latest.sources = result.sources
            latest.state_version = result.state_version
            latest.save(update_fields=["checked_at", "runs", "sources", "state_version"])
            return latest
        previous = (
            DriftReport.objects.filter(cluster=result.cluster)
            .exclude(status=DriftReport.Status.ERROR)
            .order_by("-computed_at", "-pk")
            .first()
        )
        seen: dict[tuple[str, str, str], datetime] = {}
        if previous is not None:
            seen = {
                (kind, ns, name): at
                for kind, ns, name, at in previous.items.values_list("kind", "namespace", "name", "first_seen_at")
            }
        report, items = build_report(result, now=now, seen=seen)
        report.save()
        DriftItem.objects.bulk_create(items)
        _prune(result.cluster)
    return report


def _prune(cluster: Cluster) -> None:
    stale = list(
        DriftReport.objects.filter(cluster=cluster)
        .order_by("-computed_at", "-pk")
        .values_list("pk", flat=True)[keep_reports() :]
    )
    if stale:
        DriftReport.objects.filter(pk__in=stale).delete()


def compute_drift(cluster: Cluster) -> DriftReport | None:
    """Compare and store a report; None when the cluster has no enabled source."""
    try:
        result = run_drift(cluster)
    except NoSources:
        return None
    return store_report(result)


def clusters_with_sources() -> list[int]:
    return sorted(set(DesiredSource.objects.filter(enabled=True).values_list("cluster_id", flat=True)))


# --- reading reports -----------------------------------------------------------------------------


def latest_report(cluster: Cluster) -> DriftReport | None:
    return DriftReport.objects.filter(cluster=cluster).order_by("-computed_at", "-pk").first()


def history(cluster: Cluster, limit: int = 30) -> list[DriftReport]:
    """The latest `limit` reports, oldest first (for a trend)."""
    rows = list(DriftReport.objects.filter(cluster=cluster).order_by("-computed_at", "-pk")[:limit])
    rows.reverse()
    return rows


def grouped_items(report: DriftReport) -> dict[str, list[DriftItem]]:
    groups: dict[str, list[DriftItem]] = {kind.value: [] for kind in DriftItem.Kind}
    for item in report.items.order_by("namespace", "name"):
        groups[item.kind].append(item)
    return {kind: groups[kind] for kind in ("missing", "changed", "extra")}


def item_yaml(obj: Mapping[str, Any]) -> str:
    if not obj:
        return ""
    if engine.cni_kind(obj) is not None:
        return engine.dump_yaml([clean_object(dict(obj))])
    return engine.dump_yaml([engine.clean_policy(obj)])


def normalized_yaml(obj: Mapping[str, Any]) -> str:
    """A policy after the API server's defaults; a CNI object as written (cleaned)."""
    if obj and engine.cni_kind(obj) is not None:
        return item_yaml(obj)
    if obj and drift_tiers.is_cluster_scoped(obj):
        return engine.dump_yaml([engine.normalize_cluster_policy(obj)])
    return engine.dump_yaml([engine.normalize_policy(obj)]) if obj else ""


def side_by_side(left: str, right: str) -> list[dict[str, Any]]:
    """Rows of a two-column diff: tag (equal, replace, delete, insert) and each side's
    line number and text (None where a side has no line)."""
    a = left.splitlines()
    b = right.splitlines()
    rows: list[dict[str, Any]] = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        span = max(i2 - i1, j2 - j1)
        for k in range(span):
            li, rj = i1 + k, j1 + k
            has_left, has_right = li < i2, rj < j2
            rows.append(
                {
                    "tag": tag if has_left and has_right else ("delete" if has_left else "insert"),
                    "left_no": li + 1 if has_left else None,
                    "left": a[li] if has_left else None,
                    "right_no": rj + 1 if has_right else None,
                    "right": b[rj] if has_right else None,
                }
            )
    return rows


def unified_diff(item: DriftItem, *, normalized: bool = False) -> str:
    render = normalized_yaml if normalized else item_yaml
    return "".join(
        difflib.unified_diff(
            render(item.desired).splitlines(keepends=True),
            render(item.live).splitlines(keepends=True),
            fromfile=f"desired/{item.key}",
            tofile=f"live/{item.key}",
        )
    )


def item_diff(item: DriftItem, *, normalized: bool = False) -> dict[str, Any]:
    render = normalized_yaml if normalized else item_yaml
    desired, live = render(item.desired), render(item.live)
    return {
        "desired_yaml": desired,
        "live_yaml": live,
        "rows": side_by_side(desired, live),
        "unified": unified_diff(item, normalized=normalized),
    }


def item_history(cluster: Cluster, namespace: str, name: str, limit: int = 20) -> list[dict[str, Any]]:
    """The recent reports and what each said about this policy (None: no difference)."""
    reports = list(
        DriftReport.objects.filter(cluster=cluster).order_by("-computed_at", "-pk")[:limit]
    )
    kinds = dict(
        DriftItem.objects.filter(report__in=reports, namespace=namespace, name=name).values_list("report_id", "kind")
    )
    return [{"report": r, "kind": kinds.get(r.pk)} for r in reports]
