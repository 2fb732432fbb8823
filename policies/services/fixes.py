"""Fixes for findings: each fixable finding becomes a prepared policy for the editor.

A fix never touches the cluster. It builds the NetworkPolicy a platform engineer would
write next (a default deny for a namespace without policy, DNS egress for a workload whose
egress isolation forgot it, a narrowed peer for a rule that admits too much, the live
policy to adopt when it selects nothing); the editor opens on it, and its what-if shows
the effect before anyone saves it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse

from .. import engine
from ..models import Cluster, NetworkPolicy, PolicyDraft
from . import cnp_drafts, drafts, engine_cache, payloads

NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# Labels a controller adds to each pod; a policy selecting a workload leaves them out.
_POD_HASH_LABELS = frozenset(
    {
        "pod-template-hash",
        "controller-revision-hash",
        "statefulset.kubernetes.io/pod-name",
        "apps.kubernetes.io/pod-index",
        "batch.kubernetes.io/controller-uid",
        "batch.kubernetes.io/job-name",
        "controller-uid",
        "job-name",
    }
)

# code -> the label of its "Fix" action. One place, imported by the pages.
FIX_ACTIONS: dict[str, str] = {
    "namespace-without-policy": "Fix: default deny",
    "egress-without-dns": "Fix: allow DNS",
    "ingress-not-isolated": "Fix: isolate ingress",
    "egress-not-isolated": "Fix: isolate egress",
    "peer-allows-all-namespaces": "Fix: narrow the peer",
    "open-to-internet": "Fix: narrow the peer",
    "policy-selects-nothing": "Fix: adopt or delete",
}


# code -> what kind of change its fix prepares (the API's `fix.kind`).
FIX_KINDS: dict[str, str] = {
    "namespace-without-policy": "default-deny",
    "egress-without-dns": "allow-dns",
    "ingress-not-isolated": "isolate-ingress",
    "egress-not-isolated": "isolate-egress",
    "peer-allows-all-namespaces": "narrow-peer",
    "open-to-internet": "narrow-peer",
    "policy-selects-nothing": "adopt-or-delete",
}


class FixUnavailable(ValueError):
    """The finding does not exist (any more) or has no fix; the message says which."""


@dataclass(frozen=True)
class FixProposal:
    code: str
    obj: dict[str, Any]
    origin: str
    notes: list[str] = field(default_factory=list)
    # "namespace/name" of a live policy whose deletion is offered beside the policy.
    deletes: str = ""


def fix_query(code: str, namespace: str, kind: str, name: str) -> str:
    """The editor URL's query string that opens the fix of one finding."""
    return urlencode({"fix": code, "namespace": namespace, "kind": kind, "name": name})


def has_fix(code: str) -> bool:
    return code in FIX_ACTIONS


def fix_url(cluster_id: int, code: str, namespace: str, kind: str, name: str) -> str:
    """The editor page that opens the fix of one finding (path and `?fix=` query)."""
    return f"{reverse('draft-new', args=[cluster_id])}?{fix_query(code, namespace, kind, name)}"


# The API's `fix.kind` of a tier finding whose fix is a ClusterNetworkPolicy draft.
CLUSTER_POLICY_FIX_KIND = "cluster-network-policy"


def fix_summary(
    cluster_id: int, code: str, namespace: str, kind: str, name: str, object_id: int | None = None
) -> dict[str, str] | None:
    """What the findings API says of a finding's fix: kind, label and editor URL; None
    when findings of that code have no prepared fix. A finding about a cluster-wide
    policy (no namespace, its row's `object_id`) may open a ClusterNetworkPolicy draft."""
    if not namespace and object_id is not None and cnp_drafts.has_fix(code):
        query = urlencode({"clone": object_id, "fix": code})
        return {
            "kind": CLUSTER_POLICY_FIX_KIND,
            "label": cnp_drafts.FIX_ACTIONS[code],
            "url": f"{reverse('cnp-new', args=[cluster_id])}?{query}",
        }
    if not has_fix(code):
        return None
    return {
        "kind": FIX_KINDS[code],
        "label": FIX_ACTIONS[code],
        "url": fix_url(cluster_id, code, namespace, kind, name),
    }


def propose(cluster: Cluster, code: str, namespace: str, kind: str, name: str) -> FixProposal:
    """The prepared policy fixing the finding `code` on `namespace/name` (`kind`)."""
    if code not in FIX_ACTIONS:
        raise FixUnavailable(f"Findings of kind {code!r} have no prepared fix.")
    found = [
        f
        for f in payloads.findings(cluster)
        if (f.code, f.namespace, f.object_kind, f.object_name) == (code, namespace, kind, name)
    ]
    if not found:
        raise FixUnavailable(
            f"There is no finding {code} on {namespace}/{name} ({kind}) in cluster {cluster.name} "
            "now: it may have been fixed already."
        )
    model = engine_cache.engine_cluster(cluster)
    build = _BUILDERS[code]
    proposal = build(cluster, model, namespace, kind, name)
    obj = drafts.stored_form(proposal.obj)
    notes = list(proposal.notes)
    existing = drafts.existing_draft(cluster, obj)
    if existing is not None:
        notes.append(
            f"A draft {existing.namespace}/{existing.name} exists already: rename this one, "
            "or open the existing draft."
        )
    return FixProposal(code, obj, proposal.origin[:200], notes, proposal.deletes)


# --- names and selectors ---------------------------------------------------------------------


def _free_name(cluster: Cluster, namespace: str, base: str) -> str:
    """`base`, or `base-2`, `base-3`... : a name no live policy or draft of the namespace has."""
    taken = set(NetworkPolicy.objects.filter(cluster=cluster, namespace=namespace).values_list("name", flat=True))
    taken |= set(PolicyDraft.objects.filter(cluster=cluster, namespace=namespace).values_list("name", flat=True))
    candidate, n = base[:253], 2
    while candidate in taken:
        candidate = f"{base[:248]}-{n}"
        n += 1
    return candidate


def _workload(model: engine.Cluster, namespace: str, kind: str, name: str) -> engine.Workload:
    for w in model.workloads:
        if (w.namespace, w.kind, w.name) == (namespace, kind, name):
            return w
    raise FixUnavailable(f"Workload {namespace}/{name} ({kind}) is not in the cluster.")


def _pod_selector(workload: engine.Workload) -> dict[str, Any]:
    labels = {k: v for k, v in workload.representative.labels.items() if k not in _POD_HASH_LABELS}
    return {"matchLabels": dict(sorted(labels.items()))} if labels else {}


def _dns_peer(model: engine.Cluster) -> tuple[dict[str, Any], str]:
    """The peer of the cluster's DNS pods, found by their usual label, and a note."""
    for pod in model.pods:
        if pod.labels.get("k8s-app") == "kube-dns":
            return (
                {
                    "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: pod.namespace}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                },
                f"DNS is allowed to the pods labelled k8s-app=kube-dns in {pod.namespace}, found in the cluster.",
            )
    return (
        {
            "namespaceSelector": {"matchLabels": {NAMESPACE_NAME_LABEL: "kube-system"}},
            "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
        },
        "No DNS pods (k8s-app=kube-dns) are mirrored: the peer assumes kube-system; check your "
        "cluster's DNS labels.",
    )


DNS_PORTS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]


def _policy(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


# --- one builder per finding code ---------------------------------------------------------------


def _default_deny(cluster: Cluster, model: engine.Cluster, namespace: str, kind: str, name: str) -> FixProposal:
    peer, dns_note = _dns_peer(model)
    spec = {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
        "egress": [{"to": [peer], "ports": copy.deepcopy(DNS_PORTS)}],
    }
    return FixProposal(
        "namespace-without-policy",
        _policy(namespace, _free_name(cluster, namespace, "default-deny"), spec),
        f"fix for namespace-without-policy on namespace {namespace}",
        [
            f"Default deny for namespace {namespace}: every pod is isolated in both directions and "
            "may only query DNS. The what-if below lists the connections this closes; add rules "
            "for the ones that must stay.",
            dns_note,
        ],
    )


def _allow_dns(cluster: Cluster, model: engine.Cluster, namespace: str, kind: str, name: str) -> FixProposal:
    workload = _workload(model, namespace, kind, name)
    peer, dns_note = _dns_peer(model)
    spec = {
        "podSelector": _pod_selector(workload),
        "policyTypes": ["Egress"],
        "egress": [{"to": [peer], "ports": copy.deepcopy(DNS_PORTS)}],
    }
    return FixProposal(
        "egress-without-dns",
        _policy(namespace, _free_name(cluster, namespace, f"allow-dns-{name}"), spec),
        f"fix for egress-without-dns on {namespace}/{name} ({kind})",
        [
            f"Allows {namespace}/{name} ({kind}) to query DNS on UDP and TCP 53; it selects only "
            "its pods, which are already isolated for egress, so nothing else changes.",
            dns_note,
        ],
    )


def _isolate(direction: str) -> Any:
    def build(cluster: Cluster, model: engine.Cluster, namespace: str, kind: str, name: str) -> FixProposal:
        workload = _workload(model, namespace, kind, name)
        spec: dict[str, Any] = {"podSelector": _pod_selector(workload)}
        if direction == "ingress":
            spec["policyTypes"] = ["Ingress"]
            spec["ingress"] = [{"from": [{"podSelector": {}}]}]
            note = (
                f"Isolates {namespace}/{name} ({kind}) for ingress and admits only pods of namespace "
                f"{namespace}. The what-if lists the connections this closes; add peers for the ones "
                "that must stay."
            )
        else:
            peer, _ = _dns_peer(model)
            spec["policyTypes"] = ["Egress"]
            spec["egress"] = [{"to": [{"podSelector": {}}]}, {"to": [peer], "ports": copy.deepcopy(DNS_PORTS)}]
            note = (
                f"Isolates {namespace}/{name} ({kind}) for egress: it may reach pods of namespace "
                f"{namespace} and query DNS. The what-if lists the connections this closes."
            )
        return FixProposal(
            f"{direction}-not-isolated",
            _policy(namespace, _free_name(cluster, namespace, f"{name}-{direction}"), spec),
            f"fix for {direction}-not-isolated on {namespace}/{name} ({kind})",
            [note],
        )

    return build


def _live(cluster: Cluster, namespace: str, name: str) -> NetworkPolicy:
    policy = NetworkPolicy.objects.filter(cluster=cluster, namespace=namespace, name=name).first()
    if policy is None:
        raise FixUnavailable(f"NetworkPolicy {namespace}/{name} is not in the cluster.")
    return policy


def _selects_all(sel: Any) -> bool:
    return isinstance(sel, Mapping) and not sel.get("matchLabels") and not sel.get("matchExpressions")


def _narrow_namespaces(cluster: Cluster, model: engine.Cluster, namespace: str, kind: str, name: str) -> FixProposal:
    obj = drafts.clone_live(_live(cluster, namespace, name))
    spec = obj.get("spec") or {}
    narrowed = []
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction) or []):
            for j, peer in enumerate(rule.get(peers_key) or []):
                if "namespaceSelector" in peer and _selects_all(peer["namespaceSelector"]) and _selects_all(
                    peer.get("podSelector", {})
                ):
                    peer["namespaceSelector"] = {
                        "matchExpressions": [
                            {"key": NAMESPACE_NAME_LABEL, "operator": "In", "values": [namespace]}
                        ]
                    }
                    narrowed.append(f"spec.{direction}[{i}].{peers_key}[{j}]")
    return FixProposal(
        "peer-allows-all-namespaces",
        obj,
        f"fix for peer-allows-all-namespaces on {namespace}/{name}",
        [
            f"Narrowed {', '.join(narrowed) or 'no peer'}: namespaceSelector {{}} (every namespace) "
            f"became the namespace {namespace} only. Add the namespaces that need access to the "
            "In list, or a podSelector in the same peer.",
        ],
    )


def _all_addresses(peer: Mapping[str, Any]) -> bool:
    block = peer.get("ipBlock")
    return (
        isinstance(block, Mapping)
        and str(block.get("cidr", "")).endswith("/0")
        and not block.get("except")
    )


def _narrow_internet(cluster: Cluster, model: engine.Cluster, namespace: str, kind: str, name: str) -> FixProposal:
    workload = _workload(model, namespace, kind, name)
    isolation = model.isolation(workload.representative)
    candidates = []
    for key in isolation.ingress_policies:
        pol = model.policy(key)
        if pol is None:
            continue
        raw = pol.raw.get("spec") or {}
        if any(not rule.get("from") or any(_all_addresses(p) for p in rule["from"]) for rule in raw.get("ingress") or []):
            candidates.append(key)
    if not candidates:
        raise FixUnavailable(f"No policy opens {namespace}/{name} ({kind}) to every address any more.")
    pol_ns, _, pol_name = candidates[0].partition("/")
    obj = drafts.clone_live(_live(cluster, pol_ns, pol_name))
    changed = []
    widened_block = False
    for i, rule in enumerate(obj.get("spec", {}).get("ingress") or []):
        if not rule.get("from"):
            rule["from"] = [{"podSelector": {}}]
            changed.append(
                f"spec.ingress[{i}] had no peers (every source, outside addresses included) and now "
                f"admits only pods of {pol_ns}"
            )
        else:
            for j, peer in enumerate(rule["from"]):
                if _all_addresses(peer):
                    peer["ipBlock"] = {"cidr": "10.0.0.0/8"}
                    widened_block = True
                    changed.append(f"spec.ingress[{i}].from[{j}] ipBlock 0.0.0.0/0 became 10.0.0.0/8")
    notes = [
        f"Narrowed {candidates[0]}: " + "; ".join(changed) + "."
        + (
            " Replace 10.0.0.0/8 with the addresses that must reach it (a load balancer, an office range)."
            if widened_block
            else " Add peers for the sources that must keep reaching it (the what-if lists what closes)."
        ),
    ]
    if len(candidates) > 1:
        notes.append(f"Also open to every address through {', '.join(candidates[1:])}: fix those next.")
    return FixProposal(
        "open-to-internet", obj, f"fix for open-to-internet on {namespace}/{name} ({kind})", notes
    )


def _adopt(cluster: Cluster, model: engine.Cluster, namespace: str, kind: str, name: str) -> FixProposal:
    obj = drafts.clone_live(_live(cluster, namespace, name))
    label_sets = sorted(
        {
            ", ".join(f"{k}={v}" for k, v in sorted(w.representative.labels.items()) if k not in _POD_HASH_LABELS)
            for w in model.workloads
            if w.namespace == namespace
        }
        - {""}
    )
    notes = [
        f"NetworkPolicy {namespace}/{name} selects no pod. To adopt it, change its podSelector "
        "to the pods it was meant for"
        + (f"; pods in {namespace} carry: {'; '.join(label_sets[:8])}." if label_sets else "."),
        "To delete it instead, propose its deletion below: the what-if shows what deleting it "
        "changes, and the deletion draft is reviewed and approved like any draft.",
    ]
    return FixProposal(
        "policy-selects-nothing",
        obj,
        f"fix for policy-selects-nothing on {namespace}/{name}",
        notes,
        deletes=f"{namespace}/{name}",
    )


_BUILDERS: dict[str, Any] = {
    "namespace-without-policy": _default_deny,
    "egress-without-dns": _allow_dns,
    "ingress-not-isolated": _isolate("ingress"),
    "egress-not-isolated": _isolate("egress"),
    "peer-allows-all-namespaces": _narrow_namespaces,
    "open-to-internet": _narrow_internet,
    "policy-selects-nothing": _adopt,
}
