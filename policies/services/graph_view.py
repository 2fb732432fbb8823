"""The graph page at any size: where it starts, namespaces opened one at a time, and the
edges that say nothing left to badges.

A cluster with hundreds of tiers is unreadable as one drawing, so the page starts at the
namespace level when the tier level has more than GROUP_LIMIT groups. A namespace is
opened ("expanded") into its tiers while the others stay single nodes: the pairs are
grouped by a mixed function (tier inside the opened namespaces, namespace elsewhere)
from the cells, like any aggregated level. A node whose every member may send anywhere
("open egress") reaches every node whose every member accepts anything ("open ingress")
on all ports: those edges are implied by the two badges and not listed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import engine
from ..models import Cluster
from . import engine_cache, page_cache, payloads

GROUP_LIMIT = 30
MAX_EXPANDED = 12  # namespaces opened at once: each adds its tiers to the drawing


def start_level(cluster: Cluster, group_by: str = "") -> str:
    """The level the graph page starts at: tier, or namespace when the tier level has
    more than GROUP_LIMIT groups."""
    tiers = [n for n in payloads.level_nodes(cluster, "tier", group_by) if not n["external"]]
    return "namespace" if len(tiers) > GROUP_LIMIT else "tier"


def _group_function(expanded: frozenset[str], group_by: str) -> Callable[[engine.Endpoint], str]:
    tier_of = payloads.group_function("tier", group_by)
    namespace_of = payloads.group_function("namespace")

    def group_of(endpoint: engine.Endpoint) -> str:
        if not endpoint.is_external and endpoint.namespace in expanded:
            return tier_of(endpoint)
        return namespace_of(endpoint)

    return group_of


def graph_payload(cluster: Cluster, query: payloads.ReachabilityQuery, expand: tuple[str, ...] = ()) -> dict[str, Any]:
    """The graph page's payload (the reachability payload's shape): at the namespace level
    with `expand`, those namespaces are opened into their tiers. Edges between two open
    nodes on all ports are left out and counted (`implied_edges`)."""
    return graph_page(cluster, query, expand)[0]


def graph_page(cluster: Cluster, query: payloads.ReachabilityQuery, expand: tuple[str, ...] = ()) -> tuple[dict[str, Any], str]:
    """(graph_payload, the payload as a safe `<script id="graph-data">` tag), built once
    per state version in this process."""
    expanded = tuple(sorted(set(expand)))[:MAX_EXPANDED] if query.level == "namespace" else ()
    key = f"{query.cache_key(cluster)}:graph:{','.join(expanded)}"

    def build() -> dict[str, Any]:
        if expanded:
            payload = _mixed(cluster, query, frozenset(expanded))
        else:
            payload = dict(payloads.reachability(cluster, query))
        payload = _with_badges(cluster, payload, query)
        payload["expanded"] = list(expanded)
        return payload

    return page_cache.page_data(key, "graph-data", build)


def _mixed(cluster: Cluster, query: payloads.ReachabilityQuery, expanded: frozenset[str]) -> dict[str, Any]:
    group_of = _group_function(expanded, query.group_by)
    table = engine_cache.pair_table(cluster, "workload", query.direction)
    members: dict[str, list[str]] = {}
    for node in table.nodes:
        members.setdefault(group_of(node), []).append(node.key)
    reach = table.group(group_of)
    edges = []
    for conn in reach.connections:
        conns = conn.conns
        if query.protocol or query.port is not None:
            conns = conns.restrict(query.protocol or None, query.port)
            if conns.is_empty:
                continue
        edges.append((conn.src, conn.dst, conns))
    nodes = list(reach.nodes)
    if query.namespaces:
        wanted = set(query.namespaces) | expanded
        edges = [e for e in edges if e[0].namespace in wanted or e[1].namespace in wanted]
        keep = {n.key for n in nodes if n.namespace in wanted}
        keep |= {e[0].key for e in edges} | {e[1].key for e in edges}
        nodes = [n for n in nodes if n.key in keep]
    node_dicts = []
    for n in nodes:
        level = "tier" if not n.is_external and n.namespace in expanded else "namespace"
        node_dicts.append(
            {
                "id": n.key,
                "label": payloads.node_label(n, "tier"),
                "kind": n.kind,
                "namespace": n.namespace,
                "labels": dict(n.labels),
                "pods": len(n.pods),
                "host_network": n.host_network,
                "ingress_isolated": n.ingress_isolated,
                "egress_isolated": n.egress_isolated,
                "external": n.is_external,
                "ip_range": list(n.ip_range) if n.ip_range else None,
                "members": sorted(members.get(n.key, [])),
                "level": "external" if n.is_external else level,
                **({"external_role": n.external_role} if n.is_external else {}),
            }
        )
    return {
        "cluster": cluster.pk,
        "state_version": cluster.state_version,
        "level": query.level,
        "direction": query.direction,
        "group_by": query.group_by or None,
        "tier_keys": payloads.tier_keys(query.group_by),
        "nodes": node_dicts,
        "edges": [
            {"source": s.key, "target": d.key, "conns": c.to_json(), "label": str(c)} for s, d, c in edges
        ],
        "counts": {"nodes": len(node_dicts), "edges": len(edges)},
    }


def _with_badges(cluster: Cluster, payload: dict[str, Any], query: payloads.ReachabilityQuery) -> dict[str, Any]:
    """Mark the nodes open in every member (per direction) and leave out the all-ports
    edges from an open-egress node to an open-ingress one (the badges say them)."""
    flags = _open_flags(cluster, payload, query)
    nodes = []
    for node in payload["nodes"]:
        open_egress, open_ingress = flags.get(node["id"], (False, False))
        nodes.append({**node, "open_egress": open_egress, "open_ingress": open_ingress})
    kept = []
    implied = 0
    for edge in payload["edges"]:
        if (
            edge["conns"] == "all"
            and flags.get(edge["source"], (False, False))[0]
            and flags.get(edge["target"], (False, False))[1]
        ):
            implied += 1
            continue
        kept.append(edge)
    out = {**payload, "nodes": nodes, "edges": kept, "implied_edges": implied}
    out["counts"] = {**payload["counts"], "drawn_edges": len(kept)}
    return out


def _open_flags(cluster: Cluster, payload: dict[str, Any], query: payloads.ReachabilityQuery) -> dict[str, tuple[bool, bool]]:
    """node id -> (every member egress-open, every member ingress-open). Only when no
    port or protocol filter narrows the edges (an all-ports edge is then not "all")."""
    if query.protocol or query.port is not None or query.level == "pod":
        return {}
    endpoints = {n.key: n for n in engine_cache.pair_table(cluster, "workload", query.direction).nodes}
    flags: dict[str, tuple[bool, bool]] = {}
    for node in payload["nodes"]:
        if node["external"]:
            continue
        members = [endpoints[k] for k in node.get("members") or [node["id"]] if k in endpoints]
        if not members:
            continue
        flags[node["id"]] = (
            query.direction != "ingress" and all(not m.egress_isolated for m in members),
            query.direction != "egress" and all(not m.ingress_isolated for m in members),
        )
    return flags


def explain_edge(
    cluster: Cluster, src: str, dst: str, *, expand: tuple[str, ...], group_by: str = "", direction: str = "combined", limit: int = 25
) -> dict[str, Any]:
    """Why an edge of a graph with opened namespaces exists: each member pair."""
    group_of = _group_function(frozenset(expand), group_by)
    table = engine_cache.pair_table(cluster, "workload", direction)
    pairs = [
        c
        for i, n in enumerate(table.nodes)
        if group_of(n) == src
        for c in table.connections(i, i + 1)
        if group_of(c.dst) == dst
    ]
    explained = [payloads.explain(cluster, c.src.key, c.dst.key, port=None, protocol=None) for c in pairs[:limit]]
    return {"pairs": explained, "truncated": len(pairs) > limit, "total": len(pairs)}
