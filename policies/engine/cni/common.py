"""What every CNI compiler produces: the listing of a CNI policy (``CniPolicyInfo``),
the policies compiled into the tier model (``CniTierPolicy``), and the evaluation plan:
the ordered tiers the fast path, the incremental analyzer and explain all walk
(``PlanTier``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..ipranges import IPRange, block_ranges
from ..selectors import LabelSelector
from ..tiers import ClusterPolicy, TierPort
from ..validation import FieldError

DENY_END = "deny"
FALL_THROUGH = "fall-through"

L7_MARK = "L7 rules apply"
DNS_MARK = "depends on DNS/service"


@dataclass(frozen=True)
class CniRuleInfo:
    """One rule of a CNI policy as listed: direction, 0-based index in its list,
    action as written and a sentence saying what it matches."""

    direction: str  # ingress | egress
    index: int
    action: str
    text: str
    name: str = ""
    marks: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "index": self.index,
            "action": self.action,
            "text": self.text,
            "name": self.name,
            "marks": list(self.marks),
        }


@dataclass(frozen=True)
class CniPolicyInfo:
    """A CNI policy object as netpolui lists it (also those it does not apply).

    ``key`` is ``cni_object_key``; ``enforced`` says whether the cluster's CNI
    enforces it (and it is valid); ``tier`` and ``order`` place it in the evaluation;
    ``problems`` are validation problems with field paths (an invalid policy is never
    applied); ``notes`` what netpolui cannot evaluate in it (host policies, FQDNs...)."""

    key: str
    cni: str
    kind: str
    api_version: str
    namespace: str | None
    name: str
    enforced: bool
    tier: str
    order: float | None
    selects: str = ""
    types: tuple[str, ...] = ()
    rules: tuple[CniRuleInfo, ...] = ()
    problems: tuple[FieldError, ...] = ()
    notes: tuple[str, ...] = ()
    not_enforced_reason: str = ""
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "cni": self.cni,
            "kind": self.kind,
            "api_version": self.api_version,
            "namespace": self.namespace,
            "name": self.name,
            "enforced": self.enforced,
            "not_enforced_reason": self.not_enforced_reason,
            "tier": self.tier,
            "order": self.order,
            "selects": self.selects,
            "types": list(self.types),
            "rules": [r.to_dict() for r in self.rules],
            "problems": [{"path": p.path, "message": p.message} for p in self.problems],
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class CniTierPolicy(ClusterPolicy):
    """A CNI policy compiled into the tier model. ``key`` is its cni_object_key;
    ``directions`` the directions in which it selects its endpoints (Calico's types,
    Cilium's default-deny directions; in tiers that fall through -- Antrea, Cilium's
    denies -- the directions it has rules in): a tier that ends in deny denies what is
    undecided there; ``policy_order`` its place in its tier (lower first)."""

    cni: str = ""
    namespace: str | None = None
    cni_key: str = ""
    directions: frozenset[str] = frozenset()
    tier_rank: float = 0.0
    policy_order: float = 0.0
    part: str = ""  # Cilium: "deny" or "allow" half of one policy

    @property
    def key(self) -> str:
        return self.cni_key

    @property
    def api_version(self) -> str:
        return str(self.raw.get("apiVersion") or "")

    @property
    def order(self) -> tuple[float, float, int, str]:  # type: ignore[override]
        return (self.tier_rank, self.policy_order, 3, self.name)

    def applies_to(self, direction: str) -> bool:
        return direction in self.directions

    def __str__(self) -> str:
        return f"{self.kind} {self.cni_key.split(':', 2)[-1]} ({self.tier} tier)"


@dataclass(frozen=True)
class PlanTier:
    """One tier of the evaluation plan, its members in order (None: the v1
    NetworkPolicies, whose rules are all allows and whose isolation counts as
    "selected") and how it ends for an endpoint some member selected."""

    name: str
    end: str  # deny | fall-through
    members: tuple[ClusterPolicy | None, ...]
    cni: str = ""


def ranges_of(cidrs: list[str] | tuple[str, ...]) -> tuple[IPRange, ...]:
    out: list[IPRange] = []
    for c in cidrs:
        out.extend(block_ranges(c, ()))
    return tuple(out)


def subtract_ranges(keep: tuple[IPRange, ...], drop: tuple[IPRange, ...]) -> tuple[IPRange, ...]:
    """`keep` without the addresses of `drop`."""
    out = list(keep)
    for d in drop:
        nxt: list[IPRange] = []
        for r in out:
            if r.family != d.family or d.last < r.first or d.first > r.last:
                nxt.append(r)
                continue
            if r.first < d.first:
                nxt.append(IPRange(r.family, r.first, d.first - 1))
            if d.last < r.last:
                nxt.append(IPRange(r.family, d.last + 1, r.last))
        out = nxt
    return tuple(out)


def intersect_ranges(a: tuple[IPRange, ...], b: tuple[IPRange, ...]) -> tuple[IPRange, ...]:
    out: list[IPRange] = []
    for x in a:
        for y in b:
            if x.family == y.family:
                lo, hi = max(x.first, y.first), min(x.last, y.last)
                if lo <= hi:
                    out.append(IPRange(x.family, lo, hi))
    return tuple(out)


EVERYWHERE: tuple[IPRange, ...] = ranges_of(["0.0.0.0/0", "::/0"])

PROTOCOL_NUMBERS = {"6": "TCP", "17": "UDP", "132": "SCTP", "1": "ICMP", "58": "ICMPv6"}
ANSWER_PROTOCOLS = ("TCP", "UDP", "SCTP")


def protocol_name(raw: Any) -> str:
    text = str(raw).strip()
    return PROTOCOL_NUMBERS.get(text, text.upper())


def all_ports(protocols: tuple[str, ...] = ANSWER_PROTOCOLS) -> tuple[TierPort, ...]:
    return tuple(TierPort(p) for p in protocols if p in ANSWER_PROTOCOLS)


_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def label_selector(
    raw: Any, path: str, problems: list[FieldError], key: Any = None
) -> LabelSelector | None:
    """A Kubernetes label selector checked for shape (maps, lists, operators, string or
    scalar values); `key` rewrites each label key (Cilium's source prefixes). None, with
    a problem, when it is not one; None without a problem when `raw` is None."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        problems.append(FieldError(path, "must be a label selector (matchLabels, matchExpressions)"))
        return None
    labels = raw.get("matchLabels")
    exprs = raw.get("matchExpressions")
    if labels is not None and not isinstance(labels, Mapping):
        problems.append(FieldError(f"{path}.matchLabels", "must be a map of labels"))
        return None
    if exprs is not None and not isinstance(exprs, list):
        problems.append(FieldError(f"{path}.matchExpressions", "must be a list"))
        return None
    rename = key or (lambda k: k)
    clean_labels: dict[str, str] = {}
    for k, v in (labels or {}).items():
        if isinstance(v, Mapping | list):
            problems.append(FieldError(f"{path}.matchLabels.{k}", "must be a string"))
            return None
        clean_labels[rename(str(k))] = v
    clean_exprs: list[dict[str, Any]] = []
    for i, e in enumerate(exprs or []):
        here = f"{path}.matchExpressions[{i}]"
        if not isinstance(e, Mapping) or not isinstance(e.get("key"), str) or e.get("operator") not in _OPERATORS:
            problems.append(FieldError(here, "needs a key and an operator In, NotIn, Exists or DoesNotExist"))
            return None
        values = e.get("values") or []
        if not isinstance(values, list) or any(isinstance(v, Mapping | list) for v in values):
            problems.append(FieldError(f"{here}.values", "must be a list of strings"))
            return None
        if e["operator"] in ("In", "NotIn") and not values:
            problems.append(FieldError(f"{here}.values", "must not be empty for In and NotIn"))
            return None
        if e["operator"] in ("Exists", "DoesNotExist") and values:
            problems.append(FieldError(f"{here}.values", "must be empty for Exists and DoesNotExist"))
            return None
        clean_exprs.append({"key": rename(e["key"]), "operator": e["operator"], "values": list(values)})
    return LabelSelector.parse({"matchLabels": clean_labels, "matchExpressions": clean_exprs})


_PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")


def port_name_error(name: str) -> str | None:
    """Why `name` is not a port name (IANA service name: at most 15 lower-case letters,
    digits and inner hyphens, at least one letter), or None."""
    if not _PORT_NAME.match(name) or not any(c.isalpha() for c in name) or "--" in name:
        return f"{name!r} is not a port number, range or port name"
    return None
