"""Who can reach whom: the fast path and its result types.

Public API (stable):

- ``analyze(cluster, *, level="workload"|"pod", direction="combined"|"ingress"|"egress")
  -> Reachability``
- ``Analyzer(cluster)``: the same with caches; ``.analyze(level=..., direction=...)``.
  ``.replace_policy(obj)``, ``.remove_policy(namespace, name)`` and
  ``.with_policies_changed(upserts, removals)`` (several changes at once) return a new
  Analyzer that shares or patches every cached result the changes leave valid, so the
  next analyze is fast (the editor's what-if, drift, sync; the bench's recompute
  figures).
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
and rules, not pods squared. Cells are cached per destination class and the connection
list is kept row by row (one row per source endpoint), so after a policy change only
the destinations whose ingress it changes (columns) and the sources whose egress it
changes (rows) are recomputed; every other cached cell and row is patched or shared (see
Analyzer).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from itertools import chain
from typing import Any, Generic, Literal, NamedTuple, TypeVar

from .cluster import Cluster
from .cni.common import DENY_END, CniTierPolicy, PlanTier
from .cni.kinds import CNIS, is_cni_object
from .endpoint_keys import external_key, object_key, parse_object_key
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
from .tier_validation import validate_cluster_policy
from .tiers import (
    ALL_PEERS,
    ALLOW,
    CLUSTER_POLICY_KINDS,
    DENY,
    PASS,
    ClusterPolicy,
    TierPeer,
    TierRule,
    is_cluster_policy,
    parse_cluster_policy,
    pod_ip_families,
)
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
    workload: str = ""
    """For a pod at pod level: the key of the workload it belongs to."""

    def is_named(self, name: str) -> bool:
        """Whether `name` (a key, `ns/name` or a bare name) designates this endpoint or,
        for a pod, its workload (the CLI's --focus)."""
        if name in (self.key, f"{self.namespace}/{self.name}", self.name):
            return True
        owner = parse_object_key(self.workload) if self.workload else None
        return owner is not None and name in (self.workload, f"{owner[0]}/{owner[1]}", owner[1])

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
        _source_rows: Callable[[], Sequence[tuple[Connection, ...]]] | None = None,
    ) -> None:
        self.nodes: list[Endpoint] = list(nodes)
        self._source_rows = _source_rows
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

    def source_rows(self) -> Sequence[tuple[Connection, ...]] | None:
        """The connections by source, one row per node in order (their concatenation is
        `connections`), when an Analyzer made this answer, else None. A derived
        analyzer's row is the very tuple of its parent's answer when that row did not
        change: a diff against the parent compares only the rows that are not."""
        return None if self._source_rows is None else self._source_rows()

    def node(self, key: str) -> Endpoint | None:
        if self._node_index is None:
            self._node_index = {n.key: n for n in self.nodes}
        return self._node_index.get(key)

    def conns_between(self, src: str, dst: str) -> ConnSet:
        """What src (an endpoint key) may open to dst; empty when the pair is not listed."""
        if self._pair_index is None:
            self._pair_index = {(c.src.key, c.dst.key): c.conns for c in self.connections}
        return self._pair_index.get((src, dst), ConnSet.none())

    def focus(self, *workloads: str) -> Reachability:
        """Only pairs involving one of `workloads` (see Endpoint.is_named)."""

        def hit(e: Endpoint) -> bool:
            return any(e.is_named(w) for w in workloads)

        conns = [c for c in self.connections if hit(c.src) or hit(c.dst)]
        return Reachability(self.nodes, conns, level=self.level, direction=self.direction)

    def __len__(self) -> int:
        return len(self.connections)

    def __iter__(self) -> Iterator[Connection]:
        return iter(self.connections)


# -- compiled form -------------------------------------------------------------------------


class _Layer(NamedTuple):
    """The endpoints of one level, ranked by key (the connection-list order)."""

    ranked: list[Endpoint]
    per_class: list[list[int]]  # ranks of the endpoints each pod class stands for
    src_ext: list[int]  # rank of each source-side external range
    dst_ext: list[int]  # rank of each destination-side external range
    columns: list[int]  # destination column of each rank; -1 for source-only ranges

    def src_ranks(self, n: int, s: int) -> Sequence[int]:
        """Ranks of source bit s (a pod class below n, an external range from n on)."""
        return self.per_class[s] if s < n else (self.src_ext[s - n],)

    def dst_ranks(self, n: int, d: int) -> Sequence[int]:
        return self.per_class[d] if d < n else (self.dst_ext[d - n],)


class _Rows(NamedTuple):
    """A connection list by source rank: each row's destination ranks, ascending, and
    its Connections in the same order. Row after row is the txt order. Rows are shared
    between an analyzer and those derived from it, so they are never changed in place."""

    dsts: list[tuple[int, ...]]
    conns: list[tuple[Connection, ...]]


class _Inherited(NamedTuple):
    """A parent's rows and what has changed since: destination columns and source rows
    (bits) whose pairs must be recomputed, and pod classes whose endpoints' isolation
    flags changed (their pairs elsewhere keep their conns but need the new endpoints)."""

    rows: _Rows
    dirty_cols: int
    dirty_rows: int
    flags: int


def _bits(x: int) -> Iterator[int]:
    """Indices of the set bits of x, ascending."""
    while x:
        low = x & -x
        yield low.bit_length() - 1
        x ^= low


# Rows patched by bisecting for each touched destination rank, up to this many ranks;
# past it a row is filtered in one pass.
_BISECT_LIMIT = 24


@dataclass
class _Class:
    namespace: str
    labels: Mapping[str, str]
    named_ports: tuple[NamedPort, ...]
    host_network: bool
    service_account: str = "default"
    ip_families: frozenset[int] = frozenset()
    pods: list[Pod] = field(default_factory=list)


_R = TypeVar("_R", Rule, TierRule)


@dataclass
class _CompiledRule(Generic[_R]):
    """A rule of a NetworkPolicy (``Rule``) or of a cluster-wide policy (``TierRule``) with
    its peers as bits."""

    rule: _R
    peers: int  # over the source space (ingress) or destination space (egress)
    static_conns: ConnSet | None  # when the rule names no port
    index: int = 0  # the rule's position in its NetworkPolicy
    local: int = -1  # tier rules: the selected pod classes the rule concerns (-1: all)

    def conns_on(self, named_ports: tuple[NamedPort, ...] | None) -> ConnSet:
        if self.static_conns is not None:
            return self.static_conns
        return self.rule.conns_on(named_ports)


@dataclass
class _CompiledPolicy:
    policy: NetworkPolicy
    selected: int
    ingress_rules: list[_CompiledRule[Rule]]
    egress_rules: list[_CompiledRule[Rule]]
    ingress: bool  # Ingress in policyTypes: isolates the selected pods for ingress
    egress: bool


@dataclass
class _CompiledClusterPolicy:
    policy: ClusterPolicy
    selected: int  # pod classes of the subject (never host-network ones)
    ingress_rules: list[_CompiledRule[TierRule]]
    egress_rules: list[_CompiledRule[TierRule]]
    applies_in: bool = False  # policy.applies_to("ingress"), asked once
    applies_eg: bool = False
    egress_peers: int = 0  # every destination an egress rule names

    def __post_init__(self) -> None:
        self.applies_in = self.policy.applies_to("ingress")
        self.applies_eg = self.policy.applies_to("egress")
        for r in self.egress_rules:
            self.egress_peers |= r.peers


def _tier_dst_ranges(cluster: Cluster, policies: Iterable[ClusterPolicy]) -> list[IPRange]:
    """Address ranges the egress peers of cluster-wide policies name (networks, and the
    addresses of the nodes a `nodes` peer selects): they cut destinations."""
    out: list[IPRange] = []
    for p in policies:
        for r in p.egress:
            for peer in r.peers:
                out.extend(peer.ranges)
                out.extend(peer.node_ranges(cluster.nodes))
    return out


def _dst_cut_ranges(cluster: Cluster) -> list[IPRange]:
    v1 = [r for p in cluster.policies for b in p.ip_blocks("egress") for r in b.ranges]
    return v1 + _tier_dst_ranges(cluster, [*cluster.cluster_policies, *cluster.cni_tier_policies])


def _src_cut_ranges(cluster: Cluster) -> list[IPRange]:
    v1 = [r for p in cluster.policies for b in p.ip_blocks("ingress") for r in b.ranges]
    # CNI ingress peers name sources outside the cluster too.
    return v1 + [
        rng for p in cluster.cni_tier_policies for r in p.ingress for peer in r.peers for rng in peer.ranges
    ]


class _Universe:
    """Pod classes, external ranges and label indexes: the bit positions."""

    def __init__(self, cluster: Cluster, families: Iterable[int] = (4,)) -> None:
        self.cluster = cluster
        index: dict[tuple[Any, ...], int] = {}
        self.classes: list[_Class] = []
        self.class_of: dict[int, int] = {}
        # Service accounts matter only to CNI policies (Calico's serviceAccounts).
        by_sa = bool(cluster.cni_tier_policies)
        for pod in cluster.pods:
            sa = pod.service_account if by_sa else "default"
            fams = pod_ip_families(pod.ips)
            sig = (pod.namespace, tuple(pod.labels.items()), pod.named_ports, pod.host_network, sa, fams)
            i = index.get(sig)
            if i is None:
                i = len(self.classes)
                index[sig] = i
                self.classes.append(
                    _Class(pod.namespace, pod.labels, pod.named_ports, pod.host_network, sa, fams)
                )
            self.classes[i].pods.append(pod)
            self.class_of[id(pod)] = i
        self.n = len(self.classes)
        self.all_pods = (1 << self.n) - 1
        self.pods_have_ips = any(c.ip_families for c in self.classes)

        # IPv4 always; another family when a block names it or `families` asks for it
        # (a diff compares two sides on the families of both).
        self.requested_families = tuple(sorted({4, *families}))
        self.src_ext = cut_space(_src_cut_ranges(cluster), self.requested_families)
        self.dst_ext = cut_space(_dst_cut_ranges(cluster), self.requested_families)
        self.families = tuple(sorted({r.family for r in (*self.src_ext, *self.dst_ext)}))
        self.cut_signature = (tuple(self.src_ext), tuple(self.dst_ext))
        self._src_firsts = [(r.family, r.first) for r in self.src_ext]
        self._dst_firsts = [(r.family, r.first) for r in self.dst_ext]
        self.all_src = (1 << (self.n + len(self.src_ext))) - 1
        self.all_dst = (1 << (self.n + len(self.dst_ext))) - 1
        self.dst_ext_bits = self.all_dst & ~self.all_pods
        self.host_network_bits = 0
        for i, c in enumerate(self.classes):
            if c.host_network:
                self.host_network_bits |= 1 << i

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
        self._match_cache: dict[object, int] = {}

    @cached_property
    def named_port_groups(self) -> list[tuple[tuple[NamedPort, ...], int]]:
        """Pod classes grouped by their named ports (what a named port resolves on)."""
        groups: dict[tuple[NamedPort, ...], int] = {}
        for i, c in enumerate(self.classes):
            groups[c.named_ports] = groups.get(c.named_ports, 0) | 1 << i
        return list(groups.items())

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

        def rules(direction: str) -> list[_CompiledRule[Rule]]:
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
                out.append(_CompiledRule(rule, peers, static, i))
            return out

        return _CompiledPolicy(
            policy,
            selected,
            rules("ingress"),
            rules("egress"),
            policy.affects_ingress,
            policy.affects_egress,
        )

    # cluster-wide policies ------------------------------------------------------------
    def match_bits(self, peer: TierPeer) -> int:
        """Pod classes a CNI peer's match selects (never host-network ones)."""
        match = peer.match
        if match is None:
            return 0
        key = peer.match_key if peer.match_key is not None else id(match)
        found = self._match_cache.get(key)
        if found is None:
            found = 0
            only = getattr(match, "only_namespaces", None)
            if only is None:
                candidates: Iterable[int] = range(len(self.classes))
            else:
                candidates = [i for ns in only for i in _bits(self.ns_bits.get(ns, 0))]
            for i in candidates:
                c = self.classes[i]
                ns_labels = self.namespaces.get(c.namespace) or {
                    "kubernetes.io/metadata.name": c.namespace
                }
                if match.matches(c.namespace, ns_labels, c.labels, c.service_account):
                    found |= 1 << i
            found &= ~self.host_network_bits
            self._match_cache[key] = found
        return found

    def tier_peer_bits(self, peer: TierPeer, egress: bool) -> int:
        """Bits of a subject or peer of a cluster-wide policy. Host-network pods are never
        selected; networks and nodes name addresses outside the cluster, and a networks
        peer naming a whole address family also every pod of that family."""
        if peer.kind == ALL_PEERS:
            return self.all_dst if egress else self.all_src
        if peer.kind == "cni":
            bits = self.match_bits(peer)
            if peer.everywhere:
                bits |= self.dst_ext_bits if egress else self.all_src & ~self.all_pods
            elif peer.ranges:
                bits |= self.ext_bits(peer.ranges, egress)
            return bits
        if peer.selects_pods:
            assert peer.namespace_selector is not None
            bits = self.namespace_selector_bits(peer.namespace_selector)
            if peer.pod_selector is not None:
                bits &= self.pod_selector_bits(peer.pod_selector)
            return bits & ~self.host_network_bits
        if not egress:
            return 0
        bits = self.ext_bits([*peer.ranges, *peer.node_ranges(self.cluster.nodes)], True)
        if peer.kind not in ("networks", "nodes"):
            return bits
        node_ranges = peer.node_ranges(self.cluster.nodes)
        for i, c in enumerate(self.classes):
            # A class is one answer for all its pods: a CIDR holding the IPs of only some
            # of them (one replica's /32) is not applied to the others' look-alikes.
            if peer.matches_pod_families(c.ip_families) or (
                self.pods_have_ips
                and c.ip_families
                and all(peer.matches_pod_address(p.ips, node_ranges) for p in c.pods)
            ):
                bits |= 1 << i
        return bits

    def compile_cluster_policy(self, policy: ClusterPolicy) -> _CompiledClusterPolicy:
        def rules(direction: str) -> list[_CompiledRule[TierRule]]:
            egress = direction == "egress"
            out = []
            for rule in policy.rules(direction):
                peers = 0
                for p in rule.peers:
                    peers |= self.tier_peer_bits(p, egress)
                static = None if rule.has_named_ports else rule.conns_on(None)
                local = -1 if rule.local is None else self.tier_peer_bits(rule.local, False)
                out.append(_CompiledRule(rule, peers, static, local=local))
            return out

        return _CompiledClusterPolicy(
            policy,
            self.tier_peer_bits(policy.subject, False),
            rules("ingress"),
            rules("egress"),
        )


Cells = dict[ConnSet, int]

_State = tuple[ConnSet, ConnSet, ConnSet]
"""Where a set of connections stands while the tiers are walked: (allowed, undecided,
passed). What is in none of the three is denied."""


def _step(states: dict[_State, int], bits: int, conns: ConnSet, action: str) -> dict[_State, int]:
    """Apply one rule (its sources or destinations `bits`, its `conns`, its action) to
    the undecided connections of every state it reaches."""
    if not bits or conns.is_empty:
        return states
    out: dict[_State, int] = {}
    for st, b in states.items():
        inter = b & bits
        matched = st[1] & conns if inter else None
        if matched is None or matched.is_empty:
            out[st] = out.get(st, 0) | b
            continue
        allowed, undecided, passed = st
        undecided = undecided - matched
        if action == ALLOW:
            new = (allowed | matched, undecided, passed)
        elif action == DENY:
            new = (allowed, undecided, passed)
        elif action == PASS:
            new = (allowed, undecided, passed | matched)
        else:  # log: never decides
            new = st
        out[new] = out.get(new, 0) | inter
        rest = b ^ inter
        if rest:
            out[st] = out.get(st, 0) | rest
    return out


def _end_of_pass_tier(states: dict[_State, int]) -> dict[_State, int]:
    """Passed connections go on to the next tier, undecided again."""
    out: dict[_State, int] = {}
    none = ConnSet.none()
    for (allowed, undecided, passed), b in states.items():
        st = (allowed, undecided | passed, none)
        out[st] = out.get(st, 0) | b
    return out


def _v1_allows(states: dict[_State, int], isolated: int, v1: Cells) -> dict[_State, int]:
    """The v1 NetworkPolicies as members of a tier: for the `isolated` bits, what they
    allow (the v1 cells) of the undecided is allowed; the rest stays undecided (the
    tier's end denies it)."""
    out: dict[_State, int] = {}
    for st, b in states.items():
        iso = b & isolated
        rest = b ^ iso
        if rest:
            out[st] = out.get(st, 0) | rest
        if not iso:
            continue
        allowed, undecided, passed = st
        for conn, vb in v1.items():
            inter = iso & vb
            if inter:
                hit = undecided & conn
                new = (allowed | hit, undecided - hit, passed)
                out[new] = out.get(new, 0) | inter
    return out


def _deny_undecided(states: dict[_State, int], selected: int) -> dict[_State, int]:
    """The end of a tier that denies: what is undecided for the `selected` bits."""
    out: dict[_State, int] = {}
    none = ConnSet.none()
    for st, b in states.items():
        inter = b & selected
        rest = b ^ inter
        if rest:
            out[st] = out.get(st, 0) | rest
        if inter:
            new = (st[0], none, st[2])
            out[new] = out.get(new, 0) | inter
    return out


def _refine(cells: Cells, contributions: Sequence[tuple[int, ConnSet]]) -> Cells:
    """Add each (sources, conns) contribution to a partition of sources by ConnSet."""
    # Allows are a union: contributions of one ConnSet refine as one (a column often
    # gets hundreds of rules and a handful of distinct ConnSets).
    merged: dict[ConnSet, int] = {}
    for bits, conn in contributions:
        merged[conn] = merged.get(conn, 0) | bits
    for conn, bits in merged.items():
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
    """Reachability with per-destination-class caches; cheap to derive after a change.

    ``analyze(level=..., direction=...)`` answers from the caches. ``replace_policy(obj)``,
    ``remove_policy(namespace, name)`` and ``with_policies_changed(upserts, removals)``
    (several changes at once: a sync bringing several policy events, drift or what-if
    with several drafts) return a new Analyzer that shares or patches every cached
    result the changes leave valid; the parent is never changed.

    What a change invalidates. Ingress rules of a policy only concern the destinations
    it selects: those columns are recomputed. Egress rules concern the sources the
    policy selects, at the destinations its rules name; switching egress isolation on
    or off for a pod changes its whole row. Egress changes are therefore handled as
    rows -- the cached per-destination cells are patched for those source bits and the
    connection list's rows for those sources rebuilt -- unless naming the columns is
    cheaper (a policy selecting many classes whose rules name few). Only a change that
    cuts the address space outside the cluster differently (an ipBlock boundary
    appears or disappears) starts from scratch: every bit position of an external range
    moves.
    """

    def __init__(self, cluster: Cluster, *, families: Iterable[int] = (4,)) -> None:
        self.cluster = cluster
        self._u = _Universe(cluster, families)
        self._compiled = {p.key: self._u.compile(p) for p in cluster.policies}
        self._tier_compiled = {
            p.key: self._u.compile_cluster_policy(p) for p in cluster.cluster_policies
        }
        self._cni_compiled = {
            id(p): self._u.compile_cluster_policy(p) for p in cluster.cni_tier_policies
        }
        self._index()
        self._tier_index()
        self._in_cells: dict[int, Cells] = {}
        self._eg_cells: dict[int, Cells] = {}
        self._combined: dict[int, Cells] = {}
        self._endpoints: dict[str, _Layer] = {}
        self._rows: dict[tuple[str, str], _Rows] = {}
        self._inherited: dict[tuple[str, str], _Inherited] = {}

    @property
    def families(self) -> tuple[int, ...]:
        """Address families (4, 6) whose space the external ranges cover."""
        return self._u.families

    # -- indexes --------------------------------------------------------------------------
    def _index(self) -> None:
        u = self._u
        self._ingress_isolated = 0
        self._egress_isolated = 0
        self._ingress_by_dst: dict[int, list[_CompiledPolicy]] = {}
        groups: dict[int, list[tuple[_CompiledPolicy, _CompiledRule[Rule]]]] = {}
        for cp in self._compiled.values():
            if cp.ingress:
                self._ingress_isolated |= cp.selected
                for d in _bits(cp.selected):
                    self._ingress_by_dst.setdefault(d, []).append(cp)
            if cp.egress:
                self._egress_isolated |= cp.selected
                for r in cp.egress_rules:
                    groups.setdefault(r.peers, []).append((cp, r))
        self._egress_by_dst: dict[int, list[tuple[_CompiledPolicy, _CompiledRule[Rule]]]] = {}
        for peers, entries in groups.items():
            for d in _bits(peers & u.all_dst):
                self._egress_by_dst.setdefault(d, []).extend(entries)

    def _tier_index(self) -> None:
        """The evaluation plan (tiers in order, their compiled members; None for the v1
        NetworkPolicies) and the columns it touches: a destination whose ingress a
        subject covers, a destination an egress rule names, and every destination when
        a tier that ends in deny selects sources for egress. Every other column keeps
        the NetworkPolicy-only path."""
        u = self._u
        self._plan: list[tuple[PlanTier, list[_CompiledClusterPolicy | None]]] = []
        self._tier_in_cols = 0
        self._tier_eg_cols = 0
        # Pods a tier ending in deny selects (a CNI's default deny): isolated too.
        self._tier_in_iso = 0
        self._tier_eg_iso = 0
        for pt in self.cluster.tier_plan:
            members: list[_CompiledClusterPolicy | None] = []
            for m in pt.members:
                if m is None:
                    members.append(None)
                    continue
                if isinstance(m, CniTierPolicy):
                    cp = self._cni_compiled.get(id(m))
                else:
                    cp = self._tier_compiled.get(m.key)
                if cp is None:
                    cp = u.compile_cluster_policy(m)
                members.append(cp)
                ends_in_deny = pt.end == DENY_END
                if ends_in_deny and m.applies_to("ingress"):
                    self._tier_in_iso |= cp.selected
                if ends_in_deny and m.applies_to("egress"):
                    self._tier_eg_iso |= cp.selected
                if cp.ingress_rules or (ends_in_deny and m.applies_to("ingress")):
                    self._tier_in_cols |= cp.selected
                if cp.selected:
                    if ends_in_deny and m.applies_to("egress"):
                        self._tier_eg_cols = u.all_dst
                    for r in cp.egress_rules:
                        self._tier_eg_cols |= r.peers
            self._plan.append((pt, members))
        self._tier_in_cols &= u.all_pods
        self._tier_eg_cols &= u.all_dst

    def _reindex(
        self, parent: Analyzer, old: Sequence[_CompiledPolicy], new: Sequence[_CompiledPolicy]
    ) -> None:
        """The parent's indexes with the `old` compiled policies swapped for `new`."""
        self._ingress_isolated = 0
        self._egress_isolated = 0
        for cp in self._compiled.values():
            if cp.ingress:
                self._ingress_isolated |= cp.selected
            if cp.egress:
                self._egress_isolated |= cp.selected
        gone = {id(cp) for cp in old}
        in_cols = 0
        eg_cols = 0
        for cp in (*old, *new):
            if cp.ingress:
                in_cols |= cp.selected
            if cp.egress:
                for r in cp.egress_rules:
                    eg_cols |= r.peers
        by_dst = dict(parent._ingress_by_dst)
        for d in _bits(in_cols):
            entries = [cp for cp in by_dst.get(d, ()) if id(cp) not in gone]
            entries += [cp for cp in new if cp.ingress and cp.selected >> d & 1]
            if entries:
                by_dst[d] = entries
            else:
                by_dst.pop(d, None)
        self._ingress_by_dst = by_dst
        eg_by_dst = dict(parent._egress_by_dst)
        for d in _bits(eg_cols & self._u.all_dst):
            pairs = [e for e in eg_by_dst.get(d, ()) if id(e[0]) not in gone]
            pairs += [
                (cp, r) for cp in new if cp.egress for r in cp.egress_rules if r.peers >> d & 1
            ]
            if pairs:
                eg_by_dst[d] = pairs
            else:
                eg_by_dst.pop(d, None)
        self._egress_by_dst = eg_by_dst

    # -- per destination ----------------------------------------------------------------------
    def _named_ports_at(self, d: int) -> tuple[NamedPort, ...] | None:
        return self._u.classes[d].named_ports if d < self._u.n else None

    def _ingress(self, d: int) -> Cells:
        found = self._in_cells.get(d)
        if found is not None:
            return found
        cells = self._v1_ingress(d)
        if self._tier_in_cols >> d & 1:
            cells = self._tiered("ingress", d, cells, self._u.all_src)
        self._in_cells[d] = cells
        return cells

    def _v1_ingress(self, d: int) -> Cells:
        """Sources of destination d by what its NetworkPolicies allow them."""
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
        return cells

    def _egress(self, d: int) -> Cells:
        found = self._eg_cells.get(d)
        if found is not None:
            return found
        cells = self._v1_egress(d)
        if self._tier_eg_cols >> d & 1:
            cells = self._tiered("egress", d, cells, self._u.all_src)
        self._eg_cells[d] = cells
        return cells

    def _v1_egress(self, d: int) -> Cells:
        """Sources by what their NetworkPolicies allow them to open to destination d."""
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
        return cells

    def _tiered(self, direction: str, d: int, v1: Cells, sources: int) -> Cells:
        """Destination d's `sources` by what the tiers allow in `direction`, walking the
        plan: in each tier its members in order, the first matching rule deciding (Pass
        skips to the next tier, Log never decides); the v1 NetworkPolicies (`v1`) allow
        what they allow for the pods they isolate; a tier that ends in deny denies what
        is still undecided for the endpoints its members selected. What no tier
        decided is allowed. (Admin, NetworkPolicy, Baseline without a CNI.)"""
        none, everything = ConnSet.none(), ConnSet.all()
        states: dict[_State, int] = {(none, everything, none): sources}
        named = self._named_ports_at(d)
        ingress = direction == "ingress"
        for pt, members in self._plan:
            selected = 0
            for cp in members:
                if cp is None:
                    if ingress:
                        iso = sources if self._ingress_isolated >> d & 1 else 0
                    else:
                        iso = self._egress_isolated & sources
                    if iso:
                        states = _v1_allows(states, iso, v1)
                        selected |= iso
                    continue
                if ingress:
                    if not cp.selected >> d & 1:
                        continue
                    if cp.applies_in:
                        selected = sources
                    for r in cp.ingress_rules:
                        if r.local >> d & 1:
                            states = _step(
                                states, r.peers & sources, r.conns_on(named), r.rule.action
                            )
                else:
                    subject = cp.selected & sources
                    if not subject:
                        continue
                    if cp.applies_eg:
                        selected |= subject
                    if not cp.egress_peers >> d & 1:
                        continue
                    for r in cp.egress_rules:
                        if r.peers >> d & 1:
                            states = _step(
                                states, subject & r.local, r.conns_on(named), r.rule.action
                            )
            if selected and pt.end == DENY_END:
                states = _deny_undecided(states, selected)
            states = _end_of_pass_tier(states)
        out: Cells = {}
        for (allowed, undecided, passed), b in states.items():
            c = allowed | undecided | passed
            out[c] = out.get(c, 0) | b
        return out

    def _cells(self, direction: str, d: int) -> Cells:
        if direction == "ingress":
            return self._ingress(d)
        if direction == "egress":
            return self._egress(d)
        found = self._combined.get(d)
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
        self._combined[d] = out
        return out

    def allowed(self, src_pod: Pod, dst_pod: Pod, direction: Direction = "combined") -> ConnSet:
        """Connections allowed from one pod to another (pod classes, no endpoint layer)."""
        s = self._u.class_of[id(src_pod)]
        d = self._u.class_of[id(dst_pod)]
        for conn, bits in self._cells(direction, d).items():
            if bits >> s & 1:
                return conn
        return ConnSet.none()

    # -- per source ---------------------------------------------------------------------------
    def _egress_rows(self, rows: int) -> dict[int, Cells]:
        """Egress of the source classes in `rows` to every destination: for each
        destination, those sources partitioned by ConnSet (the rows' part of its cells)."""
        u = self._u
        rules_of: dict[int, list[_CompiledRule[Rule]]] = {}
        for cp in self._compiled.values():
            if cp.egress and cp.selected & rows:
                for s in _bits(cp.selected & rows):
                    rules_of.setdefault(s, []).extend(cp.egress_rules)
        # Sources under the same rules have the same row: compute it once.
        groups: dict[tuple[int, ...], int] = {}
        group_rules: dict[tuple[int, ...], list[_CompiledRule[Rule]]] = {}
        for s in _bits(rows):
            rules = rules_of.get(s, [])
            isolated = self._egress_isolated >> s & 1
            sig = (isolated, *(id(r) for r in rules))
            groups[sig] = groups.get(sig, 0) | 1 << s
            group_rules[sig] = rules
        by_dst: dict[int, Cells] = {}
        for sig, sources in groups.items():
            if not sig[0]:
                row: Cells = {ConnSet.all(): u.all_dst}
            else:
                contributions: list[tuple[int, ConnSet]] = []
                for r in group_rules[sig]:
                    if r.static_conns is not None:
                        contributions.append((r.peers, r.static_conns))
                        continue
                    # A named port resolves on each destination class's own ports.
                    for named, bits in u.named_port_groups:
                        contributions.append((r.peers & bits, r.conns_on(named)))
                    contributions.append((r.peers & u.dst_ext_bits, r.conns_on(None)))
                row = _refine({ConnSet.none(): u.all_dst}, contributions)
            for conn, dsts in row.items():
                for d in _bits(dsts):
                    cells = by_dst.get(d)
                    if cells is None:
                        by_dst[d] = {conn: sources}
                    else:
                        cells[conn] = cells.get(conn, 0) | sources
        # Destinations a cluster-wide egress rule names: the tiers over those rows.
        for d in _bits(self._tier_eg_cols):
            by_dst[d] = self._tiered("egress", d, by_dst.get(d, {}), rows)
        return by_dst

    def _row_conns(self, direction: str, s: int) -> list[tuple[int, ConnSet]]:
        """(destination, conns) of source bit s, for every destination it may reach."""
        out = []
        for d in range(self._u.n + len(self._u.dst_ext)):
            for conn, bits in self._cells(direction, d).items():
                if bits >> s & 1:
                    if not conn.is_empty:
                        out.append((d, conn))
                    break
        return out

    # -- endpoints ----------------------------------------------------------------------------
    def _endpoint_layer(self, level: str) -> _Layer:
        """The endpoints of a level ranked by key, in named steps: the workload or pod
        endpoints with their classes, the external ranges, then the ranking."""
        found = self._endpoints.get(level)
        if found is not None:
            return found
        members = self._pod_endpoints() if level == "pod" else self._workload_endpoints()
        layer = self._rank_layer(members, self._external_endpoints())
        self._endpoints[level] = layer
        return layer

    def _pod_endpoints(self) -> list[tuple[Endpoint, int]]:
        u = self._u
        ing = self._ingress_isolated | self._tier_in_iso
        eg = self._egress_isolated | self._tier_eg_iso
        members: list[tuple[Endpoint, int]] = []
        for pod in self.cluster.pods:
            c = u.class_of[id(pod)]
            key = pod.workload_key if pod.stand_in else object_key(pod.namespace, pod.name, "Pod")
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
                workload=pod.workload_key,
            )
            members.append((ep, c))
        return members

    def _workload_endpoints(self) -> list[tuple[Endpoint, int]]:
        u = self._u
        ing = self._ingress_isolated | self._tier_in_iso
        eg = self._egress_isolated | self._tier_eg_iso
        members: list[tuple[Endpoint, int]] = []
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
        return members

    def _external_endpoints(self) -> dict[str, Endpoint]:
        """One endpoint per external range, source side and destination side merged."""
        u = self._u
        externals: dict[str, Endpoint] = {}
        src_keys = {external_key(str(r)) for r in u.src_ext}
        dst_keys = {external_key(str(r)) for r in u.dst_ext}
        for r in [*u.src_ext, *u.dst_ext]:
            key = external_key(str(r))
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
        return externals

    def _rank_layer(
        self, members: list[tuple[Endpoint, int]], externals: dict[str, Endpoint]
    ) -> _Layer:
        """Rank every endpoint by key and map bit positions to ranks and columns."""
        u = self._u
        ranked = sorted([e for e, _ in members] + list(externals.values()), key=lambda e: e.key)
        rank = {e.key: i for i, e in enumerate(ranked)}
        per_class: list[list[int]] = [[] for _ in range(u.n)]
        for ep, c in members:
            per_class[c].append(rank[ep.key])
        dst_ext = [rank[external_key(str(r))] for r in u.dst_ext]
        columns = [-1] * len(ranked)
        for c, ranks in enumerate(per_class):
            for rk in ranks:
                columns[rk] = c
        for j, rk in enumerate(dst_ext):
            columns[rk] = u.n + j
        return _Layer(
            ranked, per_class, [rank[external_key(str(r))] for r in u.src_ext], dst_ext, columns
        )

    def _fill(
        self,
        layer: _Layer,
        direction: str,
        dst_ranks: Iterable[int],
        dsts: list[list[int]],
        conns: list[list[Connection]],
    ) -> None:
        """Append every pair into each of `dst_ranks` (ascending) to its source's row, so
        rows come out sorted with no tuple per pair on the way."""
        u = self._u
        n = u.n
        ranked, per_class, src_ext = layer.ranked, layer.per_class, layer.src_ext
        for dr in dst_ranks:
            d = layer.columns[dr]
            if d < 0:
                continue
            dst = ranked[dr]
            for conn, bits in self._cells(direction, d).items():
                if conn.is_empty:
                    continue
                if d >= n:
                    bits &= u.all_pods  # pairs between two address ranges are never listed
                for s in _bits(bits):
                    for sr in per_class[s] if s < n else (src_ext[s - n],):
                        if sr != dr:
                            dsts[sr].append(dr)
                            conns[sr].append(Connection(ranked[sr], dst, conn))

    def analyze(
        self, *, level: Level = "workload", direction: Direction = "combined"
    ) -> Reachability:
        if level not in ("workload", "pod"):
            raise ValueError(f"level must be 'workload' or 'pod', not {level!r}")
        if direction not in ("combined", "ingress", "egress"):
            raise ValueError(
                f"direction must be 'combined', 'ingress' or 'egress', not {direction!r}"
            )
        ranked = self._endpoint_layer(level).ranked
        if not self.cluster.pods:
            # np-guard lists nothing when the input has no workloads at all.
            return Reachability(ranked, [], level=level, direction=direction)

        def materialize() -> list[Connection]:
            return list(chain.from_iterable(self._connection_rows(level, direction).conns))

        def source_rows() -> Sequence[tuple[Connection, ...]]:
            return self._connection_rows(level, direction).conns

        return Reachability(
            ranked,
            None,
            level=level,
            direction=direction,
            _materialize=materialize,
            _source_rows=source_rows,
        )

    # -- the connection list, row by row ------------------------------------------------------
    def _connection_rows(self, level: str, direction: str) -> _Rows:
        """The sorted connection list by source rank.

        A derived analyzer starts from its parent's rows: rebuilds the rows of dirty
        sources, drops and re-adds the pairs of dirty destinations in the others, and
        swaps in the endpoints whose isolation flags changed.
        """
        key = (level, direction)
        found = self._rows.get(key)
        if found is not None:
            return found
        inherited = self._inherited.get(key)
        if inherited is None:
            rows = self._build_rows(level, direction)
        else:
            rows = self._patch_rows(level, direction, inherited)
        self._rows[key] = rows
        self._inherited.pop(key, None)  # the parent's rows are no longer needed
        return rows

    def _build_rows(self, level: str, direction: str) -> _Rows:
        layer = self._endpoint_layer(level)
        m = len(layer.ranked)
        dsts: list[list[int]] = [[] for _ in range(m)]
        conns: list[list[Connection]] = [[] for _ in range(m)]
        self._fill(layer, direction, range(m), dsts, conns)
        return _Rows([tuple(r) for r in dsts], [tuple(r) for r in conns])

    def _patch_rows(self, level: str, direction: str, inherited: _Inherited) -> _Rows:
        """The parent's rows patched, in named steps: the dirty sources' rows rebuilt;
        the pairs into dirty destinations computed afresh; every other row patched (the
        dirty destinations dropped and re-added, endpoints with new flags swapped in),
        by bisection when few ranks are touched, by one pass otherwise."""
        layer = self._endpoint_layer(level)
        old, cols, rows, flags = inherited
        dsts, conns = list(old.dsts), list(old.conns)
        rebuilt = self._rebuild_source_rows(layer, direction, rows, dsts, conns)
        drop, fresh_dsts, fresh_conns = self._fresh_columns(layer, direction, cols)
        # Endpoints with new isolation flags, wherever they appear as source or destination.
        changed = {rk for k in _bits(flags) for rk in layer.per_class[k]}
        touched = sorted(drop | changed)
        whole_rows = len(touched) > _BISECT_LIMIT
        for sr in range(len(layer.ranked)) if touched else ():
            if sr in rebuilt:
                continue
            add = list(zip(fresh_dsts[sr], fresh_conns[sr], strict=True)) or None
            if whole_rows or sr in changed or (add is not None and len(add) > _BISECT_LIMIT):
                _refilter_row(layer.ranked, sr, dsts, conns, drop, add, not changed)
            else:
                _bisect_row(layer.ranked, sr, dsts, conns, drop, touched, add)
        return _Rows(dsts, conns)

    def _rebuild_source_rows(
        self,
        layer: _Layer,
        direction: str,
        rows: int,
        dsts: list[tuple[int, ...]],
        conns: list[tuple[Connection, ...]],
    ) -> set[int]:
        """Rebuild the rows of the source classes in `rows`; their ranks."""
        n = self._u.n
        ranked = layer.ranked
        rebuilt: set[int] = set()
        for s in _bits(rows):  # pod classes: external sources are never egress-isolated
            src_ranks = layer.src_ranks(n, s)
            if not src_ranks:
                continue
            row = self._row_conns(direction, s)
            for sr in src_ranks:
                src = ranked[sr]
                entries = [
                    (dr, Connection(src, ranked[dr], c))
                    for d, c in row
                    for dr in layer.dst_ranks(n, d)
                    if dr != sr
                ]
                entries.sort()
                _set_row(dsts, conns, sr, *_split(entries))
                rebuilt.add(sr)
        return rebuilt

    def _fresh_columns(
        self, layer: _Layer, direction: str, cols: int
    ) -> tuple[set[int], list[list[int]], list[list[Connection]]]:
        """The destination ranks of the dirty columns, and every pair into them by
        source rank."""
        n = self._u.n
        drop = {dr for d in _bits(cols) for dr in layer.dst_ranks(n, d)}
        fresh_dsts: list[list[int]] = [[] for _ in layer.ranked]
        fresh_conns: list[list[Connection]] = [[] for _ in layer.ranked]
        self._fill(layer, direction, sorted(drop), fresh_dsts, fresh_conns)
        return drop, fresh_dsts, fresh_conns

    # -- what-if ----------------------------------------------------------------------------
    def replace_policy(self, obj: Mapping[str, Any]) -> Analyzer:
        """A new Analyzer with `obj` added or replacing the policy of the same name.

        Raises ValueError listing the validation errors of an invalid policy.
        """
        return self.with_policies_changed([obj])

    def remove_policy(self, namespace: str, name: str) -> Analyzer:
        """A new Analyzer without the policy `namespace/name` (KeyError when absent)."""
        return self.with_policies_changed(removals=[f"{namespace}/{name}"])

    def with_policies_changed(
        self, upserts: Iterable[Mapping[str, Any]] = (), removals: Iterable[str] = ()
    ) -> Analyzer:
        """A new Analyzer after several policy changes at once.

        Each of `removals` ("namespace/name" of a NetworkPolicy, "Kind/name" of a
        cluster-wide policy, the cni_object_key of a CNI object) is removed, then each of `upserts` (NetworkPolicy,
        ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy) added or
        replacing the policy of the same key, in order (so a later upsert of one name
        wins, and a name both removed and upserted ends up upserted): the same as the
        single calls one after the other, at the cost of one derivation. Raises
        ValueError listing the validation errors of every invalid upsert, and KeyError
        for a removal of a policy that is not there; nothing is changed then.
        """
        upserts = list(upserts)
        removals = list(removals)
        cni_upserts = [o for o in upserts if is_cni_object(o)]
        cni_removals = [k for k in removals if k.partition(":")[0] in CNIS]
        if cni_upserts or cni_removals:
            # A CNI object can move tiers and what every pod's tiers select: a rebuild.
            plain = [o for o in upserts if not is_cni_object(o)]
            rest = [k for k in removals if k not in cni_removals]
            base = self.with_policies_changed(plain, rest) if plain or rest else self
            cluster = base.cluster.with_cni_changes(cni_upserts, cni_removals)
            return Analyzer(cluster, families=self._u.requested_families)
        errors = [
            str(e)
            for obj in upserts
            for e in (
                validate_cluster_policy(obj)
                if is_cluster_policy(obj)
                else validate_network_policy(obj)
            )
        ]
        if errors:
            raise ValueError("; ".join(errors))
        policies = {p.key: p for p in self.cluster.policies}
        tier_policies = {p.key: p for p in self.cluster.cluster_policies}
        touched: dict[str, None] = {}
        touched_tiers: dict[str, None] = {}
        for key in removals:
            if key.partition("/")[0] in CLUSTER_POLICY_KINDS:
                if tier_policies.pop(key, None) is None:
                    raise KeyError(f"no {key.replace('/', ' ', 1)}")
                touched_tiers[key] = None
                continue
            if policies.pop(key, None) is None:
                raise KeyError(f"no NetworkPolicy {key}")
            touched[key] = None
        for obj in upserts:
            if is_cluster_policy(obj):
                cp = parse_cluster_policy(obj)
                tier_policies[cp.key] = cp
                touched_tiers[cp.key] = None
                continue
            policy = parse_network_policy(obj)
            policies[policy.key] = policy
            touched[policy.key] = None
        return self._derive(policies, list(touched), tier_policies, list(touched_tiers))

    def _derive(
        self,
        policies: dict[str, NetworkPolicy],
        touched: list[str],
        tier_policies: dict[str, ClusterPolicy] | None = None,
        touched_tiers: Sequence[str] = (),
    ) -> Analyzer:
        """The derived analyzer, in named steps: the new cluster; a rebuild when the
        address space is cut differently; the compiled policies swapped; what the changes
        invalidate (columns, rows, isolation flags); the caches kept or patched."""
        if tier_policies is None:
            tier_policies = {p.key: p for p in self.cluster.cluster_policies}
        cluster = self.cluster.with_policies(
            sorted(policies.values(), key=lambda p: p.key), list(tier_policies.values())
        )
        u = self._u
        changed = self._changed_policies(policies, touched)
        changed_tiers = self._changed_tier_policies(tier_policies, touched_tiers)
        if self._cut_moves(cluster, changed, changed_tiers):
            # Every bit position of an external range moves: start from scratch.
            return Analyzer(cluster, families=u.requested_families)
        old_cps = [old for old, _ in changed if old is not None]
        new_cps = [u.compile(new) for _, new in changed if new is not None]
        old_tcs = [old for old, _ in changed_tiers if old is not None]
        new_tcs = [u.compile_cluster_policy(new) for _, new in changed_tiers if new is not None]
        derived = Analyzer.__new__(Analyzer)
        derived.cluster = cluster
        derived._u = u
        compiled = dict(self._compiled)
        for cp in old_cps:
            del compiled[cp.policy.key]
        for cp in new_cps:
            compiled[cp.policy.key] = cp
        derived._compiled = compiled
        tier_compiled = dict(self._tier_compiled)
        for tc in old_tcs:
            del tier_compiled[tc.policy.key]
        for tc in new_tcs:
            tier_compiled[tc.policy.key] = tc
        derived._tier_compiled = tier_compiled
        derived._cni_compiled = self._cni_compiled
        derived._reindex(self, old_cps, new_cps)
        derived._tier_index()
        self._invalidate(derived, (*old_cps, *new_cps), (*old_tcs, *new_tcs))
        return derived

    def _changed_policies(
        self, policies: dict[str, NetworkPolicy], touched: list[str]
    ) -> list[tuple[_CompiledPolicy | None, NetworkPolicy | None]]:
        """(old compiled, new) of each touched NetworkPolicy that really changed: one
        submitted unchanged (equal but for its raw dict) keeps its compiled form."""
        changed: list[tuple[_CompiledPolicy | None, NetworkPolicy | None]] = []
        for k in touched:
            old, new = self._compiled.get(k), policies.get(k)
            if old is None or new is None or old.policy != new:
                changed.append((old, new))
        return changed

    def _changed_tier_policies(
        self, policies: dict[str, ClusterPolicy], touched: Sequence[str]
    ) -> list[tuple[_CompiledClusterPolicy | None, ClusterPolicy | None]]:
        changed: list[tuple[_CompiledClusterPolicy | None, ClusterPolicy | None]] = []
        for k in touched:
            old, new = self._tier_compiled.get(k), policies.get(k)
            if old is None or new is None or old.policy != new:
                changed.append((old, new))
        return changed

    def _cut_moves(
        self,
        cluster: Cluster,
        changed: Sequence[tuple[_CompiledPolicy | None, NetworkPolicy | None]],
        changed_tiers: Sequence[tuple[_CompiledClusterPolicy | None, ClusterPolicy | None]],
    ) -> bool:
        """Whether the changes cut the address space outside the cluster differently.
        A policy in a namespace without pods (a namespace new to the cluster) selects
        nothing and changes no label of a namespace that has pods: the universe holds."""
        changed_policies = [old.policy for old, _ in changed if old is not None]
        changed_policies += [new for _, new in changed if new is not None]
        tiers = [old.policy for old, _ in changed_tiers if old is not None]
        tiers += [new for _, new in changed_tiers if new is not None]
        if not (
            any(p.ip_blocks("ingress") or p.ip_blocks("egress") for p in changed_policies)
            or _tier_dst_ranges(self.cluster, tiers)
        ):
            return False
        fams = self._u.requested_families
        signature = (
            tuple(cut_space(_src_cut_ranges(cluster), fams)),
            tuple(cut_space(_dst_cut_ranges(cluster), fams)),
        )
        return signature != self._u.cut_signature

    def _invalidate(
        self,
        derived: Analyzer,
        changed: Sequence[_CompiledPolicy],
        changed_tiers: Sequence[_CompiledClusterPolicy],
    ) -> None:
        """Give `derived` the caches of this analyzer the changes leave valid.

        Ingress rules concern the destinations a policy selects (columns); egress rules
        the sources it selects (rows) at the destinations its rules name (columns). The
        same holds for cluster-wide policies: subject -> columns for ingress, subject ->
        rows or the named columns for egress."""
        in_cols = 0
        eg_rows = 0
        eg_cols = 0
        for cp in changed:
            if cp.ingress:
                in_cols |= cp.selected
            if cp.egress:
                eg_rows |= cp.selected
                for r in cp.egress_rules:
                    eg_cols |= r.peers
        for tc in changed_tiers:
            if tc.ingress_rules:
                in_cols |= tc.selected
            if tc.egress_rules and tc.selected:
                eg_rows |= tc.selected
                for tr in tc.egress_rules:
                    eg_cols |= tr.peers
        eg_cols &= self._u.all_dst
        flipped_eg = self._egress_isolated ^ derived._egress_isolated
        flipped_in = self._ingress_isolated ^ derived._ingress_isolated
        if _egress_as_rows(eg_rows, flipped_eg, eg_cols):
            eg_cols = 0
        else:
            eg_rows = flipped_eg
        cols = in_cols | eg_cols
        self._keep_cells(derived, in_cols, eg_cols, eg_rows, cols)
        dirty_cols = {"ingress": in_cols, "egress": eg_cols, "combined": cols}
        dirty_rows = {"ingress": 0, "egress": eg_rows, "combined": eg_rows}
        flags = flipped_in | flipped_eg
        derived._endpoints = {
            level: _with_flags(
                layer,
                flags,
                derived._ingress_isolated | derived._tier_in_iso,
                derived._egress_isolated | derived._tier_eg_iso,
            )
            for level, layer in list(self._endpoints.items())
        }
        derived._rows = {}
        derived._inherited = {
            key: _Inherited(rows, dirty_cols[key[1]], dirty_rows[key[1]], flags)
            for key, rows in list(self._rows.items())
        }
        # Rows the parent inherited but never built: inherit them from further up.
        for key, up in list(self._inherited.items()):
            if key not in derived._inherited:
                derived._inherited[key] = _Inherited(
                    up.rows,
                    up.dirty_cols | dirty_cols[key[1]],
                    up.dirty_rows | dirty_rows[key[1]],
                    up.flags | flags,
                )

    def _keep_cells(
        self, derived: Analyzer, in_cols: int, eg_cols: int, eg_rows: int, cols: int
    ) -> None:
        """Per-destination cells: dirty columns dropped, dirty rows patched in."""
        derived._in_cells = {d: c for d, c in list(self._in_cells.items()) if not in_cols >> d & 1}
        eg_cells = {d: c for d, c in list(self._eg_cells.items()) if not eg_cols >> d & 1}
        combined = {d: c for d, c in list(self._combined.items()) if not cols >> d & 1}
        if eg_rows:
            rows_at = derived._egress_rows(eg_rows)
            eg_cells = {d: _patched(c, eg_rows, rows_at[d]) for d, c in eg_cells.items()}
            combined = {
                d: _patched_combined(c, eg_rows, derived._ingress(d), rows_at[d])
                for d, c in combined.items()
            }
        derived._eg_cells = eg_cells
        derived._combined = combined


def _egress_as_rows(selected: int, flipped: int, named: int) -> bool:
    """Whether to recompute an egress change as the rows of the sources the changed
    policies select, rather than as the rows of the sources whose egress isolation
    flipped (those change at every destination) plus the destination columns the
    changed rules name. A row and a column cost about the same (both span every class),
    so whichever is fewer."""
    return selected.bit_count() <= flipped.bit_count() + named.bit_count()


def _split(entries: list[tuple[int, Connection]]) -> tuple[tuple[int, ...], tuple[Connection, ...]]:
    if not entries:
        return (), ()
    ds, cs = zip(*entries, strict=True)
    return ds, cs


def _refilter_row(
    ranked: list[Endpoint],
    sr: int,
    dsts: list[tuple[int, ...]],
    conns: list[tuple[Connection, ...]],
    drop: set[int],
    add: list[tuple[int, Connection]] | None,
    endpoints_kept: bool = False,
) -> None:
    """Row sr in one pass: pairs into `drop` out, fresh pairs in, endpoints current
    (`endpoints_kept`: no endpoint has new flags). A row that comes out the same keeps
    its tuples (see _set_row)."""
    ds, cs = dsts[sr], conns[sr]
    if not ds and add is None:
        return
    if endpoints_kept:
        gone = [i for i, dr in enumerate(ds) if dr in drop]
        if _same_pairs([(ds[i], cs[i]) for i in gone], add):
            return
        kept = [(dr, c) for dr, c in zip(ds, cs, strict=True) if dr not in drop]
        if add is not None:
            kept += add
            kept.sort()
        dsts[sr], conns[sr] = _split(kept)
        return
    src = ranked[sr]
    entries: list[tuple[int, Connection]] = []
    dropped: list[tuple[int, Connection]] = []
    replaced = False
    for dr, c in zip(ds, cs, strict=True):
        if dr in drop:
            dropped.append((dr, c))
        elif c.src is src and c.dst is ranked[dr]:
            entries.append((dr, c))
        else:
            replaced = True
            entries.append((dr, Connection(src, ranked[dr], c.conns)))
    if not replaced and _same_pairs(dropped, add):
        return
    if add is not None:
        entries += add
        entries.sort()
    dsts[sr], conns[sr] = _split(entries)


def _same_pairs(
    dropped: list[tuple[int, Connection]], add: list[tuple[int, Connection]] | None
) -> bool:
    """Whether the fresh pairs of a row (ascending ranks) are the ones it dropped: the
    same connections between the same endpoint objects (flags included)."""
    add = add or []
    return len(dropped) == len(add) and all(
        dr == adr and old.conns == new.conns and old.src is new.src and old.dst is new.dst
        for (dr, old), (adr, new) in zip(dropped, add, strict=True)
    )


def _bisect_row(
    ranked: list[Endpoint],
    sr: int,
    dsts: list[tuple[int, ...]],
    conns: list[tuple[Connection, ...]],
    drop: set[int],
    touched: list[int],
    add: list[tuple[int, Connection]] | None,
) -> None:
    """Row sr patched at the few `touched` ranks found by bisection; a row that comes
    out the same keeps its tuples."""
    ds, cs = dsts[sr], conns[sr]
    hits = []
    for dr in touched:
        i = bisect.bisect_left(ds, dr)
        if i < len(ds) and ds[i] == dr:
            hits.append(i)
    if not hits and add is None:
        return
    src = ranked[sr]
    dropped = [(ds[i], cs[i]) for i in hits if ds[i] in drop]
    replaced = any(
        ds[i] not in drop and (cs[i].src is not src or cs[i].dst is not ranked[ds[i]])
        for i in hits
    )
    if not replaced and _same_pairs(dropped, add):
        return
    dl, cl = list(ds), list(cs)
    for i in reversed(hits):
        if dl[i] in drop:
            del dl[i], cl[i]
        else:
            cl[i] = Connection(src, ranked[dl[i]], cl[i].conns)
    for dr, pair in add or ():
        j = bisect.bisect_left(dl, dr)
        dl.insert(j, dr)
        cl.insert(j, pair)
    dsts[sr], conns[sr] = tuple(dl), tuple(cl)


def _set_row(
    dsts: list[tuple[int, ...]],
    conns: list[tuple[Connection, ...]],
    sr: int,
    ds: tuple[int, ...],
    cs: tuple[Connection, ...],
) -> None:
    """Row sr patched to (ds, cs), keeping the old tuples when nothing in it changed
    (same destinations, connections and endpoint objects): a diff against the parent
    then skips the row by identity."""
    old_ds, old_cs = dsts[sr], conns[sr]
    if ds == old_ds and all(
        a is b or (a.conns == b.conns and a.src is b.src and a.dst is b.dst)
        for a, b in zip(old_cs, cs, strict=True)
    ):
        return
    dsts[sr], conns[sr] = ds, cs


def _patched(cells: Cells, rows: int, new: Cells) -> Cells:
    """`cells` with the sources in `rows` taken out and put back as `new` has them."""
    keep = ~rows
    out: Cells = {}
    for c, b in cells.items():
        b &= keep
        if b:
            out[c] = b
    for c, b in new.items():
        out[c] = out.get(c, 0) | b
    return out


def _patched_combined(cells: Cells, rows: int, ingress: Cells, egress_rows: Cells) -> Cells:
    """Combined cells with the sources in `rows` recomputed from their new egress."""
    keep = ~rows
    out: Cells = {}
    for c, b in cells.items():
        b &= keep
        if b:
            out[c] = b
    for cin, bin_ in ingress.items():
        rb = bin_ & rows
        if not rb or cin.is_empty:
            continue
        for cout, bout in egress_rows.items():
            b = rb & bout
            if b and not cout.is_empty:
                c = cin & cout
                if not c.is_empty:
                    out[c] = out.get(c, 0) | b
    return out


def _with_flags(layer: _Layer, classes: int, ingress: int, egress: int) -> _Layer:
    """The layer with new endpoints for the pod classes whose isolation flags changed;
    ranks stay (the endpoints and their keys do not change)."""
    if not classes:
        return layer
    ranked = list(layer.ranked)
    for c in _bits(classes):
        for rk in layer.per_class[c]:
            ranked[rk] = replace(
                ranked[rk],
                ingress_isolated=bool(ingress >> c & 1),
                egress_isolated=bool(egress >> c & 1),
            )
    return layer._replace(ranked=ranked)


def analyze(
    cluster: Cluster,
    *,
    level: Level = "workload",
    direction: Direction = "combined",
    families: Iterable[int] = (4,),
) -> Reachability:
    """Every allowed connection between endpoints of `cluster` (see module docstring).

    External ranges cover IPv4 and every family an ipBlock names; `families` adds more
    (IPv6 as `(4, 6)`), so that two clusters can be compared on the same address space.
    """
    return Analyzer(cluster, families=families).analyze(level=level, direction=direction)


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
