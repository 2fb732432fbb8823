"""Why a connection is allowed or denied, naming the policies and rules that decided it.

Public API (stable):

- ``explain(cluster, src, dst, *, port=None, protocol="TCP") -> Explanation``.
  ``src``/``dst``: ``ns/name`` (workload or pod), ``ns/name[Kind]``, a bare name when
  unique, an IP address (a pod's IP resolves to that pod, any other address is outside
  the cluster), or an External range key. ``port``: number, named port (resolved on the
  destination pod) or None for every connection (then ``protocol`` is ignored).
- ``Explanation``: ``allowed``, ``conns`` (what the pair may open within the query),
  ``egress`` and ``ingress`` (``DirectionVerdict``), ``to_dict()``, ``render_text()``.
- ``DirectionVerdict``: ``allowed``, ``isolated``, ``policies`` (the ones isolating the
  pod in that direction), ``matches`` (``RuleMatch`` per allowing rule), ``conns``.
- ``RuleMatch``: ``policy`` ("ns/name"), ``direction``, ``rule_index``, ``peer_index``
  (None when the rule has no peers: every peer), ``ports`` (text).
- ``UnknownEndpoint`` (a ValueError) names close matches when src/dst is unknown.

This evaluates the one pair directly from the parsed policies, independently of the
signature-class fast path in reachability.py.
"""

from __future__ import annotations

import difflib
import ipaddress
from dataclasses import dataclass, field
from typing import Any

from .cluster import Cluster
from .cni.common import DENY_END, DNS_MARK, L7_MARK
from .endpoint_keys import external_key, external_range, object_key
from .ipranges import IPRange, parse_address
from .model import NamedPort, NetworkPolicy, Peer, Pod
from .ports import ConnSet
from .tiers import ADMIN, ALLOW, DENY, LOG, PASS, ClusterPolicy, TierPeer


class UnknownEndpoint(ValueError):
    """A src/dst name that matches no workload, pod or address."""


@dataclass(frozen=True)
class RuleMatch:
    policy: str
    direction: str
    rule_index: int
    peer_index: int | None
    ports: str
    conns: ConnSet = field(default_factory=ConnSet.none)

    def __str__(self) -> str:
        peer = "any peer" if self.peer_index is None else f"peer #{self.peer_index}"
        return f"{self.policy} {self.direction} rule #{self.rule_index} ({peer}; {self.ports})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy,
            "direction": self.direction,
            "rule_index": self.rule_index,
            "peer_index": self.peer_index,
            "ports": self.ports,
            "conns": self.conns.to_json(),
            "text": str(self),
        }


@dataclass(frozen=True)
class TierMatch:
    """A rule of a cluster-wide policy that decided (or passed) part of the query."""

    tier: str
    policy: str  # "Kind/name"
    direction: str
    rule_index: int
    rule_name: str
    action: str  # as written: Accept, Allow, Deny, Pass
    conns: ConnSet
    priority: int | None = None
    marks: tuple[str, ...] = ()
    """What the answer cannot show for this rule: "L7 rules apply", "depends on
    DNS/service"."""
    end_of_tier: bool = False
    """The tier's end decided (a CNI tier that ends in deny), not a rule."""

    def __str__(self) -> str:
        verb = {
            "Accept": "accepted", "Allow": "allowed", "Deny": "denied", "Pass": "passed",
            "Drop": "dropped", "Reject": "rejected",
        }.get(self.action, self.action.lower())
        if self.end_of_tier:
            return (
                f"{verb} ({self.conns}) at the end of the {self.tier} tier: a policy of the tier "
                f"selected it and none of its rules matched ({self.policy})"
            )
        named = f' "{self.rule_name}"' if self.rule_name else ""
        policy = self.policy if ":" in self.policy else self.policy.replace("/", " ", 1)
        marks = f" [{'; '.join(self.marks)}]" if self.marks else ""
        return (
            f"{verb} ({self.conns}) by {self.tier} tier {policy} "
            f"{self.direction} rule #{self.rule_index}{named} ({self.action}){marks}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "tier": self.tier,
            "policy": self.policy,
            "priority": self.priority,
            "direction": self.direction,
            "rule_index": self.rule_index,
            "rule_name": self.rule_name,
            "action": self.action,
            "conns": self.conns.to_json(),
            "marks": list(self.marks),
            "end_of_tier": self.end_of_tier,
            "text": str(self),
        }


@dataclass(frozen=True)
class DirectionVerdict:
    direction: str
    allowed: bool
    isolated: bool
    policies: tuple[str, ...] = ()
    matches: tuple[RuleMatch, ...] = ()
    conns: ConnSet = field(default_factory=ConnSet.all)
    note: str = ""
    tier_matches: tuple[TierMatch, ...] = ()
    """Rules of cluster-wide policies that decided or passed part of the query, in
    evaluation order (Admin tier before the NetworkPolicies, Baseline after)."""
    network_policy_conns: ConnSet | None = None
    """What reached the NetworkPolicy tier (None: the cluster-wide tiers alone)."""
    default_conns: ConnSet = field(default_factory=ConnSet.none)
    """What no tier decided, allowed by default, when cluster-wide policies apply."""
    tier_policies: tuple[str, ...] = ()
    """Cluster-wide policies ("Kind/name") whose subject selects the pod with rules in
    this direction, in evaluation order."""
    depends_on: tuple[str, ...] = ()
    """CNI rules selecting the pod whose peers cannot be resolved statically (toFQDNs,
    toServices, toGroups): the answer "depends on DNS/service"."""
    network_policy_tier: str = "NetworkPolicy"
    """The tier the v1 NetworkPolicies sit in (Calico's default tier, Cilium's allows)."""

    def summary(self) -> str:
        if self.note:
            return self.note
        if self.tier_matches:
            parts = [str(m) for m in self.tier_matches]
            if self.network_policy_conns is not None and not self.network_policy_conns.is_empty:
                v1 = (
                    "allowed by " + "; ".join(str(m) for m in self.matches)
                    if self.matches
                    else f"isolated by {', '.join(self.policies)} and none of their "
                    f"{self.direction} rules match: denied"
                )
                where = (
                    "NetworkPolicy tier"
                    if self.network_policy_tier == "NetworkPolicy"
                    else f"NetworkPolicies in the {self.network_policy_tier} tier"
                )
                parts.append(f"{where} ({self.network_policy_conns}): {v1}")
            if not self.default_conns.is_empty:
                parts.append(f"no tier decided {self.default_conns}: allowed by default")
            return "; ".join(parts)
        if self.tier_policies:
            names = ", ".join(p.replace("/", " ", 1) for p in self.tier_policies)
            return f"no rule of the cluster-wide policies selecting it ({names}) matches; {self._v1_summary()}"
        return self._v1_summary()

    def _v1_summary(self) -> str:
        if not self.isolated:
            return f"not isolated for {self.direction}: no policy selects it with {self.direction.capitalize()} in policyTypes, so everything is allowed"
        if self.allowed:
            return "allowed by " + "; ".join(str(m) for m in self.matches)
        return (
            f"denied: isolated for {self.direction} by {', '.join(self.policies)} and none of their "
            f"{self.direction} rules match"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "allowed": self.allowed,
            "isolated": self.isolated,
            "policies": list(self.policies),
            "matches": [m.to_dict() for m in self.matches],
            "conns": self.conns.to_json(),
            "tier_matches": [m.to_dict() for m in self.tier_matches],
            "tier_policies": list(self.tier_policies),
            "default_conns": self.default_conns.to_json(),
            "depends_on": list(self.depends_on),
            "summary": self.summary(),
        }


@dataclass(frozen=True)
class Explanation:
    src: str
    dst: str
    port: int | str | None
    protocol: str | None
    allowed: bool
    conns: ConnSet
    egress: DirectionVerdict
    ingress: DirectionVerdict
    notes: tuple[str, ...] = ()

    @property
    def query(self) -> str:
        if self.port is None:
            return f"{self.protocol} (any port)" if self.protocol else "any connection"
        return f"{self.protocol or 'TCP'} {self.port}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "src": self.src,
            "dst": self.dst,
            "port": self.port,
            "protocol": self.protocol,
            "allowed": self.allowed,
            "conns": self.conns.to_json(),
            "conns_text": str(self.conns),
            "egress": self.egress.to_dict(),
            "ingress": self.ingress.to_dict(),
            "notes": list(self.notes),
        }

    def render_text(self) -> str:
        verdict = "ALLOWED" if self.allowed else "DENIED"
        lines = [f"{self.src} => {self.dst} ({self.query}): {verdict}"]
        if self.allowed:
            lines.append(f"  allowed connections: {self.conns}")
        lines.append(f"  egress from {self.src}: {'allowed' if self.egress.allowed else 'denied'}")
        lines.append(f"    {self.egress.summary()}")
        lines.append(f"  ingress to {self.dst}: {'allowed' if self.ingress.allowed else 'denied'}")
        lines.append(f"    {self.ingress.summary()}")
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines) + "\n"


# -- resolving names ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Side:
    key: str
    pod: Pod | None = None
    address: tuple[int, int] | None = None
    ip_range: IPRange | None = None

    def named_ports(self) -> tuple[NamedPort, ...] | None:
        return self.pod.named_ports if self.pod is not None else None

    def in_ranges(self, ranges: tuple[IPRange, ...]) -> bool:
        if self.ip_range is not None:
            return any(r.contains(self.ip_range) for r in ranges)
        if self.address is None:
            return False
        fam, value = self.address
        return any(r.contains_address(fam, value) for r in ranges)

    def in_block(self, peer: Peer) -> bool:
        if peer.ip_block is None:
            return False
        if self.ip_range is not None:
            return peer.ip_block.contains_range(self.ip_range)
        assert self.address is not None
        fam, value = self.address
        return any(r.contains_address(fam, value) for r in peer.ip_block.ranges)


def _parse_range_key(text: str) -> IPRange | None:
    body = external_range(text) or text
    if "-" not in body:
        return None
    a, _, b = body.rpartition("-") if body.count("-") == 1 else body.partition("-")
    try:
        fa, va = parse_address(a)
        fb, vb = parse_address(b)
    except ValueError:
        return None
    return IPRange(fa, va, vb) if fa == fb and va <= vb else None


def resolve_endpoint(cluster: Cluster, text: str) -> _Side:
    text = text.strip()
    try:
        fam, value = parse_address(text)
    except ValueError:
        pass
    else:
        for pod in cluster.pods:
            if any(ipaddress.ip_address(ip) == ipaddress.ip_address(text) for ip in pod.ips):
                return _Side(object_key(pod.namespace, pod.name, "Pod"), pod=pod)
        return _Side(external_key(f"{text}-{text}"), address=(fam, value))
    rng = _parse_range_key(text)
    if rng is not None:
        return _Side(external_key(str(rng)), ip_range=rng)
    for w in cluster.workloads:
        if text == w.key:
            return _Side(w.key, pod=w.representative)
    for pod in cluster.pods:
        if text == object_key(pod.namespace, pod.name, "Pod"):
            return _Side(text, pod=pod)
    ns_name = [w for w in cluster.workloads if text == f"{w.namespace}/{w.name}"]
    if len(ns_name) == 1:
        return _Side(ns_name[0].key, pod=ns_name[0].representative)
    pods = [p for p in cluster.pods if text == p.key and not p.stand_in]
    if len(pods) == 1:
        return _Side(object_key(pods[0].namespace, pods[0].name, "Pod"), pod=pods[0])
    bare = [w for w in cluster.workloads if text == w.name]
    if len(bare) == 1:
        return _Side(bare[0].key, pod=bare[0].representative)
    candidates = sorted(
        {w.key for w in cluster.workloads} | {f"{w.namespace}/{w.name}" for w in cluster.workloads}
    )
    if len(ns_name) > 1 or len(bare) > 1:
        options = [w.key for w in (ns_name or bare)]
        raise UnknownEndpoint(f"{text!r} is ambiguous: use one of {', '.join(options)}")
    close = difflib.get_close_matches(text, candidates, n=5, cutoff=0.5)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    raise UnknownEndpoint(f"no workload, pod or IP address {text!r} in the input{hint}")


# -- evaluating ----------------------------------------------------------------------------


def _query_conns(
    protocol: str | None, port: int | str | None, dst: _Side
) -> tuple[ConnSet, str | None]:
    """The ConnSet the query asks about, and a note when a named port does not resolve."""
    proto = protocol.upper() if protocol else None
    if port is None:
        return (ConnSet.all().restrict(proto) if proto else ConnSet.all(), None)
    if isinstance(port, str) and not (port.isdigit() and port.isascii()):
        p = proto or "TCP"
        named = dst.named_ports()
        numbers = [n for name, pr, n in named or () if name == port and pr == p]
        if not numbers:
            where = "an address outside the cluster" if named is None else dst.key
            return (
                ConnSet.none(),
                f"{where} has no {p} port named {port!r}, so nothing can match it",
            )
        return (ConnSet({p: [(n, n) for n in numbers]}), None)
    return (ConnSet.of(proto or "TCP", int(port)), None)


def _peer_matches(cluster: Cluster, policy: NetworkPolicy, peer: Peer, other: _Side) -> bool:
    if other.pod is None:
        return other.in_block(peer)
    pod = other.pod
    return peer.matches_pod(
        policy.namespace, pod.namespace, pod.labels, cluster.namespace_labels(pod.namespace)
    )


def _tier_peer_matches(cluster: Cluster, peer: TierPeer, other: _Side) -> bool:
    if other.pod is None:
        return (
            peer.everywhere
            or other.in_ranges(peer.ranges)
            or other.in_ranges(peer.node_ranges(cluster.nodes))
        )
    pod = other.pod
    if peer.kind in ("networks", "nodes"):
        return peer.matches_pod_address(pod.ips, peer.node_ranges(cluster.nodes))
    return peer.matches_pod(
        cluster.namespace_labels(pod.namespace), pod.labels, pod.host_network, pod.service_account
    )


def _walk_tier(
    cluster: Cluster,
    policies: list[ClusterPolicy],
    direction: str,
    other: _Side,
    dst: _Side,
    state: tuple[ConnSet, ConnSet, ConnSet],
    matches: list[TierMatch],
) -> tuple[ConnSet, ConnSet, ConnSet]:
    """First match in order decides each connection still undecided."""
    allowed, undecided, passed = state
    for policy in policies:
        for rule in policy.rules(direction):
            if undecided.is_empty:
                return allowed, undecided, passed
            if not any(_tier_peer_matches(cluster, p, other) for p in rule.peers):
                continue
            hit = rule.conns_on(dst.named_ports()) & undecided
            if hit.is_empty:
                continue
            undecided = undecided - hit
            if rule.action == ALLOW:
                allowed = allowed | hit
            elif rule.action == PASS:
                passed = passed | hit
            elif rule.action != DENY:
                undecided = undecided | hit  # log: never decides
                continue
            matches.append(
                TierMatch(
                    policy.tier,
                    policy.key,
                    direction,
                    rule.index,
                    rule.name,
                    rule.written_action,
                    hit,
                    policy.priority,
                    rule.marks,
                )
            )
    return allowed, undecided, passed


def _plan_direction(
    cluster: Cluster,
    direction: str,
    subject: _Side,
    other: _Side,
    dst: _Side,
    query: ConnSet,
    v1: DirectionVerdict,
) -> DirectionVerdict:
    """The evaluation plan walked for one pair: every tier in order, its members (CNI
    and cluster-wide policies that select the subject, and the v1 NetworkPolicies), the
    tier's end."""
    assert subject.pod is not None
    pod = subject.pod
    ns_labels = cluster.namespace_labels(pod.namespace)
    none = ConnSet.none()
    allowed, undecided, passed = none, query, none
    matches: list[TierMatch] = []
    selecting: list[str] = []
    reached_v1: ConnSet | None = None
    depends: list[str] = []
    v1_tier = "NetworkPolicy"
    for pt in cluster.tier_plan:
        selectors: list[str] = []
        for m in pt.members:
            if m is None:
                v1_tier = pt.name
                if v1.isolated:
                    reached_v1 = undecided
                    hit = undecided & v1.conns
                    allowed, undecided = allowed | hit, undecided - hit
                    selectors.append("the NetworkPolicies " + ", ".join(v1.policies))
                continue
            if not m.subject.matches_pod(ns_labels, pod.labels, pod.host_network, pod.service_account):
                continue
            if m.applies_to(direction):
                selectors.append(m.key)
            if m.key not in selecting and (m.rules(direction) or m.applies_to(direction)):
                selecting.append(m.key)
            for rule in m.rules(direction):
                if DNS_MARK in rule.marks:
                    depends.append(f"{m.key} {direction} rule {rule.name or '#' + str(rule.index)}")
            for rule in m.rules(direction):
                if undecided.is_empty:
                    break
                if rule.local is not None and not _tier_peer_matches(cluster, rule.local, subject):
                    continue
                if not any(_tier_peer_matches(cluster, p, other) for p in rule.peers):
                    continue
                hit = rule.conns_on(dst.named_ports()) & undecided
                if hit.is_empty:
                    continue
                if rule.action == LOG:
                    continue
                undecided = undecided - hit
                if rule.action == ALLOW:
                    allowed = allowed | hit
                elif rule.action == PASS:
                    passed = passed | hit
                matches.append(
                    TierMatch(
                        pt.name, m.key, direction, rule.index, rule.name, rule.written_action,
                        hit, m.priority, rule.marks,
                    )
                )
        if selectors and pt.end == DENY_END and not undecided.is_empty:
            matches.append(
                TierMatch(
                    pt.name, ", ".join(selectors), direction, -1, "", "Deny", undecided,
                    end_of_tier=True,
                )
            )
            undecided = none
        undecided, passed = undecided | passed, none
    allowed = allowed | undecided
    return DirectionVerdict(
        direction,
        not allowed.is_empty,
        v1.isolated,
        v1.policies,
        v1.matches if v1.isolated and reached_v1 is not None and not reached_v1.is_empty else (),
        allowed,
        tier_matches=tuple(matches),
        network_policy_conns=reached_v1 if v1.isolated and reached_v1 is not None else none,
        default_conns=undecided,
        tier_policies=tuple(selecting),
        depends_on=tuple(dict.fromkeys(depends)),
        network_policy_tier=v1_tier,
    )


def _direction(
    cluster: Cluster, direction: str, subject: _Side, other: _Side, dst: _Side, query: ConnSet
) -> DirectionVerdict:
    v1 = _v1_direction(cluster, direction, subject, other, dst, query)
    if subject.pod is None:
        return v1
    if cluster.cni_tier_policies:
        return _plan_direction(cluster, direction, subject, other, dst, query, v1)
    tiered = cluster.cluster_policies_selecting(subject.pod, direction)
    if not tiered:
        return v1
    matches: list[TierMatch] = []
    none = ConnSet.none()
    admin = [p for p in tiered if p.tier == ADMIN]
    baseline = [p for p in tiered if p.tier != ADMIN]
    allowed, undecided, passed = _walk_tier(
        cluster, admin, direction, other, dst, (none, query, none), matches
    )
    undecided = undecided | passed
    reached_v1 = undecided
    if v1.isolated:
        # The NetworkPolicy tier decides everything that reaches it for a pod it isolates.
        allowed = allowed | (undecided & v1.conns)
        undecided = none
    allowed, undecided, passed = _walk_tier(
        cluster, baseline, direction, other, dst, (allowed, undecided, none), matches
    )
    default = undecided | passed
    allowed = allowed | default
    return DirectionVerdict(
        direction,
        not allowed.is_empty,
        v1.isolated,
        v1.policies,
        v1.matches if v1.isolated and not reached_v1.is_empty else (),
        allowed,
        tier_matches=tuple(matches),
        network_policy_conns=reached_v1 if v1.isolated else none,
        default_conns=default,
        tier_policies=tuple(p.key for p in tiered),
    )


def _v1_direction(
    cluster: Cluster, direction: str, subject: _Side, other: _Side, dst: _Side, query: ConnSet
) -> DirectionVerdict:
    if subject.pod is None:
        what = "source" if direction == "egress" else "destination"
        return DirectionVerdict(
            direction,
            True,
            False,
            conns=query,
            note=f"the {what} is outside the cluster: NetworkPolicies do not restrict its {direction}",
        )
    pod = subject.pod
    isolating = [
        p
        for p in cluster.policies
        if p.namespace == pod.namespace
        and p.pod_selector.matches(pod.labels)
        and (p.affects_egress if direction == "egress" else p.affects_ingress)
    ]
    if not isolating:
        return DirectionVerdict(direction, not query.is_empty, False, conns=query)
    matches: list[RuleMatch] = []
    allowed = ConnSet.none()
    for policy in isolating:
        for i, rule in enumerate(policy.rules(direction)):
            if rule.peers:
                peer_index = next(
                    (
                        j
                        for j, peer in enumerate(rule.peers)
                        if _peer_matches(cluster, policy, peer, other)
                    ),
                    None,
                )
                if peer_index is None:
                    continue
            else:
                peer_index = None
            conns = rule.conns_on(dst.named_ports()) & query
            if conns.is_empty:
                continue
            allowed = allowed | conns
            matches.append(RuleMatch(policy.key, direction, i, peer_index, rule.ports_text, conns))
    return DirectionVerdict(
        direction, bool(matches), True, tuple(p.key for p in isolating), tuple(matches), allowed
    )


def explain_sides(
    cluster: Cluster,
    src: _Side,
    dst: _Side,
    *,
    port: int | str | None = None,
    protocol: str | None = None,
) -> Explanation:
    query, note = _query_conns(protocol, port, dst)
    egress = _direction(cluster, "egress", src, dst, dst, query)
    ingress = _direction(cluster, "ingress", dst, src, dst, query)
    conns = egress.conns & ingress.conns
    notes = [note] if note else []
    for side in (src, dst):
        if side.pod is not None and side.pod.host_network:
            notes.append(
                f"{side.key} uses hostNetwork: whether NetworkPolicies apply to it depends on the CNI plugin, "
                "so do not count on them to protect it"
            )
    for verdict in (egress, ingress):
        if verdict.depends_on:
            notes.append(
                f"depends on DNS/service: {', '.join(verdict.depends_on)} name peers by DNS name, "
                "service or group, which manifests cannot resolve; the answer leaves them out"
            )
        l7 = [str(m) for m in verdict.tier_matches if L7_MARK in m.marks and m.action == "Allow"]
        if l7:
            notes.append(f"L7 rules apply: the port is allowed only for the requests they allow ({'; '.join(l7)})")
    if src.pod is None and dst.pod is None:
        notes.append(
            "both ends are outside the cluster: NetworkPolicies do not govern this traffic"
        )
    return Explanation(
        src.key, dst.key, port, protocol, not conns.is_empty, conns, egress, ingress, tuple(notes)
    )


def explain(
    cluster: Cluster,
    src: str,
    dst: str,
    *,
    port: int | str | None = None,
    protocol: str | None = "TCP",
) -> Explanation:
    """Verdict per direction for src -> dst, naming the policies and rules that decide it."""
    if isinstance(port, str) and port.isdigit() and port.isascii():
        port = int(port)
    if isinstance(port, int) and not 1 <= port <= 65535:
        raise ValueError(f"port {port} must be between 1 and 65535")
    if protocol is not None and protocol.upper() not in ("TCP", "UDP", "SCTP"):
        raise ValueError(f"protocol {protocol!r} is not supported: use TCP, UDP or SCTP")
    if port is None:
        protocol = None  # no port: the question is "what may flow at all", every protocol
    return explain_sides(
        cluster,
        resolve_endpoint(cluster, src),
        resolve_endpoint(cluster, dst),
        port=port,
        protocol=protocol,
    )


def explain_connection(cluster: Cluster, src_key: str, dst_key: str) -> Explanation:
    """The explanation of one listed pair (every connection), for `analyze --explain`."""
    return explain_sides(
        cluster, resolve_endpoint(cluster, src_key), resolve_endpoint(cluster, dst_key)
    )
