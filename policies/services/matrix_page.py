"""The matrix page's data: the nodes in view and the allowed pairs as sparse rows.

A 1,000-workload cluster has over a million cells; the page draws them on a canvas from
this compact form (each distinct connection set once, each row as (column, set) pairs)
instead of a dense list of lists, which would be several megabytes of `null`s to send
and parse. Rows and columns outside the namespace filter are left out: a pair between
two nodes outside the filter would otherwise show as an empty cell, which reads as "no
connection". Built once per (cluster, state version, query) in this process, rendered
as the page's `<script type="application/json">` tag.

Above NETPOLUI_MATRIX_MAX_NODES rows the page embeds nothing and asks for a namespace
filter instead (5,000 workloads would be millions of cells in the page).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

from django.conf import settings

from ..models import Cluster
from . import page_cache, payloads

_SPLIT = 1 << 32  # packs (column, set) into one int for sorting
BIGGEST_NAMESPACES = 12


@dataclass(frozen=True)
class MatrixTooLarge:
    """A matrix over the size bound: its row count, the bound, and the biggest
    namespaces in view as (name, rows), biggest first."""

    nodes: int
    limit: int
    namespaces: list[tuple[str, int]]


def too_large(cluster: Cluster, query: payloads.ReachabilityQuery) -> MatrixTooLarge | None:
    """Whether the matrix of `query` has more rows than NETPOLUI_MATRIX_MAX_NODES, counted
    from the level's nodes without computing a pair."""
    nodes = payloads.level_nodes(cluster, query.level, query.group_by)
    if query.namespaces:
        wanted = set(query.namespaces)
        nodes = [n for n in nodes if n["namespace"] in wanted and not n["external"]]
    limit = settings.NETPOLUI_MATRIX_MAX_NODES
    if len(nodes) <= limit:
        return None
    sizes = Counter(n["namespace"] for n in nodes if n["namespace"] and not n["external"])
    return MatrixTooLarge(len(nodes), limit, sizes.most_common(BIGGEST_NAMESPACES))


def _build(cluster: Cluster, query: payloads.ReachabilityQuery) -> dict[str, Any]:
    nodes, edges, _members = payloads.matrix_view(cluster, query)
    index = {n.key: i for i, n in enumerate(nodes)}
    conns: list[Any] = []
    conns_index: dict[Any, int] = {}
    rows: list[list[int]] = [[] for _ in nodes]
    for src, dst, conn_set in edges:
        k = conns_index.get(conn_set)
        if k is None:
            k = conns_index[conn_set] = len(conns)
            conns.append(conn_set.to_json())
        rows[index[src.key]].append(index[dst.key] * _SPLIT + k)
    packed: list[list[int]] = []
    for row in rows:
        # (column, set) pairs sorted by column, so a row is drawn left to right
        row.sort()
        packed.append([x for cell in row for x in divmod(cell, _SPLIT)])
    return {
        "cluster": cluster.pk,
        "state_version": cluster.state_version,
        "level": query.level,
        "direction": query.direction,
        "nodes": [
            {
                "id": n.key,
                "label": payloads.node_label(n, query.level),
                "kind": n.kind,
                "namespace": n.namespace,
                **payloads.key_parts(n),
                "external": n.is_external,
                "external_role": n.external_role if n.is_external else None,
            }
            for n in nodes
        ],
        "conns": conns,
        "rows": packed,
        "counts": {"nodes": len(nodes), "edges": len(edges)},
    }


def matrix_page(cluster: Cluster, query: payloads.ReachabilityQuery) -> tuple[dict[str, Any], str]:
    """(payload, the payload as a safe `<script id="matrix-data">` tag) for the matrix page."""
    key = replace(query, format="matrix").cache_key(cluster) + ":page"
    return page_cache.page_data(key, "matrix-data", lambda: _build(cluster, query))
