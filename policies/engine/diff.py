"""Differences between two reachabilities (two manifest sets, or live vs. wanted).

``diff_reachability(old, new) -> ReachabilityDiff``: ``added`` (pairs only new allows),
``removed`` (only old), ``changed`` (both, conns differ, as ``ChangedConnection(src,
dst, old_conns, new_conns, src_endpoint, dst_endpoint)``); ``is_empty``, ``lines()``,
``render(fmt)`` in netpol-analyzer's ``diff`` format (txt, csv, md) or json,
``render_text()`` (= txt), ``to_dict()``. ``diff_clusters(old, new, level=...)``
analyzes both on the same address families first (``address_families(cluster)``);
``on_common_families(old_analyzer, new_analyzer)`` does the same for analyzers.

Both sides are compared on one common refinement of their address ranges, as
netpol-analyzer's ``diff`` does: each side cuts the address space at its own ipBlocks,
so a range of one side can straddle several of the other. Per workload and direction
(the addresses it reaches, the addresses reaching it), the addresses are split at the
boundaries of both sides, each piece gets what old and what new allow there, and
touching pieces with the same (old, new) pair are merged back into maximal ranges. A
change that only adds a boundary (a policy whose selectors match nothing, an ipBlock
that repeats what another allows) therefore reports nothing, and a change that opens
one range to one workload reports exactly that range.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from .cluster import Cluster
from .endpoint_keys import external_key
from .ipranges import IPRange, parse_address
from .ports import ConnSet
from .reachability import (
    Analyzer,
    Connection,
    Endpoint,
    Level,
    Reachability,
    _dst_cut_ranges,
    _src_cut_ranges,
)

DiffType = Literal["changed", "added", "removed"]
DIFF_FORMATS: tuple[str, ...] = ("txt", "csv", "md", "json")
DIFF_HEADER = "Connectivity diff:"


class ChangedConnection(NamedTuple):
    """A pair both sides allow, with different connections."""

    src: str
    dst: str
    old_conns: ConnSet
    new_conns: ConnSet
    src_endpoint: Endpoint | None = None
    dst_endpoint: Endpoint | None = None


@dataclass(frozen=True)
class DiffLine:
    """One line of netpol-analyzer's diff: a pair and what each side allows."""

    diff_type: DiffType
    src: str
    dst: str
    ref1: ConnSet
    ref2: ConnSet
    workloads_diff_info: str = ""

    def fields(self) -> tuple[str, str, str, str, str, str]:
        return (
            self.diff_type,
            self.src,
            self.dst,
            str(self.ref1),
            str(self.ref2),
            self.workloads_diff_info,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "diff_type": self.diff_type,
            "src": self.src,
            "dst": self.dst,
            "ref1": str(self.ref1),
            "ref2": str(self.ref2),
            "ref1_conns": self.ref1.to_json(),
            "ref2_conns": self.ref2.to_json(),
            "workloads_diff_info": self.workloads_diff_info,
        }


def _txt_line(d: DiffLine) -> str:
    line = (
        f"diff-type: {d.diff_type}, source: {d.src}, destination: {d.dst}, "
        f"ref1: {d.ref1}, ref2: {d.ref2}"
    )
    if d.workloads_diff_info:
        line += f", workloads-diff-info: {d.workloads_diff_info}"
    return line


def _md_line(d: DiffLine) -> str:
    return "| " + " | ".join(d.fields()) + " |"


def _csv_key(d: DiffLine) -> str:
    return ";".join(d.fields())


@dataclass(frozen=True)
class ReachabilityDiff:
    added: list[Connection] = field(default_factory=list)
    removed: list[Connection] = field(default_factory=list)
    changed: list[ChangedConnection] = field(default_factory=list)
    old_workloads: frozenset[str] = frozenset()
    """Keys of the workloads (or pods) of each side, to name those on one side only."""
    new_workloads: frozenset[str] = frozenset()

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def _info(self, diff_type: DiffType, src: Endpoint, dst: Endpoint) -> str:
        """`workload X added` when a pair's workload exists on one side only (address
        ranges are never named: their cut differs between sides by design)."""
        other = self.old_workloads if diff_type == "added" else self.new_workloads
        gone = [e.key for e in (src, dst) if not e.is_external and e.key not in other]
        if not gone:
            return ""
        return f"workload {' and '.join(gone)} {diff_type}"

    def lines(self, key: Callable[[DiffLine], str] = _txt_line) -> list[DiffLine]:
        """Every difference in netpol-analyzer's order: changed, added, removed, each
        sorted by its formatted line (`key`)."""
        changed = [
            DiffLine("changed", c.src, c.dst, c.old_conns, c.new_conns) for c in self.changed
        ]
        added = [
            DiffLine(
                "added",
                c.src.key,
                c.dst.key,
                ConnSet.none(),
                c.conns,
                self._info("added", c.src, c.dst),
            )
            for c in self.added
        ]
        removed = [
            DiffLine(
                "removed",
                c.src.key,
                c.dst.key,
                c.conns,
                ConnSet.none(),
                self._info("removed", c.src, c.dst),
            )
            for c in self.removed
        ]
        return [*sorted(changed, key=key), *sorted(added, key=key), *sorted(removed, key=key)]

    def render(self, fmt: str = "txt", *, ref_names: tuple[str, str] = ("ref1", "ref2")) -> str:
        """The diff in netpol-analyzer's format (`txt`, `csv`, `md`) or as `json`.

        Like netpol-analyzer, txt/csv/md print nothing when there is no difference.
        """
        if fmt == "json":
            return json.dumps(self.to_dict(), indent=2) + "\n"
        if self.is_empty:
            return ""
        if fmt == "txt":
            return "\n".join([DIFF_HEADER, *(_txt_line(d) for d in self.lines())]) + "\n"
        if fmt == "md":
            r1, r2 = ref_names
            header = [
                f"| diff-type | source | destination | {r1} | {r2} | workloads-diff-info |",
                "|-----------|--------|-------------|------|------|---------------------|",
            ]
            return "\n".join([*header, *(_md_line(d) for d in self.lines(_md_line))]) + "\n"
        if fmt == "csv":
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(
                ["diff-type", "source", "destination", *ref_names, "workloads-diff-info"]
            )
            writer.writerows(d.fields() for d in self.lines(_csv_key))
            return buf.getvalue()
        raise ValueError(f"unknown diff format {fmt!r}: use one of {', '.join(DIFF_FORMATS)}")

    def render_text(self) -> str:
        return self.render("txt")

    def to_dict(self) -> dict[str, Any]:
        return {
            "diff": [d.to_dict() for d in self.lines()],
            "counts": {
                "changed": len(self.changed),
                "added": len(self.added),
                "removed": len(self.removed),
            },
        }


# -- the common refinement of address ranges --------------------------------------------------

_Run = tuple[int, int, int, ConnSet, Endpoint]  # family, first, last, conns, the range's endpoint
_Piece = tuple[int, int, int, ConnSet, ConnSet]  # family, first, last, old conns, new conns

_NONE = ConnSet.none()


class _Side(NamedTuple):
    pairs: dict[tuple[str, str], Connection]  # between two workloads
    runs: dict[tuple[str, bool], list[_Run]]  # (workload key, address is the source)
    workloads: dict[str, Endpoint]
    externals: dict[str, Endpoint]


_span_cache: dict[tuple[str, str], tuple[int, int, int]] = {}


def _span(e: Endpoint) -> tuple[int, int, int]:
    assert e.ip_range is not None
    found = _span_cache.get(e.ip_range)
    if found is None:
        fam, first = parse_address(e.ip_range[0])
        _, last = parse_address(e.ip_range[1])
        found = (fam, first, last)
        if len(_span_cache) < 100_000:
            _span_cache[e.ip_range] = found
    return found


def _side(reach: Reachability) -> _Side:
    pairs: dict[tuple[str, str], Connection] = {}
    runs: dict[tuple[str, bool], list[_Run]] = {}
    for c in reach.connections:
        src, dst = c.src, c.dst
        if src.is_external:
            if not dst.is_external:
                runs.setdefault((dst.key, True), []).append((*_span(src), c.conns, src))
        elif dst.is_external:
            runs.setdefault((src.key, False), []).append((*_span(dst), c.conns, dst))
        else:
            pairs[(src.key, dst.key)] = c
    for rs in runs.values():
        rs.sort(key=lambda r: (r[0], r[1]))
    workloads = {}
    externals = {}
    for n in reach.nodes:
        if n.is_external:
            externals[n.key] = n
        else:
            workloads[n.key] = n
    return _Side(pairs, runs, workloads, externals)


def _refine(old: Sequence[_Run], new: Sequence[_Run]) -> list[_Piece]:
    """Maximal address ranges over which (old conns, new conns) is constant and differs."""
    bounds: set[tuple[int, int]] = set()
    for fam, first, last, _, _ in (*old, *new):
        bounds.add((fam, first))
        bounds.add((fam, last + 1))
    points = sorted(bounds)
    pieces: list[_Piece] = []
    i = j = 0
    for (fam, lo), (fam2, hi) in zip(points, points[1:], strict=False):
        if fam2 != fam:
            continue
        while i < len(old) and (old[i][0], old[i][2]) < (fam, lo):
            i += 1
        while j < len(new) and (new[j][0], new[j][2]) < (fam, lo):
            j += 1
        c1 = old[i][3] if i < len(old) and old[i][0] == fam and old[i][1] <= lo else _NONE
        c2 = new[j][3] if j < len(new) and new[j][0] == fam and new[j][1] <= lo else _NONE
        if c1 is _NONE and c2 is _NONE:
            continue
        last = hi - 1
        if pieces:
            pf, pfirst, plast, p1, p2 = pieces[-1]
            if pf == fam and plast + 1 == lo and p1 == c1 and p2 == c2:
                pieces[-1] = (pf, pfirst, last, p1, p2)
                continue
        pieces.append((fam, lo, last, c1, c2))
    return [p for p in pieces if p[3] != p[4]]


def _external(fam: int, first: int, last: int, old: _Side, new: _Side, role: str) -> Endpoint:
    r = IPRange(fam, first, last)
    key = external_key(str(r))
    found = new.externals.get(key) or old.externals.get(key)
    if found is not None:
        return found
    return Endpoint(
        key, "", str(r), "External", is_external=True, ip_range=r.text, external_role=role
    )


def _changed_parts(old: Reachability, new: Reachability) -> tuple[Reachability, Reachability]:
    """Both sides without what they share: the source rows that are the same tuple (an
    analyzer derived from the other's keeps the rows that did not change; the same
    endpoints in the same order), then the pairs that are the same Connection object.
    A shared pair is the same on both sides: it adds, removes or changes nothing, and
    in the address runs of a workload it would only be a range equal on both sides,
    which never merges with a range that differs (it leaves a gap instead), so the diff
    of what is left is the whole diff."""
    old_conns: list[Connection] | None = None
    new_conns: list[Connection] | None = None
    rows, new_rows = old.source_rows(), new.source_rows()
    if (
        rows is not None
        and new_rows is not None
        and len(rows) == len(new_rows)
        and len(old.nodes) == len(new.nodes)
        and all(x.key == y.key for x, y in zip(old.nodes, new.nodes, strict=True))
    ):
        differ = [i for i, (r, o) in enumerate(zip(rows, new_rows, strict=True)) if r is not o]
        old_conns = [c for i in differ for c in rows[i]]
        new_conns = [c for i in differ for c in new_rows[i]]
    if old_conns is None or new_conns is None:
        old_conns, new_conns = old.connections, new.connections
    shared = set(map(id, old_conns)).intersection(map(id, new_conns))
    if shared:
        old_conns = [c for c in old_conns if id(c) not in shared]
        new_conns = [c for c in new_conns if id(c) not in shared]

    def part(reach: Reachability, conns: list[Connection]) -> Reachability:
        return Reachability(reach.nodes, conns, level=reach.level, direction=reach.direction)

    return part(old, old_conns), part(new, new_conns)


def diff_reachability(old: Reachability, new: Reachability) -> ReachabilityDiff:
    """Pairs added, removed and changed from `old` to `new`, on one common refinement of
    both sides' address ranges (see the module docstring)."""
    a, b = (_side(r) for r in _changed_parts(old, new))
    added: list[Connection] = []
    removed: list[Connection] = []
    changed: list[ChangedConnection] = []

    for pair, c in b.pairs.items():
        before = a.pairs.get(pair)
        if before is None:
            added.append(c)
        elif before.conns != c.conns:
            changed.append(ChangedConnection(*pair, before.conns, c.conns, c.src, c.dst))
    removed.extend(c for pair, c in a.pairs.items() if pair not in b.pairs)

    for k in a.runs.keys() | b.runs.keys():
        old_runs, new_runs = a.runs.get(k, []), b.runs.get(k, [])
        if len(old_runs) == len(new_runs) and all(
            x[:4] == y[:4] for x, y in zip(old_runs, new_runs, strict=True)
        ):
            continue
        workload_key, address_is_source = k
        workload = b.workloads.get(workload_key) or a.workloads[workload_key]
        role = "source" if address_is_source else "destination"
        for fam, first, last, c1, c2 in _refine(old_runs, new_runs):
            ext = _external(fam, first, last, a, b, role)
            src, dst = (ext, workload) if address_is_source else (workload, ext)
            if c1.is_empty:
                added.append(Connection(src, dst, c2))
            elif c2.is_empty:
                removed.append(Connection(src, dst, c1))
            else:
                changed.append(ChangedConnection(src.key, dst.key, c1, c2, src, dst))

    def key(c: Connection) -> tuple[str, str]:
        return (c.src.key, c.dst.key)

    return ReachabilityDiff(
        sorted(added, key=key),
        sorted(removed, key=key),
        sorted(changed, key=lambda c: (c.src, c.dst)),
        frozenset(a.workloads),
        frozenset(b.workloads),
    )


def address_families(cluster: Cluster) -> set[int]:
    """IPv4 and every family an ipBlock (or a cluster-wide policy's network) names."""
    return {4} | {r.family for r in (*_src_cut_ranges(cluster), *_dst_cut_ranges(cluster))}


def diff_clusters(old: Cluster, new: Cluster, *, level: Level = "workload") -> ReachabilityDiff:
    """diff_reachability of two clusters analyzed on the same address families: a
    family only one side names (its first IPv6 ipBlock) is then listed on both sides,
    so the other side's addresses of that family compare too."""
    families = address_families(old) | address_families(new)
    return diff_reachability(
        Analyzer(old, families=families).analyze(level=level),
        Analyzer(new, families=families).analyze(level=level),
    )


def on_common_families(old: Analyzer, new: Analyzer) -> tuple[Analyzer, Analyzer]:
    """`old` and `new` over the same address families: the same analyzers when they
    already are, else both rebuilt over the families of both (a change that brings or
    takes away the only IPv6 ipBlock), so that their diff compares like with like."""
    if old.families == new.families:
        return old, new
    families = {*old.families, *new.families}
    return Analyzer(old.cluster, families=families), Analyzer(new.cluster, families=families)
