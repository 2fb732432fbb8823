"""Sets of allowed connections: protocols and port intervals.

`ConnSet` is the immutable value the whole engine trades in: what one endpoint may open
to another. It holds, for each of the three protocols a NetworkPolicy knows (SCTP, TCP,
UDP), a tuple of merged, sorted, inclusive port intervals within 1..65535.

Public API (stable):

- ``ConnSet.all()`` / ``ConnSet.none()`` / ``ConnSet.of(protocol, lo, hi)``
- ``ConnSet.from_json(value)`` / ``conns.to_json()`` -> ``"all"`` or
  ``{"TCP": [[80, 80], [8080, 8090]], ...}``
- ``str(conns)`` / ``conns_text(conns_or_json)``: the one CONNS text (``All Connections``,
  ``SCTP 9003,TCP 80,8080-8090,UDP 53``; ``No Connections`` when empty); ``conns_parts``
  the same per protocol
- ``is_all``, ``is_empty``, ``allows(protocol, port)``, ``|``, ``&``, ``-``,
  ``restrict(protocol, port)``

Instances are interned: equal sets are the same object, which keeps hashing cheap
and lets the reachability fast path memoise unions and intersections by identity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import ClassVar

PROTOCOLS: tuple[str, str, str] = ("SCTP", "TCP", "UDP")
"""Protocols a NetworkPolicy can name, sorted by name (the order CONNS text uses)."""

MIN_PORT = 1
MAX_PORT = 65535

Interval = tuple[int, int]
Intervals = tuple[Interval, ...]
_FULL: Intervals = ((MIN_PORT, MAX_PORT),)

ConnSetJSON = str | dict[str, list[list[int]]]


def merge_intervals(intervals: Iterable[Interval]) -> Intervals:
    """Sort and merge overlapping or adjacent inclusive intervals."""
    out: list[list[int]] = []
    for lo, hi in sorted(intervals):
        if lo > hi:
            continue
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1][1] = hi
        else:
            out.append([lo, hi])
    return tuple((a, b) for a, b in out)


def _intersect(a: Intervals, b: Intervals) -> Intervals:
    out: list[Interval] = []
    i = j = 0
    while i < len(a) and j < len(b):
        lo = max(a[i][0], b[j][0])
        hi = min(a[i][1], b[j][1])
        if lo <= hi:
            out.append((lo, hi))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return tuple(out)


def _subtract(a: Intervals, b: Intervals) -> Intervals:
    out: list[Interval] = []
    for lo, hi in a:
        cur = lo
        for blo, bhi in b:
            if bhi < cur or blo > hi:
                continue
            if blo > cur:
                out.append((cur, blo - 1))
            cur = max(cur, bhi + 1)
            if cur > hi:
                break
        if cur <= hi:
            out.append((cur, hi))
    return tuple(out)


ALL_CONNECTIONS = "All Connections"
NO_CONNECTIONS = "No Connections"


def intervals_text(intervals: Intervals) -> str:
    """`80,8080-8090`: the port part of CONNS text."""
    return ",".join(str(lo) if lo == hi else f"{lo}-{hi}" for lo, hi in intervals)


class ConnSet:
    """An immutable set of (protocol, port) pairs. Equal sets are the same object."""

    __slots__ = ("_hash", "_p", "__weakref__")
    _p: tuple[Intervals, Intervals, Intervals]
    _hash: int

    _interned: ClassVar[dict[tuple[Intervals, Intervals, Intervals], ConnSet]] = {}
    _union_memo: ClassVar[dict[tuple[int, int], ConnSet]] = {}
    _inter_memo: ClassVar[dict[tuple[int, int], ConnSet]] = {}

    def __new__(cls, per_protocol: Mapping[str, Iterable[Interval]] | None = None) -> ConnSet:
        per_protocol = per_protocol or {}
        unknown = set(per_protocol) - set(PROTOCOLS)
        if unknown:
            raise ValueError(f"unknown protocol {sorted(unknown)[0]!r}; use TCP, UDP or SCTP")
        parts = []
        for proto in PROTOCOLS:
            ivs = [
                (max(MIN_PORT, int(lo)), min(MAX_PORT, int(hi)))
                for lo, hi in per_protocol.get(proto, ())
            ]
            parts.append(merge_intervals(ivs))
        return cls._make((parts[0], parts[1], parts[2]))

    @classmethod
    def _make(cls, p: tuple[Intervals, Intervals, Intervals]) -> ConnSet:
        found = cls._interned.get(p)
        if found is not None:
            return found
        obj = object.__new__(cls)
        obj._p = p
        obj._hash = hash(p)
        cls._interned[p] = obj
        return obj

    # -- constructors -------------------------------------------------------------------
    @classmethod
    def all(cls) -> ConnSet:
        return cls._make((_FULL, _FULL, _FULL))

    @classmethod
    def none(cls) -> ConnSet:
        return cls._make(((), (), ()))

    @classmethod
    def of(cls, protocol: str, lo: int = MIN_PORT, hi: int | None = None) -> ConnSet:
        """One protocol, ports lo..hi (a single port when hi is omitted and lo given)."""
        if hi is None:
            hi = MAX_PORT if lo == MIN_PORT else lo
        return cls({protocol.upper(): [(lo, hi)]})

    @classmethod
    def from_json(cls, value: ConnSetJSON) -> ConnSet:
        if value == "all":
            return cls.all()
        if not isinstance(value, Mapping):
            raise ValueError('a connection set is "all" or a mapping of protocol to port ranges')
        return cls({k.upper(): [(int(a), int(b)) for a, b in v] for k, v in value.items()})

    # -- queries ----------------------------------------------------------------------------
    @property
    def is_all(self) -> bool:
        return self._p == (_FULL, _FULL, _FULL)

    @property
    def is_empty(self) -> bool:
        return not (self._p[0] or self._p[1] or self._p[2])

    def ports(self, protocol: str) -> Intervals:
        """The merged intervals allowed for one protocol."""
        return self._p[PROTOCOLS.index(protocol.upper())]

    def allows(self, protocol: str, port: int) -> bool:
        return any(lo <= port <= hi for lo, hi in self.ports(protocol))

    def restrict(self, protocol: str | None = None, port: int | None = None) -> ConnSet:
        """Keep only that protocol and/or that port."""
        parts: list[Intervals] = []
        for proto, ivs in zip(PROTOCOLS, self._p, strict=True):
            if protocol is not None and proto != protocol.upper():
                parts.append(())
                continue
            parts.append(_intersect(ivs, ((port, port),)) if port is not None else ivs)
        return ConnSet._make((parts[0], parts[1], parts[2]))

    def to_json(self) -> ConnSetJSON:
        if self.is_all:
            return "all"
        return {
            proto: [[lo, hi] for lo, hi in ivs]
            for proto, ivs in zip(PROTOCOLS, self._p, strict=True)
            if ivs
        }

    # -- algebra ----------------------------------------------------------------------------
    def __or__(self, other: ConnSet) -> ConnSet:
        if self is other or other.is_empty:
            return self
        if self.is_empty:
            return other
        key = (id(self), id(other))
        memo = ConnSet._union_memo.get(key)
        if memo is None:
            p = tuple(merge_intervals(a + b) for a, b in zip(self._p, other._p, strict=True))
            memo = ConnSet._make((p[0], p[1], p[2]))
            ConnSet._union_memo[key] = memo
        return memo

    def __and__(self, other: ConnSet) -> ConnSet:
        if self is other:
            return self
        key = (id(self), id(other))
        memo = ConnSet._inter_memo.get(key)
        if memo is None:
            p = tuple(_intersect(a, b) for a, b in zip(self._p, other._p, strict=True))
            memo = ConnSet._make((p[0], p[1], p[2]))
            ConnSet._inter_memo[key] = memo
        return memo

    def __sub__(self, other: ConnSet) -> ConnSet:
        p = tuple(_subtract(a, b) for a, b in zip(self._p, other._p, strict=True))
        return ConnSet._make((p[0], p[1], p[2]))

    def __le__(self, other: ConnSet) -> bool:
        return (self - other).is_empty

    # -- identity -----------------------------------------------------------------------------
    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, ConnSet) and self._p == other._p)

    def __hash__(self) -> int:
        return self._hash

    def __reduce__(self) -> tuple[type[ConnSet], tuple[dict[str, Intervals]]]:
        return (ConnSet, (dict(zip(PROTOCOLS, self._p, strict=True)),))

    def text_parts(self) -> list[tuple[str, str]]:
        """(protocol, text) per allowed protocol in PROTOCOLS order (``("TCP", "TCP 80,443")``);
        ``[("all", "All Connections")]`` for all, ``[]`` for none."""
        if self.is_all:
            return [("all", ALL_CONNECTIONS)]
        return [
            (proto, f"{proto} {intervals_text(ivs)}")
            for proto, ivs in zip(PROTOCOLS, self._p, strict=True)
            if ivs
        ]

    def __str__(self) -> str:
        return ",".join(text for _, text in self.text_parts()) or NO_CONNECTIONS

    def __repr__(self) -> str:
        return f"ConnSet({str(self)!r})"


def conns_text(value: ConnSet | ConnSetJSON | None) -> str:
    """The one text of a connection set, from a ConnSet or its JSON (``"all"`` or
    ``{"TCP": [[80, 80]]}``): ``All Connections``, ``SCTP 9003,TCP 80,8080-8090,UDP 53``,
    ``No Connections``. Pages, API answers, drafts and the CLI all print this."""
    return str(_as_connset(value))


def conns_parts(value: ConnSet | ConnSetJSON | None) -> list[tuple[str, str]]:
    """``conns_text`` cut per protocol, for pages that colour each protocol."""
    return _as_connset(value).text_parts()


def _as_connset(value: ConnSet | ConnSetJSON | None) -> ConnSet:
    if isinstance(value, ConnSet):
        return value
    return ConnSet.from_json(value) if value else ConnSet.none()


def union_all(sets: Sequence[ConnSet]) -> ConnSet:
    out = ConnSet.none()
    for s in sets:
        out = out | s
    return out
