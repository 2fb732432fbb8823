"""Cluster-wide policies and the tiered rule model they compile into.

Every policy kind is evaluated on one model: ordered tiers, each holding ordered rules
with an action. Per direction and per (peer, port, protocol) the tiers are walked in
order; the first matching rule of a deciding action (allow, deny) ends the walk; ``pass``
skips the rest of its tier; when a tier selected the endpoint but none of its rules
decided, the tier ends as it says (``Tier.end``: the NetworkPolicy tier denies, Admin and
Baseline fall through). Nothing decided: allowed. Later CNI kinds (Calico, Antrea) add
tiers and a ``log`` action that never decides.

Kinds read here (authority: kubernetes-sigs/network-policy-api):

- ``ClusterNetworkPolicy`` (``policy.networking.k8s.io/v1alpha2``): ``spec.tier``
  Admin or Baseline, ``spec.priority`` 0..1000, actions Accept / Deny / Pass, ports as
  ``protocols`` (``tcp``/``udp``/``sctp`` with ``destinationPort`` ``number`` or
  ``range``, or ``destinationNamedPort``).
- ``AdminNetworkPolicy`` (v1alpha1): the Admin tier, actions Allow / Deny / Pass, ports
  as ``ports`` (``portNumber``, ``portRange``, ``namedPort``).
- ``BaselineAdminNetworkPolicy`` (v1alpha1): the single object named ``default``, the
  Baseline tier, actions Allow / Deny.

Order inside a tier: ascending priority; equal priorities are ambiguous upstream, so
netpolui orders them ClusterNetworkPolicy before AdminNetworkPolicy, then by name (and a
finding says so); the BaselineAdminNetworkPolicy, which has no priority, comes after
every Baseline ClusterNetworkPolicy. Inside a policy, rules in written order.

Subjects and peers: ``namespaces`` (namespace labels) or ``pods`` (namespace AND pod
selectors; an omitted selector reads as ``{}``, as the Go types decode it); egress also
``networks`` (CIDRs: addresses outside the cluster, and, since upstream checks
cluster-internal traffic against them too, every pod of a family a CIDR covers whole
and the pods whose known IP a smaller one holds) and ``nodes`` (the addresses of the
matching Node objects, and the host-network pods whose known IP is one of them).
Host-network pods are never subjects nor pod peers. A named port resolves on the
destination pod to the container port of that name, with that port's protocol.
ClusterNetworkPolicy is read in v1alpha2 and in v1beta1 (the same schema).

A peer that sets only fields netpolui does not know (a peer type of a newer CRD) fails
closed, as the upstream types say an implementation must: an Accept/Allow rule holding
one matches no traffic; a Deny or Pass rule holding one is a Deny of all traffic (every
peer, every port). The rule carries a mark naming the field, and the
``cluster-policy-unknown-peer`` finding says what happened.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from .cni.kinds import is_cni_object
from .ipranges import IPRange, block_ranges, parse_address
from .model import NamedPort, frozen_labels
from .ports import ConnSet
from .selectors import LabelSelector

GROUP = "policy.networking.k8s.io"
V1ALPHA1 = f"{GROUP}/v1alpha1"
V1ALPHA2 = f"{GROUP}/v1alpha2"

CNP = "ClusterNetworkPolicy"
ANP = "AdminNetworkPolicy"
BANP = "BaselineAdminNetworkPolicy"
V1BETA1 = f"{GROUP}/v1beta1"
CLUSTER_POLICY_KINDS: dict[str, str] = {CNP: V1ALPHA2, ANP: V1ALPHA1, BANP: V1ALPHA1}
"""Kind -> the apiVersion netpolui reads it in (and writes it in)."""
READ_VERSIONS: dict[str, tuple[str, ...]] = {CNP: (V1ALPHA2, V1BETA1), ANP: (V1ALPHA1,), BANP: (V1ALPHA1,)}
"""Kind -> every apiVersion read: ClusterNetworkPolicy v1beta1 has v1alpha2's final schema
(upstream's conformance manifests moved to it), so it is read the same way."""

ADMIN = "Admin"
NETWORK_POLICY = "NetworkPolicy"
BASELINE = "Baseline"

ALLOW = "allow"
DENY = "deny"
PASS = "pass"
LOG = "log"

ALL_PEERS = "all"
"""The peer kind of a Deny rule that fails closed: every pod (host-network ones too) and
every address."""
PEER_FIELDS = frozenset({"namespaces", "pods", "networks", "nodes", "domainNames"})
"""Every peer field netpolui reads, of any kind and direction."""

_LAST = {4: 2**32 - 1, 6: 2**128 - 1}
_ACTIONS = {"Accept": ALLOW, "Allow": ALLOW, "Deny": DENY, "Pass": PASS}
_KIND_ORDER = {CNP: 0, ANP: 1, BANP: 2}


@dataclass(frozen=True, slots=True)
class Tier:
    """One tier of the evaluation: its name, its rank (lower first) and how it ends for
    an endpoint it selected when none of its rules decided: "deny" or "fall-through"."""

    name: str
    rank: int
    end: str


TIERS: tuple[Tier, ...] = (
    Tier(ADMIN, 0, "fall-through"),
    Tier(NETWORK_POLICY, 1, "deny"),
    Tier(BASELINE, 2, "fall-through"),
)
TIER_RANK = {t.name: t.rank for t in TIERS}


@dataclass(frozen=True, slots=True)
class Node:
    """A Node object: what a `nodes` peer selects, and the addresses it stands for."""

    name: str
    labels: Mapping[str, str]
    addresses: tuple[str, ...] = ()


class PeerMatch(Protocol):
    """How a CNI peer or subject selects pods (CNI selector languages differ):
    ``cache_key`` is equal for two matches that select the same pods. A match may also
    have ``only_namespaces`` (the namespaces outside which it matches nothing) so that
    only their pods are tested."""

    @property
    def cache_key(self) -> object: ...

    def matches(
        self,
        namespace: str,
        namespace_labels: Mapping[str, str],
        labels: Mapping[str, str],
        service_account: str,
    ) -> bool: ...


@dataclass(frozen=True, slots=True)
class TierPeer:
    """A subject or one `from`/`to` entry of a cluster-wide rule (exactly one kind).

    Kind ``cni``: a peer of a CNI policy (Calico, Cilium, Antrea): the pods ``match``
    selects (None: no pod) and the addresses outside the cluster in ``ranges``;
    ``text`` says it as written."""

    kind: str  # namespaces | pods | networks | nodes | domainNames | cni | all
    namespace_selector: LabelSelector | None = None
    pod_selector: LabelSelector | None = None
    node_selector: LabelSelector | None = None
    networks: tuple[str, ...] = ()
    ranges: tuple[IPRange, ...] = ()
    match: PeerMatch | None = field(default=None, compare=False)
    text: str = ""
    match_key: object = None
    everywhere: bool = False
    """Every address outside the cluster (``ranges`` then stays empty: no cut)."""
    whole_families: tuple[int, ...] = ()
    """The address families a ``networks`` peer names entirely (``0.0.0.0/0``,
    ``::/0``). Upstream checks cluster-internal traffic against networks too ("if you
    Accept or Deny traffic to 0.0.0.0/0, that will allow or deny all IPv4 pod-to-pod
    traffic as well"), so such a peer also matches every pod of that family. A smaller
    CIDR matches the pods whose IP is known (``status.podIPs``) and inside it."""

    @property
    def selects_pods(self) -> bool:
        return self.kind in ("namespaces", "pods", ALL_PEERS) or self.match is not None

    def matches_pod(
        self,
        namespace_labels: Mapping[str, str],
        labels: Mapping[str, str],
        host_network: bool,
        service_account: str = "",
    ) -> bool:
        if self.kind == ALL_PEERS:
            return True
        # Host-networked pods are not included in subjects nor in pod peers.
        if host_network or not self.selects_pods:
            return False
        if self.match is not None:
            ns = namespace_labels.get("kubernetes.io/metadata.name", "")
            return self.match.matches(ns, namespace_labels, labels, service_account)
        assert self.namespace_selector is not None
        if not self.namespace_selector.matches(namespace_labels):
            return False
        return self.pod_selector is None or self.pod_selector.matches(labels)

    def matches_pod_families(self, families: frozenset[int]) -> bool:
        """Whether this ``networks`` peer contains every address of a pod whose IPs are of
        ``families`` (empty: not known, taken as IPv4, Kubernetes' single-stack default)."""
        if not self.whole_families:
            return False
        return bool((families or frozenset((4,))) & frozenset(self.whole_families))

    def matches_pod_address(
        self, ips: tuple[str, ...], node_ranges: tuple[IPRange, ...] = ()
    ) -> bool:
        """Whether this ``networks`` or ``nodes`` peer names the address of a pod with
        these IPs: a whole family of them, or (when known) one of them; for ``nodes``, the
        address of a matching Node (``node_ranges``: a host-network pod has its node's)."""
        if self.matches_pod_families(pod_ip_families(ips)):
            return True
        ranges = node_ranges if self.kind == "nodes" else self.ranges
        for ip in ips:
            try:
                family, value = parse_address(ip)
            except ValueError:
                continue
            if any(r.contains_address(family, value) for r in ranges):
                return True
        return False

    def node_ranges(self, nodes: list[Node]) -> tuple[IPRange, ...]:
        if self.kind != "nodes" or self.node_selector is None:
            return ()
        out: list[IPRange] = []
        for node in nodes:
            if self.node_selector.matches(node.labels):
                for a in node.addresses:
                    out.extend(block_ranges(f"{a}/{128 if ':' in a else 32}", ()))
        return tuple(out)

    def __str__(self) -> str:
        if self.kind == "cni":
            return self.text
        if self.kind == "namespaces":
            return f"namespaces [{self.namespace_selector}]"
        if self.kind == "pods":
            return f"pods [{self.pod_selector}] in namespaces [{self.namespace_selector}]"
        if self.kind == "networks":
            return f"networks {', '.join(self.networks)}"
        if self.kind == "nodes":
            return f"nodes [{self.node_selector}]"
        if self.kind == ALL_PEERS:
            return "every peer"
        return f"domain names {', '.join(self.networks)}"


@dataclass(frozen=True, slots=True)
class TierPort:
    """A port entry: a protocol with an inclusive range, or a named destination port."""

    protocol: str = "TCP"
    first: int = 1
    last: int = 65535
    name: str | None = None
    name_with_protocol: bool = False
    """A named port that resolves only to container ports of ``protocol`` (Calico,
    Cilium, Antrea); otherwise whatever the container port's protocol."""

    def resolve(self, named_ports: tuple[NamedPort, ...] | None) -> ConnSet:
        if self.name is None:
            return ConnSet.of(self.protocol, self.first, self.last)
        # The container port of that name, whatever its protocol.
        found = [
            (proto, num)
            for n, proto, num in named_ports or ()
            if n == self.name and (not self.name_with_protocol or proto == self.protocol)
        ]
        out = ConnSet.none()
        for proto, num in found:
            out = out | ConnSet.of(proto, num, num)
        return out

    def __str__(self) -> str:
        if self.name is not None:
            return f"named port {self.name}"
        if self.first == self.last:
            return f"{self.protocol} {self.first}"
        if (self.first, self.last) == (1, 65535):
            return f"{self.protocol} (all ports)"
        return f"{self.protocol} {self.first}-{self.last}"


@dataclass(frozen=True, slots=True)
class TierRule:
    """One ingress or egress rule: first match in written order decides."""

    index: int
    name: str
    action: str  # allow | deny | pass | log
    written_action: str  # as written: Accept, Allow, Deny, Pass
    peers: tuple[TierPeer, ...]
    ports: tuple[TierPort, ...] | None  # None: every port and protocol
    not_ports: tuple[TierPort, ...] = ()
    """Ports taken out of ``ports`` (Calico ``notPorts``/``notProtocol``)."""
    marks: tuple[str, ...] = ()
    """What the answer cannot show, said next to it: "L7 rules apply", "depends on
    DNS/service"."""
    local: TierPeer | None = None
    """Which of the policy's selected pods the rule concerns (Calico's destination of
    an ingress rule, Antrea's rule-level appliedTo); None: all of them."""

    @property
    def has_named_ports(self) -> bool:
        return any(p.name is not None for p in (*(self.ports or ()), *self.not_ports))

    def conns_on(self, named_ports: tuple[NamedPort, ...] | None) -> ConnSet:
        if self.ports is None:
            out = ConnSet.all()
        else:
            out = ConnSet.none()
            for p in self.ports:
                out = out | p.resolve(named_ports)
        for p in self.not_ports:
            out = out - p.resolve(named_ports)
        return out

    @property
    def ports_text(self) -> str:
        if self.ports is None:
            return "all ports"
        return ", ".join(str(p) for p in self.ports) or "no port"

    def label(self, direction: str) -> str:
        named = f' "{self.name}"' if self.name else ""
        return f"{direction} rule #{self.index}{named}"


@dataclass(frozen=True)
class ClusterPolicy:
    """A cluster-wide policy of any kind, in the Admin or Baseline tier."""

    kind: str
    name: str
    tier: str
    priority: int | None
    subject: TierPeer
    ingress: tuple[TierRule, ...]
    egress: tuple[TierRule, ...]
    raw: Mapping[str, Any] = field(compare=False, repr=False, default_factory=dict)

    @property
    def key(self) -> str:
        """`Kind/name`: never a "namespace/name" (namespaces are lower case)."""
        return f"{self.kind}/{self.name}"

    @property
    def api_version(self) -> str:
        return CLUSTER_POLICY_KINDS[self.kind]

    @property
    def order(self) -> tuple[int, int, int, str]:
        """Evaluation order: tier, priority (the BANP after every priority), kind, name."""
        prio = self.priority if self.priority is not None else 1001
        return (TIER_RANK[self.tier], prio, _KIND_ORDER[self.kind], self.name)

    def rules(self, direction: str) -> tuple[TierRule, ...]:
        return self.ingress if direction == "ingress" else self.egress

    def applies_to(self, direction: str) -> bool:
        """Whether the policy takes part in `direction` for the endpoints it selects
        (what a tier that ends in deny counts as "selected")."""
        return bool(self.rules(direction))

    def __str__(self) -> str:
        prio = f" priority {self.priority}" if self.priority is not None else ""
        return f"{self.kind} {self.name} ({self.tier} tier{prio})"


def is_cluster_policy(obj: Mapping[str, Any]) -> bool:
    """A ClusterNetworkPolicy, AdminNetworkPolicy or BaselineAdminNetworkPolicy of
    policy.networking.k8s.io (never Antrea's ClusterNetworkPolicy)."""
    kind = obj.get("kind")
    return isinstance(kind, str) and kind in CLUSTER_POLICY_KINDS and not is_cni_object(obj)


def cluster_policy_key(obj: Mapping[str, Any]) -> str:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    return f"{obj.get('kind')}/{meta.get('name')}"


def _selector(raw: Any) -> LabelSelector:
    return LabelSelector.parse(raw if isinstance(raw, Mapping) else None)


def _peer(raw: Mapping[str, Any]) -> TierPeer:
    if raw.get("namespaces") is not None:
        return TierPeer("namespaces", namespace_selector=_selector(raw["namespaces"]))
    if raw.get("pods") is not None:
        pods = raw["pods"]
        return TierPeer(
            "pods",
            namespace_selector=_selector(pods.get("namespaceSelector")),
            pod_selector=_selector(pods.get("podSelector")),
        )
    if raw.get("networks") is not None:
        nets = tuple(str(n).strip() for n in raw["networks"])
        ranges = tuple(r for n in nets for r in block_ranges(n, ()))
        whole = tuple(sorted({r.family for r in ranges if r.first == 0 and r.last == _LAST[r.family]}))
        return TierPeer("networks", networks=nets, ranges=ranges, whole_families=whole)
    if raw.get("nodes") is not None:
        return TierPeer("nodes", node_selector=_selector(raw["nodes"]))
    return TierPeer("domainNames", networks=tuple(str(d) for d in raw.get("domainNames") or ()))


def unknown_peer_fields(raw: Any) -> tuple[str, ...]:
    """The fields of a peer that sets no field netpolui reads but some it does not (a
    newer peer type): the peer upstream says to fail closed on. Empty otherwise."""
    if not isinstance(raw, Mapping):
        return ()
    present = sorted(str(k) for k, v in raw.items() if v is not None)
    if not present or PEER_FIELDS.intersection(present):
        return ()
    return tuple(present)


@dataclass(frozen=True, slots=True)
class UnknownPeer:
    """Where a peer of unknown fields is: ``spec.{direction}[{rule}].{peers_key}[{peer}]``."""

    direction: str
    rule: int
    peers_key: str
    peer: int
    fields: tuple[str, ...]

    @property
    def path(self) -> str:
        return f"spec.{self.direction}[{self.rule}].{self.peers_key}[{self.peer}]"


def unknown_peers(obj: Mapping[str, Any]) -> list[UnknownPeer]:
    """Every rule peer of a cluster-wide policy dict that sets only unknown fields."""
    spec = obj.get("spec")
    if not isinstance(spec, Mapping):
        return []
    out: list[UnknownPeer] = []
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        rules = spec.get(direction)
        for i, rule in enumerate(rules if isinstance(rules, list) else ()):
            peers = rule.get(peers_key) if isinstance(rule, Mapping) else None
            for j, peer in enumerate(peers if isinstance(peers, list) else ()):
                fields = unknown_peer_fields(peer)
                if fields:
                    out.append(UnknownPeer(direction, i, peers_key, j, fields))
    return out


def fail_closed_mark(fields: tuple[str, ...]) -> str:
    return f"fails closed: unknown peer field {', '.join(fields)}"


def _rule(index: int, raw: Mapping[str, Any], peers_key: str, ports: tuple[TierPort, ...] | None) -> TierRule:
    """One rule; a rule holding a peer of unknown fields fails closed (module docstring)."""
    written = str(raw.get("action"))
    name = str(raw.get("name") or "")
    raw_peers = list(raw.get(peers_key) or ())
    unknown = tuple(f for p in raw_peers for f in unknown_peer_fields(p))
    if not unknown:
        return TierRule(index, name, _ACTIONS[written], written, tuple(_peer(p) for p in raw_peers), ports)
    marks = (fail_closed_mark(unknown),)
    if _ACTIONS[written] == ALLOW:
        return TierRule(index, name, ALLOW, written, (), ports, marks=marks)
    return TierRule(index, name, DENY, "Deny", (TierPeer(ALL_PEERS, everywhere=True),), None, marks=marks)


def _v1alpha2_ports(raw: Any) -> tuple[TierPort, ...] | None:
    if raw is None:
        return None
    out: list[TierPort] = []
    for entry in raw:
        if entry.get("destinationNamedPort"):
            out.append(TierPort(name=str(entry["destinationNamedPort"])))
            continue
        for key, proto in (("tcp", "TCP"), ("udp", "UDP"), ("sctp", "SCTP")):
            spec = entry.get(key)
            if spec is None:
                continue
            port = (spec or {}).get("destinationPort")
            if not port:
                out.append(TierPort(proto))
            elif port.get("number") is not None:
                out.append(TierPort(proto, int(port["number"]), int(port["number"])))
            else:
                rng = port.get("range") or {}
                out.append(TierPort(proto, int(rng["start"]), int(rng["end"])))
    return tuple(out)


def _v1alpha1_ports(raw: Any) -> tuple[TierPort, ...] | None:
    if raw is None:
        return None
    out: list[TierPort] = []
    for entry in raw:
        if entry.get("namedPort") is not None:
            out.append(TierPort(name=str(entry["namedPort"])))
        elif entry.get("portNumber") is not None:
            pn = entry["portNumber"]
            n = int(pn["port"])
            out.append(TierPort(pn.get("protocol") or "TCP", n, n))
        elif entry.get("portRange") is not None:
            pr = entry["portRange"]
            if int(pr["start"]) <= int(pr["end"]):  # an inverted range matches nothing
                out.append(TierPort(pr.get("protocol") or "TCP", int(pr["start"]), int(pr["end"])))
    return tuple(out)


def parse_cluster_policy(obj: Mapping[str, Any]) -> ClusterPolicy:
    """Parse a cluster-wide policy dict that passed validate_cluster_policy."""
    kind = str(obj["kind"])
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    v1alpha2 = kind == CNP
    subject = _peer(spec.get("subject") or {})
    parse_ports = _v1alpha2_ports if v1alpha2 else _v1alpha1_ports

    def rules(direction: str, peers_key: str) -> tuple[TierRule, ...]:
        return tuple(
            _rule(i, r, peers_key, parse_ports(r.get("protocols") if v1alpha2 else r.get("ports")))
            for i, r in enumerate(spec.get(direction) or [])
        )

    if kind == CNP:
        tier = str(spec.get("tier"))
    elif kind == ANP:
        tier = ADMIN
    else:
        tier = BASELINE
    priority = spec.get("priority") if kind != BANP else None
    return ClusterPolicy(
        kind,
        str(meta.get("name")),
        tier,
        int(priority) if priority is not None else None,
        subject,
        rules("ingress", "from"),
        rules("egress", "to"),
        raw=obj,
    )


def parse_node(obj: Mapping[str, Any]) -> Node:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    status = obj.get("status") if isinstance(obj.get("status"), Mapping) else {}
    assert isinstance(meta, Mapping)
    assert isinstance(status, Mapping)
    addresses: list[str] = []
    for a in status.get("addresses") or []:
        if (
            isinstance(a, Mapping)
            and a.get("type") in ("InternalIP", "ExternalIP")
            and isinstance(a.get("address"), str)
        ):
            try:
                ipaddress.ip_address(a["address"].strip())
            except ValueError:
                continue  # a hostname, or garbage: no address to match
            addresses.append(a["address"].strip())
    labels = meta.get("labels") if isinstance(meta.get("labels"), Mapping) else {}
    assert isinstance(labels, Mapping)
    node_labels = dict(frozen_labels(labels))
    node_labels.setdefault("kubernetes.io/hostname", str(meta.get("name")))
    return Node(str(meta.get("name")), frozen_labels(node_labels), tuple(addresses))


def pod_ip_families(ips: tuple[str, ...]) -> frozenset[int]:
    """The address families of a pod's IPs (empty when none is known)."""
    return frozenset(6 if ":" in ip else 4 for ip in ips)
