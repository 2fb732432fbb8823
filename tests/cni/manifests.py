"""CNI objects shared by the CNI tests: one of each kind that holds rules, written as each
project's documentation shows them."""

from __future__ import annotations

from typing import Any

# docs.tigera.io/calico/latest/reference/resources/globalnetworkpolicy
CALICO_GNP: dict[str, Any] = {
    "apiVersion": "projectcalico.org/v3",
    "kind": "GlobalNetworkPolicy",
    "metadata": {"name": "deny-db-from-web"},
    "spec": {
        "tier": "default",
        "order": 10,
        "selector": "app == 'pg'",
        "types": ["Ingress"],
        "ingress": [
            {"action": "Deny", "protocol": "TCP", "source": {"namespaceSelector": "kubernetes.io/metadata.name == 'web'"}},
            {"action": "Pass"},
        ],
    },
}
# The same name as a v1 NetworkPolicy, in the same namespace: never confused with it.
CALICO_NP: dict[str, Any] = {
    "apiVersion": "projectcalico.org/v3",
    "kind": "NetworkPolicy",
    "metadata": {"name": "allow-front", "namespace": "db"},
    "spec": {
        "order": 100,
        "selector": "app == 'pg'",
        "ingress": [{"action": "Allow", "protocol": "TCP", "destination": {"ports": [5432]}}],
    },
}
CALICO_TIER: dict[str, Any] = {
    "apiVersion": "projectcalico.org/v3",
    "kind": "Tier",
    "metadata": {"name": "security"},
    "spec": {"order": 100},
}
# docs.cilium.io/en/stable/security/policy/language/ (Deny policies, DNS-based policies)
CILIUM_CNP: dict[str, Any] = {
    "apiVersion": "cilium.io/v2",
    "kind": "CiliumNetworkPolicy",
    "metadata": {"name": "pg-deny-web", "namespace": "db"},
    "spec": {
        "endpointSelector": {"matchLabels": {"app": "pg"}},
        "ingressDeny": [{"fromEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "web"}}]}],
    },
}
CILIUM_CCNP: dict[str, Any] = {
    "apiVersion": "cilium.io/v2",
    "kind": "CiliumClusterwideNetworkPolicy",
    "metadata": {"name": "fqdn-egress"},
    "spec": {
        "endpointSelector": {"matchLabels": {"app": "front"}},
        "egress": [{"toFQDNs": [{"matchName": "api.example.com"}], "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]}],
    },
}
# antrea.io/docs/main/docs/antrea-network-policy/
ANTREA_ACNP: dict[str, Any] = {
    "apiVersion": "crd.antrea.io/v1beta1",
    "kind": "ClusterNetworkPolicy",
    "metadata": {"name": "drop-web-to-db"},
    "spec": {
        "priority": 5,
        "tier": "securityops",
        "appliedTo": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "db"}}}],
        "ingress": [{"action": "Drop", "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "web"}}}]}],
    },
}
ANTREA_ANP: dict[str, Any] = {
    "apiVersion": "crd.antrea.io/v1beta1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "allow-front", "namespace": "db"},
    "spec": {
        "priority": 3,
        "appliedTo": [{"podSelector": {"matchLabels": {"app": "pg"}}}],
        "ingress": [{"action": "Allow", "ports": [{"protocol": "TCP", "port": 5432}]}],
    },
}
V1_SAME_NAME: dict[str, Any] = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "allow-front", "namespace": "db"},
    "spec": {"podSelector": {}, "policyTypes": ["Ingress"]},
}
SERVICE_ACCOUNT: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "ServiceAccount",
    "metadata": {"name": "pg", "namespace": "db", "labels": {"role": "database"}},
}


def calico_cluster_objects() -> list[dict[str, Any]]:
    """A small cluster run by Calico (its agent pod in kube-system): web/front and db/pg
    with no v1 policy, Calico's policies, and a Cilium policy left behind."""
    from tests.fake_k8s import objects

    statefulset = objects.statefulset("db", "pg", {"app": "pg"}, ports=[("pg", 5432, "TCP")])
    return [
        objects.namespace("kube-system"),
        objects.namespace("web"),
        objects.namespace("db"),
        objects.pod("kube-system", "calico-node-x1", {"k8s-app": "calico-node"}, host_network=True),
        *objects.deployment_stack("web", "front", {"app": "front"}),
        statefulset,
        *objects.pods_for(statefulset),
        CALICO_GNP,
        CALICO_NP,
        CALICO_TIER,
        CILIUM_CNP,
        SERVICE_ACCOUNT,
    ]
