"""What the dashboard pages show about cluster-wide policies (Admin and Baseline tiers):
the list with subject and rule counts, one policy's ordered rules, the policies that apply
to a workload or pod in evaluation order, and the tier rules in explanations."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.core.cache import cache
from django.db.models import F, QuerySet

from .. import engine
from ..models import Cluster, ClusterPolicy, Pod, Workload
from . import cni_mirror, engine_cache, payloads

TIER_ORDER = ("Admin", "NetworkPolicy", "Baseline")


def ordered(queryset: QuerySet[ClusterPolicy]) -> QuerySet[ClusterPolicy]:
    """Evaluation order: Admin before Baseline, ascending priority (the
    BaselineAdminNetworkPolicy, without one, last), ClusterNetworkPolicy before
    AdminNetworkPolicy at equal priority, then by name."""
    return queryset.order_by("tier", F("priority").asc(nulls_last=True), "-kind", "name", "pk")


def _selector_text(selector: engine.LabelSelector | None, every: str) -> str:
    if selector is None or selector.selects_all:
        return every
    return f"[{selector}]"


def peer_text(peer: engine.TierPeer) -> str:
    """A subject or peer as written: selectors, CIDRs, node selectors."""
    if peer.kind in ("namespaces", "pods"):
        namespaces = _selector_text(peer.namespace_selector, "every namespace")
        where = namespaces if namespaces == "every namespace" else f"namespaces {namespaces}"
        pods = "pods" if peer.kind == "namespaces" else "pods " + _selector_text(peer.pod_selector, "(every pod)")
        return f"{pods} in {where}"
    if peer.kind == "networks":
        return "networks " + ", ".join(peer.networks)
    if peer.kind == "nodes":
        return "nodes " + _selector_text(peer.node_selector, "(every node)")
    return str(peer)


def _subject_keys(model: engine.Cluster, policy: engine.ClusterPolicy) -> list[str]:
    return sorted(
        {
            pod.workload_key
            for pod in model.pods
            if policy.subject.matches_pod(model.namespace_labels(pod.namespace), pod.labels, pod.host_network)
        }
    )


def _subject_counts(cluster: Cluster) -> dict[str, int]:
    """Policy key -> how many workloads its subject selects, cached per state version."""
    key = f"tier-subject-counts:{cluster.pk}:{cluster.state_version}"
    cached = cache.get(key)
    if cached is None:
        model = engine_cache.engine_cluster(cluster)
        cached = {p.key: len(_subject_keys(model, p)) for p in model.cluster_policies}
        cache.set(key, cached, timeout=3600)
    return dict(cached)


def list_rows(cluster: Cluster, policies: Sequence[ClusterPolicy]) -> list[dict[str, Any]]:
    """One row per policy: subject in words, rule counts, how many workloads it selects
    (None: set aside as invalid) and its place in the evaluation order."""
    model = engine_cache.engine_cluster(cluster)
    order = {p.key: i for i, p in enumerate(model.cluster_policies)}
    counts = _subject_counts(cluster) if policies else {}
    rows = []
    for row in policies:
        key = f"{row.kind}/{row.name}"
        parsed = model.cluster_policy(key)
        spec = row.spec
        rows.append(
            {
                "policy": row,
                "key": key,
                "valid": parsed is not None,
                "subject": peer_text(parsed.subject) if parsed else "",
                "ingress_rules": len(spec.get("ingress") or []) if isinstance(spec.get("ingress"), list) else 0,
                "egress_rules": len(spec.get("egress") or []) if isinstance(spec.get("egress"), list) else 0,
                "selects": counts.get(key) if parsed else None,
                "position": order[key] + 1 if key in order else None,
            }
        )
    return rows


def policy_details(policy: ClusterPolicy) -> dict[str, Any]:
    """One cluster-wide policy: its rules in order with actions, peers and ports as the
    engine reads them (or why it was set aside), the workloads its subject selects, the
    policies evaluated around it in its tier."""
    cluster = policy.cluster
    model = engine_cache.engine_cluster(cluster)
    key = f"{policy.kind}/{policy.name}"
    parsed = model.cluster_policy(key)
    if parsed is None:
        errors = [str(e) for k, errs in model.invalid_policies if k == key for e in errs]
        return {"valid": False, "errors": errors, "ingress": [], "egress": [], "selected": [], "tier_neighbours": []}
    out: dict[str, Any] = {"valid": True, "errors": [], "subject": peer_text(parsed.subject)}
    for direction in ("ingress", "egress"):
        out[direction] = [
            {
                "index": rule.index,
                "name": rule.name,
                "action": rule.written_action,
                "peers": [peer_text(p) for p in rule.peers],
                "ports": rule.ports_text,
                "marks": list(rule.marks),
            }
            for rule in parsed.rules(direction)
        ]
    out["selected"] = _subject_keys(model, parsed)
    same_tier = [p for p in model.cluster_policies if p.tier == parsed.tier]
    ids = tier_policy_ids(cluster)
    out["tier_neighbours"] = [
        {
            "key": p.key,
            "kind": p.kind,
            "name": p.name,
            "priority": p.priority,
            "id": ids.get(p.key),
            "current": p.key == key,
            "same_priority": p.key != key and p.priority is not None and p.priority == parsed.priority,
        }
        for p in same_tier
    ]
    out["position"] = same_tier.index(parsed) + 1
    return out


def tier_policy_ids(cluster: Cluster) -> dict[str, int]:
    """Row ids by key: cluster-wide policies ("Kind/name") and CNI objects (their key),
    the two kinds of policy an explanation's tier rules name."""
    ids = {
        f"{kind}/{name}": pk
        for pk, kind, name in ClusterPolicy.objects.filter(cluster=cluster).values_list("pk", "kind", "name")
    }
    ids.update(cni_mirror.object_ids(cluster))
    return ids


def applying_to(cluster: Cluster, namespace: str, labels: Mapping[str, str], host_network: bool = False) -> list[dict[str, Any]]:
    """The cluster-wide policies whose subject selects such a pod, in evaluation order,
    each with its rule counts per direction: the Admin tier ones (before the pod's
    NetworkPolicies), then the Baseline tier ones (after)."""
    per_direction = payloads.cluster_policies_applying(cluster, namespace, dict(labels), host_network)
    merged: dict[str, dict[str, Any]] = {}
    for direction in ("ingress", "egress"):
        for item in per_direction[direction]:
            row = merged.setdefault(item["key"], {**item, "ingress": 0, "egress": 0})
            row[direction] = item["rules"]
    model = engine_cache.engine_cluster(cluster)
    order = {p.key: i for i, p in enumerate(model.cluster_policies)}
    return sorted(merged.values(), key=lambda r: order.get(r["key"], len(order)))


def tier_directions(applying: Sequence[Mapping[str, Any]]) -> dict[str, bool]:
    """Whether cluster-wide rules apply per direction (then "not isolated" no longer
    means "everything allowed")."""
    return {
        "tier_ingress": any(p["ingress"] for p in applying),
        "tier_egress": any(p["egress"] for p in applying),
    }


def applying_to_workload(workload: Workload) -> list[dict[str, Any]]:
    labels = workload.template_labels or {}
    pod = Pod.objects.filter(
        cluster=workload.cluster,
        namespace=workload.namespace,
        top_kind=workload.top_kind or workload.kind,
        top_name=workload.top_name or workload.name,
    ).first()
    if pod is not None:
        labels = pod.labels or labels
    return applying_to(workload.cluster, workload.namespace, labels, bool(pod and pod.host_network))


def applying_to_pod(pod: Pod) -> list[dict[str, Any]]:
    return applying_to(pod.cluster, pod.namespace, pod.labels or {}, pod.host_network)


def annotate_tier_matches(cluster: Cluster, explanations: Iterable[dict[str, Any]]) -> None:
    """Give each tier rule of the explanations (as explain() returns them) the pk of its
    policy, so a page can link it; in place."""
    ids = tier_policy_ids(cluster)
    for ex in explanations:
        for side in ("egress", "ingress"):
            verdict = ex[side]
            verdict["tier_matches"] = [{**m, "policy_id": ids.get(m["policy"])} for m in verdict.get("tier_matches", [])]
            verdict["tier_policy_links"] = [{"key": k, "id": ids.get(k)} for k in verdict.get("tier_policies", [])]


def annotate_node_details(cluster: Cluster, details: dict[str, Any] | None) -> None:
    """Connections of a node (pages.node_details) also name the tier rules that
    decided them; a side the cluster-wide tiers decided is no longer called "not
    isolated"; `tier_policies` lists the cluster-wide policies selecting its members, in
    evaluation order. In place."""
    if not details:
        return
    model = engine_cache.engine_cluster(cluster)
    members = {m["key"] for m in details.get("members", [])}
    ids = tier_policy_ids(cluster)
    member_pods = [p for p in model.pods if p.workload_key in members] if model.cluster_policies else []
    selecting = []
    for policy in model.cluster_policies:
        if not any(
            policy.subject.matches_pod(model.namespace_labels(p.namespace), p.labels, p.host_network) for p in member_pods
        ):
            continue
        directions = [d for d in ("ingress", "egress") if policy.rules(d)]
        if directions:
            selecting.append({"key": policy.key, "tier": policy.tier, "priority": policy.priority, "id": ids.get(policy.key), "directions": directions})
    details["tier_policies"] = selecting
    rows = [row for side in ("inbound", "outbound") for row in details[side]]
    annotate_tier_matches(cluster, [ex for row in rows for ex in row["explanations"]])
    for row in rows:
        rules: dict[tuple[Any, ...], dict[str, Any]] = {}
        decided: set[str] = set()
        for ex in row["explanations"]:
            for side in ("ingress", "egress"):
                matches = ex[side]["tier_matches"]
                if matches:
                    decided.add(side)
                for m in matches:
                    rules.setdefault((m["direction"], m["policy"], m["rule_index"]), m)
        row["tier_rules"] = list(rules.values())
        row["open_sides"] = {
            side: summary for side, summary in row.get("open_sides", {}).items() if side not in decided
        }


def keys_applying_to_namespaces(cluster: Cluster, namespaces: Iterable[str]) -> set[str]:
    """Keys ("Kind/name") of the cluster-wide policies whose subject can select pods of
    one of these namespaces (the namespace selector matches; a pods subject counts
    when its pod selector matches one of the namespace's pods)."""
    model = engine_cache.engine_cluster(cluster)
    wanted = set(namespaces)
    pods = [p for p in model.pods if p.namespace in wanted]
    out: set[str] = set()
    for policy in model.cluster_policies:
        subject = policy.subject
        if subject.namespace_selector is None:
            continue
        for ns in wanted:
            if not subject.namespace_selector.matches(model.namespace_labels(ns)):
                continue
            if subject.kind == "namespaces" or any(
                p.namespace == ns and subject.matches_pod(model.namespace_labels(ns), p.labels, p.host_network)
                for p in pods
            ):
                out.add(policy.key)
                break
    return out


def keys_selecting_pod(cluster: Cluster, namespace: str, pod_name: str) -> set[str]:
    """Keys of the cluster-wide policies whose subject selects that pod (a pod of that
    name in any namespace when `namespace` is empty)."""
    model = engine_cache.engine_cluster(cluster)
    pods = [p for p in model.pods if p.name == pod_name and (not namespace or p.namespace == namespace)]
    return {
        policy.key
        for pod in pods
        for policy in model.cluster_policies
        if policy.subject.matches_pod(model.namespace_labels(pod.namespace), pod.labels, pod.host_network)
    }


def applying_to_namespace(cluster: Cluster, namespace: str) -> list[dict[str, Any]]:
    """The cluster-wide policies whose subject can select pods of the namespace, in
    evaluation order, each with its pk for a link."""
    keys = keys_applying_to_namespaces(cluster, [namespace])
    ids = tier_policy_ids(cluster)
    model = engine_cache.engine_cluster(cluster)
    return [
        {"key": p.key, "tier": p.tier, "priority": p.priority, "id": ids.get(p.key)}
        for p in model.cluster_policies
        if p.key in keys
    ]
