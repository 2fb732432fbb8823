"""Findings as pages show them: filtered by the URL, grouped per namespace and per object,
with counts, and many alike low findings of one namespace summarised in one row.

A filter that names something the cluster does not have is not silently empty: it comes
back as a sentence (with the closest name when there is one) for the page to show.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..models import Cluster
from . import fixes, pages
from .filter_checks import did_you_mean
from .payloads import FindingView

SEVERITIES = ("high", "medium", "low")
# More objects than this with the same low finding in a namespace are listed as one row.
SUMMARY_THRESHOLD = 3


@dataclass
class FindingFilter:
    severity: str = ""
    namespace: str = ""
    code: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return bool(self.severity or self.namespace or self.code)

    def apply(self, items: Sequence[FindingView]) -> list[FindingView]:
        if self.errors:
            return []
        return [
            f
            for f in items
            if (not self.severity or f.severity == self.severity)
            and (not self.namespace or f.namespace == self.namespace)
            and (not self.code or f.code == self.code)
        ]


def read_filter(params: Mapping[str, str], items: Sequence[FindingView], namespaces: Sequence[str]) -> FindingFilter:
    """The filter the URL asks for (?severity=&namespace=&code=), each value checked."""
    flt = FindingFilter(
        severity=(params.get("severity") or "").strip(),
        namespace=(params.get("namespace") or "").strip(),
        code=(params.get("code") or "").strip(),
    )
    if flt.severity and flt.severity not in SEVERITIES:
        flt.errors.append(f'Severity "{flt.severity}" is not one of {", ".join(SEVERITIES)}.')
    if flt.namespace and flt.namespace not in namespaces:
        flt.errors.append(
            f'The cluster has no namespace "{flt.namespace}".' + did_you_mean(flt.namespace, namespaces)
        )
    codes = sorted({f.code for f in items})
    if flt.code and flt.code not in codes:
        flt.errors.append(
            f'No finding of kind "{flt.code}" in this cluster'
            + (f" (kinds here: {', '.join(codes)})." if codes else ".")
            + did_you_mean(flt.code, codes)
        )
    return flt


@dataclass
class ObjectGroup:
    """One object's findings (or, summarised, one low finding shared by many objects)."""

    kind: str
    name: str
    namespace: str
    object_id: int | None
    findings: list[FindingView]
    members: list[FindingView] = field(default_factory=list)  # when summarised

    @property
    def severity(self) -> str:
        return min((f.severity for f in self.findings), key=SEVERITIES.index)

    @property
    def summarised(self) -> bool:
        return bool(self.members)


@dataclass
class NamespaceGroup:
    namespace: str
    objects: list[ObjectGroup]
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def severity(self) -> str:
        return next((s for s in SEVERITIES if self.counts.get(s)), "low")


def count_by_severity(items: Iterable[FindingView]) -> dict[str, int]:
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in items:
        counts[f.severity] = counts.get(f.severity, 0) + 1
    return {s: n for s, n in counts.items() if n}


def group(items: Sequence[FindingView]) -> list[NamespaceGroup]:
    """Per namespace (most severe, then most findings first), per object inside; an object
    appears once with all its findings. A low finding shared by more than
    SUMMARY_THRESHOLD objects of a namespace becomes one summary row."""
    by_ns: dict[str, list[FindingView]] = {}
    for f in items:
        by_ns.setdefault(f.namespace, []).append(f)
    out = []
    for ns, found in by_ns.items():
        low_codes: dict[str, list[FindingView]] = {}
        for f in found:
            if f.severity == "low":
                low_codes.setdefault(f.code, []).append(f)
        summarised = {code for code, fs in low_codes.items() if len(fs) > SUMMARY_THRESHOLD}
        objects: dict[tuple[str, str, str], ObjectGroup] = {}
        for f in found:
            if f.code in summarised and f.severity == "low":
                continue
            obj = objects.setdefault(
                (f.object_kind, f.object_name, f.object_key),
                ObjectGroup(f.object_kind, f.object_name, f.namespace, f.object_id, []),
            )
            obj.findings.append(f)
        rows = sorted(objects.values(), key=lambda o: (SEVERITIES.index(o.severity), o.name, o.kind))
        for code in sorted(summarised):
            members = low_codes[code]
            rows.append(ObjectGroup("", "", ns, None, [members[0]], members))
        out.append(NamespaceGroup(ns, rows, count_by_severity(found)))
    out.sort(key=lambda g: (SEVERITIES.index(g.severity), -g.total, g.namespace))
    return out


def for_object(cluster: Cluster, kind: str, namespace: str, name: str) -> list[FindingView]:
    """The findings about one object (a workload, a v1 or cluster policy, a namespace), most
    severe first; never those about a CNI object of that kind and name."""
    return [
        f
        for f in pages.findings_by_risk(cluster)
        if not f.object_key and f.object_kind == kind and f.namespace == namespace and f.object_name == name
    ]


def for_cni_object(cluster: Cluster, key: str) -> list[FindingView]:
    """The findings about one CNI object, by its key, most severe first."""
    return [f for f in pages.findings_by_risk(cluster) if f.object_key == key]


def fix_link(f: FindingView) -> dict[str, Any] | None:
    """The "Fix" action of a finding: its label and the editor query that opens it."""
    if not fixes.has_fix(f.code):
        return None
    return {"label": fixes.FIX_ACTIONS[f.code], "query": fixes.fix_query(f.code, f.namespace, f.object_kind, f.object_name)}


def page_context(cluster: Cluster, params: Mapping[str, str], namespaces: Sequence[str]) -> dict[str, Any]:
    """What partials/finding_groups.html needs: the filter read from the URL, the counts of
    what it shows, and the groups."""
    items = pages.findings_by_risk(cluster)
    flt = read_filter(params, items, namespaces)
    shown = flt.apply(items)
    return {
        "finding_filter": flt,
        "finding_severities": SEVERITIES,
        "finding_namespaces": sorted({f.namespace for f in items} | set(namespaces)),
        "finding_codes": sorted({f.code for f in items}),
        "finding_counts": count_by_severity(shown),
        "finding_groups": group(shown),
        "findings_total": len(items),
    }
