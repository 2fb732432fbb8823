"""Calico policies compiled into the tier model.

Kinds (``projectcalico.org/v3``, and ``crd.projectcalico.org/v1`` as the CRD datastore
stores them): ``NetworkPolicy`` (namespaced), ``GlobalNetworkPolicy``, ``Tier``,
``NetworkSet``, ``GlobalNetworkSet``. Authority: projectcalico/calico
``api/pkg/apis/projectcalico/v3`` and the policy docs.

Evaluation (Calico docs, "Get started with policy tiers" / "policy ordering"): tiers by
``order`` (lower first, no order = last); inside a tier the policies that select the
endpoint by ``order`` (lower first, none = last), then by name; in a policy the rules
in order, the first matching rule decides: Allow and Deny end the evaluation, Pass
skips to the next tier, Log records and goes on. A tier in which some policy selected
the endpoint for that direction but no rule matched ends with its ``defaultAction``
(Deny unless Pass). v1 NetworkPolicies live in the ``default`` tier at order 1000.
Nothing selected the endpoint, or everything passed: the namespace profile allows.

Policy ``types``, when absent: Ingress if there are no egress rules, Egress if there
are egress rules and no ingress rules, both if there are both.

Rules: ``source``/``destination`` entities with ``selector``, ``notSelector``,
``namespaceSelector``, ``serviceAccounts`` (names and a selector over the
ServiceAccount's labels), ``nets``/``notNets`` and ``ports``/``notPorts`` (numbers,
``"first:last"`` ranges, names); ``protocol``/``notProtocol``. For an ingress rule the
source is the peer and the destination ports are the ports; for an egress rule the
destination is the peer. Pod addresses are not known from manifests: ``nets`` name
addresses outside the cluster (and NetworkSets' nets), never pods. ICMP rules are
listed but outside the TCP/UDP/SCTP answer.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..ipranges import IPRange, block_ranges
from ..tiers import ALLOW, DENY, LOG, PASS, TierPeer, TierPort, TierRule
from ..validation import FieldError
from .calico_selector import Selector, SelectorError, parse
from .common import (
    ANSWER_PROTOCOLS,
    DENY_END,
    FALL_THROUGH,
    L7_MARK,
    CniPolicyInfo,
    CniRuleInfo,
    CniTierPolicy,
    intersect_ranges,
    port_name_error,
    protocol_name,
    subtract_ranges,
)
from .kinds import CALICO, cni_kind, cni_object_key

DEFAULT_TIER = "default"
DEFAULT_TIER_ORDER = 1_000_000.0
V1_ORDER = 1000.0
"""Calico evaluates a v1 NetworkPolicy as a policy of the default tier with order 1000
(named ``knp.default.<name>``)."""
V1_NAME_PREFIX = "knp.default."

_ACTIONS = {"Allow": ALLOW, "Deny": DENY, "Pass": PASS, "Log": LOG}


def endpoint_labels(labels: Mapping[str, str], namespace: str, service_account: str) -> dict[str, str]:
    """The labels Calico gives a pod's workload endpoint: its labels plus
    ``projectcalico.org/namespace``, ``projectcalico.org/orchestrator`` and
    ``projectcalico.org/serviceaccount``."""
    out = dict(labels)
    out["projectcalico.org/namespace"] = namespace
    out["projectcalico.org/orchestrator"] = "k8s"
    if service_account:
        out["projectcalico.org/serviceaccount"] = service_account
    return out


class _EndpointLabels(Mapping[str, str]):
    """``endpoint_labels`` as a view: selectors ask for a few keys of many pods."""

    __slots__ = ("_labels", "_extra")

    def __init__(self, labels: Mapping[str, str], namespace: str, service_account: str) -> None:
        self._labels = labels
        self._extra = {
            "projectcalico.org/namespace": namespace,
            "projectcalico.org/orchestrator": "k8s",
        }
        if service_account:
            self._extra["projectcalico.org/serviceaccount"] = service_account

    def __getitem__(self, key: str) -> str:
        found = self._extra.get(key)
        return found if found is not None else self._labels[key]

    def __iter__(self) -> Iterator[str]:
        return iter({**self._labels, **self._extra})

    def __len__(self) -> int:
        return len({**self._labels, **self._extra})


@dataclass(frozen=True)
class CalicoMatch:
    """Which pods an entity rule (or a policy's subject) selects."""

    selector: Selector | None = None
    not_selector: Selector | None = None
    namespace_selector: Selector | None = None
    namespace: str | None = None  # a namespaced policy's own namespace
    sa_names: frozenset[str] | None = None
    sa_selector: Selector | None = None
    sa_labels: Mapping[tuple[str, str], Mapping[str, str]] = field(
        default_factory=dict, compare=False, repr=False
    )

    @property
    def cache_key(self) -> object:
        return (
            "calico",
            str(self.selector) if self.selector else None,
            str(self.not_selector) if self.not_selector else None,
            str(self.namespace_selector) if self.namespace_selector else None,
            self.namespace,
            self.sa_names,
            str(self.sa_selector) if self.sa_selector else None,
        )

    @property
    def only_namespaces(self) -> frozenset[str] | None:
        if self.namespace is None or self.namespace_selector is not None:
            return None
        return frozenset((self.namespace,))

    def matches(
        self,
        namespace: str,
        namespace_labels: Mapping[str, str],
        labels: Mapping[str, str],
        service_account: str,
    ) -> bool:
        if self.namespace_selector is not None:
            if not self.namespace_selector.matches(namespace_labels, namespaced=True):
                return False
        elif self.namespace is not None and namespace != self.namespace:
            return False
        if self.selector is not None or self.not_selector is not None:
            ep = _EndpointLabels(labels, namespace, service_account)
            if self.selector is not None and not self.selector.matches(ep):
                return False
            if self.not_selector is not None and self.not_selector.matches(ep):
                return False
        if self.sa_names is not None and service_account not in self.sa_names:
            return False
        if self.sa_selector is not None:
            sa = self.sa_labels.get((namespace, service_account or "default"), {})
            if not self.sa_selector.matches(sa):
                return False
        return True


@dataclass(frozen=True)
class NetSet:
    """A NetworkSet (namespace set) or GlobalNetworkSet (namespace None)."""

    namespace: str | None
    name: str
    labels: Mapping[str, str]
    ranges: tuple[IPRange, ...]


@dataclass
class CalicoTier:
    name: str
    order: float
    end: str


@dataclass
class CalicoContext:
    namespaces: Mapping[str, Mapping[str, str]]
    sa_labels: Mapping[tuple[str, str], Mapping[str, str]]
    netsets: list[NetSet]
    tiers: dict[str, CalicoTier]


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, Mapping) else {}


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    s = obj.get("spec")
    return s if isinstance(s, Mapping) else {}


def _float(raw: Any) -> float | None:
    if raw is None or isinstance(raw, bool):
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _cidr_ranges(raw: Any, path: str, problems: list[FieldError]) -> tuple[IPRange, ...]:
    out: list[IPRange] = []
    if raw is None:
        return ()
    if not isinstance(raw, list):
        problems.append(FieldError(path, "must be a list of CIDRs"))
        return ()
    for i, net in enumerate(raw):
        try:
            out.extend(block_ranges(str(net).strip(), ()))
        except ValueError:
            problems.append(FieldError(f"{path}[{i}]", f"{net!r} is not a valid CIDR or address"))
    return tuple(out)


def parse_tier(obj: Mapping[str, Any], problems: list[FieldError]) -> CalicoTier:
    spec = _spec(obj)
    name = str(_meta(obj).get("name") or "")
    order = _float(spec.get("order"))
    if spec.get("order") is not None and order is None:
        problems.append(FieldError("spec.order", f"{spec.get('order')!r} is not a number"))
    action = spec.get("defaultAction") or "Deny"
    if action not in ("Deny", "Pass"):
        problems.append(FieldError("spec.defaultAction", f"{action!r} must be Deny or Pass"))
        action = "Deny"
    if order is None:
        order = DEFAULT_TIER_ORDER if name == DEFAULT_TIER else math.inf
    return CalicoTier(name, order, DENY_END if action == "Deny" else FALL_THROUGH)


def parse_netset(obj: Mapping[str, Any], problems: list[FieldError]) -> NetSet:
    meta = _meta(obj)
    labels = meta.get("labels") if isinstance(meta.get("labels"), Mapping) else {}
    assert isinstance(labels, Mapping)
    found = cni_kind(obj)
    namespaced = found is not None and found.namespaced
    return NetSet(
        str(meta.get("namespace") or "default") if namespaced else None,
        str(meta.get("name") or ""),
        {str(k): str(v) for k, v in labels.items()},
        _cidr_ranges(_spec(obj).get("nets"), "spec.nets", problems),
    )


class _Compiler:
    def __init__(
        self, obj: Mapping[str, Any], ctx: CalicoContext, problems: list[FieldError]
    ) -> None:
        self.obj = obj
        self.ctx = ctx
        self.problems = problems
        found = cni_kind(obj)
        assert found is not None
        self.kind = found.kind
        self.namespaced = found.namespaced
        meta = _meta(obj)
        self.namespace = str(meta.get("namespace") or "default") if self.namespaced else None
        self.notes: list[str] = []

    def selector(self, raw: Any, path: str) -> Selector | None:
        if raw is None:
            return None
        if not isinstance(raw, str):
            self.problems.append(FieldError(path, "must be a selector string"))
            return None
        try:
            return parse(raw)
        except SelectorError as e:
            self.problems.append(
                FieldError(path, f"{e.message} at position {e.position} of {raw!r}")
            )
            return None

    # -- ports ------------------------------------------------------------------------------
    def ports(
        self, raw: Any, path: str, protocols: tuple[str, ...]
    ) -> tuple[TierPort, ...]:
        if not isinstance(raw, list):
            self.problems.append(FieldError(path, "must be a list of ports"))
            return ()
        out: list[TierPort] = []
        for i, entry in enumerate(raw):
            here = f"{path}[{i}]"
            first: int | None = None
            last: int | None = None
            name: str | None = None
            if isinstance(entry, int) and not isinstance(entry, bool):
                first = last = entry
            elif isinstance(entry, str) and ":" in entry:
                a, _, b = entry.partition(":")
                if a.strip().isdigit() and b.strip().isdigit():
                    first, last = int(a), int(b)
                else:
                    self.problems.append(FieldError(here, f"{entry!r} is not a port range first:last"))
                    continue
            elif isinstance(entry, str) and entry.strip().isdigit():
                first = last = int(entry)
            elif isinstance(entry, str) and entry.strip():
                name = entry.strip()
                err = port_name_error(name)
                if err:
                    self.problems.append(FieldError(here, err))
                    continue
            else:
                self.problems.append(FieldError(here, f"{entry!r} is not a port, range or port name"))
                continue
            if first is not None and last is not None:
                if not (0 <= first <= 65535 and 0 <= last <= 65535):
                    self.problems.append(FieldError(here, f"{entry!r} is outside 0-65535"))
                    continue
                if first > last:
                    self.problems.append(FieldError(here, f"{entry!r}: the first port is above the last"))
                    continue
                for proto in protocols:
                    out.append(TierPort(proto, max(first, 1), last))
            else:
                for proto in protocols:
                    out.append(TierPort(proto, name=name, name_with_protocol=True))
        return tuple(out)

    # -- entities ---------------------------------------------------------------------------
    def sa_match(self, raw: Any, path: str) -> tuple[frozenset[str] | None, Selector | None]:
        if raw is None:
            return None, None
        if not isinstance(raw, Mapping):
            self.problems.append(FieldError(path, "must be a map with names and/or selector"))
            return None, None
        names = raw.get("names")
        return (
            frozenset(str(n) for n in names) if isinstance(names, list) and names else None,
            self.selector(raw.get("selector"), f"{path}.selector"),
        )

    def peer(self, raw: Mapping[str, Any], path: str) -> tuple[TierPeer, str]:
        """The remote side of a rule: pods it selects and addresses outside."""
        sel = self.selector(raw.get("selector"), f"{path}.selector")
        not_sel = self.selector(raw.get("notSelector"), f"{path}.notSelector")
        ns_sel = self.selector(raw.get("namespaceSelector"), f"{path}.namespaceSelector")
        sa_names, sa_sel = self.sa_match(raw.get("serviceAccounts"), f"{path}.serviceAccounts")
        nets = _cidr_ranges(raw.get("nets"), f"{path}.nets", self.problems)
        not_nets = _cidr_ranges(raw.get("notNets"), f"{path}.notNets", self.problems)
        by_labels = sel is not None or ns_sel is not None or sa_names is not None or sa_sel is not None
        words: list[str] = []
        for key in ("selector", "notSelector", "namespaceSelector", "nets", "notNets"):
            if raw.get(key) is not None:
                value = raw[key]
                words.append(f"{key} {', '.join(map(str, value)) if isinstance(value, list) else value}")
        if raw.get("serviceAccounts") is not None:
            words.append(f"serviceAccounts {dict(raw['serviceAccounts'])}")
        text = "; ".join(words) or "anything"

        # Pods: their addresses are not known, so `nets` never names a pod.
        match: CalicoMatch | None = None
        only_global = ns_sel is not None and ns_sel.root.op == "global"
        if raw.get("nets") is None and not only_global:
            restrict = self.namespace if (self.namespaced and ns_sel is None) else None
            match = CalicoMatch(sel, not_sel, ns_sel, restrict, sa_names, sa_sel, self.ctx.sa_labels)

        # Addresses outside the cluster: NetworkSets the selectors pick, or everywhere.
        everywhere = False
        ranges: tuple[IPRange, ...] = ()
        if sa_names is not None or sa_sel is not None:
            ranges = ()
        elif by_labels:
            ranges = tuple(r for ns in self.netsets(sel, not_sel, ns_sel) for r in ns.ranges)
            if raw.get("nets") is not None:
                ranges = intersect_ranges(ranges, nets)
        elif raw.get("nets") is not None:
            ranges = nets
            if not_sel is not None:
                drop = tuple(r for ns in self.netsets(None, None, None) if not_sel.matches(ns.labels, ns.namespace is not None) for r in ns.ranges)
                ranges = subtract_ranges(ranges, drop)
        elif not_nets or not_sel is not None:
            fams = {r.family for r in not_nets} or {4}
            ranges = tuple(r for f in sorted(fams) for r in block_ranges("0.0.0.0/0" if f == 4 else "::/0", ()))
            if not_sel is not None:
                drop = tuple(r for ns in self.netsets(None, None, None) if not_sel.matches(ns.labels, ns.namespace is not None) for r in ns.ranges)
                ranges = subtract_ranges(ranges, drop)
        else:
            everywhere = True
        if not_nets:
            ranges = subtract_ranges(ranges, not_nets)
        return (
            TierPeer(
                "cni",
                ranges=ranges,
                match=match,
                text=text,
                match_key=match.cache_key if match else None,
                everywhere=everywhere,
            ),
            text,
        )

    def netsets(
        self, sel: Selector | None, not_sel: Selector | None, ns_sel: Selector | None
    ) -> list[NetSet]:
        out = []
        for ns in self.ctx.netsets:
            namespaced = ns.namespace is not None
            if ns_sel is not None:
                if namespaced:
                    ns_labels = self.ctx.namespaces.get(ns.namespace or "") or {
                        "kubernetes.io/metadata.name": ns.namespace or ""
                    }
                    if not ns_sel.matches(ns_labels, namespaced=True):
                        continue
                elif not ns_sel.matches({}, namespaced=False):
                    continue
            elif self.namespaced and ns.namespace != self.namespace:
                continue
            labels = dict(ns.labels)
            if ns.namespace is not None:
                labels["projectcalico.org/namespace"] = ns.namespace
            if sel is not None and not sel.matches(labels, namespaced):
                continue
            if not_sel is not None and not_sel.matches(labels, namespaced):
                continue
            out.append(ns)
        return out

    def local(self, raw: Mapping[str, Any], path: str) -> TierPeer | None:
        """The local side of a rule (the destination of an ingress rule, the source of an
        egress rule) narrows which selected pods the rule concerns."""
        sel = self.selector(raw.get("selector"), f"{path}.selector")
        not_sel = self.selector(raw.get("notSelector"), f"{path}.notSelector")
        ns_sel = self.selector(raw.get("namespaceSelector"), f"{path}.namespaceSelector")
        sa_names, sa_sel = self.sa_match(raw.get("serviceAccounts"), f"{path}.serviceAccounts")
        if raw.get("nets") is not None or raw.get("notNets") is not None:
            self.notes.append(
                f"{path}: nets/notNets of the local side name pod addresses, which manifests "
                "do not give: treated as matching"
            )
        if sel is None and not_sel is None and ns_sel is None and sa_names is None and sa_sel is None:
            return None
        match = CalicoMatch(sel, not_sel, ns_sel, None, sa_names, sa_sel, self.ctx.sa_labels)
        return TierPeer("cni", match=match, text=f"local {path}", match_key=match.cache_key)

    # -- rules ------------------------------------------------------------------------------
    def rule(self, raw: Any, direction: str, index: int) -> tuple[TierRule, CniRuleInfo] | None:
        path = f"spec.{direction}[{index}]"
        if not isinstance(raw, Mapping):
            self.problems.append(FieldError(path, "must be a rule (a map)"))
            return None
        written = raw.get("action")
        if written not in _ACTIONS:
            self.problems.append(FieldError(f"{path}.action", f"{written!r} must be one of Allow, Deny, Pass, Log"))
            return None
        src = raw.get("source") if isinstance(raw.get("source"), Mapping) else {}
        dst = raw.get("destination") if isinstance(raw.get("destination"), Mapping) else {}
        assert isinstance(src, Mapping)
        assert isinstance(dst, Mapping)
        remote, local_raw = (src, dst) if direction == "ingress" else (dst, src)
        remote_path = f"{path}.{'source' if direction == 'ingress' else 'destination'}"
        local_path = f"{path}.{'destination' if direction == 'ingress' else 'source'}"

        proto_raw, not_proto_raw = raw.get("protocol"), raw.get("notProtocol")
        proto = protocol_name(proto_raw) if proto_raw is not None else None
        not_proto = protocol_name(not_proto_raw) if not_proto_raw is not None else None
        protocols: tuple[str, ...] = ANSWER_PROTOCOLS if proto is None else (proto,)
        answer_protocols = tuple(p for p in protocols if p in ANSWER_PROTOCOLS)
        has_ports = dst.get("ports") is not None or dst.get("notPorts") is not None
        if has_ports and proto not in ANSWER_PROTOCOLS:
            self.problems.append(
                FieldError(f"{path}.protocol", "ports need protocol TCP, UDP or SCTP")
            )
            return None
        ports: tuple[TierPort, ...] | None
        if dst.get("ports") is not None:
            ports = self.ports(dst["ports"], f"{path}.destination.ports", answer_protocols)
        elif proto is None:
            ports = None
        else:
            ports = tuple(TierPort(p) for p in answer_protocols)
        not_ports: tuple[TierPort, ...] = ()
        if dst.get("notPorts") is not None:
            not_ports = self.ports(dst["notPorts"], f"{path}.destination.notPorts", answer_protocols)
        if not_proto in ANSWER_PROTOCOLS:
            not_ports = (*not_ports, TierPort(not_proto))
        for side, side_path in ((src, f"{path}.source"),):
            if side.get("ports") is not None or side.get("notPorts") is not None:
                self.notes.append(f"{side_path}.ports: source ports are not evaluated (treated as matching)")

        peer, peer_text = self.peer(remote, remote_path)
        version = raw.get("ipVersion")
        if version is not None:
            if version not in (4, 6):
                self.problems.append(FieldError(f"{path}.ipVersion", f"{version!r} must be 4 or 6"))
            else:
                # Only addresses of that family; pods have addresses of both.
                family = block_ranges("0.0.0.0/0" if version == 4 else "::/0", ())
                ranges = family if peer.everywhere else tuple(r for r in peer.ranges if r.family == version)
                peer = TierPeer("cni", ranges=ranges, match=peer.match, text=f"{peer.text} (IPv{version})",
                                match_key=peer.match_key)
        marks: tuple[str, ...] = ()
        if raw.get("http") is not None:
            marks = (L7_MARK,)
        local = self.local(local_raw, local_path)
        name = ""
        meta = raw.get("metadata")
        if isinstance(meta, Mapping) and isinstance(meta.get("annotations"), Mapping):
            name = str(meta["annotations"].get("name") or "")
        rule = TierRule(
            index, name, _ACTIONS[str(written)], str(written), (peer,), ports, not_ports, marks,
            local=local,
        )
        what = []
        if proto is not None:
            what.append(f"protocol {proto}")
        if not_proto is not None:
            what.append(f"not protocol {not_proto}")
        if proto is not None and proto not in ANSWER_PROTOCOLS:
            what.append("(outside the TCP/UDP/SCTP answer)")
        if dst.get("ports") is not None:
            what.append(f"ports {', '.join(map(str, dst['ports']))}")
        if dst.get("notPorts") is not None:
            what.append(f"not ports {', '.join(map(str, dst['notPorts']))}")
        side_word = "from" if direction == "ingress" else "to"
        text = f"{written} {side_word} {peer_text}" + (f", {' '.join(what)}" if what else "")
        if marks:
            text += " (HTTP match: L7 rules apply)"
        return rule, CniRuleInfo(direction, index, str(written), text, name, marks)


def _types(spec: Mapping[str, Any], problems: list[FieldError]) -> tuple[str, ...]:
    raw = spec.get("types")
    if raw is None:
        has_in = bool(spec.get("ingress"))
        has_eg = bool(spec.get("egress"))
        if has_eg and not has_in:
            return ("egress",)
        if has_eg:
            return ("ingress", "egress")
        return ("ingress",)
    if not isinstance(raw, list):
        problems.append(FieldError("spec.types", "must be a list of Ingress, Egress"))
        return ()
    out: list[str] = []
    for i, t in enumerate(raw):
        if t not in ("Ingress", "Egress"):
            problems.append(FieldError(f"spec.types[{i}]", f"{t!r} must be Ingress or Egress"))
            continue
        out.append(str(t).lower())
    return tuple(sorted(set(out)))


def compile_policy(
    obj: Mapping[str, Any], ctx: CalicoContext, enforced: bool, not_enforced_reason: str = ""
) -> tuple[CniPolicyInfo, CniTierPolicy | None]:
    """A Calico NetworkPolicy or GlobalNetworkPolicy: its listing, and (valid and
    enforced) its compiled form."""
    problems: list[FieldError] = []
    c = _Compiler(obj, ctx, problems)
    spec = _spec(obj)
    meta = _meta(obj)
    name = str(meta.get("name") or "")
    tier = spec.get("tier") or DEFAULT_TIER
    if not isinstance(tier, str):
        problems.append(FieldError("spec.tier", "must be a tier name"))
        tier = DEFAULT_TIER
    if tier != DEFAULT_TIER and tier not in ctx.tiers:
        problems.append(FieldError("spec.tier", f"tier {tier!r} does not exist (no Tier object)"))
    order = _float(spec.get("order"))
    if spec.get("order") is not None and order is None:
        problems.append(FieldError("spec.order", f"{spec.get('order')!r} is not a number"))
    types = _types(spec, problems)
    subject_sel = c.selector(spec.get("selector"), "spec.selector")
    ns_sel = None
    if c.kind == "GlobalNetworkPolicy":
        ns_sel = c.selector(spec.get("namespaceSelector"), "spec.namespaceSelector")
        if spec.get("preDNAT") or spec.get("doNotTrack"):
            c.notes.append("preDNAT/doNotTrack policies apply to host endpoints only: not evaluated")
    sa_names: frozenset[str] | None = None
    sa_sel = c.selector(spec.get("serviceAccountSelector"), "spec.serviceAccountSelector")
    subject_match = CalicoMatch(
        subject_sel, None, ns_sel, c.namespace, sa_names, sa_sel, ctx.sa_labels
    )
    host_only = bool(spec.get("preDNAT") or spec.get("doNotTrack"))
    subject = TierPeer(
        "cni", match=None if host_only else subject_match,
        text=f"selector {spec.get('selector') or 'all()'}", match_key=subject_match.cache_key,
    )
    rules: dict[str, list[TierRule]] = {"ingress": [], "egress": []}
    infos: list[CniRuleInfo] = []
    for direction in ("ingress", "egress"):
        raw_rules = spec.get(direction)
        if raw_rules is None:
            continue
        if not isinstance(raw_rules, list):
            problems.append(FieldError(f"spec.{direction}", "must be a list of rules"))
            continue
        for i, raw in enumerate(raw_rules):
            got = c.rule(raw, direction, i)
            if got is not None:
                rules[direction].append(got[0])
                infos.append(got[1])
    key = cni_object_key(obj)
    tier_info = ctx.tiers.get(tier)
    tier_rank = tier_info.order if tier_info else (DEFAULT_TIER_ORDER if tier == DEFAULT_TIER else math.inf)
    kind = c.kind
    problems = [FieldError(p.path, p.message, p.obj or f"{kind} {key.split(':', 2)[-1]}") for p in problems]
    ok = enforced and not problems
    info = CniPolicyInfo(
        key=key,
        cni=CALICO,
        kind=kind,
        api_version=str(obj.get("apiVersion") or ""),
        namespace=c.namespace,
        name=name,
        enforced=ok,
        tier=tier,
        order=order,
        selects=subject.text,
        types=types,
        rules=tuple(infos),
        problems=tuple(problems),
        notes=tuple(c.notes),
        not_enforced_reason=not_enforced_reason if not enforced else ("invalid" if problems else ""),
        raw=obj,
    )
    if not ok:
        return info, None
    compiled = CniTierPolicy(
        kind,
        name,
        tier,
        None,
        subject,
        tuple(rules["ingress"]) if "ingress" in types else (),
        tuple(rules["egress"]) if "egress" in types else (),
        raw=obj,
        cni=CALICO,
        namespace=c.namespace,
        cni_key=key,
        directions=frozenset(types),
        tier_rank=tier_rank,
        policy_order=order if order is not None else math.inf,
    )
    return info, compiled
