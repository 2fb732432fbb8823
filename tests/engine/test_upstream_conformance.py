"""The conformance scenarios of kubernetes-sigs/network-policy-api for ClusterNetworkPolicy,
ported as probes (upstream/network_policy_api/, see upstream/README.md).

Each scenario is one ``t.Run`` of an upstream ``conformance/tests/*.go`` test: the
manifests it applies (``base/...``, upstream's files unchanged), the patch it makes
before probing, and its ``PokeServer`` calls as (client pod, server pod, protocol, port,
expected). Expected values are upstream's. Every probe is answered twice, by the fast
path (``Analyzer.allowed``) and by ``explain``, which must agree.

One bridge, mechanical: upstream's pods come from StatefulSets with two replicas, so the
pods ``<name>-0`` and ``<name>-1`` are written out as the StatefulSet controller creates
them (template labels plus ``statefulset.kubernetes.io/pod-name``, an owner reference,
and an address of our choosing for the probes that put pod IPs into a policy). The
manifests are read as upstream wrote them (v1alpha2, and v1beta1 for the newest)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies.engine import Analyzer, build_cluster, explain, load_documents

BASE = Path(__file__).parent / "upstream" / "network_policy_api" / "base"
HOUSES = {"gryffindor": 1, "slytherin": 2, "hufflepuff": 3, "ravenclaw": 4}

Objects = list[dict[str, Any]]
Probe = tuple[str, str, str, int, bool]


def _docs(name: str) -> Objects:
    return [d for d in yaml.safe_load_all((BASE / name).read_text()) if d]


def pod_ip(ns: str, pod: str) -> str:
    house = ns.removeprefix("network-policy-conformance-")
    return f"10.244.{HOUSES[house]}.{10 + int(pod.rsplit('-', 1)[1])}"


def conformance_pods() -> Objects:
    """manifests.yaml with each StatefulSet's pods written out."""
    out: Objects = []
    for doc in _docs("manifests.yaml"):
        if doc["kind"] != "StatefulSet":
            out.append(doc)
            continue
        ns, name = doc["metadata"]["namespace"], doc["metadata"]["name"]
        template = doc["spec"]["template"]
        for i in range(int(doc["spec"]["replicas"])):
            pod = f"{name}-{i}"
            out.append(
                {
                    "apiVersion": "v1",
                    "kind": "Pod",
                    "metadata": {
                        "name": pod,
                        "namespace": ns,
                        "labels": {
                            **template["metadata"]["labels"],
                            "statefulset.kubernetes.io/pod-name": pod,
                        },
                        "ownerReferences": [
                            {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name, "uid": name}
                        ],
                    },
                    "spec": copy.deepcopy(template["spec"]),
                    "status": {"podIP": pod_ip(ns, pod), "podIPs": [{"ip": pod_ip(ns, pod)}]},
                }
            )
    return out


@dataclass
class Scenario:
    test: str
    run: str
    manifests: list[str]
    probes: list[Probe]
    patch: Callable[[Objects], None] | None = None
    ids: list[str] = field(default_factory=list)


def _policy(objs: Objects, name: str, kind: str = "ClusterNetworkPolicy") -> dict[str, Any]:
    return next(o for o in objs if o["kind"] == kind and o["metadata"]["name"] == name)


def swap(name: str, i: int, j: int, directions: tuple[str, ...] = ("egress", "ingress")) -> Callable[[Objects], None]:
    def patch(objs: Objects) -> None:
        spec = _policy(objs, name)["spec"]
        for d in directions:
            spec[d][i], spec[d][j] = spec[d][j], spec[d][i]

    return patch


def set_action(name: str, direction: str, index: int, action: str) -> Callable[[Objects], None]:
    def patch(objs: Objects) -> None:
        _policy(objs, name)["spec"][direction][index]["action"] = action

    return patch


def both(*patches: Callable[[Objects], None]) -> Callable[[Objects], None]:
    def patch(objs: Objects) -> None:
        for p in patches:
            p(objs)

    return patch


def delete(name: str, kind: str) -> Callable[[Objects], None]:
    def patch(objs: Objects) -> None:
        objs.remove(_policy(objs, name, kind))

    return patch


def set_priority(name: str, priority: int) -> Callable[[Objects], None]:
    def patch(objs: Objects) -> None:
        _policy(objs, name)["spec"]["priority"] = priority

    return patch


def insert_pod_ip_accept(name: str) -> Callable[[Objects], None]:
    """The inline-cidr-rules tests' second run: a rule accepting the /32 of
    luna-lovegood-0 and cedric-diggory-0 inserted at index 0."""

    def patch(objs: Objects) -> None:
        spec = _policy(objs, name)["spec"]
        nets = [
            pod_ip("network-policy-conformance-ravenclaw", "luna-lovegood-0") + "/32",
            pod_ip("network-policy-conformance-hufflepuff", "cedric-diggory-0") + "/32",
        ]
        rule = {"name": "allow-egress-to-specific-podIPs", "action": "Accept", "to": [{"networks": nets}]}
        spec["egress"].insert(0, rule)

    return patch


G, S, H, R = "gryffindor", "slytherin", "hufflepuff", "ravenclaw"
GRESS = "admin-network-policy-standard-gress-rules.go"
GRESS_YAML = ["admin_tier/standard-gress-rules-combined.yaml"]
PORTS = [("tcp", 80), ("udp", 53), ("sctp", 9003)]

SCENARIOS = [
    Scenario(
        GRESS,
        "allow-gress policy across different protocols",
        GRESS_YAML,
        [(f"{G}/harry-potter-0", f"{R}/luna-lovegood-0", p, n, True) for p, n in PORTS]
        + [(f"{R}/luna-lovegood-0", f"{G}/harry-potter-0", p, n, True) for p, n in PORTS],
    ),
    Scenario(
        GRESS,
        "allow-gress policy across different protocols at the specified ports",
        GRESS_YAML,
        [
            (f"{G}/harry-potter-0", f"{H}/cedric-diggory-1", "tcp", 8080, True),
            (f"{G}/harry-potter-1", f"{H}/cedric-diggory-1", "tcp", 80, False),
            (f"{G}/harry-potter-0", f"{H}/cedric-diggory-1", "udp", 5353, True),
            (f"{G}/harry-potter-1", f"{H}/cedric-diggory-1", "udp", 53, False),
            (f"{G}/harry-potter-0", f"{H}/cedric-diggory-1", "sctp", 9003, True),
            (f"{G}/harry-potter-1", f"{H}/cedric-diggory-1", "sctp", 9005, False),
            (f"{H}/cedric-diggory-0", f"{G}/harry-potter-1", "tcp", 80, True),
            (f"{H}/cedric-diggory-1", f"{G}/harry-potter-1", "tcp", 8080, False),
            (f"{H}/cedric-diggory-0", f"{G}/harry-potter-1", "udp", 5353, True),
            (f"{H}/cedric-diggory-1", f"{G}/harry-potter-1", "udp", 53, False),
            (f"{H}/cedric-diggory-0", f"{G}/harry-potter-1", "sctp", 9003, True),
            (f"{H}/cedric-diggory-1", f"{G}/harry-potter-1", "sctp", 9005, False),
        ],
    ),
    Scenario(
        GRESS,
        "deny-gress policy across different protocols (rules 0 and 1 swapped)",
        GRESS_YAML,
        [(f"{G}/harry-potter-0", f"{R}/luna-lovegood-1", p, n, False) for p, n in PORTS]
        + [(f"{R}/luna-lovegood-1", f"{G}/harry-potter-1", p, n, False) for p, n in PORTS],
        swap("gress-rules", 0, 1),
    ),
    Scenario(
        GRESS,
        "deny-gress policy across different protocols at the specified ports",
        GRESS_YAML,
        [
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "tcp", 80, False),
            (f"{G}/harry-potter-1", f"{S}/draco-malfoy-0", "tcp", 8080, True),
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "udp", 53, False),
            (f"{G}/harry-potter-1", f"{S}/draco-malfoy-0", "udp", 5353, True),
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "sctp", 9003, False),
            (f"{G}/harry-potter-1", f"{S}/draco-malfoy-0", "sctp", 9005, True),
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "tcp", 80, False),
            (f"{S}/draco-malfoy-1", f"{G}/harry-potter-0", "tcp", 8080, True),
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "udp", 53, False),
            (f"{S}/draco-malfoy-1", f"{G}/harry-potter-0", "udp", 5353, True),
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "sctp", 9003, False),
            (f"{S}/draco-malfoy-1", f"{G}/harry-potter-0", "sctp", 9005, True),
        ],
    ),
    Scenario(
        GRESS,
        "pass-gress policy across different protocols (rules 0 and 2 swapped)",
        GRESS_YAML,
        [
            (f"{G}/harry-potter-0", f"{R}/luna-lovegood-0", "tcp", 80, True),
            (f"{G}/harry-potter-0", f"{R}/luna-lovegood-0", "udp", 5353, True),
            (f"{G}/harry-potter-0", f"{R}/luna-lovegood-0", "sctp", 9003, True),
            (f"{R}/luna-lovegood-0", f"{G}/harry-potter-0", "tcp", 80, True),
            (f"{R}/luna-lovegood-1", f"{G}/harry-potter-0", "udp", 53, True),
            (f"{R}/luna-lovegood-1", f"{G}/harry-potter-0", "sctp", 9003, True),
        ],
        swap("gress-rules", 0, 2),
    ),
    Scenario(
        GRESS,
        "pass-gress policy across different protocols at the specified ports (rules 3 and 4 swapped)",
        GRESS_YAML,
        [
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "tcp", 80, True),
            (f"{G}/harry-potter-1", f"{S}/draco-malfoy-0", "tcp", 8080, True),
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "udp", 53, True),
            (f"{G}/harry-potter-1", f"{S}/draco-malfoy-0", "udp", 5353, True),
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "sctp", 9003, True),
            (f"{G}/harry-potter-1", f"{S}/draco-malfoy-0", "sctp", 9005, True),
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "tcp", 80, True),
            (f"{S}/draco-malfoy-1", f"{G}/harry-potter-0", "tcp", 8080, True),
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "udp", 53, True),
            (f"{S}/draco-malfoy-1", f"{G}/harry-potter-0", "udp", 5353, True),
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "sctp", 9003, True),
            (f"{S}/draco-malfoy-1", f"{G}/harry-potter-0", "sctp", 9005, True),
        ],
        swap("gress-rules", 3, 4),
    ),
    Scenario(
        "admin-network-policy-standard-egress-inline-cidr-rules.go",
        "deny-egress rule for egress-cidr-peer (0.0.0.0/0 and ::/0 also match pods)",
        ["admin_tier/standard-egress-inline-cidr-rules.yaml"],
        [(f"{G}/harry-potter-1", f"{R}/luna-lovegood-0", p, n, False) for p, n in PORTS]
        + [(f"{G}/harry-potter-1", f"{H}/cedric-diggory-0", p, n, False) for p, n in PORTS]
        + [(f"{G}/harry-potter-1", f"{S}/draco-malfoy-0", p, n, True) for p, n in PORTS],
    ),
    Scenario(
        "admin-network-policy-standard-egress-inline-cidr-rules.go",
        "allow-egress rule for egress-cidr-peer (pod IPs /32 accepted first)",
        ["admin_tier/standard-egress-inline-cidr-rules.yaml"],
        [(f"{G}/harry-potter-1", f"{R}/luna-lovegood-0", p, n, True) for p, n in PORTS]
        + [(f"{G}/harry-potter-1", f"{H}/cedric-diggory-0", p, n, True) for p, n in PORTS]
        + [(f"{G}/harry-potter-1", f"{R}/luna-lovegood-1", p, n, False) for p, n in PORTS]
        + [(f"{G}/harry-potter-1", f"{H}/cedric-diggory-1", p, n, False) for p, n in PORTS],
        insert_pod_ip_accept("inline-cidr-as-peers-example"),
    ),
    Scenario(
        "admin-network-policy-standard-priority.go",
        "deny from slytherin to gryffindor (priority 50 before 60)",
        ["admin_tier/standard-priority-field.yaml"],
        [
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "tcp", 80, False),
            (f"{S}/draco-malfoy-1", f"{G}/harry-potter-0", "tcp", 8080, False),
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "tcp", 80, False),
            (f"{G}/harry-potter-1", f"{S}/draco-malfoy-0", "tcp", 8080, False),
        ],
    ),
    Scenario(
        "admin-network-policy-standard-priority.go",
        "priority 60 changed to 40: Pass to the Baseline tier, which accepts",
        ["admin_tier/standard-priority-field.yaml"],
        [
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "tcp", 80, True),
            (f"{S}/draco-malfoy-1", f"{G}/harry-potter-0", "tcp", 8080, True),
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "tcp", 80, True),
            (f"{G}/harry-potter-1", f"{S}/draco-malfoy-0", "tcp", 8080, True),
        ],
        set_priority("old-priority-60-new-priority-40-example", 40),
    ),
    Scenario(
        "admin-network-policy-standard-port-range-rules.go",
        "egress and ingress port range rules across protocols",
        ["admin_tier/standard-port-range-rules-combined.yaml"],
        [
            (f"{G}/harry-potter-0", f"{R}/luna-lovegood-0", "tcp", 80, True),
            (f"{G}/harry-potter-0", f"{R}/luna-lovegood-0", "tcp", 8080, True),
            (f"{G}/harry-potter-1", f"{R}/luna-lovegood-0", "udp", 53, False),
            (f"{G}/harry-potter-0", f"{H}/cedric-diggory-0", "udp", 53, True),
            (f"{G}/harry-potter-0", f"{H}/cedric-diggory-0", "udp", 5353, True),
            (f"{G}/harry-potter-1", f"{H}/cedric-diggory-0", "tcp", 80, False),
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "sctp", 9003, True),
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "sctp", 9005, True),
            (f"{G}/harry-potter-1", f"{S}/draco-malfoy-0", "tcp", 80, False),
            (f"{R}/luna-lovegood-0", f"{G}/harry-potter-0", "tcp", 80, True),
            (f"{R}/luna-lovegood-0", f"{G}/harry-potter-0", "tcp", 8080, True),
            (f"{R}/luna-lovegood-1", f"{G}/harry-potter-0", "udp", 53, False),
            (f"{H}/cedric-diggory-0", f"{G}/harry-potter-0", "udp", 53, True),
            (f"{H}/cedric-diggory-0", f"{G}/harry-potter-0", "udp", 5353, True),
            (f"{H}/cedric-diggory-1", f"{G}/harry-potter-0", "tcp", 80, False),
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "sctp", 9003, True),
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "sctp", 9005, True),
            (f"{S}/draco-malfoy-1", f"{G}/harry-potter-0", "tcp", 80, False),
        ],
    ),
    Scenario(
        "admin-network-policy-standard-ingress-egress-isolation.go",
        "CNPAdminTierIngressRulesEgressUnaffected",
        ["admin_tier/standard-ingress-isolation.yaml"],
        [
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "tcp", 80, False),
            (f"{G}/harry-potter-0", f"{R}/luna-lovegood-0", "tcp", 80, True),
            (f"{G}/harry-potter-0", f"{H}/cedric-diggory-0", "tcp", 80, True),
        ],
    ),
    Scenario(
        "admin-network-policy-standard-ingress-egress-isolation.go",
        "CNPAdminTierEgressRulesIngressUnaffected",
        ["admin_tier/standard-egress-isolation.yaml"],
        [
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "tcp", 80, False),
            (f"{R}/luna-lovegood-0", f"{G}/harry-potter-0", "tcp", 80, True),
            (f"{H}/cedric-diggory-0", f"{G}/harry-potter-0", "tcp", 80, True),
        ],
    ),
    Scenario(
        "admin-network-policy-standard-pod-selector-rules.go",
        "pod selectors in egress and ingress peers and in the subject",
        ["admin_tier/standard-pod-selector-rules.yaml"],
        [
            (f"{G}/harry-potter-0", f"{R}/luna-lovegood-0", "tcp", 80, False),
            (f"{G}/harry-potter-0", f"{H}/cedric-diggory-0", "tcp", 80, False),
            (f"{G}/harry-potter-0", f"{H}/cedric-diggory-1", "tcp", 80, True),
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "tcp", 80, False),
            (f"{H}/cedric-diggory-0", f"{G}/harry-potter-0", "tcp", 80, False),
            (f"{H}/cedric-diggory-1", f"{G}/harry-potter-0", "tcp", 80, True),
            (f"{S}/draco-malfoy-0", f"{H}/cedric-diggory-0", "tcp", 80, True),
            (f"{R}/luna-lovegood-0", f"{S}/draco-malfoy-0", "tcp", 80, False),
            (f"{R}/luna-lovegood-1", f"{S}/draco-malfoy-0", "tcp", 80, True),
        ],
    ),
    Scenario(
        "admin-network-policy-standard-integration.go",
        "deny both ways by the Admin tier",
        ["api_integration/standard-anp-np-banp.yaml"],
        [
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "tcp", 80, False),
            (f"{S}/draco-malfoy-1", f"{G}/harry-potter-0", "tcp", 8080, False),
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "tcp", 80, False),
            (f"{G}/harry-potter-1", f"{S}/draco-malfoy-0", "tcp", 8080, False),
        ],
    ),
    Scenario(
        "admin-network-policy-standard-integration.go",
        "pass-ingress and pass-egress: the NetworkPolicy allows",
        ["api_integration/standard-anp-np-banp.yaml"],
        [
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "tcp", 80, True),
            (f"{S}/draco-malfoy-1", f"{G}/harry-potter-0", "tcp", 8080, True),
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "tcp", 80, True),
            (f"{G}/harry-potter-1", f"{S}/draco-malfoy-0", "tcp", 8080, True),
        ],
        both(
            set_action("pass-example", "ingress", 0, "Pass"),
            set_action("pass-example", "egress", 0, "Pass"),
        ),
    ),
    Scenario(
        "admin-network-policy-standard-integration.go",
        "pass with the NetworkPolicy deleted: the Baseline tier denies",
        ["api_integration/standard-anp-np-banp.yaml"],
        [
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "tcp", 80, False),
            (f"{S}/draco-malfoy-1", f"{G}/harry-potter-0", "tcp", 8080, False),
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "tcp", 80, False),
            (f"{G}/harry-potter-1", f"{S}/draco-malfoy-0", "tcp", 8080, False),
        ],
        both(
            set_action("pass-example", "ingress", 0, "Pass"),
            set_action("pass-example", "egress", 0, "Pass"),
            delete("allow-gress-from-to-slytherin-to-gryffindor", "NetworkPolicy"),
        ),
    ),
]


BASELINE_GRESS = "baseline-admin-network-policy-standard-gress-rules.go"
BASELINE_YAML = ["baseline_tier/standard-gress-rules-combined.yaml"]
# Same runs as the Admin tier's, on a Baseline policy (no Pass); the probes are upstream's.
SCENARIOS += [
    Scenario(BASELINE_GRESS, "allow-gress policy across different protocols", BASELINE_YAML, SCENARIOS[0].probes),
    Scenario(
        BASELINE_GRESS,
        "allow-gress policy across different protocols at the specified ports",
        BASELINE_YAML,
        SCENARIOS[1].probes,
    ),
    Scenario(
        BASELINE_GRESS,
        "deny-gress policy across different protocols (rules 0 and 1 swapped)",
        BASELINE_YAML,
        [(f"{G}/harry-potter-0", f"{R}/luna-lovegood-1", p, n, False) for p, n in PORTS]
        + [(f"{R}/luna-lovegood-0", f"{G}/harry-potter-1", "tcp", 80, False)]
        + [(f"{R}/luna-lovegood-1", f"{G}/harry-potter-1", p, n, False) for p, n in PORTS[1:]],
        swap("default", 0, 1),
    ),
    Scenario(
        BASELINE_GRESS,
        "deny-gress policy across different protocols at the specified ports",
        BASELINE_YAML,
        SCENARIOS[3].probes,
    ),
    Scenario(
        "baseline-admin-network-policy-standard-egress-inline-cidr-rules.go",
        "deny-egress rule for egress-cidr-peer, Baseline tier",
        ["baseline_tier/standard-egress-inline-cidr-rules.yaml"],
        SCENARIOS[6].probes,
    ),
    Scenario(
        "baseline-admin-network-policy-standard-egress-inline-cidr-rules.go",
        "allow-egress rule for egress-cidr-peer, Baseline tier",
        ["baseline_tier/standard-egress-inline-cidr-rules.yaml"],
        SCENARIOS[7].probes,
        insert_pod_ip_accept("default"),
    ),
    Scenario(
        "admin-network-policy-standard-same-priority.go",
        "three same-priority policies: each denies its own traffic, none bleeds onto another",
        ["admin_tier/standard-same-priority.yaml"],
        [
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "tcp", 80, False),
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "tcp", 80, False),
            (f"{H}/cedric-diggory-0", f"{G}/harry-potter-0", "tcp", 80, False),
            (f"{G}/harry-potter-1", f"{H}/cedric-diggory-0", "tcp", 80, False),
            (f"{S}/draco-malfoy-1", f"{H}/cedric-diggory-0", "tcp", 8080, False),
            (f"{H}/cedric-diggory-1", f"{S}/draco-malfoy-0", "tcp", 8080, False),
            (f"{S}/draco-malfoy-0", f"{G}/harry-potter-0", "tcp", 8080, True),
            (f"{G}/harry-potter-0", f"{S}/draco-malfoy-0", "tcp", 8080, True),
            (f"{S}/draco-malfoy-1", f"{H}/cedric-diggory-0", "tcp", 80, True),
            (f"{H}/cedric-diggory-0", f"{S}/draco-malfoy-0", "tcp", 80, True),
            (f"{R}/luna-lovegood-0", f"{G}/harry-potter-0", "tcp", 80, True),
            (f"{G}/harry-potter-1", f"{R}/luna-lovegood-0", "tcp", 80, True),
        ],
    ),
    Scenario(
        "admin-network-policy-hairpin-rules.go",
        "ingress deny applies to hairpin traffic through a Service to the own namespace",
        ["admin_tier/hairpin-rules.yaml"],
        [
            (f"{G}/harry-potter-0", f"{G}/harry-potter-1", "tcp", 80, False),
            (f"{G}/harry-potter-0", f"{G}/harry-potter-0", "tcp", 80, False),
        ],
    ),
]


def scenario_objects(s: Scenario) -> Objects:
    objs = conformance_pods()
    for name in s.manifests:
        objs.extend(_docs(name))
    if s.patch is not None:
        s.patch(objs)
    return objs


def _full(key: str) -> str:
    ns, pod = key.split("/")
    return f"network-policy-conformance-{ns}/{pod}"


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[f"{s.test.removesuffix('.go')}: {s.run}" for s in SCENARIOS])
def test_conformance_scenario(scenario: Scenario) -> None:
    cluster = build_cluster(load_documents(scenario_objects(scenario), source="conformance"))
    analyzer = Analyzer(cluster)
    pods = {p.key: p for p in cluster.pods}
    wrong = []
    for src, dst, proto, port, expected in scenario.probes:
        conns = analyzer.allowed(pods[_full(src)], pods[_full(dst)])
        fast = conns.allows(proto.upper(), port)
        why = explain(cluster, _full(src), _full(dst), port=port, protocol=proto.upper())
        if fast != expected or why.allowed != expected:
            wrong.append(f"{src} -> {dst} {proto}/{port}: expected {expected}, fast path {fast}, explain {why.allowed}")
    assert not wrong, "\n".join(wrong)


def test_the_pods_are_the_statefulsets_replicas() -> None:
    cluster = build_cluster(load_documents(conformance_pods(), source="conformance"))
    keys = {p.key for p in cluster.pods}
    assert len(keys) == 8
    assert "network-policy-conformance-hufflepuff/cedric-diggory-1" in keys
