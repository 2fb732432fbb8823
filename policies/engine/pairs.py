"""The connection list kept implicit: pairs are read from the analyzer's cells on demand.

A 5,000-workload cluster allows millions of pairs; a ``Connection`` object per pair costs
more time and memory than the analysis itself. ``PairTable(analyzer, level, direction)``
holds no pair. It answers from the per-destination cells (sources partitioned by
ConnSet) the Analyzer computes anyway:

- ``rows(start, stop, piece)``: the rows of a range of source ranks, each row the
  ``piece(dst, conns)`` of its pairs in connection-list order (what the streaming
  writers and the paged API read); built column by column for a block of sources at
  a time, so memory follows the block, not the whole list;
- ``row(key)`` and ``column(key)``: the pairs from one endpoint and into one endpoint
  (the "edges of X" query);
- ``count()``, ``degrees()``: how many pairs, and per endpoint how many peers it may
  reach and be reached from, without listing a pair (bit-sliced counters over cells);
- ``group(group_of)``: the aggregated levels (tier, namespace) from the cells,
  equal to ``group_reachability`` over the materialised list; ``pair_counts(group_of)``:
  how many pairs each group pair stands for;
- ``focus(keys)``: restrict the rows to pairs involving some endpoints.

Endpoint order, keys and the rule that an endpoint is never paired with itself, nor an
address range with an address range, are the ones of ``Analyzer.analyze``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

from .ports import ConnSet
from .reachability import (
    Analyzer,
    Connection,
    Endpoint,
    Reachability,
    _bits,
    group_reachability,
)

T = TypeVar("T")

# Source ranks whose rows are built together: a row holds one reference per pair, so
# a block of rows bounds the memory of a listing whatever the cluster's size.
BLOCK = 1024
# Source bits per group under which counting walks every source bit rather than masking
# each group met (a mask costs a few operations on integers as wide as the classes).
BITS_PER_GROUP_TO_MASK = 2


class PairTable:
    """Every allowed pair of one level and direction, read from the cells on demand."""

    def __init__(
        self, analyzer: Analyzer, level: str = "workload", direction: str = "combined"
    ) -> None:
        if level not in ("workload", "pod"):
            raise ValueError(f"level must be 'workload' or 'pod', not {level!r}")
        if direction not in ("combined", "ingress", "egress"):
            raise ValueError(
                f"direction must be 'combined', 'ingress' or 'egress', not {direction!r}"
            )
        self.analyzer = analyzer
        self.level = level
        self.direction = direction
        u = analyzer._u
        layer = analyzer._endpoint_layer(level)
        self.nodes: list[Endpoint] = layer.ranked
        self._n = u.n
        self._all_pods = u.all_pods
        self._columns = layer.columns
        self._per_class = layer.per_class
        self._src_ext = layer.src_ext
        # The source bit of each rank: its pod class, or n + i for source range i;
        # -1 for a destination-only range (never a source).
        src_bit = [-1] * len(self.nodes)
        for c, ranks in enumerate(layer.per_class):
            for rk in ranks:
                src_bit[rk] = c
        for i, rk in enumerate(layer.src_ext):
            src_bit[rk] = u.n + i
        self._src_bit = src_bit
        self._empty = not analyzer.cluster.pods  # np-guard lists nothing then
        self._rank: dict[str, int] | None = None

    # -- basics -------------------------------------------------------------------------------
    def rank(self, key: str) -> int | None:
        """The rank of an endpoint key (its place in the connection-list order)."""
        if self._rank is None:
            self._rank = {e.key: i for i, e in enumerate(self.nodes)}
        return self._rank.get(key)

    def _cells(self, d: int) -> list[tuple[ConnSet, int]]:
        """The non-empty cells of destination column d, address ranges left out of the
        sources of a range's column."""
        out = []
        for conn, bits in self.analyzer._cells(self.direction, d).items():
            if conn.is_empty:
                continue
            if d >= self._n:
                bits &= self._all_pods
            if bits:
                out.append((conn, bits))
        return out

    def _src_ranks(self, s: int) -> Sequence[int]:
        return self._per_class[s] if s < self._n else (self._src_ext[s - self._n],)

    def _mask(self, ranks: Sequence[int] | range) -> int:
        mask = 0
        for rk in ranks:
            b = self._src_bit[rk]
            if b >= 0:
                mask |= 1 << b
        return mask

    # -- rows ---------------------------------------------------------------------------------
    def rows(
        self,
        piece: Callable[[Endpoint, ConnSet], T],
        start: int = 0,
        stop: int | None = None,
        *,
        focus: frozenset[int] | None = None,
    ) -> Iterator[tuple[Endpoint, list[T]]]:
        """(source, [piece(dst, conns) of each pair in destination order]) for each source
        rank in [start, stop) that has a pair, in connection-list order. `piece` is
        called once per destination and ConnSet, its value shared by every source of
        that cell. With `focus` (ranks), only pairs with one end among them."""
        if self._empty:
            return
        m = len(self.nodes)
        stop = m if stop is None else min(stop, m)
        for a in range(max(0, start), stop, BLOCK):
            yield from self._block(a, min(a + BLOCK, stop), piece, focus)

    def connections(
        self, start: int = 0, stop: int | None = None, *, focus: frozenset[int] | None = None
    ) -> Iterator[Connection]:
        """The pairs of the source ranks in [start, stop) as Connections, in order."""
        for src, entries in self.rows(_Pair, start, stop, focus=focus):
            for e in entries:
                yield Connection(src, e.dst, e.conns)

    def _block(
        self,
        a: int,
        b: int,
        piece: Callable[[Endpoint, ConnSet], T],
        focus: frozenset[int] | None,
    ) -> Iterator[tuple[Endpoint, list[T]]]:
        n = self._n
        nodes = self.nodes
        rows: list[list[T]] = [[] for _ in range(a, b)]
        appenders = [r.append for r in rows]
        mask = self._mask(range(a, b))
        # Outside the focus' columns only the focus' own rows take pairs.
        focus_mask = mask if focus is None else self._mask(sorted(focus)) & mask
        by_bits: dict[tuple[int, bool], list[Callable[[T], None]]] = {}
        for dr, d in enumerate(self._columns):
            if d < 0:
                continue
            whole = focus is None or dr in focus
            wanted = mask if whole else focus_mask
            if not wanted:
                continue
            dst = nodes[dr]
            for conn, bits in self._cells(d):
                bits &= wanted
                if not bits:
                    continue
                apps = by_bits.get((bits, whole))
                if apps is None:
                    apps = [
                        appenders[sr - a]
                        for s in _bits(bits)
                        for sr in self._src_ranks(s)
                        if a <= sr < b and (whole or sr in focus)  # type: ignore[operator]
                    ]
                    by_bits[(bits, whole)] = apps
                if not apps:
                    continue
                value = piece(dst, conn)
                for app in apps:
                    app(value)
                if whole and a <= dr < b and d < n and bits >> d & 1:
                    # The destination itself was among the sources of its own cell.
                    rows[dr - a].pop()
        for i, row in enumerate(rows):
            if row:
                yield nodes[a + i], row

    def row(self, key: str) -> list[Connection]:
        """The pairs from one endpoint, in destination order."""
        sr = self.rank(key)
        if sr is None:
            return []
        return list(self.connections(sr, sr + 1))

    def column(self, key: str) -> list[Connection]:
        """The pairs into one endpoint, in source order."""
        dr = self.rank(key)
        if dr is None or self._empty:
            return []
        d = self._columns[dr]
        if d < 0:
            return []
        dst = self.nodes[dr]
        out = []
        for conn, bits in self._cells(d):
            for s in _bits(bits):
                for sr in self._src_ranks(s):
                    if sr != dr:
                        out.append((sr, Connection(self.nodes[sr], dst, conn)))
        out.sort(key=lambda t: t[0])
        return [c for _, c in out]

    def focus_ranks(self, name: str) -> frozenset[int]:
        """Ranks of the endpoints `name` designates (Endpoint.is_named: the CLI's --focus)."""
        return frozenset(i for i, e in enumerate(self.nodes) if e.is_named(name))

    # -- counts -------------------------------------------------------------------------------
    def _weights(self) -> tuple[int, list[tuple[int, int]]]:
        """(mask of source bits standing for exactly one endpoint, [(bit, endpoints)] for
        the others); a pod class may stand for no endpoint at workload level."""
        single = 0
        other: list[tuple[int, int]] = []
        for c, ranks in enumerate(self._per_class):
            if len(ranks) == 1:
                single |= 1 << c
            elif ranks:
                other.append((c, len(ranks)))
        for i in range(len(self._src_ext)):
            single |= 1 << (self._n + i)
        return single, other

    def count(self) -> int:
        """How many pairs the connection list has, without listing them."""
        if self._empty:
            return 0
        single, other = self._weights()
        total = 0
        for d in self._columns:
            if d < 0:
                continue
            for _, bits in self._cells(d):
                total += (bits & single).bit_count()
                total += sum(k for c, k in other if bits >> c & 1)
                if d < self._n and bits >> d & 1:
                    total -= 1  # not paired with itself
        return total

    def degrees(self) -> tuple[list[int], list[int]]:
        """(outbound, inbound) per rank: how many endpoints each may reach and be reached
        from. Inbound is a weighted count of each column's cells; outbound adds every
        cell of every column into a bit-sliced counter (one bitset per binary digit), so
        the cost follows cells, not pairs."""
        m = len(self.nodes)
        outbound = [0] * m
        inbound = [0] * m
        if self._empty:
            return outbound, inbound
        single, other = self._weights()
        slices: list[int] = []

        def add(bits: int, weight: int) -> None:
            j = 0
            while weight:
                if weight & 1:
                    carry = bits
                    k = j
                    while carry:
                        if k == len(slices):
                            slices.append(0)
                        t = slices[k] & carry
                        slices[k] ^= carry
                        carry = t
                        k += 1
                weight >>= 1
                j += 1

        own = 0  # classes whose own column's cell holding them is not empty
        for dr, d in enumerate(self._columns):
            if d < 0:
                continue
            for _, bits in self._cells(d):
                count = (bits & single).bit_count() + sum(k for c, k in other if bits >> c & 1)
                if d < self._n and bits >> d & 1:
                    count -= 1
                inbound[dr] += count
                add(bits, 1)
        # Columns are per destination rank, so a class standing for k endpoints was
        # added once per endpoint: no weights needed on the source side.
        for d in range(self._n):
            ranks = self._per_class[d]
            if ranks and any(bits >> d & 1 for _, bits in self._cells(d)):
                own |= 1 << d
        for rk in range(m):
            s = self._src_bit[rk]
            if s < 0:
                continue
            total = sum(1 << k for k, sl in enumerate(slices) if sl >> s & 1)
            if s < self._n and own >> s & 1:
                total -= 1
            outbound[rk] = total
        return outbound, inbound

    # -- aggregated levels ----------------------------------------------------------------------
    def group(self, group_of: Callable[[Endpoint], str]) -> Reachability:
        """The pairs aggregated into groups named by `group_of` (tier, namespace): the
        same as `group_reachability` over the listed pairs, computed from the cells.

        Per destination group, the sources of each ConnSet are OR-ed over the group's
        columns first; each source group met is then taken out of the remaining bits
        in one step, so the cost follows group pairs rather than endpoint pairs."""
        grouped = group_reachability(
            Reachability(self.nodes, [], level=self.level, direction=self.direction), group_of
        )
        if self._empty:
            return grouped
        by_key = {g.key: g for g in grouped.nodes}
        group_of_rank = [group_of(e) for e in self.nodes]
        # Groups of each source bit, and for each group the bits that belong to it alone.
        groups_of_bit: dict[int, list[str]] = {}
        for rk, s in enumerate(self._src_bit):
            if s >= 0:
                gs = groups_of_bit.setdefault(s, [])
                if group_of_rank[rk] not in gs:
                    gs.append(group_of_rank[rk])
        alone: dict[str, int] = {}
        for s, gs in groups_of_bit.items():
            if len(gs) == 1:
                alone[gs[0]] = alone.get(gs[0], 0) | 1 << s
        # Destination groups: their columns, and the classes standing for several
        # endpoints (pairs between two endpoints of one class live in its own cell).
        columns_of: dict[str, list[int]] = {}
        for dr, d in enumerate(self._columns):
            if d >= 0:
                cols = columns_of.setdefault(group_of_rank[dr], [])
                if d not in cols:
                    cols.append(d)
        pairs: dict[tuple[str, str], ConnSet] = {}

        def put(src: str, dst: str, conn: ConnSet) -> None:
            k = (src, dst)
            pairs[k] = pairs.get(k, ConnSet.none()) | conn

        for gd, cols in columns_of.items():
            sources: dict[ConnSet, int] = {}
            for d in cols:
                for conn, bits in self._cells(d):
                    if d < self._n and bits >> d & 1:
                        bits ^= 1 << d
                        self._own_class_pairs(d, conn, group_of_rank, gd, put)
                    if bits:
                        sources[conn] = sources.get(conn, 0) | bits
            for conn, bits in sources.items():
                while bits:
                    low = bits & -bits
                    s = low.bit_length() - 1
                    gs = groups_of_bit.get(s, [])
                    for gsrc in gs:
                        put(gsrc, gd, conn)
                    bits ^= low
                    if len(gs) == 1:
                        bits &= ~alone[gs[0]]
        conns = [Connection(by_key[s], by_key[d], c) for (s, d), c in sorted(pairs.items())]
        return Reachability(grouped.nodes, conns, level="group", direction=self.direction)

    def pair_counts(
        self,
        group_of: Callable[[Endpoint], str],
        restrict: Callable[[ConnSet], ConnSet] | None = None,
    ) -> dict[tuple[str, str], int]:
        """(source group, destination group) -> how many pairs it stands for, for the
        group pairs of `group(group_of)`. With `restrict` (a port filter), a pair counts
        only when its connections narrowed by it are not empty.

        From the cells: the sources reaching a column are its cells' bits OR-ed, and
        each source bit stands for some endpoints of some groups; a column counts once
        per destination endpoint it is the column of, less each endpoint of a class that
        reaches its own class (never paired with itself)."""
        if self._empty:
            return {}
        group_of_rank = [group_of(e) for e in self.nodes]
        shares = _Shares(self._src_bit, group_of_rank)
        reaching: dict[str, dict[int, int]] = {}  # dst group -> sources -> its endpoints
        counts: dict[tuple[str, str], int] = {}
        for dr, d in enumerate(self._columns):
            if d < 0:
                continue
            gd = group_of_rank[dr]
            reached = 0
            for conn, bits in self._cells(d):
                if restrict is None or not restrict(conn).is_empty:
                    reached |= bits
            if not reached:
                continue
            sources = reaching.setdefault(gd, {})
            sources[reached] = sources.get(reached, 0) + 1
            if d < self._n and reached >> d & 1:
                counts[(gd, gd)] = counts.get((gd, gd), 0) - 1  # not with itself
        for gd, sources in reaching.items():
            for bits, endpoints in sources.items():
                for gs, n in shares.of(bits).items():
                    counts[(gs, gd)] = counts.get((gs, gd), 0) + n * endpoints
        return {k: n for k, n in counts.items() if n}

    def _own_class_pairs(
        self,
        d: int,
        conn: ConnSet,
        group_of_rank: list[str],
        gd: str,
        put: Callable[[str, str, ConnSet], None],
    ) -> None:
        """Pairs between two endpoints of class d whose destination is in group gd."""
        ranks = self._per_class[d]
        for dr in ranks:
            if group_of_rank[dr] != gd:
                continue
            for sr in ranks:
                if sr != dr:
                    put(group_of_rank[sr], gd, conn)


class _Pair:
    """The destination part of a pair (Connection needs the source too)."""

    __slots__ = ("conns", "dst")

    def __init__(self, dst: Endpoint, conns: ConnSet) -> None:
        self.dst = dst
        self.conns = conns


class _Shares:
    """How many endpoints of each group every source bit stands for, summed per group
    over a set of source bits (`of`). With a few bits per group (workloads, fine tiers)
    the set's bits are walked in one pass over its digits; with many (namespaces), each
    group met is counted with its bit-sliced masks and its own bits skipped at once."""

    def __init__(self, src_bit: list[int], group_of_rank: list[str]) -> None:
        per_bit: dict[int, dict[str, int]] = {}
        for rk, s in enumerate(src_bit):
            if s >= 0:
                row = per_bit.setdefault(s, {})
                row[group_of_rank[rk]] = row.get(group_of_rank[rk], 0) + 1
        self._per_bit = {s: list(row.items()) for s, row in per_bit.items()}
        self._alone: dict[str, int] = {}
        self._slices: dict[str, list[int]] = {}
        for s, row in per_bit.items():
            if len(row) == 1:
                (g,) = row
                self._alone[g] = self._alone.get(g, 0) | 1 << s
            for g, k in row.items():
                masks = self._slices.setdefault(g, [])
                masks.extend([0] * (k.bit_length() - len(masks)))
                for j in range(k.bit_length()):
                    if k >> j & 1:
                        masks[j] |= 1 << s
        self._walk = len(self._slices) * BITS_PER_GROUP_TO_MASK > len(per_bit)

    def of(self, bits: int) -> dict[str, int]:
        """Group -> how many of its endpoints the source bits stand for (groups met)."""
        return self._walked(bits) if self._walk else self._masked(bits)

    def _walked(self, bits: int) -> dict[str, int]:
        out: dict[str, int] = {}
        digits = bin(bits)[:1:-1]
        s = digits.find("1")
        while s >= 0:
            for g, k in self._per_bit.get(s, ()):
                out[g] = out.get(g, 0) + k
            s = digits.find("1", s + 1)
        return out

    def _masked(self, bits: int) -> dict[str, int]:
        out: dict[str, int] = {}
        rest = bits
        while rest:
            low = rest & -rest
            row = self._per_bit.get(low.bit_length() - 1, [])
            for g, _ in row:
                if g not in out:
                    out[g] = sum((bits & mask).bit_count() << j for j, mask in enumerate(self._slices[g]))
            rest ^= low
            if len(row) == 1:
                rest &= ~self._alone[row[0][0]]
        return out
