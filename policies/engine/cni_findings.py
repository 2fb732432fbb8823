"""Findings about CNI policies (Calico, Cilium, Antrea).

One function per check, each declaring its code and severity with ``@check``;
``cni_findings(cluster)`` runs them all. The object of a finding is the CNI object
(its kind and name; the namespace for namespaced kinds) named by ``object_key``, its
cni_object_key, which every message also starts with. Codes:

- ``cni-policy-invalid`` (high): a CNI policy the CNI's API would refuse (a selector
  that does not parse -- with the position --, an unknown action or entity, a missing
  tier...), with the field paths: it is left out of every answer. Also an Antrea group
  Antrea would refuse (nested two levels deep), which makes the policies naming it invalid.
- ``cni-policy-not-enforced`` (medium): a policy object of a CNI that does not enforce
  policies in this cluster: listed, never applied.
- ``cni-rule-shadowed`` (medium): a Calico or Antrea rule that can never decide
  anything: earlier rules of higher precedence in its tier (earlier rules of the same
  policy, or of policies ordered before it that select the same pods) already match
  every peer and port it names, for every pod it applies to.
- ``cni-rule-not-static`` (low): a Cilium/Antrea rule whose answer depends on what
  manifests cannot show: L7 rules inside an allowed port, peers named by DNS name,
  service or group.
- ``cni-not-evaluated`` (low): parts of a CNI policy netpolui lists but does not
  evaluate (host policies, entities other than world/cluster/all, source ports...).
- ``cni-policy-selects-nothing`` (low): an enforced CNI policy whose selector matches
  no pod.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .cluster import Cluster
from .cni.common import DNS_MARK, L7_MARK, CniPolicyInfo, CniTierPolicy
from .cni.kinds import CALICO, cni_kind
from .finding import Finding
from .ipranges import IPRange
from .model import Pod
from .ports import ConnSet
from .tiers import LOG, TierPeer, TierRule

FindFn = Callable[[Cluster], Iterable[tuple[CniPolicyInfo, str]]]


@dataclass(frozen=True)
class Check:
    code: str
    severity: str
    find: FindFn


CHECKS: list[Check] = []


def check(code: str, severity: str) -> Callable[[FindFn], FindFn]:
    def register(fn: FindFn) -> FindFn:
        CHECKS.append(Check(code, severity, fn))
        return fn

    return register


def cni_findings(cluster: Cluster) -> list[Finding]:
    out: list[Finding] = []
    if not cluster.cni_policies:
        return out
    for c in CHECKS:
        for info, message in c.find(cluster):
            out.append(
                Finding(c.code, c.severity, info.namespace or "", info.kind, info.name,
                        f"{info.key}: {message}", object_key=info.key)
            )
    return out


@check("cni-policy-invalid", "high")
def _invalid(cluster: Cluster) -> Iterable[tuple[CniPolicyInfo, str]]:
    for info in cluster.cni_policies.values():
        if info.problems:
            problems = "; ".join(f"{p.path} {p.message}" for p in info.problems)
            yield info, f"invalid, left out of every answer: {problems}"


@check("cni-policy-not-enforced", "medium")
def _not_enforced(cluster: Cluster) -> Iterable[tuple[CniPolicyInfo, str]]:
    for info in cluster.cni_policies.values():
        if info.cni != cluster.cni and _holds_rules(info):
            yield info, (
                f"a {info.cni} policy, but the cluster's CNI is {cluster.cni} "
                f"({cluster.cni_detected_by}): not enforced here, never applied"
            )


def _holds_rules(info: CniPolicyInfo) -> bool:
    found = cni_kind(info.raw)
    return found is not None and found.policy


@check("cni-rule-not-static", "low")
def _not_static(cluster: Cluster) -> Iterable[tuple[CniPolicyInfo, str]]:
    for info in cluster.cni_policies.values():
        for r in info.rules:
            if L7_MARK in r.marks:
                yield info, (
                    f"{r.direction} rule {r.name or r.index}: L7 rules apply inside the port; "
                    "the answer shows the port allowed, only some requests are"
                )
            if DNS_MARK in r.marks:
                yield info, (
                    f"{r.direction} rule {r.name or r.index}: peers named by DNS name, service "
                    "or group cannot be resolved from manifests; answers depend on DNS/service"
                )


@check("cni-not-evaluated", "low")
def _not_evaluated(cluster: Cluster) -> Iterable[tuple[CniPolicyInfo, str]]:
    for info in cluster.cni_policies.values():
        for note in info.notes:
            yield info, note


def _reps(cluster: Cluster) -> list[Pod]:
    seen: dict[tuple[object, ...], Pod] = {}
    for pod in cluster.pods:
        if pod.host_network:
            continue
        sig = (pod.namespace, tuple(pod.labels.items()), pod.named_ports, pod.service_account)
        seen.setdefault(sig, pod)
    return list(seen.values())


def _matches(cluster: Cluster, peer: TierPeer, pod: Pod) -> bool:
    return peer.matches_pod(
        cluster.namespace_labels(pod.namespace), pod.labels, pod.host_network, pod.service_account
    )


@check("cni-policy-selects-nothing", "low")
def _selects_nothing(cluster: Cluster) -> Iterable[tuple[CniPolicyInfo, str]]:
    reps = _reps(cluster)
    done: set[str] = set()
    for p in cluster.cni_tier_policies:
        if p.key in done:
            continue
        done.add(p.key)
        if not any(_matches(cluster, p.subject, pod) for pod in reps):
            yield cluster.cni_policies[p.key], f"selects no pod ({p.subject})"


def _range_covered(r: IPRange, by: list[IPRange]) -> bool:
    return any(b.contains(r) for b in by)


def _covered(cluster: Cluster, reps: list[Pod], earlier: list[TierRule], rule: TierRule) -> bool:
    if rule.has_named_ports or any(e.has_named_ports for e in earlier):
        return False
    need = rule.conns_on(None)
    if need.is_empty:
        return False
    for peer in rule.peers:
        if peer.match is not None:
            for other in reps:
                if not _matches(cluster, peer, other):
                    continue
                covered = ConnSet.none()
                for e in earlier:
                    if any(ep.match is not None and _matches(cluster, ep, other) for ep in e.peers):
                        covered = covered | e.conns_on(None)
                if not (need - covered).is_empty:
                    return False
        if peer.everywhere:
            covered = ConnSet.none()
            for e in earlier:
                if any(ep.everywhere for ep in e.peers):
                    covered = covered | e.conns_on(None)
            if not (need - covered).is_empty:
                return False
        for r in peer.ranges:
            covered = ConnSet.none()
            for e in earlier:
                if any(ep.everywhere or _range_covered(r, list(ep.ranges)) for ep in e.peers):
                    covered = covered | e.conns_on(None)
            if not (need - covered).is_empty:
                return False
    return bool(rule.peers)


@check("cni-rule-shadowed", "medium")
def _shadowed(cluster: Cluster) -> Iterable[tuple[CniPolicyInfo, str]]:
    reps = _reps(cluster)
    ordered: list[CniTierPolicy] = [
        m for pt in cluster.tier_plan for m in pt.members
        if isinstance(m, CniTierPolicy) and m.cni != "cilium"
    ]
    subjects = {id(p): [pod for pod in reps if _matches(cluster, p.subject, pod)] for p in ordered}
    for i, p in enumerate(ordered):
        pods = subjects[id(p)]
        for direction in ("ingress", "egress"):
            for rule in p.rules(direction):
                applies = [pod for pod in pods if rule.local is None or _matches(cluster, rule.local, pod)]
                if not applies:
                    continue
                by: set[str] = set()
                shadowed = True
                for pod in applies:
                    earlier = [
                        (q.key, r)
                        for q in ordered[:i]
                        if q.tier == p.tier and pod in subjects[id(q)]
                        for r in q.rules(direction)
                        if r.action != LOG and (r.local is None or _matches(cluster, r.local, pod))
                    ] + [
                        (p.key, r)
                        for r in p.rules(direction)[: rule.index]
                        if r.action != LOG and (r.local is None or _matches(cluster, r.local, pod))
                    ]
                    if not earlier or not _covered(cluster, reps, [r for _, r in earlier], rule):
                        shadowed = False
                        break
                    by.update(k for k, _ in earlier)
                if shadowed:
                    what = "policy order" if p.cni == CALICO else "priority"
                    yield cluster.cni_policies[p.key], (
                        f"{direction} rule {rule.name or '#' + str(rule.index)} ({rule.written_action}) never "
                        f"decides anything: earlier rules of the {p.tier} tier by {what} "
                        f"({', '.join(sorted(by))}) already match every peer and port it names"
                    )
