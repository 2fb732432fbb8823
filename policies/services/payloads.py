"""The answers pages and the API send: reachability (nodes, edges, matrix), explanations,
findings, selections and exports of a mirrored cluster.

Payloads are cached in Django's cache under the cluster's state version, so other
processes reuse them until the next sync write.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import QuerySet

from .. import engine
from ..choices import DIRECTIONS, FORMATS, LEVELS
from ..engine.ports import ConnSetJSON
from ..models import Cluster, ClusterPolicy, Namespace, NetworkPolicy, Pod, Workload
from .cni_mirror import cni_object_ids
from .cni_mirror import export_objects as cni_export_objects
from .engine_cache import (
    analyzer,
    base_reachability,
    engine_cluster,
    engine_models,
    pair_table,
    rendered_json,
)
from .payload_types import KeyParts, NodePayload, ReachabilityPayload

# --- reachability queries ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReachabilityQuery:
    level: str = "workload"
    group_by: str = ""
    namespaces: tuple[str, ...] = ()
    protocol: str = ""
    port: int | None = None
    direction: str = "combined"
    format: str = "edges"

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}")
        if self.direction not in DIRECTIONS:
            raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}")
        if self.format not in FORMATS:
            raise ValueError(f"format must be one of {', '.join(FORMATS)}")
        if self.protocol and self.protocol not in engine.PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(engine.PROTOCOLS)}")
        if self.port is not None and not 1 <= self.port <= 65535:
            raise ValueError("port must be between 1 and 65535")

    def cache_key(self, cluster: Cluster) -> str:
        digest = hashlib.sha1(json.dumps(asdict(self), sort_keys=True).encode()).hexdigest()[:16]
        return f"reach:v2:{cluster.pk}:{cluster.state_version}:{digest}"


def tier_keys(group_by: str = "") -> list[str]:
    return [group_by] if group_by else list(settings.NETPOLUI_TIER_KEYS)


def tier_of(endpoint: engine.Endpoint, keys: Sequence[str]) -> tuple[str, str] | None:
    """(label key, value) that puts the endpoint in a tier, or None."""
    for key in keys:
        value = endpoint.labels.get(key)
        if value:
            return key, value
    return None


def group_function(level: str, group_by: str = "") -> Callable[[engine.Endpoint], str]:
    keys = tier_keys(group_by)

    def group_of(endpoint: engine.Endpoint) -> str:
        if endpoint.is_external:
            return endpoint.key
        if level == "namespace":
            return endpoint.namespace
        tier = tier_of(endpoint, keys)
        if tier is None:
            return endpoint.key  # ungrouped: the workload stands alone
        return f"{endpoint.namespace}/{tier[0]}={tier[1]}"

    return group_of


def reachability(cluster: Cluster, query: ReachabilityQuery) -> ReachabilityPayload:
    """The payload of GET /api/clusters/{id}/reachability/ (cached per state version)."""
    key = query.cache_key(cluster)
    cached = cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    payload = _compute_reachability(cluster, query)
    cache.set(key, payload, timeout=3600)
    return payload





def reachability_json(cluster: Cluster, query: ReachabilityQuery, *, gzipped: bool = False) -> tuple[str, bytes]:
    """(cache key, the payload rendered as compact JSON, gzip-compressed if asked) for the
    API. The workload level of a 1,000-workload cluster is over 20 MB of JSON: rendering
    it again, or unpickling it from Redis, would cost more than the 300 ms a repeated
    request may take, so the bytes are kept under the same state version in this process
    and, compressed (a tenth of the size), in Django's cache for the other processes."""
    key = query.cache_key(cluster) + ":json"

    def shared() -> bytes:
        data = cache.get(key + ":gz")
        if data is None:
            payload = cache.get(query.cache_key(cluster)) or _compute_reachability(cluster, query)
            plain = json.dumps(payload, separators=(",", ":")).encode()
            data = gzip.compress(plain, compresslevel=3, mtime=0)
            cache.set(key + ":gz", data, timeout=3600)
        return data  # type: ignore[no-any-return]

    packed: bytes = rendered_json.get((key, "gzip"), shared)
    if gzipped:
        return key, packed
    return key, rendered_json.get((key, "plain"), lambda: gzip.decompress(packed))


def port_filtered_edges(
    reach: engine.Reachability, query: ReachabilityQuery
) -> list[tuple[engine.Endpoint, engine.Endpoint, engine.ConnSet]]:
    """Each connection as (source, destination, connections), narrowed to the query's
    protocol and port; connections left empty by that are dropped."""
    edges: list[tuple[engine.Endpoint, engine.Endpoint, engine.ConnSet]] = []
    for conn in reach.connections:
        conns = conn.conns
        if query.protocol or query.port is not None:
            conns = conns.restrict(query.protocol or None, query.port)
            if conns.is_empty:
                continue
        edges.append((conn.src, conn.dst, conns))
    return edges


def _view(
    cluster: Cluster, query: ReachabilityQuery
) -> tuple[
    engine.Reachability,
    list[engine.Endpoint],
    list[tuple[engine.Endpoint, engine.Endpoint, engine.ConnSet]],
    dict[str, list[str]],
]:
    """The nodes and edges a reachability query shows, after grouping and filters."""
    reach = base_reachability(cluster, query.level, query.direction)
    members: dict[str, list[str]] = {}
    if query.level in ("tier", "namespace"):
        group_of = group_function(query.level, query.group_by)
        for node in reach.nodes:
            members.setdefault(group_of(node), []).append(node.key)
        # Aggregated from the cells: the workload pairs are never listed.
        reach = pair_table(cluster, "workload", query.direction).group(group_of)

    edges = port_filtered_edges(reach, query)

    wanted = set(query.namespaces)
    if wanted:
        edges = [e for e in edges if e[0].namespace in wanted or e[1].namespace in wanted]
        keep = {n.key for n in reach.nodes if n.namespace in wanted}
        keep |= {e[0].key for e in edges} | {e[1].key for e in edges}
        nodes = [n for n in reach.nodes if n.key in keep]
    else:
        nodes = list(reach.nodes)
    return reach, nodes, edges, members


def matrix_view(
    cluster: Cluster, query: ReachabilityQuery
) -> tuple[list[engine.Endpoint], list[tuple[engine.Endpoint, engine.Endpoint, engine.ConnSet]], dict[str, list[str]]]:
    """The rows (= columns) and allowed pairs of a matrix: with a namespace filter, only
    the nodes of those namespaces and the address ranges that talk with them. A node
    outside the filter is left out rather than shown with blank cells, which would read
    as "no connection" for pairs that were simply not looked at."""
    _reach, nodes, edges, members = _view(cluster, query)
    if not query.namespaces:
        return nodes, edges, members
    wanted = set(query.namespaces)

    def inside(node: engine.Endpoint) -> bool:
        return not node.is_external and node.namespace in wanted

    edges = [
        (src, dst, conns)
        for src, dst, conns in edges
        if (inside(src) or inside(dst)) and (inside(src) or src.is_external) and (inside(dst) or dst.is_external)
    ]
    ends = {e[0].key for e in edges} | {e[1].key for e in edges}
    return [n for n in nodes if inside(n) or (n.is_external and n.key in ends)], edges, members


def _compute_reachability(cluster: Cluster, query: ReachabilityQuery) -> ReachabilityPayload:
    if query.format == "matrix":
        nodes, edges, members = matrix_view(cluster, query)
    else:
        _reach, nodes, edges, members = _view(cluster, query)
    node_dicts = [node_payload(n, query, members.get(n.key)) for n in nodes]
    payload: ReachabilityPayload = {
        "cluster": cluster.pk,
        "state_version": cluster.state_version,
        "level": query.level,
        "direction": query.direction,
        "group_by": query.group_by or None,
        "tier_keys": tier_keys(query.group_by) if query.level == "tier" else [],
        "nodes": node_dicts,
        "counts": {"nodes": len(node_dicts), "edges": len(edges)},
    }
    if query.format == "matrix":
        index = {n.key: i for i, n in enumerate(nodes)}
        matrix: list[list[ConnSetJSON | None]] = [[None] * len(nodes) for _ in nodes]
        for src, dst, conns in edges:
            matrix[index[src.key]][index[dst.key]] = conns.to_json()
        payload["matrix"] = matrix
    else:
        payload["edges"] = [
            {"source": src.key, "target": dst.key, "conns": conns.to_json(), "label": str(conns)}
            for src, dst, conns in edges
        ]
    return payload


def level_nodes(cluster: Cluster, level: str, group_by: str = "") -> list[NodePayload]:
    """The nodes of a level as the reachability payload has them, without its edges: what
    pickers and search boxes list. No pair is computed (the overview of a large cluster
    would otherwise load every workload pair to list the workload names)."""
    query = ReachabilityQuery(level=level, group_by=group_by if level == "tier" else "")

    def build() -> list[NodePayload]:
        base = analyzer(cluster).analyze(level="pod" if level == "pod" else "workload")
        members: dict[str, list[str]] = {}
        nodes: list[engine.Endpoint] = list(base.nodes)
        if level in ("tier", "namespace"):
            group_of = group_function(level, query.group_by)
            for node in nodes:
                members.setdefault(group_of(node), []).append(node.key)
            bare = engine.Reachability(nodes, [], level=base.level, direction=base.direction)
            nodes = engine.group_reachability(bare, group_of).nodes
        return [node_payload(n, query, members.get(n.key)) for n in nodes]

    return engine_models.get(
        (cluster.pk, cluster.state_version, "nodes", level, query.group_by), build
    )


def node_label(node: engine.Endpoint, level: str) -> str:
    """A node's short name: a tier's label value, else the endpoint's name."""
    if node.kind == "Group" and not node.is_external and level == "tier" and "=" in node.key:
        return node.key.split("=", 1)[1]
    return node.name


def key_parts(node: engine.Endpoint) -> KeyParts:
    """(name, object_kind) of a node's key, so clients never parse keys: the object's name
    and kind when the key names one (a tier-level group of an untiered workload too), the
    range of an external key ("10.0.0.0-10.255.255.255") and "", else the group's name and ""."""
    named = engine.parse_object_key(node.key)
    if named is not None:
        return {"name": named[1], "object_kind": named[2]}
    return {"name": engine.external_range(node.key) or node.name, "object_kind": ""}


def node_payload(node: engine.Endpoint, query: ReachabilityQuery, members: list[str] | None) -> NodePayload:
    label = node_label(node, query.level)
    parts = key_parts(node)
    out: NodePayload = {
        "id": node.key,
        "label": label,
        "kind": node.kind,
        "namespace": node.namespace,
        "name": parts["name"],
        "object_kind": parts["object_kind"],
        "labels": dict(node.labels),
        "pods": len(node.pods),
        "host_network": node.host_network,
        "ingress_isolated": node.ingress_isolated,
        "egress_isolated": node.egress_isolated,
        "external": node.is_external,
        "ip_range": list(node.ip_range) if node.ip_range else None,
    }
    if node.is_external:
        out["external_role"] = node.external_role
    if members is not None:
        out["members"] = sorted(members)
    return out


# --- explanations --------------------------------------------------------------------------------


class UnknownEndpoint(ValueError):
    """src or dst names nothing in the cluster."""


def explain(
    cluster: Cluster, src: str, dst: str, *, port: int | str | None = None, protocol: str | None = "TCP"
) -> dict[str, Any]:
    """The verdict per direction with the policies and rules that decided it."""
    try:
        result = engine.explain(engine_cluster(cluster), src, dst, port=port, protocol=protocol)
    except engine.UnknownEndpoint as exc:
        raise UnknownEndpoint(str(exc)) from exc
    out = result.to_dict()
    out["text"] = result.render_text()
    return out


def explain_edge(
    cluster: Cluster,
    src: str,
    dst: str,
    *,
    level: str = "workload",
    group_by: str = "",
    direction: str = "combined",
    port: int | str | None = None,
    protocol: str | None = None,
    limit: int = 25,
) -> dict[str, Any]:
    """Why an edge of the graph exists: for a tier or namespace edge, each member pair
    (under a port or protocol filter, each pair allowing it, explained for it)."""
    if level not in ("tier", "namespace"):
        return {"pairs": [explain(cluster, src, dst, port=port, protocol=protocol)], "truncated": False}
    return explain_member_pairs(
        cluster, group_function(level, group_by), src, dst, direction=direction, port=port, protocol=protocol, limit=limit
    )


def explain_member_pairs(
    cluster: Cluster,
    group_of: Callable[[engine.Endpoint], str],
    src: str,
    dst: str,
    *,
    direction: str = "combined",
    port: int | str | None = None,
    protocol: str | None = None,
    limit: int = 25,
) -> dict[str, Any]:
    """The workload pairs from the group `src` to the group `dst` that allow the port
    and protocol (any connection when neither is given), the first `limit` explained."""
    table = pair_table(cluster, "workload", direction)
    pairs = [
        c
        for i, n in enumerate(table.nodes)
        if group_of(n) == src
        for c in table.connections(i, i + 1)
        if group_of(c.dst) == dst and not on_port(c.conns, port, protocol).is_empty
    ]
    explained = [
        explain(cluster, c.src.key, c.dst.key, port=port, protocol=pair_protocol(c.conns, port, protocol))
        for c in pairs[:limit]
    ]
    return {"pairs": explained, "truncated": len(pairs) > limit, "total": len(pairs)}


def on_port(conns: engine.ConnSet, port: int | str | None, protocol: str | None) -> engine.ConnSet:
    """The part of `conns` a port filter keeps: a number port on the protocol (any when
    none is given); a named port only narrows to the protocol, the explanation resolves it."""
    number = port if isinstance(port, int) else None
    if number is None and not protocol:
        return conns
    return conns.restrict(protocol or None, number)


def pair_protocol(conns: engine.ConnSet, port: int | str | None, protocol: str | None) -> str | None:
    """The protocol to explain a pair on: the one asked, else (a port asked on any
    protocol) the first protocol the pair allows on that port."""
    if protocol or not isinstance(port, int):
        return protocol
    return next((p for p in ("TCP", "UDP", "SCTP") if conns.allows(p, port)), None)


# --- findings ------------------------------------------------------------------------------------


@dataclass
class FindingView:
    code: str
    severity: str
    namespace: str
    object_kind: str
    object_name: str
    message: str
    object_id: int | None = None
    object_key: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def findings(cluster: Cluster) -> list[FindingView]:
    """The engine's findings, each tied to the mirrored row it is about."""
    # v2: entries cached before FindingView had object_key (and had extra) cannot be read.
    key = f"findings:v2:{cluster.pk}:{cluster.state_version}"
    cached = cache.get(key)
    if cached is not None:
        return [FindingView(**item) for item in cached]
    raw = engine.findings(engine_cluster(cluster))
    cni_ids = cni_object_ids(cluster, raw)
    ids = _object_ids(cluster, [f for f in raw if not f.object_key])
    views = [
        FindingView(
            code=f.code,
            severity=f.severity,
            namespace=f.namespace,
            object_kind=f.object_kind,
            object_name=f.object_name,
            message=f.message,
            object_id=cni_ids.get(f.object_key) if f.object_key else ids.get((f.object_kind, f.namespace, f.object_name)),
            object_key=f.object_key,
        )
        for f in raw
    ]
    cache.set(key, [v.to_dict() for v in views], timeout=3600)
    return views


def _object_ids(cluster: Cluster, items: Iterable[engine.Finding]) -> dict[tuple[str, str, str], int]:
    wanted: dict[str, set[tuple[str, str]]] = {}
    for f in items:
        wanted.setdefault(f.object_kind, set()).add((f.namespace, f.object_name))
    ids: dict[tuple[str, str, str], int] = {}
    if "Namespace" in wanted:
        names = {name or ns for ns, name in wanted["Namespace"]}
        for pk, name in Namespace.objects.filter(cluster=cluster, name__in=names).values_list("pk", "name"):
            for ns, obj_name in wanted["Namespace"]:
                if (obj_name or ns) == name:
                    ids[("Namespace", ns, obj_name)] = pk
    if "NetworkPolicy" in wanted:
        names = {name for _, name in wanted["NetworkPolicy"]}
        for pk, ns, name in NetworkPolicy.objects.filter(cluster=cluster, name__in=names).values_list("pk", "namespace", "name"):
            ids[("NetworkPolicy", ns, name)] = pk
    if "Pod" in wanted:
        names = {name for _, name in wanted["Pod"]}
        for pk, ns, name in Pod.objects.filter(cluster=cluster, name__in=names).values_list("pk", "namespace", "name"):
            ids[("Pod", ns, name)] = pk
    tier_kinds = set(wanted) & {k.value for k in ClusterPolicy.Kind}
    if tier_kinds:
        names = {name for kind in tier_kinds for _, name in wanted[kind]}
        for pk, kind, name in ClusterPolicy.objects.filter(
            cluster=cluster, kind__in=tier_kinds, name__in=names
        ).values_list("pk", "kind", "name"):
            ids[(kind, "", name)] = pk
    workload_kinds = set(wanted) & {k.value for k in Workload.Kind}
    if workload_kinds:
        names = {name for kind in workload_kinds for _, name in wanted[kind]}
        for pk, ns, kind, name in Workload.objects.filter(
            cluster=cluster, kind__in=workload_kinds, name__in=names
        ).values_list("pk", "namespace", "kind", "name"):
            ids[(kind, ns, name)] = pk
    return ids


# --- selections -----------------------------------------------------------------------------------


def policies_selecting_pod(pod: Pod) -> dict[str, Any]:
    """Which policies select the pod, and whether it is isolated per direction."""
    model = engine_cluster(pod.cluster)
    engine_pod = model.pod(pod.namespace, pod.name)
    if engine_pod is None:
        return {"policies": NetworkPolicy.objects.none(), "ingress_isolated": False, "egress_isolated": False}
    isolation = model.isolation(engine_pod)
    keys = model.policies_selecting(pod.namespace, pod.name)
    return {
        "policies": _policies_by_keys(pod.cluster, keys),
        "ingress_isolated": isolation.ingress,
        "egress_isolated": isolation.egress,
        "host_network": engine_pod.host_network,
    }


def policies_selecting_workload(workload: Workload) -> QuerySet[NetworkPolicy]:
    """Policies whose podSelector selects the workload's pods (or its template's labels)."""
    model = engine_cluster(workload.cluster)
    keys: set[str] = set()
    key = workload_key(workload)
    for engine_pod in model.pods:
        if engine_pod.workload_key == key:
            keys.update(model.policies_selecting(engine_pod.namespace, engine_pod.name))
    return _policies_by_keys(workload.cluster, sorted(keys))


def pods_selected_by_policy(policy: NetworkPolicy) -> QuerySet[Pod]:
    model = engine_cluster(policy.cluster)
    names = [p.name for p in model.pods_selected_by(f"{policy.namespace}/{policy.name}") if not p.stand_in]
    return Pod.objects.filter(cluster=policy.cluster, namespace=policy.namespace, name__in=names)


def workloads_selected_by_policy(policy: NetworkPolicy) -> list[str]:
    """Endpoint keys (`ns/name[Kind]`) of everything the policy selects, stand-ins included."""
    model = engine_cluster(policy.cluster)
    return sorted({p.workload_key for p in model.pods_selected_by(f"{policy.namespace}/{policy.name}")})


def _policies_by_keys(cluster: Cluster, keys: Iterable[str]) -> QuerySet[NetworkPolicy]:
    q = NetworkPolicy.objects.none()
    pairs = [tuple(k.split("/", 1)) for k in keys]
    if not pairs:
        return q
    namespaces = {ns for ns, _ in pairs}
    names = {name for _, name in pairs}
    candidates = NetworkPolicy.objects.filter(cluster=cluster, namespace__in=namespaces, name__in=names)
    wanted = set(pairs)
    return candidates.filter(pk__in=[p.pk for p in candidates if (p.namespace, p.name) in wanted])


def workload_key(workload: Workload) -> str:
    """The endpoint key of the workload's top-most owner, as the engine names it."""
    kind = workload.top_kind or workload.kind
    name = workload.top_name or workload.name
    return engine.object_key(workload.namespace, name, kind)


def pod_key(pod: Pod) -> str:
    """The endpoint key of what the pod stands for at workload level."""
    return engine.object_key(pod.namespace, pod.top_name or pod.name, pod.top_kind or "Pod")


def endpoint_reachability(cluster: Cluster, key: str) -> dict[str, list[dict[str, Any]]]:
    """Inbound and outbound connections of one workload endpoint."""
    table = pair_table(cluster, "workload", "combined")
    inbound = [
        {"peer": c.src.key, "conns": c.conns.to_json(), "label": str(c.conns)}
        for c in table.column(key)
    ]
    outbound = [
        {"peer": c.dst.key, "conns": c.conns.to_json(), "label": str(c.conns)}
        for c in table.row(key)
    ]
    return {"inbound": inbound, "outbound": outbound}


# --- export ---------------------------------------------------------------------------------------


def export_yaml(cluster: Cluster, namespace: str | None = None) -> str:
    """The live policies as multi-document YAML, clean of server-managed fields: the
    cluster-wide ones first (in evaluation order) unless a namespace is asked for, then
    the NetworkPolicies, then the CNIs' own objects in their own shape (with a
    namespace: that namespace's)."""
    objs: list[dict[str, Any]] = []
    if not namespace:
        model = engine_cluster(cluster)
        by_key = {
            f"{kind}/{name}": obj
            for kind, name, obj in ClusterPolicy.objects.filter(cluster=cluster).values_list("kind", "name", "obj")
        }
        ordered = [p.key for p in model.cluster_policies if p.key in by_key]
        ordered += sorted(k for k in by_key if k not in set(ordered))  # set aside as invalid
        objs += [engine.clean_policy(by_key[k]) for k in ordered]
    rows = NetworkPolicy.objects.filter(cluster=cluster).order_by("namespace", "name")
    if namespace:
        rows = rows.filter(namespace=namespace)
    objs += [engine.clean_policy(row.obj) for row in rows]
    objs += cni_export_objects(cluster, namespace)
    return engine.dump_yaml(objs)


def cluster_policies_applying(cluster: Cluster, namespace: str, labels: dict[str, str], host_network: bool = False) -> dict[str, list[dict[str, Any]]]:
    """The cluster-wide policies whose subject selects a pod with these labels in that
    namespace, per direction, in evaluation order (tier, priority, kind, name)."""
    model = engine_cluster(cluster)
    ns_labels = model.namespace_labels(namespace)
    ids = {
        (kind, name): pk
        for pk, kind, name in ClusterPolicy.objects.filter(cluster=cluster).values_list("pk", "kind", "name")
    }
    out: dict[str, list[dict[str, Any]]] = {"ingress": [], "egress": []}
    for policy in model.cluster_policies:
        if not policy.subject.matches_pod(ns_labels, labels, host_network):
            continue
        for direction in ("ingress", "egress"):
            if policy.rules(direction):
                out[direction].append(
                    {
                        "key": policy.key,
                        "kind": policy.kind,
                        "name": policy.name,
                        "tier": policy.tier,
                        "priority": policy.priority,
                        "id": ids.get((policy.kind, policy.name)),
                        "rules": len(policy.rules(direction)),
                    }
                )
    return out


def policy_yaml(policy: NetworkPolicy) -> str:
    return engine.dump_yaml([engine.clean_policy(policy.obj)])
