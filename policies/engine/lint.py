"""Findings: what a platform engineer should look at in a cluster's policies.

``findings(cluster) -> list[Finding]``, sorted by severity (high, medium, low), then
namespace and object. Codes:

- ``namespace-without-policy`` (medium): a namespace with pods and no NetworkPolicy.
- ``ingress-not-isolated`` / ``egress-not-isolated`` (medium / low): a workload no
  policy isolates in that direction, so everything may reach it / it may reach anything.
- ``policy-selects-nothing`` (medium): a podSelector matching no pod of its namespace.
- ``peer-matches-nothing`` (low): a podSelector/namespaceSelector peer matching no pod
  or namespace: the rule it belongs to allows less than it seems to.
- ``named-port-unresolved`` (high): a named port that resolves on no destination the rule
  can reach (ingress: the selected pods; egress: the peers), so it opens nothing.
- ``egress-without-dns`` (high): pods isolated for egress with no UDP 53 allowed
  anywhere: name resolution will fail.
- ``host-network-selected`` (medium): a policy selects a hostNetwork pod; whether it
  applies depends on the CNI plugin.
- cluster-wide policies (Admin and Baseline tiers): see tier_findings.py. Their
  findings have an empty namespace.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .cluster import Cluster
from .model import NetworkPolicy, Peer, Pod
from .ports import ConnSet

SEVERITY_ORDER = {"high": 0, "medium": 1, "low": 2}


@dataclass(frozen=True)
class Finding:
    code: str
    severity: str
    namespace: str
    object_kind: str
    object_name: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "namespace": self.namespace,
            "object_kind": self.object_kind,
            "object_name": self.object_name,
            "message": self.message,
        }

    def __str__(self) -> str:
        where = f"{self.namespace}/{self.object_name}" if self.namespace else self.object_name
        return f"[{self.severity}] {where} ({self.object_kind}): {self.message}"


def _peer_pods(cluster: Cluster, policy: NetworkPolicy, peer: Peer) -> list[Pod]:
    return [
        p
        for p in cluster.pods
        if peer.matches_pod(
            policy.namespace, p.namespace, p.labels, cluster.namespace_labels(p.namespace)
        )
    ]


def findings(cluster: Cluster) -> list[Finding]:
    """Everything worth a look, most severe first."""
    out: list[Finding] = []
    pod_namespaces = sorted({p.namespace for p in cluster.pods})
    policy_namespaces = {p.namespace for p in cluster.policies}
    for ns in pod_namespaces:
        if ns not in policy_namespaces:
            out.append(
                Finding(
                    "namespace-without-policy",
                    "medium",
                    ns,
                    "Namespace",
                    ns,
                    "no NetworkPolicy in this namespace: every pod accepts and opens any connection",
                )
            )
    for w in cluster.workloads:
        iso = cluster.isolation(w.representative)
        if w.namespace not in policy_namespaces:
            continue  # already reported for the namespace
        if not iso.ingress:
            out.append(
                Finding(
                    "ingress-not-isolated",
                    "medium",
                    w.namespace,
                    w.kind,
                    w.name,
                    "no policy isolates it for ingress: any pod or address may connect to it",
                )
            )
        if not iso.egress:
            out.append(
                Finding(
                    "egress-not-isolated",
                    "low",
                    w.namespace,
                    w.kind,
                    w.name,
                    "no policy isolates it for egress: it may connect anywhere",
                )
            )
        if w.representative.host_network and (iso.ingress or iso.egress):
            policies = sorted(set(iso.ingress_policies + iso.egress_policies))
            out.append(
                Finding(
                    "host-network-selected",
                    "medium",
                    w.namespace,
                    w.kind,
                    w.name,
                    f"uses hostNetwork and is selected by {', '.join(policies)}: whether these "
                    "policies apply depends on the CNI plugin",
                )
            )
    for policy in cluster.policies:
        selected = cluster.pods_selected_by(policy.key)
        if not selected:
            out.append(
                Finding(
                    "policy-selects-nothing",
                    "medium",
                    policy.namespace,
                    "NetworkPolicy",
                    policy.name,
                    f"podSelector [{policy.pod_selector}] matches no pod in namespace {policy.namespace}",
                )
            )
        for direction in ("ingress", "egress"):
            for i, rule in enumerate(policy.rules(direction)):
                targets: list[Pod] = []
                for j, peer in enumerate(rule.peers):
                    if peer.ip_block is not None:
                        continue
                    matched = _peer_pods(cluster, policy, peer)
                    targets.extend(matched)
                    if not matched:
                        out.append(
                            Finding(
                                "peer-matches-nothing",
                                "low",
                                policy.namespace,
                                "NetworkPolicy",
                                policy.name,
                                f"{direction} rule #{i} peer #{j} ({peer}) matches no pod",
                            )
                        )
                if not rule.peers:
                    targets = list(cluster.pods)
                dests = selected if direction == "ingress" else targets
                for port in rule.ports:
                    if not isinstance(port.port, str):
                        continue
                    if not any(
                        name == port.port and proto == port.protocol
                        for d in dests
                        for name, proto, _ in d.named_ports
                    ):
                        out.append(
                            Finding(
                                "named-port-unresolved",
                                "high",
                                policy.namespace,
                                "NetworkPolicy",
                                policy.name,
                                f"{direction} rule #{i}: named port {port.port!r} ({port.protocol}) is on no "
                                f"{'selected pod' if direction == 'ingress' else 'destination pod'}, so it opens nothing",
                            )
                        )
    out.extend(_too_broad(cluster))
    from .tier_findings import tier_findings  # it builds on Finding: imported late

    out.extend(tier_findings(cluster))
    # Egress isolation without any DNS allowance breaks name resolution.
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
        # A named UDP port (usually "dns") counts: it resolves on the DNS pods.
        allows_dns = any(
            rule.conns_on(None).allows("UDP", 53)
            or any(p.is_named and p.protocol == "UDP" for p in rule.ports)
            for rule in rules
        )
        if not allows_dns:
            out.append(
                Finding(
                    "egress-without-dns",
                    "high",
                    w.namespace,
                    w.kind,
                    w.name,
                    f"isolated for egress by {', '.join(iso.egress_policies)} with no rule allowing UDP 53: "
                    "DNS lookups will fail",
                )
            )
    out.sort(
        key=lambda f: (SEVERITY_ORDER[f.severity], f.namespace, f.object_name, f.code, f.message)
    )
    return out


def _all_addresses(peer: Peer) -> bool:
    """An ipBlock of a whole address family (0.0.0.0/0 or ::/0) with nothing excepted."""
    block = peer.ip_block
    return block is not None and block.cidr.endswith("/0") and not block.excepts


def _too_broad(cluster: Cluster) -> list[Finding]:
    """Isolated workloads that still accept any address outside the cluster, and rules
    that admit every pod of every namespace: isolation in name, not in effect."""
    out: list[Finding] = []
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
            out.append(
                Finding(
                    "open-to-internet",
                    "high" if internet.is_all else "medium",
                    w.namespace,
                    w.kind,
                    w.name,
                    f"accepts {internet} from any address outside the cluster "
                    f"(allowed by {', '.join(sorted(by))})",
                )
            )
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
                        out.append(
                            Finding(
                                "peer-allows-all-namespaces",
                                "medium",
                                policy.namespace,
                                "NetworkPolicy",
                                policy.name,
                                f"{direction} rule #{i} peer #{j} (namespaceSelector {{}}) allows {side} every "
                                "pod in every namespace: was a podSelector meant in the same peer?",
                            )
                        )
    return out
