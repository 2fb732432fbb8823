"""Findings: what a platform engineer should look at in a cluster's policies.

``findings(cluster) -> list[Finding]``, sorted by severity (high, medium, low), then
namespace and object. Each check below is one function that declares its code, its
severity and what it means (``@check``); ``CHECKS`` lists them, and ``FINDING_CODES``
and ``SEVERITIES`` (finding.py) are the vocabulary the API, the pages and drift review import.
Findings about cluster-wide policies (Admin and Baseline tiers) come from
tier_findings.py, also one function per check; their findings have an empty namespace.
Findings about CNI policies (Calico, Cilium, Antrea) come from cni_findings.py.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from .cluster import Cluster
from .cni_findings import CHECKS as CNI_CHECKS
from .cni_findings import cni_findings
from .finding import SEVERITY_ORDER, Finding
from .model import NetworkPolicy, Peer, Pod, Rule, Workload
from .ports import ConnSet
from .tier_findings import CHECKS as TIER_CHECKS
from .tier_findings import tier_findings


@dataclass(frozen=True)
class Hit:
    """One object a check flags; `severity` only where the check grades its hits."""

    namespace: str
    object_kind: str
    object_name: str
    message: str
    severity: str | None = None

    @classmethod
    def on_workload(cls, w: Workload, message: str, severity: str | None = None) -> Hit:
        return cls(w.namespace, w.kind, w.name, message, severity)

    @classmethod
    def on_policy(cls, policy: NetworkPolicy, message: str) -> Hit:
        return cls(policy.namespace, "NetworkPolicy", policy.name, message)


@dataclass(frozen=True)
class Check:
    code: str
    severity: str  # the severity of its hits (the highest, where the check grades them)
    meaning: str
    find: Callable[[Cluster], Iterator[Hit]]

    def run(self, cluster: Cluster) -> Iterator[Finding]:
        for hit in self.find(cluster):
            yield Finding(
                self.code,
                hit.severity or self.severity,
                hit.namespace,
                hit.object_kind,
                hit.object_name,
                hit.message,
            )


CHECKS: list[Check] = []


def check(code: str, severity: str, meaning: str) -> Callable[[Callable[[Cluster], Iterator[Hit]]], Check]:
    """Register a check under its code and severity."""

    def register(find: Callable[[Cluster], Iterator[Hit]]) -> Check:
        assert severity in SEVERITY_ORDER, severity
        found = Check(code, severity, meaning, find)
        CHECKS.append(found)
        return found

    return register


def findings(cluster: Cluster) -> list[Finding]:
    """Everything worth a look, most severe first."""
    out = [finding for c in CHECKS for finding in c.run(cluster)]
    out.extend(tier_findings(cluster))
    out.extend(cni_findings(cluster))
    out.sort(
        key=lambda f: (SEVERITY_ORDER[f.severity], f.namespace, f.object_name, f.code, f.message)
    )
    return out


def rule_allows_dns(rule: Rule) -> bool:
    """An egress rule lets DNS through: UDP 53, or a named UDP port (usually "dns"), which
    resolves on the DNS pods."""
    return rule.conns_on(None).allows("UDP", 53) or any(
        p.is_named and p.protocol == "UDP" for p in rule.ports
    )


# --- the checks, most severe first -------------------------------------------------------------


def _policy_namespaces(cluster: Cluster) -> set[str]:
    return {p.namespace for p in cluster.policies}


def _workloads_in_policy_namespaces(cluster: Cluster) -> Iterator[Workload]:
    """Workloads of namespaces with some policy; the others are reported per namespace."""
    namespaces = _policy_namespaces(cluster)
    return (w for w in cluster.workloads if w.namespace in namespaces)


def _peer_pods(cluster: Cluster, policy: NetworkPolicy, peer: Peer) -> list[Pod]:
    """The pods a peer selects: the namespaces it selects first, then their pods."""
    if peer.ip_block is not None:
        return []  # ipBlocks match addresses outside the cluster only
    if peer.namespace_selector is None:
        namespaces = [policy.namespace]
    else:
        selector = peer.namespace_selector
        namespaces = [ns for ns in cluster.pod_namespaces() if selector.matches(cluster.namespace_labels(ns))]
    return [
        p
        for ns in namespaces
        for p in cluster.pods_in_namespace(ns)
        if peer.matches_pod(policy.namespace, p.namespace, p.labels, cluster.namespace_labels(p.namespace))
    ]


def _rule_targets(cluster: Cluster, policy: NetworkPolicy, rule: Rule) -> list[Pod]:
    """The pods a rule's peers select (no peers: every pod)."""
    if not rule.peers:
        return list(cluster.pods)
    return [
        pod
        for peer in rule.peers
        if peer.ip_block is None
        for pod in _peer_pods(cluster, policy, peer)
    ]


@check(
    "named-port-unresolved",
    "high",
    "a named port that resolves on no destination the rule can reach (ingress: the selected "
    "pods; egress: the peers), so it opens nothing",
)
def named_port_unresolved(cluster: Cluster) -> Iterator[Hit]:
    for policy in cluster.policies:
        selected = cluster.pods_selected_by(policy.key)
        for direction in ("ingress", "egress"):
            for i, rule in enumerate(policy.rules(direction)):
                dests = selected if direction == "ingress" else _rule_targets(cluster, policy, rule)
                for port in rule.ports:
                    if not isinstance(port.port, str):
                        continue
                    if not any(
                        name == port.port and proto == port.protocol
                        for d in dests
                        for name, proto, _ in d.named_ports
                    ):
                        yield Hit.on_policy(
                            policy,
                            f"{direction} rule #{i}: named port {port.port!r} ({port.protocol}) is on no "
                            f"{'selected pod' if direction == 'ingress' else 'destination pod'}, so it opens nothing",
                        )


@check(
    "egress-without-dns",
    "high",
    "pods isolated for egress with no UDP 53 allowed anywhere: name resolution will fail",
)
def egress_without_dns(cluster: Cluster) -> Iterator[Hit]:
    for w in cluster.workloads:
        iso = cluster.isolation(w.representative)
        if not iso.egress:
            continue
        rules = [
            rule
            for key in iso.egress_policies
            for pol in [cluster.policy(key)]
            if pol is not None
            for rule in pol.rules("egress")
        ]
        if not any(rule_allows_dns(rule) for rule in rules):
            yield Hit.on_workload(
                w,
                f"isolated for egress by {', '.join(iso.egress_policies)} with no rule allowing UDP 53: "
                "DNS lookups will fail",
            )


def _all_addresses(peer: Peer) -> bool:
    """An ipBlock of a whole address family (0.0.0.0/0 or ::/0) with nothing excepted."""
    block = peer.ip_block
    return block is not None and block.cidr.endswith("/0") and not block.excepts


@check(
    "open-to-internet",
    "high",
    "an isolated workload that still accepts any address outside the cluster: isolation in "
    "name, not in effect (high on every port, medium on some)",
)
def open_to_internet(cluster: Cluster) -> Iterator[Hit]:
    for w in cluster.workloads:
        rep = w.representative
        iso = cluster.isolation(rep)
        if not iso.ingress:
            continue  # reported as not isolated
        internet = ConnSet.none()
        by: set[str] = set()
        for key in iso.ingress_policies:
            policy = cluster.policy(key)
            if policy is None:
                continue
            for rule in policy.rules("ingress"):
                # No peers means every source, outside addresses included.
                if not rule.peers or any(_all_addresses(peer) for peer in rule.peers):
                    internet = internet | rule.conns_on(rep.named_ports)
                    by.add(key)
        if not internet.is_empty:
            yield Hit.on_workload(
                w,
                f"accepts {internet} from any address outside the cluster "
                f"(allowed by {', '.join(sorted(by))})",
                severity="high" if internet.is_all else "medium",
            )


@check(
    "namespace-without-policy",
    "medium",
    "a namespace with pods and no NetworkPolicy",
)
def namespace_without_policy(cluster: Cluster) -> Iterator[Hit]:
    with_policy = _policy_namespaces(cluster)
    # Namespaces some cluster-wide policy applies to: "any connection" would be wrong.
    tiered = {
        p.namespace
        for p in cluster.pods
        if any(
            cp.subject.matches_pod(cluster.namespace_labels(p.namespace), p.labels, p.host_network)
            for cp in cluster.cluster_policies
        )
    }
    by_cni = (
        {p.namespace for p in cluster.pods if cluster.cni_selecting(p)}
        if cluster.cni_tier_policies
        else set()
    )
    for ns in sorted({p.namespace for p in cluster.pods} - with_policy):
        if ns in tiered:
            message = "no NetworkPolicy in this namespace: only cluster-wide policies restrict its pods"
        elif ns in by_cni:
            message = f"no NetworkPolicy in this namespace: only {cluster.cni} policies restrict its pods"
        else:
            message = "no NetworkPolicy in this namespace: every pod accepts and opens any connection"
        yield Hit(ns, "Namespace", ns, message)


@check(
    "ingress-not-isolated",
    "medium",
    "a workload no policy isolates for ingress, so everything may reach it",
)
def ingress_not_isolated(cluster: Cluster) -> Iterator[Hit]:
    for w in _workloads_in_policy_namespaces(cluster):
        rep = w.representative
        if not cluster.isolation(rep).ingress and not cluster.cni_isolating(rep, "ingress"):
            yield Hit.on_workload(
                w, "no policy isolates it for ingress: any pod or address may connect to it"
            )


@check(
    "policy-selects-nothing",
    "medium",
    "a podSelector matching no pod of its namespace",
)
def policy_selects_nothing(cluster: Cluster) -> Iterator[Hit]:
    for policy in cluster.policies:
        if not cluster.pods_selected_by(policy.key):
            yield Hit.on_policy(
                policy,
                f"podSelector [{policy.pod_selector}] matches no pod in namespace {policy.namespace}",
            )


@check(
    "host-network-selected",
    "medium",
    "a policy selects a hostNetwork pod; whether it applies depends on the CNI plugin",
)
def host_network_selected(cluster: Cluster) -> Iterator[Hit]:
    for w in _workloads_in_policy_namespaces(cluster):
        iso = cluster.isolation(w.representative)
        if w.representative.host_network and (iso.ingress or iso.egress):
            policies = sorted(set(iso.ingress_policies + iso.egress_policies))
            yield Hit.on_workload(
                w,
                f"uses hostNetwork and is selected by {', '.join(policies)}: whether these "
                "policies apply depends on the CNI plugin",
            )


@check(
    "peer-allows-all-namespaces",
    "medium",
    "a peer of `namespaceSelector: {}` (and every pod) that admits every pod of every "
    "namespace: was a podSelector meant in the same peer?",
)
def peer_allows_all_namespaces(cluster: Cluster) -> Iterator[Hit]:
    for policy in cluster.policies:
        for direction in ("ingress", "egress"):
            for i, rule in enumerate(policy.rules(direction)):
                for j, peer in enumerate(rule.peers):
                    every_pod = peer.pod_selector is None or peer.pod_selector.selects_all
                    if (
                        peer.namespace_selector is not None
                        and peer.namespace_selector.selects_all
                        and every_pod
                    ):
                        side = "from" if direction == "ingress" else "to"
                        yield Hit.on_policy(
                            policy,
                            f"{direction} rule #{i} peer #{j} (namespaceSelector {{}}) allows {side} every "
                            "pod in every namespace: was a podSelector meant in the same peer?",
                        )


@check(
    "egress-not-isolated",
    "low",
    "a workload no policy isolates for egress, so it may reach anything",
)
def egress_not_isolated(cluster: Cluster) -> Iterator[Hit]:
    for w in _workloads_in_policy_namespaces(cluster):
        rep = w.representative
        if not cluster.isolation(rep).egress and not cluster.cni_isolating(rep, "egress"):
            yield Hit.on_workload(w, "no policy isolates it for egress: it may connect anywhere")


@check(
    "peer-matches-nothing",
    "low",
    "a podSelector/namespaceSelector peer matching no pod or namespace: the rule it belongs "
    "to allows less than it seems to",
)
def peer_matches_nothing(cluster: Cluster) -> Iterator[Hit]:
    for policy in cluster.policies:
        for direction in ("ingress", "egress"):
            for i, rule in enumerate(policy.rules(direction)):
                for j, peer in enumerate(rule.peers):
                    if peer.ip_block is None and not _peer_pods(cluster, policy, peer):
                        yield Hit.on_policy(
                            policy, f"{direction} rule #{i} peer #{j} ({peer}) matches no pod"
                        )


FINDING_CODES: tuple[str, ...] = (
    tuple(c.code for c in CHECKS)
    + tuple(c.code for c in TIER_CHECKS)
    + tuple(c.code for c in CNI_CHECKS)
)
