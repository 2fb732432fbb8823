"""Page helpers: what the dashboard pages show beside the payloads (findings by risk, rows
behind endpoint keys, a node's details, policy rules in words).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypedDict

from .. import engine
from ..choices import LEVELS, SEVERITY_RANK
from ..models import Cluster, ClusterPolicy, NetworkPolicy, Pod, Workload
from .engine_cache import base_reachability, engine_cluster
from .payload_types import MemberRow, NodeDetails, PeerRow
from .payloads import FindingView, UnknownEndpoint, explain, findings, group_function

# --- page helpers: what the dashboard pages show beside the payloads -----------------------------

def findings_by_risk(cluster: Cluster) -> list[FindingView]:
    """Findings, highest risk first (the engine's order kept within a severity)."""
    return sorted(findings(cluster), key=lambda f: SEVERITY_RANK.get(f.severity, len(SEVERITY_RANK)))


# Endpoint keys and connection sets are written and read by the engine alone; pages and
# template tags reach those helpers through here.
parse_endpoint_key = engine.parse_object_key
external_range = engine.external_range
conns_text = engine.conns_text
conns_parts = engine.conns_parts
ALL_CONNECTIONS = engine.ALL_CONNECTIONS


def endpoint_rows(cluster: Cluster, keys: Iterable[str]) -> dict[str, tuple[str, int]]:
    """Endpoint key -> ("workload" | "pod", pk) of the mirrored row a page links to."""
    parsed = {key: p for key in set(keys) if (p := parse_endpoint_key(key))}
    pods = {(ns, name) for ns, name, kind in parsed.values() if kind == "Pod"}
    workloads = {p for p in parsed.values() if p[2] != "Pod"}
    found: dict[tuple[str, str, str], tuple[str, int]] = {}
    if pods:
        for pk, ns, name in Pod.objects.filter(
            cluster=cluster, namespace__in={ns for ns, _ in pods}, name__in={n for _, n in pods}
        ).values_list("pk", "namespace", "name"):
            found[(ns, name, "Pod")] = ("pod", pk)
    if workloads:
        for pk, ns, name, kind in Workload.objects.filter(
            cluster=cluster,
            namespace__in={w[0] for w in workloads},
            name__in={w[1] for w in workloads},
            kind__in={w[2] for w in workloads},
        ).values_list("pk", "namespace", "name", "kind"):
            found[(ns, name, kind)] = ("workload", pk)
    return {key: found[p] for key, p in parsed.items() if p in found}


def policy_ids(cluster: Cluster, keys: Iterable[str]) -> dict[str, int]:
    """Policy key ("ns/name") -> NetworkPolicy pk."""
    pairs = {tuple(k.split("/", 1)) for k in keys if "/" in k}
    if not pairs:
        return {}
    rows = NetworkPolicy.objects.filter(
        cluster=cluster, namespace__in={p[0] for p in pairs}, name__in={p[1] for p in pairs}
    ).values_list("pk", "namespace", "name")
    return {f"{ns}/{name}": pk for pk, ns, name in rows if (ns, name) in pairs}


def _peer_text(model: engine.Cluster, match: dict[str, Any]) -> str:
    policy = model.policy(match["policy"])
    if policy is None:
        return ""
    rules = policy.rules(match["direction"])
    if not 0 <= match["rule_index"] < len(rules):
        return ""
    if match["peer_index"] is None:
        return "every peer (the rule has no " + ("from" if match["direction"] == "ingress" else "to") + ")"
    peers = rules[match["rule_index"]].peers
    return str(peers[match["peer_index"]]) if 0 <= match["peer_index"] < len(peers) else ""


def annotate_explanations(cluster: Cluster, explanations: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Explanations (as explain() returns them) with each policy's pk and each matched
    peer in words, so a page can link every policy and name the peer that matched."""
    model = engine_cluster(cluster)
    keys = {
        key
        for ex in explanations
        for side in ("egress", "ingress")
        for key in [*ex[side]["policies"], *(m["policy"] for m in ex[side]["matches"])]
    }
    ids = policy_ids(cluster, keys)
    out = []
    for ex in explanations:
        ex = dict(ex)
        for side in ("egress", "ingress"):
            verdict = dict(ex[side])
            verdict["policy_links"] = [{"key": k, "id": ids.get(k)} for k in verdict["policies"]]
            verdict["matches"] = [
                {**m, "policy_id": ids.get(m["policy"]), "peer_text": _peer_text(model, m)}
                for m in verdict["matches"]
            ]
            ex[side] = verdict
        out.append(ex)
    return out


def policy_rules(policy: NetworkPolicy) -> dict[str, Any]:
    """The policy's rules in words as the engine reads them, or why it was set aside."""
    model = engine_cluster(policy.cluster)
    parsed = model.policy(f"{policy.namespace}/{policy.name}")
    if parsed is None:
        errors = [
            str(e) for key, errs in model.invalid_policies if key == f"{policy.namespace}/{policy.name}" for e in errs
        ]
        return {"valid": False, "errors": errors, "ingress": [], "egress": []}
    out: dict[str, Any] = {"valid": True, "errors": [], "pod_selector": "every pod" if parsed.pod_selector.selects_all else str(parsed.pod_selector)}
    for direction in ("ingress", "egress"):
        out[direction] = [
            {
                "index": i,
                "peers": [str(p) for p in rule.peers] or ["every peer"],
                "ports": rule.ports_text,
            }
            for i, rule in enumerate(parsed.rules(direction))
        ]
    return out


def policy_selection_counts(cluster: Cluster, keys: Iterable[str]) -> dict[str, int]:
    """Policy key -> how many workloads (top-most owners, bare pods) its podSelector selects."""
    model = engine_cluster(cluster)
    by_namespace: dict[str, list[engine.Pod]] = {}
    for pod in model.pods:
        by_namespace.setdefault(pod.namespace, []).append(pod)
    counts: dict[str, int] = {}
    for key in keys:
        policy = model.policy(key)
        if policy is None:
            continue
        selected = {p.workload_key for p in by_namespace.get(policy.namespace, ()) if policy.pod_selector.matches(p.labels)}
        counts[key] = len(selected)
    return counts


def node_details(
    cluster: Cluster,
    node_id: str,
    *,
    level: str = "workload",
    group_by: str = "",
    direction: str = "combined",
    per_peer: int = 3,
    limit: int = 200,
    ranges: Sequence[str] = (),
) -> NodeDetails:
    """One node of the graph (a workload, pod, tier or namespace, or the address ranges
    `ranges` drawn as one node named `node_id`): its members, the policies that select
    them, and who may reach it (and whom it may reach) with the rules that allow each
    connection. At most `per_peer` member pairs are explained per peer and `limit` in
    all; `truncated` says when some were left out."""
    if level not in LEVELS:
        raise ValueError(f"level must be one of {', '.join(LEVELS)}")
    reach = base_reachability(cluster, level, direction)
    group_of: Callable[[engine.Endpoint], str] = (
        group_function(level, group_by) if level in ("tier", "namespace") else (lambda e: e.key)
    )
    if ranges:
        group_of = _ranges_as_one(frozenset(ranges), node_id, group_of)
    members = [n for n in reach.nodes if group_of(n) == node_id]
    if not members:
        raise UnknownEndpoint(f"{node_id!r} is not a node of this graph")
    member_rows, selecting = _members_and_selecting_policies(engine_cluster(cluster), members)
    peers = _peers(reach, group_of, node_id)
    inbound, outbound, truncated = _explained_peer_rows(cluster, peers, per_peer=per_peer, limit=limit)
    ids = policy_ids(cluster, selecting)
    return {
        "id": node_id,
        "level": level,
        "group_by": group_by,
        "direction": direction,
        "members": member_rows,
        "policies": [
            {"key": k, "id": ids.get(k), **flags} for k, flags in sorted(selecting.items())
        ],
        "policy_ids": ids,
        "inbound": inbound,
        "outbound": outbound,
        "truncated": truncated,
    }


def _ranges_as_one(
    ranges: frozenset[str], name: str, group_of: Callable[[engine.Endpoint], str]
) -> Callable[[engine.Endpoint], str]:
    def grouped(endpoint: engine.Endpoint) -> str:
        return name if endpoint.key in ranges else group_of(endpoint)

    return grouped


class _Directions(TypedDict):
    ingress: bool
    egress: bool


class _Peer(TypedDict):
    conns: engine.ConnSet  # the union over the member pairs
    pairs: list[tuple[str, str]]  # (src key, dst key) of each member pair


def _members_and_selecting_policies(
    model: engine.Cluster, members: Sequence[engine.Endpoint]
) -> tuple[list[MemberRow], dict[str, _Directions]]:
    """A row per member with the policies isolating it, and per policy key the
    directions in which it selects some member."""
    rows: list[MemberRow] = []
    selecting: dict[str, _Directions] = {}
    for m in members:
        isolation_in: set[str] = set()
        isolation_out: set[str] = set()
        for pod_name in m.pods:
            pod = model.pod(m.namespace, pod_name)
            if pod is None:
                continue
            isolation = model.isolation(pod)
            isolation_in.update(isolation.ingress_policies)
            isolation_out.update(isolation.egress_policies)
        for key in isolation_in:
            selecting.setdefault(key, {"ingress": False, "egress": False})["ingress"] = True
        for key in isolation_out:
            selecting.setdefault(key, {"ingress": False, "egress": False})["egress"] = True
        rows.append(
            {
                "key": m.key,
                "kind": m.kind,
                "pods": len(m.pods),
                "host_network": m.host_network,
                "external": m.is_external,
                "ip_range": m.ip_range,
                "ingress_isolated": m.ingress_isolated,
                "egress_isolated": m.egress_isolated,
                "ingress_policies": sorted(isolation_in),
                "egress_policies": sorted(isolation_out),
            }
        )
    return rows, selecting


def _peers(
    reach: engine.Reachability, group_of: Callable[[engine.Endpoint], str], node_id: str
) -> dict[str, dict[str, _Peer]]:
    """{"inbound": {peer: _Peer}, "outbound": ...}: who reaches the node, whom it reaches."""
    sides: dict[str, dict[str, _Peer]] = {"inbound": {}, "outbound": {}}
    for c in reach.connections:
        src_group, dst_group = group_of(c.src), group_of(c.dst)
        for side, mine, peer in (("inbound", dst_group, src_group), ("outbound", src_group, dst_group)):
            if mine != node_id:
                continue
            entry = sides[side].setdefault(peer, {"conns": engine.ConnSet.none(), "pairs": []})
            entry["conns"] = entry["conns"] | c.conns
            entry["pairs"].append((c.src.key, c.dst.key))
    return sides


def _explained_peer_rows(
    cluster: Cluster, sides: dict[str, dict[str, _Peer]], *, per_peer: int, limit: int
) -> tuple[list[PeerRow], list[PeerRow], bool]:
    """(inbound rows, outbound rows, truncated): each peer with some member pairs explained
    (at most `per_peer` per peer, `limit` in all) and the rules that allow them."""
    explained = 0
    truncated = False
    explanations: list[dict[str, Any]] = []
    result: dict[str, list[PeerRow]] = {}
    for side, entries in sides.items():
        rows: list[PeerRow] = []
        for peer in sorted(entries):
            entry = entries[peer]
            pairs = entry["pairs"]
            chosen = pairs[: max(0, min(per_peer, limit - explained))]
            truncated = truncated or len(chosen) < len(pairs)
            explained += len(chosen)
            pair_explanations = [explain(cluster, s, d, port=None, protocol=None) for s, d in chosen]
            explanations.extend(pair_explanations)
            rows.append(
                {
                    "peer": peer,
                    "conns": entry["conns"].to_json(),
                    "label": str(entry["conns"]),
                    "pair_count": len(pairs),
                    "explanations": pair_explanations,
                    "rules": [],
                    "open_sides": {},
                }
            )
        result[side] = rows
    annotated = iter(annotate_explanations(cluster, explanations))
    for side in ("inbound", "outbound"):
        for row in result[side]:
            row["explanations"] = [next(annotated) for _ in row["explanations"]]
            row["rules"], row["open_sides"] = _allowing_rules(row["explanations"])
    return result["inbound"], result["outbound"], truncated


def _allowing_rules(explanations: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The rules that allow a peer's connections, once each (ingress first), and the sides
    no policy isolates (direction -> why). A connection needs both: egress from the source
    and ingress to the destination."""
    rules: dict[tuple[Any, ...], dict[str, Any]] = {}
    open_sides: dict[str, str] = {}
    for ex in explanations:
        for verdict_side in ("ingress", "egress"):
            verdict = ex[verdict_side]
            if not verdict["isolated"]:
                open_sides.setdefault(verdict_side, verdict["summary"])
            for m in verdict["matches"]:
                rules.setdefault((m["direction"], m["policy"], m["rule_index"], m["peer_index"]), m)
    ordered = sorted(rules.values(), key=lambda m: (m["direction"] != "ingress", m["policy"], m["rule_index"]))
    return ordered, open_sides


def cluster_policy_rules(policy: ClusterPolicy) -> dict[str, Any]:
    """A cluster-wide policy's subject and ordered rules with their actions, as the
    engine reads them, or why it was set aside."""
    model = engine_cluster(policy.cluster)
    key = f"{policy.kind}/{policy.name}"
    parsed = model.cluster_policy(key)
    if parsed is None:
        errors = [str(e) for k, errs in model.invalid_policies if k == key for e in errs]
        return {"valid": False, "errors": errors, "ingress": [], "egress": []}
    order = [p.key for p in model.cluster_policies]
    out: dict[str, Any] = {
        "valid": True,
        "errors": [],
        "subject": str(parsed.subject),
        "evaluation_index": order.index(key),
    }
    for direction in ("ingress", "egress"):
        out[direction] = [
            {
                "index": rule.index,
                "name": rule.name,
                "action": rule.written_action,
                "peers": [str(p) for p in rule.peers],
                "ports": rule.ports_text,
                "marks": list(rule.marks),
            }
            for rule in parsed.rules(direction)
        ]
    return out


def cluster_policy_yaml(policy: ClusterPolicy) -> str:
    return engine.dump_yaml([engine.clean_policy(policy.obj)])
