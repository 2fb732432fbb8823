"""A synthetic cluster for benchmarks and load tests.

``generate_cluster(pods=10000, workloads=1000, namespaces=200, policies=2000, seed=0)``
returns Kubernetes-shaped dicts (Namespaces, Deployments with their ReplicaSets and
pods, StatefulSets with pods, a few hostNetwork DaemonSets, NetworkPolicies) that look
like a real multi-team cluster: most namespaces default-deny with DNS egress to
kube-system, tiers allowed to talk by pod selectors, namespaces by team labels, set-based
matchExpressions, named ports, port ranges, SCTP, and ipBlocks with excepts drawn from a
small pool (real clusters reuse a handful of CIDRs). Same seed, same cluster.

``old_replicasets=N`` gives each Deployment N older ReplicaSets scaled to 0, as a
Deployment keeps after N rollouts (Kubernetes keeps up to revisionHistoryLimit, 10 by
default): objects the sync lists and stores though no pod is theirs.
"""

from __future__ import annotations

import random
import zlib
from collections.abc import Callable
from typing import Any

TIERS = ("frontend", "backend", "database", "cache", "worker")
ENVS = ("prod", "staging", "dev")
CIDR_POOL: tuple[tuple[str, list[str]], ...] = (
    ("0.0.0.0/0", ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]),
    ("10.0.0.0/8", ["10.96.0.0/12"]),
    ("52.0.0.0/8", ["52.10.0.0/16"]),
    ("34.120.0.0/14", []),
    ("192.168.10.0/24", ["192.168.10.128/25"]),
    ("203.0.113.0/24", []),
    ("2001:db8::/32", ["2001:db8:ffff::/48"]),
    ("100.64.0.0/10", ["100.64.1.0/24"]),
)


def _policy(ns: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": ns},
        "spec": spec,
    }


def generate_cluster(
    pods: int = 10000,
    workloads: int = 1000,
    namespaces: int = 200,
    policies: int = 2000,
    seed: int = 0,
    *,
    locked_down: float = 0.7,
    cluster_policies: int = 0,
    cni_policies: int = 0,
    cni: str = "calico",
    old_replicasets: int = 0,
) -> list[dict[str, Any]]:
    """Kubernetes objects of a synthetic cluster with the given sizes.

    `locked_down` is the share of namespaces with default deny and egress rules;
    `cluster_policies` adds that many cluster-wide policies (see cluster_wide_policies);
    `cni_policies` adds that many policies of `cni` (calico, cilium or antrea; see
    cni_policy_objects).
    """
    rng = random.Random(seed)
    objs: list[dict[str, Any]] = []
    ns_names = ["kube-system"] + [f"team-{i:03d}" for i in range(1, namespaces)]
    ns_env: dict[str, str] = {}
    for i, ns in enumerate(ns_names):
        env = ENVS[i % len(ENVS)]
        ns_env[ns] = env
        objs.append(
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "metadata": {"name": ns, "labels": {"team": f"group-{i % 20}", "env": env}},
            }
        )

    # Workloads spread round-robin over namespaces; pods spread over workloads.
    per_workload = [
        pods // workloads + (1 if i < pods % workloads else 0) for i in range(workloads)
    ]
    ns_workloads: dict[str, list[tuple[str, str]]] = {ns: [] for ns in ns_names}
    for w in range(workloads):
        ns = ns_names[w % len(ns_names)]
        tier = TIERS[(w // len(ns_names)) % len(TIERS)]
        if ns == "kube-system" and not ns_workloads[ns]:
            name, tier, labels = "coredns", "dns", {"k8s-app": "kube-dns"}
        else:
            name = f"{tier}-{w:04d}"
            labels = {"app": name, "tier": tier, "version": rng.choice(("v1", "v2"))}
            if rng.random() < 0.3:
                labels["release"] = rng.choice(("stable", "canary"))
        ns_workloads[ns].append((name, tier))
        ports = [
            {"name": "http", "containerPort": 8080, "protocol": "TCP"},
            {"name": "metrics", "containerPort": 9090, "protocol": "TCP"},
        ]
        if tier == "database":
            ports.append({"name": "pg", "containerPort": 5432, "protocol": "TCP"})
        if tier == "dns":
            ports = [
                {"name": "dns", "containerPort": 53, "protocol": "UDP"},
                {"name": "dns-tcp", "containerPort": 53, "protocol": "TCP"},
            ]
        host_network = rng.random() < 0.01
        kind = (
            "StatefulSet" if tier == "database" else ("DaemonSet" if host_network else "Deployment")
        )
        template = {
            "metadata": {"labels": labels},
            "spec": {
                "hostNetwork": host_network,
                "containers": [{"name": "main", "image": "app", "ports": ports}],
            },
        }
        objs.append(
            {
                "apiVersion": "apps/v1",
                "kind": kind,
                "metadata": {"name": name, "namespace": ns, "uid": f"uid-{kind}-{ns}-{name}"},
                "spec": {"selector": {"matchLabels": labels}, "template": template},
            }
        )
        owner_kind, owner_name = kind, name
        if kind == "Deployment":
            rs = f"{name}-{rng.randrange(16**8):08x}"
            objs.append(
                {
                    "apiVersion": "apps/v1",
                    "kind": "ReplicaSet",
                    "metadata": {
                        "name": rs,
                        "namespace": ns,
                        "ownerReferences": [
                            {
                                "apiVersion": "apps/v1",
                                "kind": "Deployment",
                                "name": name,
                                "controller": True,
                            }
                        ],
                    },
                    "spec": {"template": template},
                }
            )
            owner_kind, owner_name = "ReplicaSet", rs
            for revision in range(old_replicasets):  # no random draw: the same seed stays the same cluster
                old = f"{name}-{zlib.crc32(f'{ns}/{name}/{revision}'.encode()):08x}"
                objs.append(
                    {
                        "apiVersion": "apps/v1",
                        "kind": "ReplicaSet",
                        "metadata": {
                            "name": old,
                            "namespace": ns,
                            "annotations": {"deployment.kubernetes.io/revision": str(revision + 1)},
                            "ownerReferences": [
                                {"apiVersion": "apps/v1", "kind": "Deployment", "name": name, "controller": True}
                            ],
                        },
                        "spec": {"replicas": 0, "template": template},
                    }
                )
        for p in range(per_workload[w]):
            objs.append(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": f"{owner_name}-{p:03d}",
                        "namespace": ns,
                        "labels": dict(labels),
                        "ownerReferences": [
                            {
                                "apiVersion": "apps/v1",
                                "kind": owner_kind,
                                "name": owner_name,
                                "controller": True,
                            }
                        ],
                    },
                    "spec": template["spec"],
                    "status": {"podIP": f"10.{(w >> 8) & 255}.{w & 255}.{p % 250 + 1}"},
                }
            )

    # Policies: a realistic mix per namespace until the budget is spent.
    makers: list[Callable[[str], dict[str, Any]]] = [
        lambda ns: {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        lambda ns: {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"kubernetes.io/metadata.name": "kube-system"}
                            },
                            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                        }
                    ],
                    "ports": [
                        {"protocol": "UDP", "port": 53},
                        {"protocol": "TCP", "port": "dns-tcp"},
                    ],
                }
            ],
        },
        lambda ns: {
            "podSelector": {"matchLabels": {"tier": "backend"}},
            "ingress": [
                {
                    "from": [{"podSelector": {"matchLabels": {"tier": "frontend"}}}],
                    "ports": [{"port": "http"}],
                }
            ],
        },
        lambda ns: {
            "podSelector": {"matchLabels": {"tier": "database"}},
            "ingress": [
                {
                    "from": [
                        {
                            "podSelector": {
                                "matchExpressions": [
                                    {
                                        "key": "tier",
                                        "operator": "In",
                                        "values": ["backend", "worker"],
                                    }
                                ]
                            }
                        }
                    ],
                    "ports": [{"port": 5432, "protocol": "TCP"}],
                }
            ],
        },
        lambda ns: {
            "podSelector": {"matchLabels": {"tier": "frontend"}},
            "ingress": [
                {
                    "from": [{"ipBlock": {"cidr": CIDR_POOL[0][0], "except": CIDR_POOL[0][1]}}],
                    "ports": [{"port": 443}, {"port": 8080, "endPort": 8090}],
                }
            ],
        },
        lambda ns: {
            "podSelector": {},
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchLabels": {"team": f"group-{rng.randrange(20)}"}
                            },
                            "podSelector": {
                                "matchExpressions": [{"key": "release", "operator": "Exists"}]
                            },
                        }
                    ],
                    "ports": [{"port": "metrics"}],
                }
            ],
        },
        lambda ns: {
            "podSelector": {
                "matchExpressions": [
                    {
                        "key": "tier",
                        "operator": "NotIn",
                        "values": ["database", "frontend", "backend"],
                    }
                ]
            },
            "policyTypes": ["Egress"],
            "egress": [
                {
                    "to": [
                        {"ipBlock": {"cidr": c, "except": e}}
                        for c, e in rng.sample(CIDR_POOL[1:], 2)
                    ],
                    "ports": [{"port": 443}, {"protocol": "UDP", "port": 4500, "endPort": 4510}],
                }
            ],
        },
        lambda ns: {
            "podSelector": {"matchLabels": {"tier": rng.choice(TIERS)}},
            "egress": [
                {
                    "to": [{"namespaceSelector": {"matchLabels": {"env": ns_env[ns]}}}],
                    "ports": [{"port": 8000, "endPort": 8100}, {"protocol": "SCTP", "port": 9000}],
                }
            ],
        },
        lambda ns: {"podSelector": {}, "ingress": [{"from": [{"podSelector": {}}]}]},
        lambda ns: {
            "podSelector": {"matchExpressions": [{"key": "release", "operator": "DoesNotExist"}]},
            "ingress": [
                {
                    "from": [
                        {
                            "namespaceSelector": {
                                "matchExpressions": [
                                    {"key": "env", "operator": "In", "values": ["prod", "staging"]}
                                ]
                            }
                        }
                    ],
                    "ports": [{"port": "http"}, {"port": "grpc"}],
                }
            ],
            "egress": [],
        },
    ]
    names = [
        "default-deny",
        "allow-dns",
        "backend-from-frontend",
        "database-from-backend",
        "frontend-from-internet",
        "metrics-from-monitoring",
        "egress-to-services",
        "egress-same-env",
        "allow-same-namespace",
        "from-prod-and-staging",
    ]
    made = 0
    round_ = 0
    while made < policies:
        for i, ns in enumerate(ns_names):
            if made >= policies:
                break
            k = round_ % len(makers)
            # Not every team locks down: in "open" namespaces egress stays unrestricted
            # and ingress policies take the place of the deny and egress ones.
            if (i % 10) >= round(locked_down * 10) and k in (0, 1, 6, 7):
                k = (8, 2, 3, 9)[(0, 1, 6, 7).index(k)]
            name = names[k] if round_ == 0 else f"{names[k]}-r{round_}"
            objs.append(_policy(ns, name, makers[k](ns)))
            made += 1
        round_ += 1
    objs.extend(cluster_wide_policies(cluster_policies, seed))
    objs.extend(cni_policy_objects(cni_policies, cni, ns_names, seed))
    return objs


def cni_policy_objects(count: int, cni: str, ns_names: list[str], seed: int = 0) -> list[dict[str, Any]]:
    """`count` CNI policies as teams write them, spread over the namespaces, with their
    own random stream. Calico: a security tier (deny dev into prod, the metadata address,
    Pass the rest), per-namespace policies (tier to tier on named ports, Log, deny a port
    range) and global egress guardrails with nets. Cilium: per-namespace ingress from
    the same tier and another namespace, deny rules, world egress on 443, a few L7 and
    FQDN rules. Antrea: ClusterNetworkPolicies in securityops/application/baseline and
    NetworkPolicies per namespace."""
    if count <= 0:
        return []
    rng = random.Random(seed + 104729)
    teams = [ns for ns in ns_names if ns != "kube-system"]
    out: list[dict[str, Any]] = []
    if cni == "calico":
        out.append({"apiVersion": "projectcalico.org/v3", "kind": "Tier", "metadata": {"name": "security"},
                    "spec": {"order": 100}})
        for i in range(count):
            ns = teams[i % len(teams)]
            tier = TIERS[i % len(TIERS)]
            other = TIERS[(i + 1) % len(TIERS)]
            kind = i % 5
            if kind == 0:
                out.append({"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy",
                            "metadata": {"name": f"security.guard-{i}"},
                            "spec": {"tier": "security", "order": i, "selector": f"tier == '{tier}'",
                                     "namespaceSelector": f"team == 'group-{i % 20}'",
                                     "ingress": [{"action": "Deny", "source": {"namespaceSelector": "env == 'dev'"}},
                                                 {"action": "Pass"}],
                                     "egress": [{"action": "Deny", "destination": {"nets": ["169.254.169.254/32"]}},
                                                {"action": "Pass"}]}})
            else:
                out.append({"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
                            "metadata": {"name": f"{tier}-{i}", "namespace": ns},
                            "spec": {"order": rng.choice((100, 500, 1500, None)), "selector": f"tier == '{tier}'",
                                     "ingress": [
                                         {"action": "Log", "source": {"selector": "has(release)"}},
                                         {"action": "Deny", "protocol": "TCP", "destination": {"ports": ["9000:9100"]}},
                                         {"action": "Allow", "protocol": "TCP",
                                          "source": {"selector": f"tier in {{'{other}', 'frontend'}}"},
                                          "destination": {"ports": ["http", 9090]}}],
                                     "egress": [
                                         {"action": "Allow", "protocol": "UDP", "destination": {
                                             "namespaceSelector": "kubernetes.io/metadata.name == 'kube-system'",
                                             "selector": "k8s-app == 'kube-dns'", "ports": [53]}},
                                         {"action": "Allow", "destination": {"selector": f"tier != '{tier}'"}},
                                         {"action": "Allow", "protocol": "TCP",
                                          "destination": {"nets": [rng.choice(CIDR_POOL)[0]], "ports": [443]}}]}})
    elif cni == "cilium":
        for i in range(count):
            ns = teams[i % len(teams)]
            tier = TIERS[i % len(TIERS)]
            other = TIERS[(i + 2) % len(TIERS)]
            spec: dict[str, Any] = {
                "endpointSelector": {"matchLabels": {"tier": tier}},
                "ingress": [
                    {"fromEndpoints": [{"matchLabels": {"tier": other}},
                                       {"matchLabels": {"k8s:io.kubernetes.pod.namespace": teams[(i + 3) % len(teams)]}}],
                     "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}, {"port": "metrics", "protocol": "TCP"}]}]}],
                "egress": [
                    {"toEndpoints": [{"matchLabels": {"k8s:io.kubernetes.pod.namespace": "kube-system", "k8s-app": "kube-dns"}}],
                     "toPorts": [{"ports": [{"port": "53", "protocol": "ANY"}]}]},
                    {"toEndpoints": [{}]},
                    {"toEntities": ["world"], "toPorts": [{"ports": [{"port": "443", "protocol": "TCP"}]}]}],
            }
            if i % 4 == 0:
                spec["ingressDeny"] = [{"fromEndpoints": [{"matchLabels": {"release": "canary"}}]}]
            if i % 10 == 0:
                spec["egress"].append({"toFQDNs": [{"matchName": "api.example.com"}]})
                spec["ingress"][0]["toPorts"][0]["rules"] = {"http": [{"method": "GET"}]}
            out.append({"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
                        "metadata": {"name": f"{tier}-{i}", "namespace": ns}, "spec": spec})
    else:
        for i in range(count):
            ns = teams[i % len(teams)]
            tier = TIERS[i % len(TIERS)]
            if i % 4 == 0:
                out.append({"apiVersion": "crd.antrea.io/v1beta1", "kind": "ClusterNetworkPolicy",
                            "metadata": {"name": f"guard-{i}"},
                            "spec": {"priority": 1 + i % 50, "tier": rng.choice(("securityops", "application", "baseline")),
                                     "appliedTo": [{"namespaceSelector": {"matchLabels": {"team": f"group-{i % 20}"}}}],
                                     "ingress": [{"action": "Allow", "from": [{"namespaces": {"match": "Self"}}]},
                                                 {"action": "Drop", "from": [{"namespaceSelector": {"matchLabels": {"env": "dev"}}}]}]}})
            else:
                out.append({"apiVersion": "crd.antrea.io/v1beta1", "kind": "NetworkPolicy",
                            "metadata": {"name": f"{tier}-{i}", "namespace": ns},
                            "spec": {"priority": 5 + i % 20, "appliedTo": [{"podSelector": {"matchLabels": {"tier": tier}}}],
                                     "ingress": [{"action": "Allow", "from": [{"podSelector": {"matchLabels": {"tier": "frontend"}}}],
                                                  "ports": [{"protocol": "TCP", "port": 8080, "endPort": 8090}]},
                                                 {"action": "Reject", "ports": [{"protocol": "TCP", "port": 22}]}],
                                     "egress": [{"action": "Pass", "to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}]}})
    return out


def _team(i: int) -> dict[str, Any]:
    return {"matchLabels": {"team": f"group-{i % 20}"}}


def _env(env: str) -> dict[str, Any]:
    return {"matchLabels": {"env": env}}


def cluster_wide_policies(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """`count` cluster-wide policies as platform teams write them: Admin tier
    guardrails (no dev traffic into prod, DNS always accepted, the metadata address
    denied, monitoring passed to the namespaces' own policies) as ClusterNetworkPolicies
    and AdminNetworkPolicies, Baseline default denies per team, and one
    BaselineAdminNetworkPolicy. Their own random stream: the rest of the cluster is the
    same with or without them."""
    rng = random.Random(seed + 7919)
    out: list[dict[str, Any]] = []

    def cnp(name: str, tier: str, prio: int, spec: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": "policy.networking.k8s.io/v1alpha2",
            "kind": "ClusterNetworkPolicy",
            "metadata": {"name": name},
            "spec": {"tier": tier, "priority": prio, **spec},
        }

    def anp(name: str, prio: int, spec: dict[str, Any]) -> dict[str, Any]:
        return {
            "apiVersion": "policy.networking.k8s.io/v1alpha1",
            "kind": "AdminNetworkPolicy",
            "metadata": {"name": name},
            "spec": {"priority": prio, **spec},
        }

    dns = {
        "pods": {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        }
    }
    makers: list[Callable[[int], dict[str, Any]]] = [
        lambda i: cnp(
            f"no-dev-into-prod-{i}",
            "Admin",
            10 + i,
            {
                "subject": {
                    "namespaces": {"matchLabels": {"env": "prod", "team": f"group-{i % 20}"}}
                },
                "ingress": [
                    {"name": "deny-dev", "action": "Deny", "from": [{"namespaces": _env("dev")}]}
                ],
            },
        ),
        lambda i: cnp(
            f"dns-always-{i}",
            "Admin",
            1,
            {
                "subject": {"namespaces": _team(i)},
                "egress": [
                    {
                        "name": "dns",
                        "action": "Accept",
                        "to": [dns],
                        "protocols": [
                            {"udp": {"destinationPort": {"number": 53}}},
                            {"destinationNamedPort": "dns-tcp"},
                        ],
                    }
                ],
            },
        ),
        lambda i: anp(
            f"no-metadata-{i}",
            20 + i,
            {
                "subject": {
                    "pods": {
                        "namespaceSelector": _team(i),
                        "podSelector": {
                            "matchExpressions": [
                                {
                                    "key": "tier",
                                    "operator": "In",
                                    "values": [rng.choice(("frontend", "backend", "worker"))],
                                }
                            ]
                        },
                    }
                },
                "egress": [
                    {
                        "name": "metadata",
                        "action": "Deny",
                        "to": [{"networks": ["169.254.169.254/32"]}],
                    }
                ],
            },
        ),
        lambda i: anp(
            f"monitoring-to-np-{i}",
            40 + i,
            {
                "subject": {
                    "pods": {
                        "namespaceSelector": _team(i),
                        "podSelector": {"matchLabels": {"tier": "database"}},
                    }
                },
                "ingress": [
                    {
                        "name": "monitoring",
                        "action": "Pass",
                        "from": [{"namespaces": _team((i + 1) % 20)}],
                        "ports": [{"namedPort": "metrics"}],
                    },
                    {
                        "name": "others",
                        "action": "Deny",
                        "from": [{"namespaces": _env("dev")}],
                        "ports": [{"portRange": {"protocol": "TCP", "start": 5000, "end": 5999}}],
                    },
                ],
            },
        ),
        lambda i: cnp(
            f"baseline-team-{i}",
            "Baseline",
            100 + i,
            {
                "subject": {"namespaces": _team(i)},
                "ingress": [
                    {"name": "same-team", "action": "Accept", "from": [{"namespaces": _team(i)}]},
                    {"name": "rest", "action": "Deny", "from": [{"namespaces": {}}]},
                ],
                "egress": [
                    {
                        "name": "no-internet",
                        "action": "Deny",
                        "to": [{"networks": ["0.0.0.0/0"]}],
                        "protocols": [
                            {"tcp": {"destinationPort": {"range": {"start": 1, "end": 1023}}}}
                        ],
                    }
                ],
            },
        ),
    ]
    for i in range(max(0, count - 1)):
        out.append(makers[i % len(makers)](i // len(makers)))
    if count:
        out.append(
            {
                "apiVersion": "policy.networking.k8s.io/v1alpha1",
                "kind": "BaselineAdminNetworkPolicy",
                "metadata": {"name": "default"},
                "spec": {
                    "subject": {"namespaces": _env("dev")},
                    "egress": [
                        {"name": "no-prod", "action": "Deny", "to": [{"namespaces": _env("prod")}]}
                    ],
                },
            }
        )
    return out
