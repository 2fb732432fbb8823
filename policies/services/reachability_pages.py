"""Reachability of a large cluster in pieces: pages of sources, the edges of one node, and
a summary (pair counts per namespace pair and per tier pair, the most open workloads).

Everything here reads the engine's implicit connection list (``engine.PairTable``), so a
page or a node costs its own pairs, not the whole list; the table is cached per cluster
state version beside the analyzer, the summary in Django's cache under the same version.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from typing import Any

from django.core.cache import cache

from .. import engine
from ..models import Cluster
from . import engine_cache, payloads

# Sources per page when the client does not say; the most a page may ask for.
DEFAULT_PAGE = 100
MAX_PAGE = 500
MOST_OPEN = 20


def _edge(c: engine.Connection, query: payloads.ReachabilityQuery) -> dict[str, Any] | None:
    conns = c.conns
    if query.protocol or query.port is not None:
        conns = conns.restrict(query.protocol or None, query.port)
        if conns.is_empty:
            return None
    return {"source": c.src.key, "target": c.dst.key, "conns": conns.to_json(), "label": str(conns)}


def _page_header(cluster: Cluster, query: payloads.ReachabilityQuery) -> dict[str, Any]:
    return {
        "cluster": cluster.pk,
        "state_version": cluster.state_version,
        "level": query.level,
        "direction": query.direction,
        "group_by": None,
        "tier_keys": [],
    }


def reachability_page(
    cluster: Cluster, query: payloads.ReachabilityQuery, offset: int, limit: int
) -> dict[str, Any]:
    """The edges whose sources are the `limit` source nodes from `offset` (in the
    connection-list order), and those nodes plus every node the edges reach. `page`
    says where the next page starts (null after the last) and how many sources there
    are. A namespace filter keeps the sources in those namespaces."""
    table = engine_cache.pair_table(cluster, query.level, query.direction)
    ranks = _source_ranks(table, query)
    chosen = ranks[offset : offset + limit]
    edges: list[dict[str, Any]] = []
    keys: set[str] = {table.nodes[i].key for i in chosen}
    for start, stop in _runs(chosen):
        for c in table.connections(start, stop):
            edge = _edge(c, query)
            if edge is not None:
                edges.append(edge)
                keys.add(c.dst.key)
    nodes = [payloads.node_payload(n, query, None) for n in table.nodes if n.key in keys]
    following = offset + limit if offset + limit < len(ranks) else None
    return {
        **_page_header(cluster, query),
        "nodes": nodes,
        "counts": {"nodes": len(nodes), "edges": len(edges)},
        "edges": edges,
        "page": {
            "offset": offset,
            "limit": limit,
            "sources": len(ranks),
            "next_offset": following,
        },
    }


def _source_ranks(table: engine.PairTable, query: payloads.ReachabilityQuery) -> list[int]:
    """The ranks of the source nodes a page chooses from: those in the namespace filter."""
    wanted = set(query.namespaces)
    if not wanted:
        return list(range(len(table.nodes)))
    return [i for i, n in enumerate(table.nodes) if n.namespace in wanted]


def source_count(cluster: Cluster, query: payloads.ReachabilityQuery) -> int:
    """How many source nodes the pages of `query` (workload or pod level) go through."""
    return len(_source_ranks(engine_cache.pair_table(cluster, query.level, query.direction), query))


def reachability_page_json(
    cluster: Cluster, query: payloads.ReachabilityQuery, offset: int, limit: int, *, gzipped: bool = False
) -> tuple[str, bytes]:
    """(cache key, `reachability_page` rendered as compact JSON, gzip-compressed if asked),
    kept in this process under the cluster's state version: a repeated page costs a
    lookup, not its pairs again."""
    key = f"{query.cache_key(cluster)}:page:{offset}:{limit}"
    plain = engine_cache.rendered_pages.get(
        (key, "plain"),
        lambda: json.dumps(reachability_page(cluster, query, offset, limit), separators=(",", ":")).encode(),
    )
    if not gzipped:
        return key, plain
    return key, engine_cache.rendered_pages.get((key, "gzip"), lambda: gzip.compress(plain, compresslevel=3, mtime=0))


def _runs(ranks: list[int]) -> list[tuple[int, int]]:
    """Consecutive ranks as [start, stop) ranges."""
    out: list[tuple[int, int]] = []
    for r in ranks:
        if out and out[-1][1] == r:
            out[-1] = (out[-1][0], r + 1)
        else:
            out.append((r, r + 1))
    return out


def node_edges(cluster: Cluster, query: payloads.ReachabilityQuery, node: str) -> dict[str, Any]:
    """The edges from and to one node (its row and its column), and their other ends.
    Raises UnknownEndpoint when `node` is no node of this level."""
    table = engine_cache.pair_table(cluster, query.level, query.direction)
    rank = table.rank(node)
    if rank is None:
        raise payloads.UnknownEndpoint(f"{node!r} is not a node of the {query.level} level")
    edges = []
    keys = {node}
    for c in [*table.row(node), *table.column(node)]:
        edge = _edge(c, query)
        if edge is not None:
            edges.append(edge)
            keys.update((c.src.key, c.dst.key))
    nodes = [payloads.node_payload(n, query, None) for n in table.nodes if n.key in keys]
    return {
        **_page_header(cluster, query),
        "node": node,
        "nodes": nodes,
        "counts": {"nodes": len(nodes), "edges": len(edges)},
        "edges": edges,
    }


def summary(cluster: Cluster, direction: str = "combined", group_by: str = "") -> dict[str, Any]:
    """Workload pairs counted per namespace pair and per tier pair (with what the pairs
    allow together), the workloads reachable from the most sources and those reaching
    the most destinations, and the totals. Computed once per state version."""
    key = f"summary:{cluster.pk}:{cluster.state_version}:{direction}:{group_by}"
    found = cache.get(key)
    if found is not None:
        return found  # type: ignore[no-any-return]
    table = engine_cache.pair_table(cluster, "workload", direction)
    payload = {
        "cluster": cluster.pk,
        "state_version": cluster.state_version,
        "direction": direction,
        "totals": {
            "workloads": sum(1 for n in table.nodes if not n.is_external),
            "address_ranges": sum(1 for n in table.nodes if n.is_external),
            "namespaces": len({n.namespace for n in table.nodes if not n.is_external}),
            "pairs": table.count(),
        },
        "namespace_pairs": _group_pairs(table, payloads.group_function("namespace")),
        "tier_pairs": _group_pairs(table, payloads.group_function("tier", group_by)),
        **_most_open(table),
    }
    cache.set(key, payload, timeout=3600)
    return payload


def _group_pairs(
    table: engine.PairTable, group_of: Any, limit: int = 200
) -> list[dict[str, Any]]:
    """Group pairs by how many endpoint pairs they hold, most first (at most `limit`)."""
    group_index: dict[str, int] = {}
    names: list[str] = []
    of_rank: list[int] = []
    for n in table.nodes:
        g = group_of(n)
        if g not in group_index:
            group_index[g] = len(names)
            names.append(g)
        of_rank.append(group_index[g])
    rank = {n.key: i for i, n in enumerate(table.nodes)}
    counts: Counter[tuple[int, int]] = Counter()
    for src, dst_groups in table.rows(lambda d, c: of_rank[rank[d.key]]):
        g = of_rank[rank[src.key]]
        for gd, k in Counter(dst_groups).items():
            counts[(g, gd)] += k
    conns = {(c.src.key, c.dst.key): c.conns for c in table.group(group_of).connections}
    rows = []
    for (gs, gd), k in counts.most_common(limit):
        cs = conns.get((names[gs], names[gd]), engine.ConnSet.none())
        rows.append(
            {
                "source": names[gs],
                "target": names[gd],
                "pairs": k,
                "conns": cs.to_json(),
                "label": str(cs),
            }
        )
    return rows


def _most_open(table: engine.PairTable) -> dict[str, list[dict[str, Any]]]:
    outbound, inbound = table.degrees()

    def top(degree: list[int]) -> list[dict[str, Any]]:
        ranked = sorted(
            (i for i, n in enumerate(table.nodes) if not n.is_external and degree[i]),
            key=lambda i: (-degree[i], table.nodes[i].key),
        )[:MOST_OPEN]
        return [
            {
                "id": table.nodes[i].key,
                "namespace": table.nodes[i].namespace,
                "name": table.nodes[i].name,
                "kind": table.nodes[i].kind,
                "peers": degree[i],
                "ingress_isolated": table.nodes[i].ingress_isolated,
                "egress_isolated": table.nodes[i].egress_isolated,
            }
            for i in ranked
        ]

    return {"most_reachable": top(inbound), "most_reaching": top(outbound)}
