"""Parsed Kubernetes objects the engine reasons about.

``NetworkPolicy`` (with ``Rule``, ``Peer``, ``IPBlock``, ``PolicyPort``) is built only
from a dict that passed ``validate_network_policy``; ``Pod`` and ``Workload`` come from
pods and workload templates. All are frozen; labels are read-only mappings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from .endpoint_keys import object_key
from .ipranges import IPRange, block_ranges, parse_address
from .ports import MAX_PORT, ConnSet
from .selectors import LabelSelector

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"

NamedPort = tuple[str, str, int]
"""(name, protocol, containerPort) of one container port."""

EMPTY_LABELS: Mapping[str, str] = MappingProxyType({})


def frozen_labels(raw: Mapping[str, Any] | None) -> Mapping[str, str]:
    if not raw:
        return EMPTY_LABELS
    return MappingProxyType({str(k): _text(v) for k, v in sorted(raw.items())})


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class PolicyPort:
    """One `ports` entry: protocol, then a number, a name or nothing, and endPort."""

    protocol: str = "TCP"
    port: int | str | None = None
    end_port: int | None = None

    @property
    def is_named(self) -> bool:
        return isinstance(self.port, str)

    def resolve(self, named_ports: tuple[NamedPort, ...] | None) -> ConnSet:
        """The ports this entry opens on a destination with these container ports.

        A named port resolves on the destination pod, to the container port of that
        name AND this protocol; `named_ports=None` (an address outside the cluster)
        resolves no name at all.
        """
        if self.port is None:
            return ConnSet.of(self.protocol)
        if isinstance(self.port, str):
            if not named_ports:
                return ConnSet.none()
            numbers = [
                num
                for name, proto, num in named_ports
                if name == self.port and proto == self.protocol
            ]
            if not numbers:
                return ConnSet.none()
            return ConnSet({self.protocol: [(n, n) for n in numbers]})
        end = self.end_port if self.end_port is not None else self.port
        return ConnSet({self.protocol: [(self.port, min(end, MAX_PORT))]})

    def __str__(self) -> str:
        if self.port is None:
            return f"{self.protocol} (all ports)"
        if self.end_port is not None and self.end_port != self.port:
            return f"{self.protocol} {self.port}-{self.end_port}"
        return f"{self.protocol} {self.port}"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"protocol": self.protocol}
        if self.port is not None:
            out["port"] = self.port
        if self.end_port is not None:
            out["endPort"] = self.end_port
        return out


@dataclass(frozen=True, slots=True)
class IPBlock:
    cidr: str
    excepts: tuple[str, ...] = ()
    ranges: tuple[IPRange, ...] = ()

    def contains_range(self, r: IPRange) -> bool:
        return any(b.contains(r) for b in self.ranges)

    def contains_address(self, address: str) -> bool:
        fam, value = parse_address(address)
        return any(b.contains_address(fam, value) for b in self.ranges)

    def __str__(self) -> str:
        if self.excepts:
            return f"{self.cidr} except {', '.join(self.excepts)}"
        return self.cidr


@dataclass(frozen=True, slots=True)
class Peer:
    """One `from`/`to` entry. Both selectors in one peer are an AND."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    ip_block: IPBlock | None = None

    def matches_pod(
        self,
        policy_namespace: str,
        pod_namespace: str,
        pod_labels: Mapping[str, str],
        namespace_labels: Mapping[str, str],
    ) -> bool:
        # ipBlocks match addresses outside the cluster only, never pod IPs.
        if self.ip_block is not None:
            return False
        if self.namespace_selector is None:
            if pod_namespace != policy_namespace:
                return False
        elif not self.namespace_selector.matches(namespace_labels):
            return False
        return self.pod_selector is None or self.pod_selector.matches(pod_labels)

    def __str__(self) -> str:
        if self.ip_block is not None:
            return f"ipBlock {self.ip_block}"
        parts = []
        if self.namespace_selector is not None:
            parts.append(f"namespaces [{self.namespace_selector}]")
        if self.pod_selector is not None:
            parts.append(f"pods [{self.pod_selector}]")
        return " and ".join(parts)


@dataclass(frozen=True, slots=True)
class Rule:
    """One ingress or egress rule; no peers = every peer, no ports = every port."""

    peers: tuple[Peer, ...] = ()
    ports: tuple[PolicyPort, ...] = ()

    @property
    def has_named_ports(self) -> bool:
        return any(p.is_named for p in self.ports)

    def conns_on(self, named_ports: tuple[NamedPort, ...] | None) -> ConnSet:
        if not self.ports:
            return ConnSet.all()
        out = ConnSet.none()
        for p in self.ports:
            out = out | p.resolve(named_ports)
        return out

    @property
    def ports_text(self) -> str:
        return ", ".join(str(p) for p in self.ports) if self.ports else "all ports"


@dataclass(frozen=True, slots=True)
class NetworkPolicy:
    namespace: str
    name: str
    pod_selector: LabelSelector
    policy_types: tuple[str, ...]
    ingress: tuple[Rule, ...]
    egress: tuple[Rule, ...]
    raw: Mapping[str, Any] = field(compare=False, repr=False, default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def affects_ingress(self) -> bool:
        return "Ingress" in self.policy_types

    @property
    def affects_egress(self) -> bool:
        return "Egress" in self.policy_types

    def rules(self, direction: str) -> tuple[Rule, ...]:
        """Rules that count: those of a direction listed in policyTypes."""
        if direction == "ingress":
            return self.ingress if self.affects_ingress else ()
        return self.egress if self.affects_egress else ()

    def ip_blocks(self, direction: str) -> list[IPBlock]:
        return [
            p.ip_block for r in self.rules(direction) for p in r.peers if p.ip_block is not None
        ]


def effective_policy_types(spec: Mapping[str, Any]) -> tuple[str, ...]:
    """policyTypes after API-server defaulting.

    Absent or empty: Ingress always, Egress only when the policy has egress rules --
    the defaulting tests len(spec.egress) != 0, so `egress: []` does not turn egress
    isolation on.
    """
    types = spec.get("policyTypes")
    if types:
        return tuple(t for t in ("Ingress", "Egress") if t in types)
    if spec.get("egress"):
        return ("Ingress", "Egress")
    return ("Ingress",)


def _parse_selector(raw: Any) -> LabelSelector | None:
    if raw is None:
        return None
    return LabelSelector.parse(raw)


class PolicySpec(NamedTuple):
    """What a NetworkPolicy's spec says, apart from the policy it is in."""

    pod_selector: LabelSelector
    policy_types: tuple[str, ...]
    ingress: tuple[Rule, ...]
    egress: tuple[Rule, ...]


def parse_network_policy(obj: Mapping[str, Any], spec: PolicySpec | None = None) -> NetworkPolicy:
    """Parse a NetworkPolicy dict that passed validate_network_policy; `spec`, when
    given, is parse_policy_spec of its spec (build_cluster parses each distinct spec
    once: the parts are immutable, so policies may share them)."""
    meta = obj.get("metadata") or {}
    if spec is None:
        spec = parse_policy_spec(obj.get("spec"))
    return NetworkPolicy(
        namespace=meta.get("namespace") or "default",
        name=str(meta.get("name")),
        pod_selector=spec.pod_selector,
        policy_types=spec.policy_types,
        ingress=spec.ingress,
        egress=spec.egress,
        raw=obj,
    )


def parse_policy_spec(raw: Mapping[str, Any] | None) -> PolicySpec:
    """The spec of a NetworkPolicy that passed validate_network_policy."""
    spec = raw or {}

    def rules(direction: str, peers_key: str) -> tuple[Rule, ...]:
        out = []
        for rule in spec.get(direction) or []:
            rule = rule or {}
            peers = []
            for p in rule.get(peers_key) or []:
                block = None
                if p.get("ipBlock") is not None:
                    ib = p["ipBlock"]
                    excepts = tuple(ib.get("except") or ())
                    block = IPBlock(ib["cidr"], excepts, block_ranges(ib["cidr"], excepts))
                peers.append(
                    Peer(
                        _parse_selector(p.get("podSelector")),
                        _parse_selector(p.get("namespaceSelector")),
                        block,
                    )
                )
            ports = []
            for p in rule.get("ports") or []:
                p = p or {}
                ports.append(
                    PolicyPort(p.get("protocol") or "TCP", p.get("port"), p.get("endPort"))
                )
            out.append(Rule(tuple(peers), tuple(ports)))
        return tuple(out)

    return PolicySpec(
        LabelSelector.parse(spec.get("podSelector")),
        effective_policy_types(spec),
        rules("ingress", "from"),
        rules("egress", "to"),
    )


@dataclass(frozen=True, eq=False)
class Pod:
    """A pod, or the stand-in for a workload given without pods (``stand_in``)."""

    namespace: str
    name: str
    labels: Mapping[str, str]
    named_ports: tuple[NamedPort, ...] = ()
    host_network: bool = False
    ips: tuple[str, ...] = ()
    owner_kind: str = "Pod"
    owner_name: str = ""
    stand_in: bool = False
    uid: str = ""
    service_account: str = "default"

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}"

    @property
    def workload_key(self) -> str:
        """The connection-list name of what this pod stands for: `ns/owner[Kind]`."""
        return object_key(self.namespace, self.owner_name or self.name, self.owner_kind)


_POD_FIELDS = (
    "namespace", "name", "labels", "named_ports", "host_network", "ips",
    "owner_kind", "owner_name", "stand_in", "uid", "service_account",
)
assert tuple(Pod.__dataclass_fields__) == _POD_FIELDS, "new_pod must set every Pod field"


def new_pod(
    namespace: str,
    name: str,
    labels: Mapping[str, str],
    named_ports: tuple[NamedPort, ...],
    host_network: bool,
    ips: tuple[str, ...],
    owner_kind: str,
    owner_name: str,
    stand_in: bool,
    uid: str,
    service_account: str,
) -> Pod:
    """``Pod(...)`` with every field given, three times faster: a frozen dataclass's
    __init__ sets each field through its own object.__setattr__ call (25 ms for the
    10,000 pods of the benchmark cluster). The fields go straight into the instance
    dict, where that __init__ puts them."""
    pod = object.__new__(Pod)
    pod.__dict__.update(
        namespace=namespace,
        name=name,
        labels=labels,
        named_ports=named_ports,
        host_network=host_network,
        ips=ips,
        owner_kind=owner_kind,
        owner_name=owner_name,
        stand_in=stand_in,
        uid=uid,
        service_account=service_account,
    )
    return pod


@dataclass(frozen=True, eq=False)
class Workload:
    """What pods are grouped under at workload level (a top-most owner, or a bare pod)."""

    namespace: str
    name: str
    kind: str
    labels: Mapping[str, str]
    pods: tuple[Pod, ...]
    uid: str = ""

    @property
    def key(self) -> str:
        return object_key(self.namespace, self.name, self.kind)

    @property
    def representative(self) -> Pod:
        return self.pods[0]
