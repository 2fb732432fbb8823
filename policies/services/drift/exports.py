"""Exports: ``reconcile_yaml`` makes the cluster match the desired state; ``adopt_yaml``
takes the live policies into the desired state; ``render_text`` is the drift command's
text report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ... import engine
from ...models import DriftItem, DriftReport
from .. import drift_tiers
from .compare import CONNECTION_LIMIT, KIND_ORDER, clean
from .reports import unified_diff

# --- exports -------------------------------------------------------------------------------------


def _header(report: DriftReport, title: str) -> list[str]:
    return [
        f"# {title}",
        f"# cluster {report.cluster.name}, drift report {report.pk} computed "
        f"{report.computed_at:%Y-%m-%d %H:%M:%S} UTC, last checked {report.checked_at:%Y-%m-%d %H:%M:%S} UTC",
        f"# {report.missing_count} missing, {report.changed_count} changed, {report.extra_count} extra",
    ]


def delete_commands(report: DriftReport, limit: int | None = None) -> list[str]:
    """kubectl commands that remove the extra policies (apply cannot delete), by namespace
    and name; the first `limit` of them when given."""
    extra = report.items.filter(kind=DriftItem.Kind.EXTRA).order_by("namespace", "name")
    if limit is not None:
        extra = extra[:limit]
    return [command for item in extra if (command := delete_command(item)) is not None]


def delete_command(item: DriftItem) -> str | None:
    """The kubectl command that removes an extra policy (None for any other difference);
    a CNI object by its plural and API group (`networkpolicies.projectcalico.org` is not
    the v1 `networkpolicy`)."""
    if item.kind != DriftItem.Kind.EXTRA:
        return None
    found = engine.cni_kind(item.live)
    if found is not None:
        name = item.name.split(":", 2)[2]
        where = f" -n {item.namespace}" if item.namespace else ""
        return f"kubectl delete {found.plural}.{found.group}{where} {name}"
    if item.namespace in drift_tiers.CLUSTER_KINDS:
        return drift_tiers.delete_command(item.namespace, item.name)
    return f"kubectl delete networkpolicy -n {item.namespace} {item.name}"


def reconcile_yaml(report: DriftReport) -> str:
    """YAML that makes the cluster match the desired state: the desired objects of the
    missing and changed policies, for `kubectl apply -f`, preceded by the commented
    `kubectl delete` commands for the extra policies, which apply cannot remove."""
    lines = _header(report, "netpolui drift: make the cluster match the desired state")
    deletes = delete_commands(report)
    lines.append("#")
    if deletes:
        lines += [
            f"# STEP 1 -- DELETE {len(deletes)} EXTRA POLIC{'Y' if len(deletes) == 1 else 'IES'}.",
            "# They run in the cluster but are not in the desired state; `kubectl apply`",
            "# cannot delete anything, so run these commands yourself:",
            "#",
            *(f"#   {cmd}" for cmd in deletes),
            "#",
            "# STEP 2 -- APPLY the policies below: kubectl apply -f THIS-FILE.yaml",
        ]
    else:
        lines.append("# No extra policies: nothing to delete. Apply with: kubectl apply -f THIS-FILE.yaml")
    items = report.items.exclude(kind=DriftItem.Kind.EXTRA).order_by("namespace", "name")
    objs = [clean(item.key, item.desired) for item in items]
    if not objs:
        lines.append("# Nothing to apply: no policy is missing or changed.")
        return "\n".join(lines) + "\n"
    return "\n".join(lines) + "\n" + engine.dump_yaml(objs)


def adopt_yaml(report: DriftReport) -> str:
    """The live policies (cleaned) of the extra and changed differences, to commit into
    the desired state so that it matches the cluster."""
    lines = _header(report, "netpolui drift: adopt the cluster's policies into the desired state")
    lines += [
        "#",
        "# The live versions of the extra and changed policies, without server-managed fields.",
        "# Add them to the desired state (your Git repository or the editor's drafts).",
    ]
    missing = report.items.filter(kind=DriftItem.Kind.MISSING).order_by("namespace", "name")
    if missing:
        lines += [
            "#",
            "# Also REMOVE these from the desired state: they are not in the cluster:",
            *(f"#   {item.key}  ({item.origin})" if item.origin else f"#   {item.key}" for item in missing),
        ]
    items = report.items.exclude(kind=DriftItem.Kind.MISSING).order_by("namespace", "name")
    objs = [clean(item.key, item.live) for item in items]
    if not objs:
        lines.append("# Nothing to adopt: no policy is extra or changed.")
        return "\n".join(lines) + "\n"
    return "\n".join(lines) + "\n" + engine.dump_yaml(objs)


EXPORTS: dict[str, tuple[Callable[[DriftReport], str], str]] = {
    "reconcile": (reconcile_yaml, "reconcile"),
    "adopt": (adopt_yaml, "adopt-live"),
}


def export_filename(report: DriftReport, which: str) -> str:
    return f"{report.cluster.name}-drift-{EXPORTS[which][1]}-{report.computed_at:%Y%m%d-%H%M%S}.yaml"


# --- text report (the command) --------------------------------------------------------------------


def render_text(report: DriftReport, items: Sequence[DriftItem] | None = None, *, effects: bool = True) -> str:
    """The report as the `drift` command prints it (items: for an unsaved report)."""
    if items is None:
        items = list(report.items.all())
    lines = [
        f"drift of cluster {report.cluster.name}: {report.get_status_display()}",
        f"computed {report.computed_at:%Y-%m-%d %H:%M:%S} UTC"
        + (f", last checked {report.checked_at:%Y-%m-%d %H:%M:%S} UTC" if report.checked_at != report.computed_at else "")
        + f"; {report.desired_count} desired, {report.live_count} live, {report.in_sync_count} in sync",
    ]
    for source in report.sources:
        revision = f" at {source['revision'][:12]}" if source.get("revision") else ""
        lines.append(f"source: {source['label']}{revision} ({source['policies']} policies)")
    for problem in report.errors:
        lines.append(f"error: [{problem['source_label']}] {problem['text']}")
    if not report.compared:
        lines.append("not compared: fix the source errors above")
        return "\n".join(lines) + "\n"
    lines.append(f"{report.missing_count} missing, {report.changed_count} changed, {report.extra_count} extra")
    symbols = {"missing": "+", "changed": "~", "extra": "-"}
    for item in sorted(items, key=lambda i: (KIND_ORDER[i.kind], i.namespace, i.name)):
        origin = f"  ({item.origin})" if item.origin else ""
        lines.append(f"{symbols[item.kind]} {item.kind:<8} {item.key}{origin}")
        if item.kind == DriftItem.Kind.CHANGED:
            lines += ["    " + line for line in unified_diff(item, normalized=True).splitlines()]
    if effects and report.reachability:
        counts = report.reachability.get("counts", {})
        lines.append(
            f"reachability: {counts.get('live_only', 0)} allowed live but not desired, "
            f"{counts.get('desired_only', 0)} desired but blocked live"
        )
        for row in report.reachability.get("live_only", []):
            lines.append(f"  live only:    {row['src']} => {row['dst']} : {row['label']}")
        for row in report.reachability.get("desired_only", []):
            lines.append(f"  desired only: {row['src']} => {row['dst']} : {row['label']}")
        if report.reachability.get("truncated"):
            lines.append(f"  (the first {CONNECTION_LIMIT} of each are listed)")
    return "\n".join(lines) + "\n"
