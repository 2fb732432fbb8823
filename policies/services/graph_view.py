"""The graph page at any size: where it starts, namespaces opened one at a time, and the
edges that say nothing left to badges.

A cluster with hundreds of tiers is unreadable as one drawing, so the page starts at the
namespace level when the tier level has more than GROUP_LIMIT groups. A namespace is
opened ("expanded") into its tiers while the others stay single nodes: the pairs are
grouped by a mixed function (tier inside the opened namespaces, namespace elsewhere)
from the cells, like any aggregated level. A tier of an opened namespace can be opened in
turn ("expand_tier", by its id "ns/key=value") into its workloads; the edges are always
aggregated between whatever is drawn, collapsed or not. A node whose every member may send anywhere
("open egress") reaches every node whose every member accepts anything ("open ingress")
on all ports: those edges are implied by the two badges and not listed.

Address ranges are named by the ipBlocks written in the policies ("10.0.0.0/8",
"0.0.0.0/0 except 10.0.0.0/8, 172.16.0.0/12"): the engine cuts the address space into
disjoint ranges wherever any two blocks differ, and the ranges that the same most
specific block covers are drawn as one node named by that block, never by computed
boundaries such as 198.51.100.128-203.0.112.255.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from .. import engine
from ..engine.ipranges import IPRange
from ..models import Cluster
from . import engine_cache, page_cache, payloads, tier_pages
from .pages import policy_ids

GROUP_LIMIT = 30
MAX_EXPANDED = 12  # namespaces opened at once: each adds its tiers to the drawing
MAX_EXPANDED_TIERS = 12  # tiers opened at once (inside opened namespaces) into their workloads


def start_level(cluster: Cluster, group_by: str = "") -> str:
    """The level the graph page starts at: tier, or namespace when the tier level has
    more than GROUP_LIMIT groups."""
    tiers = [n for n in payloads.level_nodes(cluster, "tier", group_by) if not n["external"]]
    return "namespace" if len(tiers) > GROUP_LIMIT else "tier"


def _group_function(
    expanded: frozenset[str], group_by: str, open_tiers: frozenset[str] = frozenset()
) -> Callable[[engine.Endpoint], str]:
    tier_of = payloads.group_function("tier", group_by)
    namespace_of = payloads.group_function("namespace")

    def group_of(endpoint: engine.Endpoint) -> str:
        if not endpoint.is_external and endpoint.namespace in expanded:
            tier = tier_of(endpoint)
            return endpoint.key if tier in open_tiers else tier
        return namespace_of(endpoint)

    return group_of


def graph_payload(
    cluster: Cluster, query: payloads.ReachabilityQuery, expand: tuple[str, ...] = (), expand_tier: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The graph page's payload (the reachability payload's shape): at the namespace level
    with `expand`, those namespaces are opened into their tiers, and with `expand_tier`
    those tiers (of opened namespaces) into their workloads. Edges between two open
    nodes on all ports are left out and counted (`implied_edges`)."""
    return graph_page(cluster, query, expand, expand_tier)[0]


def open_tiers(expand: Iterable[str], expand_tier: Iterable[str]) -> tuple[str, ...]:
    """The tier ids of `expand_tier` that can be open: those of an opened namespace."""
    namespaces = set(expand)
    return tuple(sorted({t for t in expand_tier if t.split("/", 1)[0] in namespaces and "/" in t}))[:MAX_EXPANDED_TIERS]


def graph_page(
    cluster: Cluster, query: payloads.ReachabilityQuery, expand: tuple[str, ...] = (), expand_tier: tuple[str, ...] = ()
) -> tuple[dict[str, Any], str]:
    """(graph_payload, the payload as a safe `<script id="graph-data">` tag), built once
    per state version in this process."""
    expanded = tuple(sorted(set(expand)))[:MAX_EXPANDED] if query.level == "namespace" else ()
    tiers = open_tiers(expanded, expand_tier)
    key = f"{query.cache_key(cluster)}:graph:{','.join(expanded)}:{','.join(tiers)}"

    def build() -> dict[str, Any]:
        if expanded:
            payload = _mixed(cluster, query, frozenset(expanded), frozenset(tiers))
        else:
            payload = _with_pair_counts(cluster, dict(payloads.reachability(cluster, query)), query)
        payload = _merge_ranges(payload, range_names(engine_cache.engine_cluster(cluster), payload["nodes"]))
        payload = _with_badges(cluster, payload, query)
        payload["expanded"] = list(expanded)
        payload["expanded_tiers"] = list(tiers)
        return payload

    return page_cache.page_data(key, "graph-data", build)


def _mixed(
    cluster: Cluster, query: payloads.ReachabilityQuery, expanded: frozenset[str], tiers: frozenset[str] = frozenset()
) -> dict[str, Any]:
    group_of = _group_function(expanded, query.group_by, tiers)
    tier_of = payloads.group_function("tier", query.group_by)
    table = engine_cache.pair_table(cluster, "workload", query.direction)
    members: dict[str, list[str]] = {}
    opened_in: dict[str, str] = {}  # workload key -> the opened tier it is drawn inside
    for node in table.nodes:
        members.setdefault(group_of(node), []).append(node.key)
        if not node.is_external and node.namespace in expanded and tier_of(node) in tiers:
            opened_in[node.key] = tier_of(node)
    reach = table.group(group_of)
    counts = table.pair_counts(group_of, _port_filter(query))
    edges = payloads.port_filtered_edges(reach, query)
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
        if n.key in opened_in:
            level = "workload"
        node_dicts.append(
            {
                "id": n.key,
                "label": payloads.node_label(n, "tier"),
                "kind": n.kind,
                "namespace": n.namespace,
                **payloads.key_parts(n),
                "labels": dict(n.labels),
                "pods": len(n.pods),
                "host_network": n.host_network,
                "ingress_isolated": n.ingress_isolated,
                "egress_isolated": n.egress_isolated,
                "external": n.is_external,
                "ip_range": list(n.ip_range) if n.ip_range else None,
                "members": sorted(members.get(n.key, [])),
                "level": "external" if n.is_external else level,
                **({"tier": opened_in[n.key]} if n.key in opened_in else {}),
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
            {"source": s.key, "target": d.key, "conns": c.to_json(), "label": str(c), "pairs": counts[(s.key, d.key)]}
            for s, d, c in edges
        ],
        "counts": {"nodes": len(node_dicts), "edges": len(edges)},
    }


def _port_filter(query: payloads.ReachabilityQuery) -> Callable[[engine.ConnSet], engine.ConnSet] | None:
    if not query.protocol and query.port is None:
        return None
    return lambda conns: conns.restrict(query.protocol or None, query.port)


def _with_pair_counts(cluster: Cluster, payload: dict[str, Any], query: payloads.ReachabilityQuery) -> dict[str, Any]:
    """The reachability payload with each edge's `pairs`: how many pairs of the base level
    (workloads; pods at the pod level) it stands for, 1 below the tier level."""
    if query.level in ("tier", "namespace"):
        group_of = payloads.group_function(query.level, query.group_by)
        table = engine_cache.pair_table(cluster, "workload", query.direction)
        counts = table.pair_counts(group_of, _port_filter(query))
        edges = [{**e, "pairs": counts[(e["source"], e["target"])]} for e in payload["edges"]]
    else:
        edges = [{**e, "pairs": 1} for e in payload["edges"]]
    return {**payload, "edges": edges}


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
    cluster: Cluster,
    src: str,
    dst: str,
    *,
    expand: tuple[str, ...],
    expand_tier: tuple[str, ...] = (),
    group_by: str = "",
    direction: str = "combined",
    port: int | str | None = None,
    protocol: str | None = None,
    limit: int = 25,
) -> dict[str, Any]:
    """Why an edge of a graph with opened namespaces (and tiers) exists: each member pair
    (under a port or protocol filter, each pair allowing it)."""
    group_of = _group_function(frozenset(expand), group_by, frozenset(open_tiers(expand, expand_tier)))
    return payloads.explain_member_pairs(
        cluster, group_of, src, dst, direction=direction, port=port, protocol=protocol, limit=limit
    )


def explain_graph_edge(
    cluster: Cluster,
    src: str,
    dst: str,
    *,
    level: str = "workload",
    group_by: str = "",
    direction: str = "combined",
    expand: tuple[str, ...] = (),
    expand_tier: tuple[str, ...] = (),
    port: int | str | None = None,
    protocol: str | None = None,
    limit: int = 25,
) -> dict[str, Any]:
    """Why an edge of the graph page (or a matrix cell) exists, at its level, under the
    page's port filter: an address range node named by an ipBlock stands for its ranges,
    each explained. `aggregated` says the edge stands for several pairs (`total` of them)."""
    sources = _range_side(cluster, src, "source")
    targets = _range_side(cluster, dst, "destination")
    if level not in ("tier", "namespace"):
        return _explain_pairs(cluster, sources, targets, level, direction, port, protocol, limit)
    pairs: list[dict[str, Any]] = []
    truncated = False
    total = 0
    for s in sources:
        for d in targets:
            if level == "namespace" and expand:
                one = explain_edge(
                    cluster, s, d, expand=expand, expand_tier=expand_tier, group_by=group_by,
                    direction=direction, port=port, protocol=protocol,
                )
            else:
                one = payloads.explain_edge(
                    cluster, s, d, level=level, group_by=group_by, direction=direction, port=port, protocol=protocol
                )
            pairs += one["pairs"]
            truncated = truncated or bool(one["truncated"])
            total += int(one["total"])
    return {"pairs": pairs[:limit], "truncated": truncated or len(pairs) > limit, "total": total, "aggregated": True}


def _explain_pairs(
    cluster: Cluster,
    sources: list[str],
    targets: list[str],
    level: str,
    direction: str,
    port: int | str | None,
    protocol: str | None,
    limit: int,
) -> dict[str, Any]:
    """A workload (or pod) edge: its one pair explained, or for a node standing for several
    address ranges, each range's verdict and the `total` of pairs allowing the port. A
    port asked on any protocol is explained on the protocol the pair allows it on."""
    table = engine_cache.pair_table(cluster, "pod" if level == "pod" else "workload", direction)
    wanted = set(targets)
    allowed = {
        (c.src.key, c.dst.key): c.conns
        for s in sources
        for c in table.row(s)
        if c.dst.key in wanted and not payloads.on_port(c.conns, port, protocol).is_empty
    }
    pairs = [
        payloads.explain(
            cluster, s, d, port=port, protocol=payloads.pair_protocol(allowed.get((s, d), engine.ConnSet.none()), port, protocol)
        )
        for s in sources
        for d in targets
    ]
    if len(pairs) == 1:
        return {"pairs": pairs, "truncated": False}
    return {"pairs": pairs[:limit], "truncated": len(pairs) > limit, "total": len(allowed), "aggregated": True, "ranges": True}


def _range_side(cluster: Cluster, name: str, role: str) -> list[str]:
    """The address ranges the range node `name` stands for as a source (or destination)
    of pairs; [name] when it names no range node."""
    members = range_members(cluster, name)
    if not members:
        return [name]
    roles = {n["id"]: n.get("external_role") for n in payloads.level_nodes(cluster, "workload") if n["external"]}
    return [key for key in members if roles.get(key) in (role, "both")]


def range_members(cluster: Cluster, name: str) -> list[str]:
    """The address ranges (engine keys) a range node named `name` stands for; [] when
    `name` names no range node."""
    names: dict[str, str] = engine_cache.engine_models.get(
        (cluster.pk, cluster.state_version, "range-names"),
        lambda: range_names(engine_cache.engine_cluster(cluster), payloads.level_nodes(cluster, "workload")),
    )
    return [key for key, value in names.items() if value == name]


def range_panel(cluster: Cluster, name: str) -> dict[str, Any] | None:
    """What the panel of the range node `name` lists: every address range it stands for
    (`key`, `first`, `last` and the CIDRs that cover exactly it), every NetworkPolicy rule
    whose ipBlock holds one of them (`policies`) and every cluster-wide or CNI rule whose
    CIDRs do (`tier_rules`); None when `name` names no range node."""
    keys = set(range_members(cluster, name))
    if not keys:
        return None
    ranges = []
    spans = []
    for node in payloads.level_nodes(cluster, "workload"):
        if node["id"] in keys and node["ip_range"]:
            first, last = (ipaddress.ip_address(a) for a in node["ip_range"])
            cidrs = [str(n) for n in ipaddress.summarize_address_range(first, last)]
            ranges.append({"key": node["id"], "first": str(first), "last": str(last), "cidrs": cidrs})
            spans.append((first.version, int(first), int(last)))
    model = engine_cache.engine_cluster(cluster)
    naming = _rules_naming(model, spans)
    ids = policy_ids(cluster, {rule["key"] for rule in naming})
    tier_naming = _tier_rules_naming(model, spans)
    tier_ids = tier_pages.tier_policy_ids(cluster) if tier_naming else {}
    return {
        "ranges": ranges,
        "policies": [{**rule, "id": ids.get(rule["key"])} for rule in naming],
        "tier_rules": [{**rule, "id": tier_ids.get(rule["key"])} for rule in tier_naming],
    }


def _holds(ranges: Iterable[IPRange], spans: Sequence[tuple[int, int, int]]) -> bool:
    return any(r.family == family and r.first <= lo and hi <= r.last for family, lo, hi in spans for r in ranges)


def _rules_naming(model: engine.Cluster, spans: Sequence[tuple[int, int, int]]) -> list[dict[str, Any]]:
    """Each (policy, direction, rule index, ipBlock) whose ipBlock holds one of the
    (family, first, last) address spans."""
    out = []
    for policy in model.policies:
        for direction in ("ingress", "egress"):
            for index, rule in enumerate(policy.rules(direction)):
                for peer in rule.peers:
                    block = peer.ip_block
                    if block is not None and _holds(block.ranges, spans):
                        out.append({"key": policy.key, "direction": direction, "rule": index, "block": str(block)})
    return out


def _tier_rules_naming(model: engine.Cluster, spans: Sequence[tuple[int, int, int]]) -> list[dict[str, Any]]:
    """Each cluster-wide rule (`networks`) and CNI rule (nets, CIDRs, ipBlocks) whose
    CIDRs hold one of the address spans (the cluster-wide policies in evaluation order, then
    the CNI ones in theirs): `key` of its policy, `tier`, `rule` (its position, as
    explanations name it) and `peer` (the CIDRs as written)."""
    out: dict[tuple[str, str, str], dict[str, Any]] = {}
    cni_policies: list[engine.ClusterPolicy] = sorted(model.cni_tier_policies, key=lambda p: p.order)
    for policy in [*model.cluster_policies, *cni_policies]:
        for direction in ("ingress", "egress"):
            for rule in policy.rules(direction):
                for peer in rule.peers:
                    if peer.kind in ("networks", "cni") and _holds(peer.ranges, spans):
                        label = rule.label(direction)
                        out.setdefault(
                            (policy.key, label, str(peer)),
                            {"key": policy.key, "tier": policy.tier, "rule": label, "peer": str(peer)},
                        )
    return list(out.values())


# --- address ranges named by the policies' ipBlocks ------------------------------------------


def _ip_blocks(model: engine.Cluster) -> list[engine.IPBlock]:
    blocks: dict[str, engine.IPBlock] = {}
    for policy in model.policies:
        for rule in (*policy.ingress, *policy.egress):
            for peer in rule.peers:
                if peer.ip_block is not None:
                    blocks.setdefault(str(peer.ip_block), peer.ip_block)
    return list(blocks.values())


def _span(block: engine.IPBlock) -> int:
    return sum(r.last - r.first + 1 for r in block.ranges)


def range_names(model: engine.Cluster, nodes: Iterable[Mapping[str, Any]]) -> dict[str, str]:
    """External node id -> the name of its address range: the most specific ipBlock of
    the policies that holds the whole range, else the smallest `except` CIDR holding it,
    else "other IPv4 (IPv6) addresses"."""
    blocks = sorted(_ip_blocks(model), key=_span)
    excepts = sorted(
        {ipaddress.ip_network(e, strict=False) for b in blocks for e in b.excepts},
        key=lambda n: n.num_addresses,
    )
    names: dict[str, str] = {}
    for node in nodes:
        if not node["external"] or not node.get("ip_range"):
            continue
        first, last = (ipaddress.ip_address(a) for a in node["ip_range"])
        family, lo, hi = first.version, int(first), int(last)
        name = next(
            (
                str(b)
                for b in blocks
                if any(r.family == family and r.first <= lo and hi <= r.last for r in b.ranges)
            ),
            "",
        )
        if not name:
            name = next(
                (
                    str(n)
                    for n in excepts
                    if n.version == family and int(n.network_address) <= lo and hi <= int(n.broadcast_address)
                ),
                f"other IPv{family} addresses",
            )
        names[node["id"]] = name
    return names


def _merge_ranges(payload: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The payload with the address ranges of one name drawn as one node (its edges the
    union of theirs, standing for the sum of their pairs); `members` lists the ranges."""
    if not names:
        return payload
    nodes: list[dict[str, Any]] = []
    merged: dict[str, dict[str, Any]] = {}
    for node in payload["nodes"]:
        name = names.get(node["id"])
        if name is None:
            nodes.append(node)
            continue
        if name not in merged:
            merged[name] = {
                **node,
                "id": name,
                "label": name,
                "kind": "External",
                "ip_range": None,
                "ranges": [],
                "members": [],
                "named_by_policy": not name.startswith("other "),
            }
            nodes.append(merged[name])
        group = merged[name]
        group["members"].append(node["id"])
        group["ranges"].append(node["ip_range"])
        if group.get("external_role") != node.get("external_role"):
            group["external_role"] = ""  # a source in one range, a destination in another
    merged_edges: dict[tuple[str, str], tuple[engine.ConnSet, int]] = {}
    for edge in payload["edges"]:
        key = (names.get(edge["source"], edge["source"]), names.get(edge["target"], edge["target"]))
        conns = engine.ConnSet.from_json(edge["conns"])
        if key in merged_edges:
            union, pairs = merged_edges[key]
            merged_edges[key] = (union | conns, pairs + edge["pairs"])
        else:
            merged_edges[key] = (conns, edge["pairs"])
    edges = [
        {"source": s, "target": d, "conns": c.to_json(), "label": str(c), "pairs": n}
        for (s, d), (c, n) in merged_edges.items()
    ]
    return {**payload, "nodes": nodes, "edges": edges, "counts": {**payload["counts"], "nodes": len(nodes), "edges": len(edges)}}
