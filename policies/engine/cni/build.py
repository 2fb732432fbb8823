"""From CNI objects to what the cluster model carries: which CNI enforces policies
(given, or detected), the listing of every CNI policy, the enforced ones compiled into
the tier model, and the evaluation plan (``tier_plan``).

Detection, when the caller names no CNI: the CNI agents' pods (kube-system or
calico-system pods, or DaemonSet templates, labelled ``k8s-app=calico-node``,
``k8s-app=cilium``, ``app=antrea`` with ``component=antrea-agent``); else the CNI whose
policy objects are present when exactly one is; else none. Policies of a CNI that does
not enforce here are parsed, listed and validated, never applied.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ..tiers import ADMIN, BASELINE, NETWORK_POLICY, ClusterPolicy
from ..validation import FieldError
from . import antrea, calico, cilium
from .common import DENY_END, FALL_THROUGH, CniPolicyInfo, CniTierPolicy, PlanTier
from .kinds import (
    ANTREA,
    CALICO,
    CALICO_CRD_GROUP,
    CALICO_GROUP,
    CILIUM,
    CNIS,
    cni_kind,
    cni_object_key,
)

NONE = "none"
CNI_CHOICES = (*CNIS, NONE)

_AGENT_LABELS: tuple[tuple[str, dict[str, str]], ...] = (
    (CALICO, {"k8s-app": "calico-node"}),
    (CILIUM, {"k8s-app": "cilium"}),
    (ANTREA, {"app": "antrea", "component": "antrea-agent"}),
)
_AGENT_NAMESPACES = ("kube-system", "calico-system")


@dataclass(frozen=True)
class CniSource:
    """What the CNI part of a cluster was built from, to build it again after a change
    (``rebuild``)."""

    objects: tuple[Mapping[str, Any], ...] = ()
    agents: tuple[Mapping[str, Any], ...] = ()
    service_accounts: Mapping[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)
    requested: str | None = None

    def changed(
        self, upserts: Sequence[Mapping[str, Any]], removals: Sequence[str]
    ) -> CniSource:
        """The same source with CNI objects replaced, added (by cni_object_key) or
        removed (KeyError for a key that is not there)."""
        by_key = {cni_object_key(o): o for o in self.objects}
        for key in removals:
            if by_key.pop(key, None) is None:
                raise KeyError(f"no {key}")
        for obj in upserts:
            by_key[cni_object_key(obj)] = obj
        return CniSource(tuple(by_key.values()), self.agents, self.service_accounts, self.requested)


@dataclass
class CniState:
    cni: str = NONE
    detected_by: str = "no CNI policy objects"
    policies: dict[str, CniPolicyInfo] = field(default_factory=dict)
    tier_policies: list[CniTierPolicy] = field(default_factory=list)
    tiers: list[tuple[str, float, str]] = field(default_factory=list)
    """The enforcing CNI's own tiers: (name, rank, end), in order."""
    notes: list[str] = field(default_factory=list)
    source: CniSource = field(default_factory=CniSource)


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    m = obj.get("metadata")
    return m if isinstance(m, Mapping) else {}


def _agent_labels(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    if obj.get("kind") == "Pod":
        labels = _meta(obj).get("labels")
    else:
        spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
        assert isinstance(spec, Mapping)
        tpl = spec.get("template") if isinstance(spec.get("template"), Mapping) else {}
        assert isinstance(tpl, Mapping)
        labels = _meta(tpl).get("labels")
    return labels if isinstance(labels, Mapping) else {}


def detect(
    agents: Sequence[Mapping[str, Any]], policy_cnis: set[str], requested: str | None
) -> tuple[str, str]:
    """(cni, detected_by) from the caller's choice, the agents' pods, the objects."""
    if requested is not None:
        if requested not in CNI_CHOICES:
            raise ValueError(f"unknown CNI {requested!r}: use one of {', '.join(CNI_CHOICES)}")
        return requested, "set by the user"
    found: list[str] = []
    for obj in agents:
        if _meta(obj).get("namespace") not in _AGENT_NAMESPACES:
            continue
        labels = _agent_labels(obj)
        for cni, want in _AGENT_LABELS:
            if all(labels.get(k) == v for k, v in want.items()) and cni not in found:
                found.append(cni)
    if len(found) == 1:
        return found[0], f"{found[0]} agent pods"
    if len(found) > 1:
        return found[0], f"agent pods of several CNIs ({', '.join(found)}); {found[0]} chosen"
    if len(policy_cnis) == 1:
        only = next(iter(policy_cnis))
        return only, f"only {only} policy objects present"
    if policy_cnis:
        return NONE, f"policy objects of several CNIs ({', '.join(sorted(policy_cnis))}), no agent pods"
    return NONE, "no CNI agent pods or policy objects"


def build_cni(
    objects: Sequence[Mapping[str, Any]],
    *,
    agents: Sequence[Mapping[str, Any]],
    namespaces: Mapping[str, Mapping[str, str]],
    service_accounts: Mapping[tuple[str, str], Mapping[str, str]],
    requested: str | None,
) -> CniState:
    kinds = [(o, cni_kind(o)) for o in objects]
    # Where Calico's API server runs, projectcalico.org/v3 and the CRDs it stores
    # (crd.projectcalico.org/v1) are the same objects: read v3 only.
    crd_notes: list[str] = []
    if any(k is not None and k.group == CALICO_GROUP for _, k in kinds):
        crd = [o for o, k in kinds if k is not None and k.group == CALICO_CRD_GROUP]
        if crd:
            crd_notes.append(
                f"{len(crd)} crd.projectcalico.org object(s) not read: projectcalico.org/v3 "
                "serves the same objects"
            )
            kinds = [(o, k) for o, k in kinds if k is None or k.group != CALICO_CRD_GROUP]
    policy_cnis = {k.cni for _, k in kinds if k is not None and k.policy}
    cni, detected_by = detect(agents, policy_cnis, requested)
    state = CniState(cni, detected_by)
    state.notes.extend(crd_notes)
    state.source = CniSource(tuple(objects), tuple(agents), dict(service_accounts), requested)

    tier_problems: dict[str, list[FieldError]] = {}
    ctier: dict[str, calico.CalicoTier] = {}
    netsets: list[calico.NetSet] = []
    for obj, k in kinds:
        if k is None or k.cni != CALICO or k.policy:
            continue
        problems: list[FieldError] = []
        try:
            if k.kind == "Tier":
                t = calico.parse_tier(obj, problems)
                ctier[t.name] = t
            else:
                netsets.append(calico.parse_netset(obj, problems))
        except _UNREADABLE as exc:
            problems.append(FieldError("spec", f"cannot be read ({_why(exc)}); ignored"))
        if problems:
            tier_problems[f"{k.kind} {_meta(obj).get('name')}"] = problems
    for what, problems in tier_problems.items():
        state.notes.extend(f"{what}: {p.path} {p.message}" for p in problems)
    ctier.setdefault(calico.DEFAULT_TIER, calico.CalicoTier(calico.DEFAULT_TIER, calico.DEFAULT_TIER_ORDER, DENY_END))
    ctx = calico.CalicoContext(namespaces, service_accounts, netsets, ctier)

    atiers: dict[str, float] = {}
    groups: dict[str, antrea.Group] = {}
    group_objs: dict[str, Mapping[str, Any]] = {}
    for obj, k in kinds:
        if k is None or k.cni != ANTREA or k.policy:
            continue
        problems = []
        if k.kind == "Tier":
            spec = obj.get("spec") if isinstance(obj.get("spec"), Mapping) else {}
            assert isinstance(spec, Mapping)
            try:
                rank = float(str(spec.get("priority")))
            except (TypeError, ValueError):
                rank = math.nan
            if math.isfinite(rank):
                atiers[str(_meta(obj).get("name"))] = rank
            else:
                state.notes.append(
                    f"Tier {_meta(obj).get('name')}: spec.priority must be a number; the tier is ignored"
                )
        else:
            try:
                gkey, group = antrea.parse_group(obj, problems)
                groups[gkey] = group
                group_objs[gkey] = obj
            except _UNREADABLE as exc:
                problems.append(FieldError("spec", f"cannot be read ({_why(exc)}); ignored"))
        state.notes.extend(f"{k.kind} {_meta(obj).get('name')}: {p.path} {p.message}" for p in problems)
    for gkey in antrea.refuse_nested_groups(groups):
        info = antrea.refused_group_info(group_objs[gkey], groups[gkey])
        state.policies[info.key] = info
    actx = antrea.AntreaContext(atiers, groups, dict(sorted(namespaces.items())))

    for obj, k in kinds:
        if k is None or not k.policy:
            continue
        enforced = k.cni == cni
        reason = "" if enforced else f"not enforced here: the cluster's CNI is {cni}"
        compiled: list[CniTierPolicy] = []
        try:
            if k.cni == CALICO:
                info, one = calico.compile_policy(obj, ctx, enforced, reason)
                compiled = [one] if one is not None else []
            elif k.cni == CILIUM:
                info, compiled = cilium.compile_policy(obj, enforced, reason)
            else:
                info, one = antrea.compile_policy(obj, actx, enforced, reason)
                compiled = [one] if one is not None else []
        except _UNREADABLE as exc:
            # A shape no check above foresaw: listed as invalid, never a traceback.
            info = _unreadable(obj, k, exc, reason)
            compiled = []
        shape = _shape_problems(obj, k)
        if shape:
            # A policy without a name, or whose spec is not a mapping, is never applied
            # (it would otherwise read as an empty policy: select all, allow nothing).
            label = f"{k.kind} {info.key.split(':', 2)[-1]}"
            info = replace(
                info,
                enforced=False,
                problems=(*(FieldError(p, m, label) for p, m in shape), *info.problems),
                not_enforced_reason=reason or "invalid",
            )
            compiled = []
        if info.key in state.policies:
            state.notes.append(f"{info.key} is defined twice; the later one is used")
            state.tier_policies = [p for p in state.tier_policies if p.key != info.key]
        state.policies[info.key] = info
        state.tier_policies.extend(compiled)
    state.tier_policies = [p for p in state.tier_policies if state.policies[p.key].enforced]
    if cni == CALICO:
        state.tiers = sorted(
            ((t.name, t.order, t.end) for t in ctier.values()), key=lambda t: (t[1], t[0])
        )
    elif cni == ANTREA:
        ranks = {**antrea.STATIC_TIERS, **atiers}
        state.tiers = sorted(((n, r, FALL_THROUGH) for n, r in ranks.items()), key=lambda t: (t[1], t[0]))
    return state


_UNREADABLE = (
    TypeError, ValueError, AttributeError, KeyError, IndexError, OverflowError, AssertionError,
)


def _shape_problems(obj: Mapping[str, Any], k: Any) -> list[tuple[str, str]]:
    """(path, message) for a policy object whose outline is wrong: metadata or spec that
    is not a mapping, a missing name or namespace of the wrong type."""
    out: list[tuple[str, str]] = []
    meta = obj.get("metadata")
    if not isinstance(meta, Mapping):
        out.append(("metadata", "must be a mapping with a name"))
    else:
        name = meta.get("name")
        if not isinstance(name, str) or not name:
            out.append(("metadata.name", "is required (a string)"))
        ns = meta.get("namespace")
        if k.namespaced and ns is not None and not isinstance(ns, str):
            out.append(("metadata.namespace", "must be a string"))
    for part in ("spec", "specs"):
        value = obj.get(part)
        if value is None:
            continue
        if part == "spec" and not isinstance(value, Mapping):
            out.append(("spec", "must be a mapping"))
        if part == "specs" and (not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value)):
            out.append(("specs", "must be a list of mappings"))
    return out


def _why(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"[:200]


def _unreadable(obj: Mapping[str, Any], k: Any, exc: Exception, reason: str) -> CniPolicyInfo:
    meta = _meta(obj)
    key = cni_object_key(obj)
    return CniPolicyInfo(
        key=key,
        cni=k.cni,
        kind=k.kind,
        api_version=str(obj.get("apiVersion") or ""),
        namespace=str(meta.get("namespace") or "default") if k.namespaced else None,
        name=str(meta.get("name") or ""),
        enforced=False,
        tier="",
        order=None,
        problems=(FieldError("spec", f"cannot be read ({_why(exc)})", f"{k.kind} {key.split(':', 2)[-1]}"),),
        not_enforced_reason=reason or "invalid",
        raw=obj,
    )


# -- the evaluation plan ------------------------------------------------------------------


def tier_plan(
    cluster_policies: Sequence[ClusterPolicy],
    cni: str,
    cni_policies: Sequence[CniTierPolicy],
    cni_tiers: Sequence[tuple[str, float, str]],
) -> list[PlanTier]:
    """The tiers in evaluation order with their members in order; None stands for the
    v1 NetworkPolicies. The cluster-wide Admin tier comes first and the Baseline tier
    last whatever the CNI."""
    admin = tuple(p for p in cluster_policies if p.tier == ADMIN)
    baseline = tuple(p for p in cluster_policies if p.tier == BASELINE)
    plan = [PlanTier(ADMIN, FALL_THROUGH, admin)]
    if cni == CALICO:
        for name, _rank, end in cni_tiers:
            members: list[tuple[tuple[float, str], ClusterPolicy | None]] = [
                ((p.policy_order, p.name), p) for p in cni_policies if p.tier == name
            ]
            if name == calico.DEFAULT_TIER:
                members.append(((calico.V1_ORDER, calico.V1_NAME_PREFIX), None))
            members.sort(key=lambda m: (m[0][0] if not math.isinf(m[0][0]) else math.inf, m[0][1]))
            plan.append(PlanTier(name, end, tuple(m for _, m in members), CALICO))
    elif cni == ANTREA:
        for name, rank, end in cni_tiers:
            if rank > antrea.NP_RANK:
                continue
            members_a = sorted(
                (p for p in cni_policies if p.tier == name), key=lambda p: (p.policy_order, p.name)
            )
            plan.append(PlanTier(name, end, tuple(members_a), ANTREA))
        plan.append(PlanTier(NETWORK_POLICY, DENY_END, (None,)))
        for name, rank, end in cni_tiers:
            if rank <= antrea.NP_RANK:
                continue
            members_a = sorted(
                (p for p in cni_policies if p.tier == name), key=lambda p: (p.policy_order, p.name)
            )
            plan.append(PlanTier(name, end, tuple(members_a), ANTREA))
    elif cni == CILIUM:
        deny = tuple(p for p in cni_policies if p.tier == cilium.DENY_TIER)
        allow = tuple(p for p in cni_policies if p.tier == cilium.ALLOW_TIER)
        plan.append(PlanTier(cilium.DENY_TIER, FALL_THROUGH, deny, CILIUM))
        plan.append(PlanTier(cilium.ALLOW_TIER, DENY_END, (*allow, None), CILIUM))
    else:
        plan.append(PlanTier(NETWORK_POLICY, DENY_END, (None,)))
    plan.append(PlanTier(BASELINE, FALL_THROUGH, baseline))
    return plan
