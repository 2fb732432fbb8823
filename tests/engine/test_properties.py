"""Property tests: the signature-class fast path against the naive reference evaluator.

Random small clusters and policies (tests/engine/strategies.py). For every listed
endpoint pair and a set of probe ports around every boundary, the fast path's ConnSet
must agree with the reference. Derived analyzers are checked in test_incremental.py.
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings

from policies.engine import Analyzer, ConnSet, build_cluster, explain

from .reference import RefAddress, RefPod, allowed
from .strategies import cluster_st, probe_ports


@settings(settings.get_profile("engine"))
@given(cluster_st())
def test_fast_path_agrees_with_reference_evaluator(objs: list[dict[str, Any]]) -> None:
    cluster = build_cluster(objs)
    reach = Analyzer(cluster).analyze(level="workload")
    conns = {(c.src.key, c.dst.key): c.conns for c in reach.connections}
    ns_labels = {
        o["metadata"]["name"]: o["metadata"]["labels"] for o in objs if o["kind"] == "Namespace"
    }
    policies = [o for o in objs if o["kind"] == "NetworkPolicy"]
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
                )
            ]
        first, last = reach.node(key).ip_range  # type: ignore[union-attr]
        return [RefAddress(first), RefAddress(last)]

    probes = probe_ports(objs)
    nodes = [n.key for n in reach.nodes]
    for s in nodes:
        for d in nodes:
            if s == d or (s not in raw_pods and d not in raw_pods):
                continue
            # External ranges are cut per direction: sources by ingress ipBlocks,
            # destinations by egress ipBlocks.
            if s not in raw_pods and reach.node(s).external_role == "destination":  # type: ignore[union-attr]
                continue
            if d not in raw_pods and reach.node(d).external_role == "source":  # type: ignore[union-attr]
                continue
            got = conns.get((s, d))
            for src in side(s):
                for dst in side(d):
                    for proto in ("TCP", "UDP", "SCTP"):
                        for port in probes:
                            want = allowed(src, dst, proto, port, policies, ns_labels)
                            have = got is not None and got.allows(proto, port)
                            assert have == want, (
                                f"{s} => {d} {proto} {port}: fast={have} reference={want}"
                            )
            # explain() evaluates the pair on its own path (selectors matched directly).
            if s in raw_pods and d in raw_pods:
                assert explain(cluster, s, d, port=None).conns == (got or ConnSet.none()), (
                    f"explain {s} => {d}"
                )
