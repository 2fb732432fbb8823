"""Findings about cluster-wide policies (Admin and Baseline tiers).

One function per check, each declaring its code and severity with ``@check``;
``tier_findings(cluster)`` runs them all. Codes:

- ``tier-equal-priority`` (medium): two policies of one tier with the same priority
  whose subjects overlap: upstream lets an implementation apply either first. netpolui
  evaluates ClusterNetworkPolicy before AdminNetworkPolicy, then by name.
- ``tier-rule-shadowed`` (medium): a rule that can never decide anything because
  earlier rules of its tier (same or higher precedence) already match every peer and
  port it names, for every pod it applies to.
- ``pass-without-network-policy`` (low): an Admin tier Pass rule applying to pods that no
  NetworkPolicy isolates in that direction: what it passes goes on to the Baseline tier
  (or is allowed), not to a NetworkPolicy.
- ``baseline-never-applies`` (low): a Baseline tier policy whose every subject pod is
  isolated by NetworkPolicies in that direction, so the NetworkPolicy tier always
  decides first.
- ``admin-deny-cuts-dns`` (high): an Admin tier Deny egress rule matching UDP 53 to the
  cluster DNS pods (``k8s-app=kube-dns``, or namespace kube-system when no DNS pod is in
  the input) before any rule of its tier accepts it: name resolution fails.
- ``cluster-policy-selects-nothing`` (medium): a subject matching no pod.
- ``pods-selector-omitted`` (low): a ``pods`` subject or peer without ``podSelector``
  (v1alpha1: or without ``namespaceSelector``): read as ``{}`` (every pod, every
  namespace) as Go clients decode it, but the API server's schema refuses it.
- ``cluster-policy-unknown-peer`` (high): a rule peer that sets only fields netpolui does
  not read (a newer peer type). Upstream says to fail closed: the Accept/Allow rule
  matches no traffic, the Deny or Pass rule denies all traffic; netpolui answers so.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cached_property

from .cluster import Cluster
from .finding import Finding
from .model import Pod
from .ports import ConnSet
from .tiers import (
    ADMIN,
    ALLOW,
    BASELINE,
    CNP,
    DENY,
    PASS,
    ClusterPolicy,
    TierPeer,
    TierRule,
    unknown_peers,
)

DNS = ConnSet.of("UDP", 53)


class _Context:
    """The cluster with what several checks need, computed once. Pods that no selector
    can tell apart (same namespace, labels, named ports, hostNetwork) are checked once,
    through their first pod."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        groups: dict[tuple[object, ...], list[Pod]] = {}
        for pod in cluster.pods:
            sig = (pod.namespace, tuple(pod.labels.items()), pod.named_ports, pod.host_network)
            groups.setdefault(sig, []).append(pod)
        self.reps = [members[0] for members in groups.values()]
        self.size = {id(members[0]): len(members) for members in groups.values()}

    def subject_pods(self, policy: ClusterPolicy) -> list[Pod]:
        """Representatives of the pods the policy's subject selects."""
        return self._subjects[policy.key]

    @cached_property
    def _subjects(self) -> dict[str, list[Pod]]:
        return {p.key: self.peer_pods(p.subject) for p in self.cluster.cluster_policies}

    def peer_pods(self, peer: TierPeer) -> list[Pod]:
        return [pod for pod in self.reps if self.peer_matches(peer, pod)]

    def peer_matches(self, peer: TierPeer, pod: Pod) -> bool:
        # networks and nodes peers name pods by address (0.0.0.0/0 names every IPv4 pod).
        if peer.kind in ("networks", "nodes"):
            return peer.matches_pod_address(pod.ips, peer.node_ranges(self.cluster.nodes))
        c = self.cluster
        return peer.matches_pod(c.namespace_labels(pod.namespace), pod.labels, pod.host_network)

    def isolated(self, pod: Pod, direction: str) -> bool:
        iso = self.cluster.isolation(pod)
        return iso.ingress if direction == "ingress" else iso.egress


@dataclass(frozen=True)
class Check:
    code: str
    severity: str
    run: Callable[[_Context], Iterable[tuple[ClusterPolicy, str]]]


CHECKS: list[Check] = []


def check(
    code: str, severity: str
) -> Callable[
    [Callable[[_Context], Iterable[tuple[ClusterPolicy, str]]]],
    Callable[[_Context], Iterable[tuple[ClusterPolicy, str]]],
]:
    """Register a check: it yields (policy, message) pairs."""

    def register(
        fn: Callable[[_Context], Iterable[tuple[ClusterPolicy, str]]],
    ) -> Callable[[_Context], Iterable[tuple[ClusterPolicy, str]]]:
        CHECKS.append(Check(code, severity, fn))
        return fn

    return register


def tier_findings(cluster: Cluster) -> list[Finding]:
    ctx = _Context(cluster)
    out: list[Finding] = []
    for c in CHECKS:
        for policy, message in c.run(ctx):
            out.append(Finding(c.code, c.severity, "", policy.kind, policy.name, message))
    return out


def _rule_text(policy: ClusterPolicy, rule: TierRule, direction: str) -> str:
    return f"{direction} rule #{rule.index}{f' {rule.name!r}' if rule.name else ''} ({rule.written_action})"


@check("cluster-policy-selects-nothing", "medium")
def _selects_nothing(ctx: _Context) -> Iterable[tuple[ClusterPolicy, str]]:
    for p in ctx.cluster.cluster_policies:
        if not ctx.subject_pods(p):
            yield p, f"subject ({p.subject}) matches no pod (host-network pods are never subjects)"


@check("tier-equal-priority", "medium")
def _equal_priority(ctx: _Context) -> Iterable[tuple[ClusterPolicy, str]]:
    policies = [p for p in ctx.cluster.cluster_policies if p.priority is not None]
    for i, a in enumerate(policies):
        for b in policies[i + 1 :]:
            if a.tier != b.tier or a.priority != b.priority:
                continue
            shared = {id(x) for x in ctx.subject_pods(a)} & {id(x) for x in ctx.subject_pods(b)}
            if not shared:
                continue
            pods = sum(ctx.size[x] for x in shared)
            yield (
                b,
                f"{a.tier} tier policies {a.key.replace('/', ' ', 1)} and "
                f"{b.key.replace('/', ' ', 1)} both have priority {a.priority} and may both "
                f"match the same {pods} pod(s): upstream leaves their order to the "
                f"implementation; netpolui evaluates {a.name} first. Give them different priorities.",
            )


def _covered(
    ctx: _Context,
    pod: Pod,
    earlier: list[tuple[ClusterPolicy, TierRule]],
    rule: TierRule,
    direction: str,
) -> bool:
    """Whether the earlier rules match every peer pod and port `rule` names for `pod`."""
    if rule.has_named_ports or any(e.has_named_ports for _, e in earlier):
        return False  # resolved per destination: not worth the guess
    need = rule.conns_on(None)
    for peer in rule.peers:
        if not peer.selects_pods:
            # An address peer is covered only by an earlier rule with the same peer.
            covered = ConnSet.none()
            for _, e in earlier:
                if peer in e.peers:
                    covered = covered | e.conns_on(None)
            if not (need - covered).is_empty:
                return False
            continue
        for other in ctx.peer_pods(peer):
            covered = ConnSet.none()
            for _, e in earlier:
                if any(ctx.peer_matches(ep, other) for ep in e.peers):
                    covered = covered | e.conns_on(None)
            if not (need - covered).is_empty:
                return False
    return True


@check("tier-rule-shadowed", "medium")
def _shadowed(ctx: _Context) -> Iterable[tuple[ClusterPolicy, str]]:
    policies = ctx.cluster.cluster_policies
    for direction in ("ingress", "egress"):
        for i, p in enumerate(policies):
            pods = ctx.subject_pods(p)
            if not pods:
                continue
            for rule in p.rules(direction):
                if not rule.peers:
                    continue  # matches nothing of itself (failed closed): cluster-policy-unknown-peer says so
                ok = True
                by: set[str] = set()
                for pod in pods:
                    earlier = [
                        (q, r)
                        for q in policies[:i]
                        if q.tier == p.tier and pod in ctx.subject_pods(q)
                        for r in q.rules(direction)
                    ] + [(p, r) for r in p.rules(direction)[: rule.index]]
                    if not earlier or not _covered(ctx, pod, earlier, rule, direction):
                        ok = False
                        break
                    by.update(q.name for q, _ in earlier)
                if ok:
                    yield (
                        p,
                        f"{_rule_text(p, rule, direction)} never decides anything: earlier rules of "
                        f"the {p.tier} tier ({', '.join(sorted(by))}) already match every peer and port "
                        "it names",
                    )


@check("pass-without-network-policy", "low")
def _pass_without_np(ctx: _Context) -> Iterable[tuple[ClusterPolicy, str]]:
    for p in ctx.cluster.cluster_policies:
        if p.tier != ADMIN:
            continue
        for direction in ("ingress", "egress"):
            passes = [r for r in p.rules(direction) if r.action == PASS]
            if not passes:
                continue
            bare = [pod for pod in ctx.subject_pods(p) if not ctx.isolated(pod, direction)]
            if not bare:
                continue
            workloads = sorted({_workload_words(pod) for pod in bare})
            names = ", ".join(workloads[:3])
            more = "" if len(workloads) <= 3 else f" and {len(workloads) - 3} more"
            for r in passes:
                yield (
                    p,
                    f"{_rule_text(p, r, direction)} passes traffic of pods no NetworkPolicy isolates "
                    f"for {direction} ({names}{more}): it goes on to the Baseline tier, or is allowed",
                )


@check("baseline-never-applies", "low")
def _baseline_never(ctx: _Context) -> Iterable[tuple[ClusterPolicy, str]]:
    for p in ctx.cluster.cluster_policies:
        if p.tier != BASELINE:
            continue
        pods = ctx.subject_pods(p)
        if not pods:
            continue
        for direction in ("ingress", "egress"):
            if p.rules(direction) and all(ctx.isolated(pod, direction) for pod in pods):
                yield (
                    p,
                    f"its {direction} rules never apply: every pod it selects is isolated for "
                    f"{direction} by NetworkPolicies, which decide first",
                )


def _dns_pods(ctx: _Context) -> list[Pod]:
    pods = [p for p in ctx.cluster.pods if p.labels.get("k8s-app") in ("kube-dns", "coredns")]
    return pods or [p for p in ctx.cluster.pods if p.namespace == "kube-system"]


@check("admin-deny-cuts-dns", "high")
def _deny_dns(ctx: _Context) -> Iterable[tuple[ClusterPolicy, str]]:
    dns = _dns_pods(ctx)
    policies = [p for p in ctx.cluster.cluster_policies if p.tier == ADMIN]
    for i, p in enumerate(policies):
        if not ctx.subject_pods(p):
            continue
        for rule in p.egress:
            if rule.action != DENY:
                continue
            if not any(not (rule.conns_on(d.named_ports) & DNS).is_empty for d in dns):
                continue
            hit = [d for d in dns if any(ctx.peer_matches(peer, d) for peer in rule.peers)]
            if not hit:
                continue
            # An earlier Accept/Allow of DNS in the tier keeps DNS working.
            earlier = [
                r
                for q in policies[: i + 1]
                for r in q.egress
                if (q is not p or r.index < rule.index) and r.action == ALLOW
            ]
            if any(not (r.conns_on(hit[0].named_ports) & DNS).is_empty for r in earlier):
                continue
            yield (
                p,
                f"{_rule_text(p, rule, 'egress')} denies UDP 53 to {_workload_words(hit[0])} before any "
                "rule of the Admin tier accepts it: DNS lookups of the pods it applies to will fail",
            )


def _workload_words(pod: Pod) -> str:
    """What a pod stands for as the pages write it: `ns/name (Kind)`, never `ns/name[Kind]`."""
    return f"{pod.namespace}/{pod.owner_name or pod.name} ({pod.owner_kind})"


def _omitted_selectors(policy: ClusterPolicy) -> Iterable[str]:
    spec = policy.raw.get("spec") if isinstance(policy.raw.get("spec"), Mapping) else {}
    assert isinstance(spec, Mapping)
    required = ("namespaceSelector", "podSelector") if policy.kind != CNP else ("podSelector",)
    places: list[tuple[str, object]] = [("spec.subject", spec.get("subject"))]
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction) or ()):
            if isinstance(rule, Mapping):
                for j, peer in enumerate(rule.get(peers_key) or ()):
                    places.append((f"spec.{direction}[{i}].{peers_key}[{j}]", peer))
    for path, holder in places:
        pods = holder.get("pods") if isinstance(holder, Mapping) else None
        if isinstance(pods, Mapping):
            for key in required:
                if key not in pods:
                    yield f"{path}.pods.{key}"


@check("pods-selector-omitted", "low")
def _selector_omitted(ctx: _Context) -> Iterable[tuple[ClusterPolicy, str]]:
    for p in ctx.cluster.cluster_policies:
        for path in _omitted_selectors(p):
            yield p, (
                f"{path} is omitted: read as {{}} (selects everything), as Go clients decode it; "
                "the API server requires it, so write {} to apply this policy"
            )


@check("cluster-policy-unknown-peer", "high")
def _unknown_peer(ctx: _Context) -> Iterable[tuple[ClusterPolicy, str]]:
    for p in ctx.cluster.cluster_policies:
        for where in unknown_peers(p.raw):
            rule = p.rules(where.direction)[where.rule]
            effect = "matches no traffic" if rule.action == ALLOW else "denies all traffic, every peer and port"
            written = p.raw["spec"][where.direction][where.rule].get("action")
            yield p, (
                f"{where.direction} rule #{rule.index}{f' {rule.name!r}' if rule.name else ''} ({written}): "
                f"{where.peers_key}[{where.peer}] sets only {', '.join(where.fields)}, a peer field netpolui "
                "does not read (a newer API version?); as upstream says an implementation must, it fails "
                f"closed: the rule {effect}"
            )
