"""Differences between two reachabilities (two manifest sets, or live vs. wanted).

``diff_reachability(old, new) -> ReachabilityDiff``: pairs matched by endpoint key;
``added`` (only in new), ``removed`` (only in old), ``changed`` (both, conns differ, as
``ChangedConnection(src, dst, old_conns, new_conns)``); ``is_empty``, ``to_dict()``,
``render_text()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

from .ports import ConnSet
from .reachability import Connection, Reachability


class ChangedConnection(NamedTuple):
    src: str
    dst: str
    old_conns: ConnSet
    new_conns: ConnSet


@dataclass(frozen=True)
class ReachabilityDiff:
    added: list[Connection] = field(default_factory=list)
    removed: list[Connection] = field(default_factory=list)
    changed: list[ChangedConnection] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        def pair(c: Connection) -> dict[str, Any]:
            return {
                "src": c.src.key,
                "dst": c.dst.key,
                "conn": str(c.conns),
                "conns": c.conns.to_json(),
            }

        return {
            "added": [pair(c) for c in self.added],
            "removed": [pair(c) for c in self.removed],
            "changed": [
                {
                    "src": c.src,
                    "dst": c.dst,
                    "old_conn": str(c.old_conns),
                    "new_conn": str(c.new_conns),
                    "old_conns": c.old_conns.to_json(),
                    "new_conns": c.new_conns.to_json(),
                }
                for c in self.changed
            ],
        }

    def render_text(self) -> str:
        if self.is_empty:
            return "no differences\n"
        lines = [f"+ {c.src.key} => {c.dst.key} : {c.conns}" for c in self.added]
        lines += [f"- {c.src.key} => {c.dst.key} : {c.conns}" for c in self.removed]
        lines += [f"~ {c.src} => {c.dst} : {c.old_conns} -> {c.new_conns}" for c in self.changed]
        lines.sort(key=lambda line: (line[2:].split(" : ")[0], line[0]))
        summary = (
            f"{len(self.added)} added, {len(self.removed)} removed, {len(self.changed)} changed"
        )
        return "\n".join(lines) + "\n" + summary + "\n"


def diff_reachability(old: Reachability, new: Reachability) -> ReachabilityDiff:
    """Pairs added, removed and changed from `old` to `new`, matched by endpoint key."""
    old_pairs = {(c.src.key, c.dst.key): c for c in old.connections}
    new_pairs = {(c.src.key, c.dst.key): c for c in new.connections}
    added = [c for k, c in new_pairs.items() if k not in old_pairs]
    removed = [c for k, c in old_pairs.items() if k not in new_pairs]
    changed = [
        ChangedConnection(k[0], k[1], old_pairs[k].conns, c.conns)
        for k, c in new_pairs.items()
        if k in old_pairs and old_pairs[k].conns != c.conns
    ]
    key = lambda c: (c.src.key, c.dst.key)  # noqa: E731
    return ReachabilityDiff(
        sorted(added, key=key),
        sorted(removed, key=key),
        sorted(changed, key=lambda c: (c.src, c.dst)),
    )
