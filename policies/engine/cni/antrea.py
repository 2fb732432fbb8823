"""Antrea-native policies compiled into the tier model.

Kinds (``crd.antrea.io``): ``ClusterNetworkPolicy`` (ACNP), ``NetworkPolicy``
(namespaced, ANNP), ``Tier``, ``ClusterGroup``, ``Group``. Authority: antrea-io/antrea
``docs/antrea-network-policy.md`` and ``pkg/apis/crd/v1beta1``.

Evaluation (docs, "Antrea-native Policy ordering based on priorities"): tiers by
priority (static tiers emergency 50, securityops 100, networkops 150, platform 200,
application 250 -- the default --, baseline 253; custom Tier objects), "Emergency >
SecurityOps > NetworkOps > Platform > Application > K8s NetworkPolicy > Baseline";
within a tier policies by ``priority`` (lower first; ties are enforced
indeterministically: netpolui orders them by kind then name); within a policy rules in
written order; the first matching rule decides: Allow, Drop and Reject end the
evaluation (Reject answers with a reset: denied here), Pass skips the rest of the tier.
"There is no automatic isolation of Pods on being selected in appliedTo": a tier that
no rule decided falls through; the K8s NetworkPolicies then decide for the pods they
isolate, and baseline policies only see what reaches them.

Rules: ``appliedTo`` at the policy or at every rule; peers ``podSelector`` /
``namespaceSelector`` (in an ACNP a podSelector alone selects in every namespace; in an
ANNP in the policy's namespace), ``namespaces.match: Self`` (the namespace of the pod
the rule applies to), ``ipBlock`` (addresses outside the cluster), ``group``
(ClusterGroup / Group with selectors, ipBlocks, childGroups), ``serviceAccount``;
an empty ``from``/``to`` matches everything; ``fqdn`` and ``toServices`` cannot be
resolved statically (listed, "depends on DNS/service"); ports with ``endPort``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..ipranges import IPRange, block_ranges
from ..selectors import LabelSelector
from ..tiers import ALLOW, DENY, PASS, TierPeer, TierPort, TierRule
from ..validation import FieldError
from .common import (
    DNS_MARK,
    CniPolicyInfo,
    CniRuleInfo,
    CniTierPolicy,
    label_selector,
    port_name_error,
)
from .kinds import ANTREA, cni_kind, cni_object_key

STATIC_TIERS: dict[str, float] = {
    "emergency": 50,
    "securityops": 100,
    "networkops": 150,
    "platform": 200,
    "application": 250,
    "baseline": 253,
}
DEFAULT_TIER = "application"
BASELINE_TIER = "baseline"
NP_RANK = 251.0
"""The K8s NetworkPolicies come after every tier up to application (250), before baseline."""

_ACTIONS = {"Allow": ALLOW, "Drop": DENY, "Reject": DENY, "Pass": PASS}
_KIND_ORDER = {"ClusterNetworkPolicy": 0, "NetworkPolicy": 1}


@dataclass(frozen=True)
class Alt:
    """One way to select pods: a namespace restriction or selector, a pod selector, a
    service account."""

    pod_selector: LabelSelector | None = None
    namespace_selector: LabelSelector | None = None
    namespace: str | None = None
    service_account: tuple[str, str] | None = None  # (namespace, name)

    def matches(self, namespace: str, namespace_labels: Mapping[str, str], labels: Mapping[str, str], sa: str) -> bool:
        if self.namespace is not None and namespace != self.namespace:
            return False
        if self.namespace_selector is not None and not self.namespace_selector.matches(namespace_labels):
            return False
        if self.pod_selector is not None and not self.pod_selector.matches(labels):
            return False
        return self.service_account is None or self.service_account == (namespace, sa or "default")


@dataclass(frozen=True)
class AntreaMatch:
    alts: tuple[Alt, ...]

    @property
    def cache_key(self) -> object:
        return ("antrea", self.alts)

    @property
    def only_namespaces(self) -> frozenset[str] | None:
        if all(a.namespace is not None for a in self.alts):
            return frozenset(a.namespace for a in self.alts if a.namespace is not None)
        return None

    def matches(
        self,
        namespace: str,
        namespace_labels: Mapping[str, str],
        labels: Mapping[str, str],
        service_account: str,
    ) -> bool:
        return any(a.matches(namespace, namespace_labels, labels, service_account) for a in self.alts)


@dataclass
class Group:
    """``refused``: why Antrea's webhook would refuse the group (a policy naming it is
    then invalid too)."""

    alts: list[Alt]
    ranges: list[IPRange]
    children: list[str]
    notes: list[str]
    refused: list[FieldError] = field(default_factory=list)


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, Mapping) else {}


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    s = obj.get("spec")
    return s if isinstance(s, Mapping) else {}


def _selector(raw: Any, path: str, problems: list[FieldError]) -> LabelSelector | None:
    return label_selector(raw, path, problems)


def _ranges(cidr: Any, path: str, problems: list[FieldError]) -> tuple[IPRange, ...]:
    try:
        return block_ranges(str(cidr).strip(), ())
    except ValueError:
        problems.append(FieldError(path, f"{cidr!r} is not a valid CIDR"))
        return ()


def parse_group(obj: Mapping[str, Any], problems: list[FieldError]) -> tuple[str, Group]:
    """A ClusterGroup ("name") or Group ("namespace/name") and what it selects."""
    found = cni_kind(obj)
    meta = _meta(obj)
    spec = _spec(obj)
    ns = str(meta.get("namespace") or "default") if found is not None and found.namespaced else None
    name = str(meta.get("name") or "")
    g = Group([], [], [], [])
    pod_sel = _selector(spec.get("podSelector"), "spec.podSelector", problems)
    ns_sel = _selector(spec.get("namespaceSelector"), "spec.namespaceSelector", problems)
    if spec.get("podSelector") is not None or spec.get("namespaceSelector") is not None:
        g.alts.append(Alt(pod_sel, ns_sel, ns if ns_sel is None else None))
    raw_blocks = spec.get("ipBlocks") or []
    if not isinstance(raw_blocks, list):
        problems.append(FieldError("spec.ipBlocks", "must be a list of IP blocks"))
        raw_blocks = []
    blocks = list(raw_blocks)
    if isinstance(spec.get("ipBlock"), Mapping):
        blocks.append(spec["ipBlock"])
    for i, b in enumerate(blocks):
        if isinstance(b, Mapping):
            g.ranges.extend(_ranges(b.get("cidr"), f"spec.ipBlocks[{i}].cidr", problems))
    children = spec.get("childGroups") or []
    if not isinstance(children, list) or not all(isinstance(c, str) for c in children):
        problems.append(FieldError("spec.childGroups", "must be a list of group names"))
        children = []
    if name in children:
        problems.append(FieldError("spec.childGroups", f"a group cannot be its own child ({name!r})"))
        children = [c for c in children if c != name]
    g.children = list(children)
    if spec.get("serviceReference") is not None:
        g.notes.append(f"group {name}: serviceReference is not resolved (matches nothing here)")
    return (f"{ns}/{name}" if ns else name), g


def refuse_nested_groups(groups: Mapping[str, Group]) -> list[str]:
    """Marks refused the groups whose child groups have child groups themselves: Antrea
    nests groups one level deep, and its webhook refuses the group that would make a
    second level (validateChildClusterGroup, validateChildGroup). Returns their keys."""
    refused: list[str] = []
    for key, g in groups.items():
        namespace = key.rpartition("/")[0]
        for child in g.children:
            cg = groups.get(f"{namespace}/{child}" if namespace else child)
            if cg is not None and cg.children:
                g.refused.append(FieldError(
                    "spec.childGroups",
                    f"child group {child!r} has childGroups itself: Antrea nests groups one level deep",
                ))
        if g.refused:
            refused.append(key)
    return refused


def refused_group_info(obj: Mapping[str, Any], group: Group) -> CniPolicyInfo:
    """A group Antrea would refuse, listed with the policies as invalid."""
    found = cni_kind(obj)
    assert found is not None
    key = cni_object_key(obj)
    meta = _meta(obj)
    label = f"{found.kind} {key.split(':', 2)[-1]}"
    return CniPolicyInfo(
        key=key, cni=ANTREA, kind=found.kind, api_version=str(obj.get("apiVersion") or ""),
        namespace=str(meta.get("namespace") or "default") if found.namespaced else None,
        name=str(meta.get("name") or ""), enforced=False, tier="", order=None,
        problems=tuple(FieldError(p.path, p.message, label) for p in group.refused),
        not_enforced_reason="invalid", raw=obj,
    )


@dataclass
class AntreaContext:
    tiers: dict[str, float]
    groups: dict[str, Group]
    namespaces: Mapping[str, Mapping[str, str]]


def _tier_rank(name: str, ctx: AntreaContext) -> float | None:
    low = name.lower()
    if name in ctx.tiers:
        return ctx.tiers[name]
    return STATIC_TIERS.get(low)


class _Compiler:
    def __init__(self, obj: Mapping[str, Any], ctx: AntreaContext, problems: list[FieldError]) -> None:
        found = cni_kind(obj)
        assert found is not None
        self.kind = found.kind
        self.namespace = str(_meta(obj).get("namespace") or "default") if found.namespaced else None
        self.ctx = ctx
        self.problems = problems
        self.notes: list[str] = []

    def group(self, name: str, path: str) -> tuple[list[Alt], list[IPRange]]:
        key = f"{self.namespace}/{name}" if self.namespace else name
        g = self.ctx.groups.get(key)
        if g is None:
            self.problems.append(FieldError(path, f"group {name!r} does not exist"))
            return [], []
        if g.refused:
            why = "; ".join(p.message for p in g.refused)
            self.problems.append(FieldError(path, f"group {name!r} is invalid ({why})"))
            return [], []
        alts, ranges = list(g.alts), list(g.ranges)
        self.notes.extend(g.notes)
        for child in g.children:
            ckey = f"{self.namespace}/{child}" if self.namespace else child
            cg = self.ctx.groups.get(ckey)
            if cg is None:
                self.problems.append(FieldError(path, f"child group {child!r} of {name!r} does not exist"))
                continue
            alts.extend(cg.alts)
            ranges.extend(cg.ranges)
            self.notes.extend(cg.notes)
        return alts, ranges

    def applied_to(self, raw: Any, path: str) -> tuple[Alt, ...] | None:
        if raw is None:
            return None
        if not isinstance(raw, list):
            self.problems.append(FieldError(path, "must be a list"))
            return ()
        alts: list[Alt] = []
        for i, entry in enumerate(raw):
            here = f"{path}[{i}]"
            if not isinstance(entry, Mapping):
                self.problems.append(FieldError(here, "must be a map"))
                continue
            if entry.get("group") is not None:
                alts.extend(self.group(str(entry["group"]), f"{here}.group")[0])
                continue
            if entry.get("serviceAccount") is not None:
                sa = entry["serviceAccount"]
                if isinstance(sa, Mapping):
                    alts.append(Alt(service_account=(str(sa.get("namespace") or self.namespace or "default"), str(sa.get("name")))))
                continue
            pod_sel = _selector(entry.get("podSelector"), f"{here}.podSelector", self.problems)
            ns_sel = _selector(entry.get("namespaceSelector"), f"{here}.namespaceSelector", self.problems)
            if self.namespace is not None and ns_sel is not None:
                self.problems.append(FieldError(f"{here}.namespaceSelector", "is not allowed in an Antrea NetworkPolicy's appliedTo"))
            if entry.get("nodeSelector") is not None or entry.get("externalEntitySelector") is not None:
                self.notes.append(f"{here}: nodes / external entities are not evaluated")
                continue
            alts.append(Alt(pod_sel if pod_sel is not None else LabelSelector(), ns_sel, self.namespace))
        return tuple(alts)

    def ports(self, raw: Any, path: str) -> tuple[TierPort, ...] | None:
        if raw is None:
            return None
        out: list[TierPort] = []
        for i, p in enumerate(raw if isinstance(raw, list) else []):
            here = f"{path}[{i}]"
            if not isinstance(p, Mapping):
                self.problems.append(FieldError(here, "must be a port"))
                continue
            proto = str(p.get("protocol") or "TCP").upper()
            if proto not in ("TCP", "UDP", "SCTP"):
                self.problems.append(FieldError(f"{here}.protocol", f"{proto!r} must be TCP, UDP or SCTP"))
                continue
            port, end = p.get("port"), p.get("endPort")
            if port is None:
                out.append(TierPort(proto))
            elif isinstance(port, str) and not port.isdigit():
                if port_name_error(port):
                    self.problems.append(FieldError(f"{here}.port", str(port_name_error(port))))
                    continue
                if end is not None:
                    self.problems.append(FieldError(f"{here}.endPort", "needs a numerical port"))
                    continue
                out.append(TierPort(proto, name=port, name_with_protocol=True))
            else:
                first = int(port)
                last = int(end) if end is not None else first
                if not (1 <= first <= last <= 65535):
                    self.problems.append(FieldError(here, f"port {first}-{last} is not a valid range"))
                    continue
                out.append(TierPort(proto, first, last))
        for_proto = raw if isinstance(raw, list) else []
        if for_proto and not out:
            return ()
        return tuple(out)

    def peers(
        self, raw: Any, path: str, egress: bool
    ) -> tuple[list[tuple[TierPeer | None, LabelSelector | None]], bool, bool]:
        """Peer entries: (peer, None), or (None, its podSelector) for a
        `namespaces.match: Self` peer; whether any names a DNS name/service; whether the
        list was empty."""
        if not raw:
            return [], False, True
        out: list[tuple[TierPeer | None, LabelSelector | None]] = []
        dns = False
        for i, entry in enumerate(raw if isinstance(raw, list) else []):
            here = f"{path}[{i}]"
            if not isinstance(entry, Mapping):
                self.problems.append(FieldError(here, "must be a peer"))
                continue
            if entry.get("fqdn") is not None:
                dns = True
                out.append((TierPeer("cni", text=f"fqdn {entry['fqdn']}"), None))
                continue
            if entry.get("ipBlock") is not None:
                rng = _ranges((entry["ipBlock"] or {}).get("cidr"), f"{here}.ipBlock.cidr", self.problems)
                out.append((TierPeer("cni", ranges=rng, text=f"ipBlock {(entry['ipBlock'] or {}).get('cidr')}"), None))
                continue
            if entry.get("group") is not None:
                alts, ranges = self.group(str(entry["group"]), f"{here}.group")
                m = AntreaMatch(tuple(alts)) if alts else None
                out.append((TierPeer("cni", ranges=tuple(ranges), match=m, text=f"group {entry['group']}",
                                     match_key=m.cache_key if m else None), None))
                continue
            if entry.get("serviceAccount") is not None:
                sa = entry["serviceAccount"] if isinstance(entry["serviceAccount"], Mapping) else {}
                m = AntreaMatch((Alt(service_account=(str(sa.get("namespace") or self.namespace or "default"), str(sa.get("name")))),))
                out.append((TierPeer("cni", match=m, text=f"serviceAccount {sa.get('namespace')}/{sa.get('name')}", match_key=m.cache_key), None))
                continue
            if entry.get("nodeSelector") is not None:
                self.notes.append(f"{here}.nodeSelector is not evaluated (matches nothing here)")
                continue
            pod_sel = _selector(entry.get("podSelector"), f"{here}.podSelector", self.problems)
            ns_sel = _selector(entry.get("namespaceSelector"), f"{here}.namespaceSelector", self.problems)
            nss = entry.get("namespaces")
            if isinstance(nss, Mapping) and str(nss.get("match") or "").lower() == "self":
                if ns_sel is not None:
                    self.problems.append(FieldError(f"{here}.namespaces", "cannot be set with namespaceSelector"))
                out.append((None, pod_sel))
                continue
            if nss is not None:
                self.notes.append(f"{here}.namespaces: only match Self is evaluated")
            restrict = self.namespace if (self.namespace is not None and ns_sel is None) else None
            alt = Alt(pod_sel, ns_sel, restrict)
            m = AntreaMatch((alt,))
            words = []
            if pod_sel is not None:
                words.append(f"pods [{pod_sel}]")
            if ns_sel is not None:
                words.append(f"namespaces [{ns_sel}]")
            text = " in ".join(words) + (f" in {restrict}" if restrict else "") or "pods"
            out.append((TierPeer("cni", match=m, text=text, match_key=m.cache_key), None))
        return out, dns, False

    def rules(self, raw: Any, direction: str, policy_alts: tuple[Alt, ...] | None) -> tuple[list[TierRule], list[CniRuleInfo], list[Alt]]:
        path = f"spec.{direction}"
        egress = direction == "egress"
        out: list[TierRule] = []
        infos: list[CniRuleInfo] = []
        rule_alts: list[Alt] = []
        if raw is None:
            return out, infos, rule_alts
        if not isinstance(raw, list):
            self.problems.append(FieldError(path, "must be a list of rules"))
            return out, infos, rule_alts
        for i, r in enumerate(raw):
            here = f"{path}[{i}]"
            if not isinstance(r, Mapping):
                self.problems.append(FieldError(here, "must be a rule"))
                continue
            written = r.get("action")
            if written not in _ACTIONS:
                self.problems.append(FieldError(f"{here}.action", f"{written!r} must be Allow, Drop, Reject or Pass"))
                continue
            local_alts = self.applied_to(r.get("appliedTo"), f"{here}.appliedTo")
            if local_alts is not None and policy_alts is not None:
                self.problems.append(FieldError(f"{here}.appliedTo", "cannot be set when the policy has appliedTo"))
            if local_alts is None and policy_alts is None:
                self.problems.append(FieldError(f"{here}.appliedTo", "is required when the policy has no appliedTo"))
            if local_alts is not None:
                rule_alts.extend(local_alts)
            entries, dns, empty = self.peers(r.get("to" if egress else "from"), f"{here}.{'to' if egress else 'from'}", egress)
            if egress and r.get("toServices") is not None:
                dns = True
                entries.append((TierPeer("cni", text=f"toServices {r['toServices']}"), None))
                empty = False
            ports = self.ports(r.get("ports"), f"{here}.ports")
            name = str(r.get("name") or "")
            marks = (DNS_MARK,) if dns else ()
            fixed = [p for p, _ in entries if p is not None]
            selfs = [sel for p, sel in entries if p is None]
            if empty:
                m = AntreaMatch((Alt(),))
                fixed = [TierPeer("cni", match=m, text="anything", match_key=m.cache_key, everywhere=True)]
            local_match = AntreaMatch(local_alts) if local_alts is not None else None
            if not selfs:
                local = TierPeer("cni", match=local_match, text="appliedTo", match_key=local_match.cache_key) if local_match else None
                out.append(TierRule(i, name, _ACTIONS[written], written, tuple(fixed), ports, (), marks, local))
            else:
                # `namespaces.match: Self`: one rule per namespace, for the pods of that
                # namespace the rule applies to.
                for ns, ns_labels in self.ctx.namespaces.items():
                    alts = tuple(
                        Alt(a.pod_selector, a.namespace_selector, ns, a.service_account)
                        for a in (local_alts or policy_alts or ())
                        if (a.namespace is None or a.namespace == ns)
                        and (a.namespace_selector is None or a.namespace_selector.matches(ns_labels))
                        and (a.service_account is None or a.service_account[0] == ns)
                    )
                    if not alts:
                        continue  # the rule applies to no pod of this namespace
                    lm = AntreaMatch(alts)
                    peer_alts = tuple(Alt(sel, None, ns) for sel in selfs)
                    pm = AntreaMatch(peer_alts)
                    peers = (*fixed, TierPeer("cni", match=pm, text=f"pods of the same namespace ({ns})", match_key=pm.cache_key))
                    out.append(TierRule(i, name, _ACTIONS[written], written, peers, ports, (), marks,
                                        TierPeer("cni", match=lm, text=f"appliedTo in {ns}", match_key=lm.cache_key)))
            side = "to" if egress else "from"
            words = [str(p) for p in fixed] + [
                f"pods [{sel or LabelSelector()}] of the same namespace" for sel in selfs
            ]
            ports_text = "all ports" if ports is None else ", ".join(str(p) for p in ports) or "no port"
            text = f"{written} {side} {'; '.join(words) or 'nothing'} on {ports_text}"
            infos.append(CniRuleInfo(direction, i, str(written), text, name, marks))
        return out, infos, rule_alts


def compile_policy(
    obj: Mapping[str, Any], ctx: AntreaContext, enforced: bool, not_enforced_reason: str = ""
) -> tuple[CniPolicyInfo, CniTierPolicy | None]:
    problems: list[FieldError] = []
    c = _Compiler(obj, ctx, problems)
    spec = _spec(obj)
    key = cni_object_key(obj)
    tier_name = spec.get("tier") or DEFAULT_TIER
    rank = _tier_rank(str(tier_name), ctx)
    if rank is None:
        problems.append(FieldError("spec.tier", f"tier {tier_name!r} does not exist"))
        rank = STATIC_TIERS[DEFAULT_TIER]
    prio_raw = spec.get("priority")
    priority: float | None = None
    if prio_raw is None:
        problems.append(FieldError("spec.priority", "is required"))
    else:
        try:
            priority = float(prio_raw)
        except (TypeError, ValueError):
            priority = None
        if priority is None or not math.isfinite(priority) or not 1.0 <= priority <= 10000.0:
            problems.append(FieldError("spec.priority", f"{prio_raw!r} must be a number from 1.0 to 10000.0"))
            priority = None
    policy_alts = c.applied_to(spec.get("appliedTo"), "spec.appliedTo")
    ing, ing_info, ing_alts = c.rules(spec.get("ingress"), "ingress", policy_alts)
    eg, eg_info, eg_alts = c.rules(spec.get("egress"), "egress", policy_alts)
    if rank == STATIC_TIERS[BASELINE_TIER]:
        for r in (*ing, *eg):
            if r.action == PASS:
                problems.append(FieldError(f"spec.{'ingress' if r in ing else 'egress'}[{r.index}].action", "Pass is not allowed in the baseline tier"))
                break
    subject_alts = policy_alts if policy_alts is not None else tuple(ing_alts + eg_alts)
    subject_match = AntreaMatch(tuple(subject_alts))
    subject = TierPeer("cni", match=subject_match, text=f"appliedTo {spec.get('appliedTo') or '(per rule)'}", match_key=subject_match.cache_key)
    problems = [FieldError(p.path, p.message, f"{c.kind} {key.split(':', 2)[-1]}") for p in problems]
    ok = enforced and not problems
    meta = _meta(obj)
    tier_label = str(tier_name).lower() if str(tier_name).lower() in STATIC_TIERS else str(tier_name)
    info = CniPolicyInfo(
        key=key, cni=ANTREA, kind=c.kind, api_version=str(obj.get("apiVersion") or ""),
        namespace=c.namespace, name=str(meta.get("name") or ""), enforced=ok, tier=tier_label,
        order=priority, selects=subject.text, types=tuple(d for d, r in (("ingress", ing), ("egress", eg)) if r),
        rules=(*ing_info, *eg_info), problems=tuple(problems), notes=tuple(c.notes),
        not_enforced_reason=not_enforced_reason if not enforced else ("invalid" if problems else ""), raw=obj,
    )
    if not ok:
        return info, None
    return info, CniTierPolicy(
        c.kind, str(meta.get("name") or ""), tier_label, None, subject, tuple(ing), tuple(eg),
        raw=obj, cni=ANTREA, namespace=c.namespace, cni_key=key,
        # Its tiers fall through (no isolation): the directions only say where it has rules.
        directions=frozenset(d for d, r in (("ingress", ing), ("egress", eg)) if r),
        tier_rank=rank, policy_order=(priority or 0.0) + _KIND_ORDER[c.kind] * 1e-9,
    )

