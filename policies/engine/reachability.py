"""Who can reach whom: the fast path and its result types.

Public API (stable):

- ``analyze(cluster, *, level="workload"|"pod", direction="combined"|"ingress"|"egress")
  -> Reachability``
- ``Analyzer(cluster)``: the same with caches; ``.analyze(level=..., direction=...)``,
  ``.replace_policy(obj)`` and ``.remove_policy(namespace, name)`` return a new Analyzer
  that shares every cached result the change does not touch, so the next analyze is fast
  (the editor's what-if, the bench's recompute figure).
- ``Reachability``: ``nodes`` (every endpoint, also those without connections, and the
  external ranges), ``connections`` (``Connection(src, dst, conns)`` sorted by
  (src.key, dst.key) as the txt format prints them), ``level``, ``direction``.
- ``Endpoint``: a workload, a pod or an external address range (see its fields).
- ``group_reachability(reach, group_of)``: aggregate endpoints into groups (tier,
  namespace level); a group's pair conns are the union of its members' pairs.

How it stays fast. Pods are grouped into classes by (namespace, labels, named ports,
hostNetwork): pods of one class are indistinguishable to every policy. The address space
outside the cluster is cut into ranges at ipBlock boundaries (ingress ipBlocks cut
sources, egress ipBlocks cut destinations). Every selector, peer and policy becomes an
int bitset over classes and ranges, computed from label indexes rather than by testing
each class. For each destination class the sources are partitioned into cells sharing
one allowed ConnSet, per direction; a pair's connections are the intersection of the
egress cell and ingress cell it falls in. Cost follows the number of distinct classes
and rules, not pods squared. Cells are cached per destination class, so replacing one
policy recomputes only the classes that policy selects or names as a peer.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

from .cluster import Cluster
from .ipranges import IPRange, cut_space
from .model import (
    EMPTY_LABELS,
    NamedPort,
    NetworkPolicy,
    Peer,
    Pod,
    Rule,
    frozen_labels,
    parse_network_policy,
)
from .ports import ConnSet
from .selectors import LabelSelector
from .validation import validate_network_policy

Level = Literal["workload", "pod"]
Direction = Literal["combined", "ingress", "egress"]


@dataclass(frozen=True, eq=False)
class Endpoint:
    """One node of the reachability graph.

    ``key`` is the connection-list name (``shop/backend[Deployment]``,
    ``0.0.0.0-9.255.255.255[External]``); equality and hashing use it alone. At workload
    level ``labels`` and the flags come from the workload's representative pod (its first
    pod, or the stand-in built from its template). For a ``host_network`` endpoint the
    isolation flags only say that a policy selects it: whether the CNI plugin enforces
    policies on host-network pods varies, so never present it as protected.
    """

    key: str
    namespace: str
    name: str
    kind: str
    labels: Mapping[str, str] = field(default_factory=lambda: EMPTY_LABELS)
    pods: tuple[str, ...] = ()
    host_network: bool = False
    ingress_isolated: bool = False
    egress_isolated: bool = False
    is_external: bool = False
    ip_range: tuple[str, str] | None = None
    external_role: str = ""
    """For External ranges: "source" (cut by ingress ipBlocks), "destination" (cut by
    egress ipBlocks) or "both"; sources are only listed as src, destinations as dst."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Endpoint) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __str__(self) -> str:
        return self.key

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "namespace": self.namespace,
            "name": self.name,
            "kind": self.kind,
            "labels": dict(self.labels),
            "pods": list(self.pods),
            "host_network": self.host_network,
            "ingress_isolated": self.ingress_isolated,
            "egress_isolated": self.egress_isolated,
            "is_external": self.is_external,
            "ip_range": list(self.ip_range) if self.ip_range else None,
            "external_role": self.external_role,
        }


class Connection(NamedTuple):
    """An ordered pair and what it allows (never empty in a Reachability)."""

    src: Endpoint
    dst: Endpoint
    conns: ConnSet


class Reachability:
    """Endpoints and the sorted list of allowed connections between them."""

    def __init__(
        self,
        nodes: Sequence[Endpoint],
        connections: Sequence[Connection] | None = None,
        *,
        level: str = "workload",
        direction: str = "combined",
        _materialize: Callable[[], list[Connection]] | None = None,
    ) -> None:
        self.nodes: list[Endpoint] = list(nodes)
        self.level = level
        self.direction = direction
        self._connections: list[Connection] | None = (
            list(connections) if connections is not None else None
        )
        self._materialize = _materialize
        self._node_index: dict[str, Endpoint] | None = None
        self._pair_index: dict[tuple[str, str], ConnSet] | None = None

    @property
    def connections(self) -> list[Connection]:
        if self._connections is None:
            assert self._materialize is not None
            self._connections = self._materialize()
        return self._connections

    def node(self, key: str) -> Endpoint | None:
        if self._node_index is None:
            self._node_index = {n.key: n for n in self.nodes}
        return self._node_index.get(key)

    def conns_between(self, src: str, dst: str) -> ConnSet:
        """What src (an endpoint key) may open to dst; empty when the pair is not listed."""
        if self._pair_index is None:
            self._pair_index = {(c.src.key, c.dst.key): c.conns for c in self.connections}
        return self._pair_index.get((src, dst), ConnSet.none())

    def focus(self, workload: str) -> Reachability:
        """Only pairs involving `workload` (a key, `ns/name` or a bare name)."""

        def hit(e: Endpoint) -> bool:
            return workload in (e.key, f"{e.namespace}/{e.name}", e.name)

        conns = [c for c in self.connections if hit(c.src) or hit(c.dst)]
        return Reachability(self.nodes, conns, level=self.level, direction=self.direction)

    def __len__(self) -> int:
        return len(self.connections)

    def __iter__(self) -> Iterator[Connection]:
        return iter(self.connections)


# -- compiled form -------------------------------------------------------------------------


_Layer = tuple[list["Endpoint"], dict[str, int], list[list[int]], list[int], list[int], list[int]]


def _same_or(old: Endpoint | None, new: Endpoint) -> Endpoint:
    """The old endpoint object when nothing about it changed, so pairs can be reused."""
    if old is not None and old.to_dict() == new.to_dict():
        return old
    return new


def _bits(x: int) -> Iterator[int]:
    """Indices of the set bits of x, ascending."""
    while x:
        low = x & -x
        yield low.bit_length() - 1
        x ^= low


@dataclass
class _Class:
    namespace: str
    labels: Mapping[str, str]
    named_ports: tuple[NamedPort, ...]
    host_network: bool
    pods: list[Pod] = field(default_factory=list)


@dataclass
class _CompiledRule:
    rule: Rule
    index: int
    peers: int  # over the source space (ingress) or destination space (egress)
    static_conns: ConnSet | None  # when the rule names no port

    def conns_on(self, named_ports: tuple[NamedPort, ...] | None) -> ConnSet:
        if self.static_conns is not None:
            return self.static_conns
        return self.rule.conns_on(named_ports)


@dataclass
class _CompiledPolicy:
    policy: NetworkPolicy
    selected: int
    ingress_rules: list[_CompiledRule]
    egress_rules: list[_CompiledRule]


class _Universe:
    """Pod classes, external ranges and label indexes: the bit positions."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        index: dict[tuple[Any, ...], int] = {}
        self.classes: list[_Class] = []
        self.class_of: dict[int, int] = {}
        for pod in cluster.pods:
            sig = (pod.namespace, tuple(pod.labels.items()), pod.named_ports, pod.host_network)
            i = index.get(sig)
            if i is None:
                i = len(self.classes)
                index[sig] = i
                self.classes.append(
                    _Class(pod.namespace, pod.labels, pod.named_ports, pod.host_network)
                )
            self.classes[i].pods.append(pod)
            self.class_of[id(pod)] = i
        self.n = len(self.classes)
        self.all_pods = (1 << self.n) - 1

        src_blocks = [r for p in cluster.policies for b in p.ip_blocks("ingress") for r in b.ranges]
        dst_blocks = [r for p in cluster.policies for b in p.ip_blocks("egress") for r in b.ranges]
        self.src_ext = cut_space(src_blocks)
        self.dst_ext = cut_space(dst_blocks)
        self.cut_signature = (tuple(self.src_ext), tuple(self.dst_ext))
        self._src_firsts = [(r.family, r.first) for r in self.src_ext]
        self._dst_firsts = [(r.family, r.first) for r in self.dst_ext]
        self.all_src = (1 << (self.n + len(self.src_ext))) - 1
        self.all_dst = (1 << (self.n + len(self.dst_ext))) - 1

        # Label indexes: a selector becomes a few ANDs/ORs of these bitsets.
        self.ns_bits: dict[str, int] = {}
        self.label_bits: dict[tuple[str, str], int] = {}
        self.key_bits: dict[str, int] = {}
        for i, c in enumerate(self.classes):
            bit = 1 << i
            self.ns_bits[c.namespace] = self.ns_bits.get(c.namespace, 0) | bit
            for kv in c.labels.items():
                self.label_bits[kv] = self.label_bits.get(kv, 0) | bit
                self.key_bits[kv[0]] = self.key_bits.get(kv[0], 0) | bit
        self.namespaces = cluster.namespaces
        self._pod_sel_cache: dict[LabelSelector, int] = {}
        self._ns_sel_cache: dict[LabelSelector, int] = {}

    # selectors ------------------------------------------------------------------------
    def pod_selector_bits(self, sel: LabelSelector) -> int:
        found = self._pod_sel_cache.get(sel)
        if found is None:
            found = self._selector_bits(sel, self.label_bits, self.key_bits, self.all_pods)
            self._pod_sel_cache[sel] = found
        return found

    @staticmethod
    def _selector_bits(
        sel: LabelSelector,
        label_bits: Mapping[tuple[str, str], int],
        key_bits: Mapping[str, int],
        everything: int,
    ) -> int:
        bits = everything
        for kv in sel.match_labels:
            bits &= label_bits.get(kv, 0)
        for req in sel.match_expressions:
            if req.operator == "In":
                any_of = 0
                for v in req.values:
                    any_of |= label_bits.get((req.key, v), 0)
                bits &= any_of
            elif req.operator == "NotIn":
                for v in req.values:
                    bits &= ~label_bits.get((req.key, v), 0)
            elif req.operator == "Exists":
                bits &= key_bits.get(req.key, 0)
            else:
                bits &= ~key_bits.get(req.key, 0)
        return bits & everything

    def namespace_selector_bits(self, sel: LabelSelector) -> int:
        found = self._ns_sel_cache.get(sel)
        if found is None:
            found = 0
            for ns, bits in self.ns_bits.items():
                if sel.matches(self.namespaces.get(ns) or {"kubernetes.io/metadata.name": ns}):
                    found |= bits
            self._ns_sel_cache[sel] = found
        return found

    def ext_bits(self, ranges: Sequence[IPRange], egress: bool) -> int:
        cut = self.dst_ext if egress else self.src_ext
        firsts = self._dst_firsts if egress else self._src_firsts
        bits = 0
        for r in ranges:
            i = bisect.bisect_left(firsts, (r.family, r.first))
            j = i
            while j < len(cut) and cut[j].family == r.family and cut[j].last <= r.last:
                j += 1
            if j > i:
                bits |= ((1 << (j - i)) - 1) << (self.n + i)
        return bits

    def peer_bits(self, peer: Peer, policy_ns: str, egress: bool) -> int:
        if peer.ip_block is not None:
            return self.ext_bits(peer.ip_block.ranges, egress)
        if peer.namespace_selector is None:
            bits = self.ns_bits.get(policy_ns, 0)
        else:
            bits = self.namespace_selector_bits(peer.namespace_selector)
        if peer.pod_selector is not None:
            bits &= self.pod_selector_bits(peer.pod_selector)
        return bits

    def compile(self, policy: NetworkPolicy) -> _CompiledPolicy:
        selected = self.pod_selector_bits(policy.pod_selector) & self.ns_bits.get(
            policy.namespace, 0
        )

        def rules(direction: str) -> list[_CompiledRule]:
            egress = direction == "egress"
            out = []
            for i, rule in enumerate(policy.rules(direction)):
                if not rule.peers:
                    peers = self.all_dst if egress else self.all_src
                else:
                    peers = 0
                    for p in rule.peers:
                        peers |= self.peer_bits(p, policy.namespace, egress)
                static = None if rule.has_named_ports else rule.conns_on(None)
                out.append(_CompiledRule(rule, i, peers, static))
            return out

        return _CompiledPolicy(policy, selected, rules("ingress"), rules("egress"))


Cells = dict[ConnSet, int]


def _refine(cells: Cells, contributions: Sequence[tuple[int, ConnSet]]) -> Cells:
    """Add each (sources, conns) contribution to a partition of sources by ConnSet."""
    for bits, conn in contributions:
        if not bits or conn.is_empty:
            continue
        new: Cells = {}
        for c, b in cells.items():
            inter = b & bits
            if inter:
                u = c | conn
                new[u] = new.get(u, 0) | inter
                rest = b ^ inter
                if rest:
                    new[c] = new.get(c, 0) | rest
            else:
                new[c] = new.get(c, 0) | b
        cells = new
    return cells


class Analyzer:
    """Reachability with per-destination-class caches; cheap to derive after a change."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self._u = _Universe(cluster)
        self._compiled = {p.key: self._u.compile(p) for p in cluster.policies}
        self._index()
        self._in_cells: dict[int, Cells] = {}
        self._eg_cells: dict[int, Cells] = {}
        self._combined: dict[tuple[str, int], Cells] = {}
        self._expanded: dict[tuple[str, str, int], list[tuple[int, int, ConnSet]]] = {}
        self._endpoints: dict[str, _Layer] = {}
        self._reusable_endpoints: dict[str, dict[str, Endpoint]] = {}
        self._sorted: dict[tuple[str, str], list[tuple[int, Connection]]] = {}
        self._inherited: dict[tuple[str, str], tuple[list[tuple[int, Connection]], int, bool]] = {}

    # -- indexes --------------------------------------------------------------------------
    def _index(self) -> None:
        u = self._u
        self._ingress_isolated = 0
        self._egress_isolated = 0
        self._ingress_by_dst: dict[int, list[_CompiledPolicy]] = {}
        groups: dict[int, list[tuple[_CompiledPolicy, _CompiledRule]]] = {}
        for cp in self._compiled.values():
            self._add_policy_to_index(cp, groups)
        self._egress_groups = groups
        self._egress_by_dst: dict[int, list[tuple[_CompiledPolicy, _CompiledRule]]] = {}
        for peers, entries in groups.items():
            for d in _bits(peers & u.all_dst):
                self._egress_by_dst.setdefault(d, []).extend(entries)

    def _add_policy_to_index(
        self, cp: _CompiledPolicy, groups: dict[int, list[tuple[_CompiledPolicy, _CompiledRule]]]
    ) -> None:
        if cp.policy.affects_ingress:
            self._ingress_isolated |= cp.selected
            for d in _bits(cp.selected):
                self._ingress_by_dst.setdefault(d, []).append(cp)
        if cp.policy.affects_egress:
            self._egress_isolated |= cp.selected
            for r in cp.egress_rules:
                groups.setdefault(r.peers, []).append((cp, r))

    # -- per destination ----------------------------------------------------------------------
    def _named_ports_at(self, d: int) -> tuple[NamedPort, ...] | None:
        return self._u.classes[d].named_ports if d < self._u.n else None

    def _ingress(self, d: int) -> Cells:
        found = self._in_cells.get(d)
        if found is not None:
            return found
        u = self._u
        policies = self._ingress_by_dst.get(d) if d < u.n else None
        if not policies:
            cells: Cells = {ConnSet.all(): u.all_src}
        else:
            named = self._named_ports_at(d)
            contributions = [
                (r.peers, r.conns_on(named)) for cp in policies for r in cp.ingress_rules
            ]
            cells = _refine({ConnSet.none(): u.all_src}, contributions)
        self._in_cells[d] = cells
        return cells

    def _egress(self, d: int) -> Cells:
        found = self._eg_cells.get(d)
        if found is not None:
            return found
        u = self._u
        open_sources = u.all_src & ~self._egress_isolated
        cells: Cells = {ConnSet.all(): open_sources}
        if self._egress_isolated:
            cells[ConnSet.none()] = self._egress_isolated
            named = self._named_ports_at(d)
            contributions = [
                (cp.selected, r.conns_on(named)) for cp, r in self._egress_by_dst.get(d, ())
            ]
            cells = _refine(cells, contributions)
        self._eg_cells[d] = cells
        return cells

    def _cells(self, direction: str, d: int) -> Cells:
        if direction == "ingress":
            return self._ingress(d)
        if direction == "egress":
            return self._egress(d)
        key = (direction, d)
        found = self._combined.get(key)
        if found is not None:
            return found
        out: Cells = {}
        eg = self._egress(d)
        for cin, bin_ in self._ingress(d).items():
            if cin.is_empty:
                continue
            for cout, bout in eg.items():
                b = bin_ & bout
                if b and not cout.is_empty:
                    c = cin & cout
                    if not c.is_empty:
                        out[c] = out.get(c, 0) | b
        self._combined[key] = out
        return out

    def allowed(self, src_pod: Pod, dst_pod: Pod, direction: Direction = "combined") -> ConnSet:
        """Connections allowed from one pod to another (pod classes, no endpoint layer)."""
        s = self._u.class_of[id(src_pod)]
        d = self._u.class_of[id(dst_pod)]
        for conn, bits in self._cells(direction, d).items():
            if bits >> s & 1:
                return conn
        return ConnSet.none()

    # -- endpoints ----------------------------------------------------------------------------
    def _endpoint_layer(self, level: str) -> _Layer:
        """(ranked endpoints, rank by key, endpoint ranks per class, src-ext ranks,
        dst-ext ranks, destination index per rank)."""
        found = self._endpoints.get(level)
        if found is not None:
            return found
        u = self._u
        ing, eg = self._ingress_isolated, self._egress_isolated
        members: list[tuple[Endpoint, int]] = []
        if level == "pod":
            for pod in self.cluster.pods:
                c = u.class_of[id(pod)]
                key = pod.workload_key if pod.stand_in else f"{pod.namespace}/{pod.name}[Pod]"
                ep = Endpoint(
                    key,
                    pod.namespace,
                    pod.name,
                    pod.owner_kind if pod.stand_in else "Pod",
                    pod.labels,
                    (pod.name,),
                    pod.host_network,
                    bool(ing >> c & 1),
                    bool(eg >> c & 1),
                )
                members.append((ep, c))
        else:
            for w in self.cluster.workloads:
                rep = w.representative
                c = u.class_of[id(rep)]
                ep = Endpoint(
                    w.key,
                    w.namespace,
                    w.name,
                    w.kind,
                    rep.labels,
                    tuple(p.name for p in w.pods if not p.stand_in),
                    rep.host_network,
                    bool(ing >> c & 1),
                    bool(eg >> c & 1),
                )
                members.append((ep, c))
        externals: dict[str, Endpoint] = {}
        src_keys = {f"{r}[External]" for r in u.src_ext}
        dst_keys = {f"{r}[External]" for r in u.dst_ext}
        for r in [*u.src_ext, *u.dst_ext]:
            key = f"{r}[External]"
            if key not in externals:
                role = (
                    "both"
                    if key in src_keys and key in dst_keys
                    else "source"
                    if key in src_keys
                    else "destination"
                )
                externals[key] = Endpoint(
                    key,
                    "",
                    str(r),
                    "External",
                    is_external=True,
                    ip_range=r.text,
                    external_role=role,
                )
        reuse = self._reusable_endpoints.get(level, {})
        ranked = sorted(
            [_same_or(reuse.get(e.key), e) for e, _ in members]
            + [_same_or(reuse.get(k), e) for k, e in externals.items()],
            key=lambda e: e.key,
        )
        rank = {e.key: i for i, e in enumerate(ranked)}
        per_class: list[list[int]] = [[] for _ in range(u.n)]
        for ep, c in members:
            per_class[c].append(rank[ep.key])
        src_ext = [rank[f"{r}[External]"] for r in u.src_ext]
        dst_ext = [rank[f"{r}[External]"] for r in u.dst_ext]
        dst_index = [0] * len(ranked)
        for c, ranks in enumerate(per_class):
            for rk in ranks:
                dst_index[rk] = c
        for j, rk in enumerate(dst_ext):
            dst_index[rk] = u.n + j
        layer = (ranked, rank, per_class, src_ext, dst_ext, dst_index)
        self._endpoints[level] = layer
        return layer

    def _expand(self, level: str, direction: str, d: int) -> list[tuple[int, int, ConnSet]]:
        key = (level, direction, d)
        found = self._expanded.get(key)
        if found is not None:
            return found
        u = self._u
        _, _, per_class, src_ext, dst_ext, _ = self._endpoint_layer(level)
        dst_ranks = per_class[d] if d < u.n else [dst_ext[d - u.n]]
        out: list[tuple[int, int, ConnSet]] = []
        if dst_ranks:
            n = u.n
            for conn, bits in self._cells(direction, d).items():
                if conn.is_empty:
                    continue
                if d >= n:
                    bits &= u.all_pods  # pairs between two address ranges are never listed
                for s in _bits(bits):
                    src_ranks = per_class[s] if s < n else (src_ext[s - n],)
                    for sr in src_ranks:
                        for dr in dst_ranks:
                            if sr != dr:
                                out.append((sr, dr, conn))
        self._expanded[key] = out
        return out

    def analyze(
        self, *, level: Level = "workload", direction: Direction = "combined"
    ) -> Reachability:
        if level not in ("workload", "pod"):
            raise ValueError(f"level must be 'workload' or 'pod', not {level!r}")
        if direction not in ("combined", "ingress", "egress"):
            raise ValueError(
                f"direction must be 'combined', 'ingress' or 'egress', not {direction!r}"
            )
        ranked = self._endpoint_layer(level)[0]
        if not self.cluster.pods:
            # np-guard lists nothing when the input has no workloads at all.
            return Reachability(ranked, [], level=level, direction=direction)

        def materialize() -> list[Connection]:
            return [c for _, c in self._sorted_items(level, direction)]

        return Reachability(
            ranked, None, level=level, direction=direction, _materialize=materialize
        )

    def _sorted_items(self, level: str, direction: str) -> list[tuple[int, Connection]]:
        """Connections keyed by src_rank * M + dst_rank, sorted: the txt order.

        A derived analyzer starts from its parent's list, drops the items whose
        destination class the change made dirty and merges in their recomputed ones.
        """
        key = (level, direction)
        found = self._sorted.get(key)
        if found is not None:
            return found
        u = self._u
        ranked, _, _, _, _, dst_index = self._endpoint_layer(level)
        m = len(ranked)
        inherited = self._inherited.get(key)
        items: list[tuple[int, Connection]]
        if inherited is None:
            items = [
                (sr * m + dr, Connection(ranked[sr], ranked[dr], c))
                for d in range(u.n + len(u.dst_ext))
                for sr, dr, c in self._expand(level, direction, d)
            ]
            items.sort()
        else:
            old, dirty, endpoints_changed = inherited
            items = [it for it in old if not dirty >> dst_index[it[0] % m] & 1]
            if endpoints_changed:
                # Isolation flags of some endpoints changed: refresh their pairs.
                items = [
                    it
                    if it[1].src is ranked[it[0] // m] and it[1].dst is ranked[it[0] % m]
                    else (it[0], Connection(ranked[it[0] // m], ranked[it[0] % m], it[1].conns))
                    for it in items
                ]
            fresh = [
                (sr * m + dr, Connection(ranked[sr], ranked[dr], c))
                for d in _bits(dirty)
                for sr, dr, c in self._expand(level, direction, d)
            ]
            fresh.sort()
            items.extend(fresh)
            items.sort()  # two sorted runs: a linear merge
        self._sorted[key] = items
        return items

    # -- what-if ----------------------------------------------------------------------------
    def replace_policy(self, obj: Mapping[str, Any]) -> Analyzer:
        """A new Analyzer with `obj` added or replacing the policy of the same name.

        Raises ValueError listing the validation errors of an invalid policy.
        """
        errors = validate_network_policy(obj)
        if errors:
            raise ValueError("; ".join(str(e) for e in errors))
        policy = parse_network_policy(obj)
        policies = [p for p in self.cluster.policies if p.key != policy.key] + [policy]
        return self._derive(policies, old_key=policy.key, new=policy)

    def remove_policy(self, namespace: str, name: str) -> Analyzer:
        key = f"{namespace}/{name}"
        if self.cluster.policy(key) is None:
            raise KeyError(f"no NetworkPolicy {key}")
        policies = [p for p in self.cluster.policies if p.key != key]
        return self._derive(policies, old_key=key, new=None)

    def _derive(
        self, policies: list[NetworkPolicy], *, old_key: str, new: NetworkPolicy | None
    ) -> Analyzer:
        cluster = self.cluster.with_policies(sorted(policies, key=lambda p: p.key))
        u = self._u
        if set(cluster.namespaces) != set(self.cluster.namespaces):
            return Analyzer(cluster)
        old_cp = self._compiled.get(old_key)
        new_cp = u.compile(new) if new is not None else None
        blocks_changed = any(
            (cp.policy.ip_blocks("ingress"), cp.policy.ip_blocks("egress")) != ([], [])
            for cp in (old_cp, new_cp)
            if cp is not None
        )
        if blocks_changed:
            src = [r for p in cluster.policies for b in p.ip_blocks("ingress") for r in b.ranges]
            dst = [r for p in cluster.policies for b in p.ip_blocks("egress") for r in b.ranges]
            probe_sig = (tuple(cut_space(src)), tuple(cut_space(dst)))
            if probe_sig != u.cut_signature:
                return Analyzer(cluster)
        derived = Analyzer.__new__(Analyzer)
        derived.cluster = cluster
        derived._u = u
        compiled = dict(self._compiled)
        compiled.pop(old_key, None)
        if new_cp is not None:
            compiled[new_cp.policy.key] = new_cp
        derived._compiled = compiled
        derived._index()

        dirty_in = 0
        dirty_eg = 0
        for cp in (old_cp, new_cp):
            if cp is None:
                continue
            if cp.policy.affects_ingress:
                dirty_in |= cp.selected
            if cp.policy.affects_egress:
                for r in cp.egress_rules:
                    dirty_eg |= r.peers
        if derived._egress_isolated != self._egress_isolated:
            dirty_eg = u.all_dst
        dirty = dirty_in | dirty_eg
        derived._in_cells = {d: c for d, c in self._in_cells.items() if not dirty_in >> d & 1}
        derived._eg_cells = {d: c for d, c in self._eg_cells.items() if not dirty_eg >> d & 1}
        derived._combined = {k: c for k, c in self._combined.items() if not dirty >> k[1] & 1}
        derived._expanded = {
            k: v
            for k, v in self._expanded.items()
            if not (
                (dirty_in if k[1] == "ingress" else dirty_eg if k[1] == "egress" else dirty) >> k[2]
                & 1
            )
        }
        # Endpoint isolation flags may change; ranks and classes do not, so expanded
        # (rank, rank, conns) triples stay valid and unchanged endpoints are reused.
        same_isolation = (derived._ingress_isolated, derived._egress_isolated) == (
            self._ingress_isolated,
            self._egress_isolated,
        )
        derived._endpoints = dict(self._endpoints) if same_isolation else {}
        derived._reusable_endpoints = {
            level: {e.key: e for e in layer[0]} for level, layer in self._endpoints.items()
        }
        derived._sorted = {}
        dirty_of = {"ingress": dirty_in, "egress": dirty_eg, "combined": dirty}
        derived._inherited = {
            key: (items, dirty_of[key[1]], not same_isolation)
            for key, items in self._sorted.items()
        }
        return derived


def analyze(
    cluster: Cluster, *, level: Level = "workload", direction: Direction = "combined"
) -> Reachability:
    """Every allowed connection between endpoints of `cluster` (see module docstring)."""
    return Analyzer(cluster).analyze(level=level, direction=direction)


def group_reachability(reach: Reachability, group_of: Callable[[Endpoint], str]) -> Reachability:
    """Aggregate endpoints into groups named by `group_of` (tier, namespace...).

    A group pair's conns are the union over its members' pairs. Group self-pairs are
    kept (a tier talking to itself matters); an endpoint is never paired with itself
    at the base level, so those never contribute. Group nodes have kind "Group",
    ingress/egress_isolated only when every member is, and pods the union of members'.
    """
    members: dict[str, list[Endpoint]] = {}
    group_key: dict[str, str] = {}
    for n in reach.nodes:
        g = group_of(n)
        members.setdefault(g, []).append(n)
        group_key[n.key] = g
    nodes = []
    for g, ms in sorted(members.items()):
        namespaces = {m.namespace for m in ms}
        common = dict(ms[0].labels)
        for m in ms[1:]:
            common = {k: v for k, v in common.items() if m.labels.get(k) == v}
        external = all(m.is_external for m in ms)
        nodes.append(
            Endpoint(
                key=g,
                namespace=namespaces.pop() if len(namespaces) == 1 else "",
                name=g,
                kind="Group",
                labels=frozen_labels(common),
                pods=tuple(sorted({p for m in ms for p in m.pods})),
                host_network=any(m.host_network for m in ms),
                ingress_isolated=all(m.ingress_isolated for m in ms),
                egress_isolated=all(m.egress_isolated for m in ms),
                is_external=external,
                ip_range=ms[0].ip_range if external and len(ms) == 1 else None,
            )
        )
    by_key = {n.key: n for n in nodes}
    pairs: dict[tuple[str, str], ConnSet] = {}
    for c in reach.connections:
        k = (group_key[c.src.key], group_key[c.dst.key])
        pairs[k] = pairs.get(k, ConnSet.none()) | c.conns
    conns = [Connection(by_key[s], by_key[d], cs) for (s, d), cs in sorted(pairs.items())]
    return Reachability(nodes, conns, level="group", direction=reach.direction)
