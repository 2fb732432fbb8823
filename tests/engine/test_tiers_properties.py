"""Property tests of the cluster-wide tiers: the fast path (and explain) against the
naive reference evaluator (tests/engine/reference.py, ``tiered_allowed``) on random
clusters with NetworkPolicies, ClusterNetworkPolicies, AdminNetworkPolicies, the
BaselineAdminNetworkPolicy and Nodes."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from policies.engine import Analyzer, ConnSet, build_cluster, explain

from .reference import RefAddress, RefPod, tiered_allowed
from .strategies import tier_probe_ports, tiered_cluster_st

TIER_KINDS = ("ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy")


def check_against_reference(
    objs: list[dict[str, Any]], analyzer: Analyzer, direction: str = "combined"
) -> None:
    reach = analyzer.analyze(level="workload", direction=direction)  # type: ignore[arg-type]
    conns = {(c.src.key, c.dst.key): c.conns for c in reach.connections}
    ns_labels = {
        o["metadata"]["name"]: o["metadata"]["labels"] for o in objs if o["kind"] == "Namespace"
    }
    policies = [o for o in objs if o["kind"] == "NetworkPolicy"]
    tiers = [o for o in objs if o["kind"] in TIER_KINDS]
    nodes = [o for o in objs if o["kind"] == "Node"]
    raw_pods = {
        f"{o['metadata']['namespace']}/{o['metadata']['name']}[Pod]": o
        for o in objs
        if o["kind"] == "Pod"
    }

    def side(key: str) -> list[RefPod | RefAddress]:
        if key in raw_pods:
            o = raw_pods[key]
            return [
                RefPod(
                    o["metadata"]["namespace"],
                    o["metadata"]["labels"],
                    o["spec"]["containers"][0]["ports"],
                    bool(o["spec"].get("hostNetwork")),
                )
            ]
        first, last = reach.node(key).ip_range  # type: ignore[union-attr]
        return [RefAddress(first), RefAddress(last)]

    probes = tier_probe_ports(objs)
    keys = [n.key for n in reach.nodes]
    for s in keys:
        for d in keys:
            if s == d or (s not in raw_pods and d not in raw_pods):
                continue
            if s not in raw_pods and reach.node(s).external_role == "destination":  # type: ignore[union-attr]
                continue
            if d not in raw_pods and reach.node(d).external_role == "source":  # type: ignore[union-attr]
                continue
            got = conns.get((s, d))
            for src in side(s):
                for dst in side(d):
                    for proto in ("TCP", "UDP", "SCTP"):
                        for port in probes:
                            want = tiered_allowed(
                                src, dst, proto, port, policies, tiers, ns_labels, nodes, direction
                            )
                            have = got is not None and got.allows(proto, port)
                            assert have == want, (
                                f"{direction} {s} => {d} {proto} {port}: fast={have} reference={want}"
                            )
            if direction == "combined" and (s in raw_pods or d in raw_pods):
                assert explain(analyzer.cluster, s, d, port=None).conns == (
                    got or ConnSet.none()
                ), f"explain {s} => {d}"


@settings(settings.get_profile("engine"))
@given(tiered_cluster_st())
def test_tiered_fast_path_agrees_with_reference_evaluator(objs: list[dict[str, Any]]) -> None:
    analyzer = Analyzer(build_cluster(objs))
    for direction in ("combined", "ingress", "egress"):
        check_against_reference(objs, analyzer, direction)
