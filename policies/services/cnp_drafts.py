"""ClusterNetworkPolicy (policy.networking.k8s.io/v1alpha2) drafts: start points
(blank, templates, a copy or v1alpha2 conversion of a live cluster-wide policy), checks
with field paths, YAML, what-if through the engine, save with revision checks, export."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction

from .. import audit, engine
from ..models import Cluster, ClusterPolicy, ClusterPolicyDraft
from . import engine_cache

API_VERSION = "policy.networking.k8s.io/v1alpha2"
KIND = "ClusterNetworkPolicy"
WHAT_IF_LIMIT = 200
DNS_PEER = {
    "pods": {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
        "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
    }
}
DNS_PROTOCOLS = [
    {"udp": {"destinationPort": {"number": 53}}},
    {"tcp": {"destinationPort": {"number": 53}}},
]


class CnpDraftError(Exception):
    """A draft that cannot be stored as asked."""


class CnpDraftInvalid(CnpDraftError):
    def __init__(self, errors: list[engine.FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))


class CnpDraftConflict(CnpDraftError):
    """Another draft has that name, or the draft changed since the form was opened."""


def _policy(name: str, tier: str, priority: int, subject: dict[str, Any], **rules: Any) -> dict[str, Any]:
    spec: dict[str, Any] = {"tier": tier, "priority": priority, "subject": subject}
    spec.update({k: v for k, v in rules.items() if v})
    return {"apiVersion": API_VERSION, "kind": KIND, "metadata": {"name": name}, "spec": spec}


def _every_namespace_but_system() -> dict[str, Any]:
    return {
        "namespaces": {
            "matchExpressions": [
                {"key": "kubernetes.io/metadata.name", "operator": "NotIn", "values": ["kube-system"]}
            ]
        }
    }


def _deny_other_namespaces() -> dict[str, Any]:
    ns = {"matchLabels": {"kubernetes.io/metadata.name": "my-namespace"}}
    return _policy(
        "isolate-my-namespace",
        "Admin",
        100,
        {"namespaces": copy.deepcopy(ns)},
        ingress=[
            {"name": "same-namespace", "action": "Pass", "from": [{"namespaces": copy.deepcopy(ns)}]},
            {
                "name": "monitoring",
                "action": "Pass",
                "from": [{"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
            },
            {"name": "other-namespaces", "action": "Deny", "from": [{"namespaces": {}}]},
        ],
    )


def _baseline_default_deny() -> dict[str, Any]:
    return _policy(
        "baseline-default-deny",
        "Baseline",
        100,
        {"namespaces": {"matchLabels": {"netpolui.io/default-deny": "true"}}},
        ingress=[{"name": "deny-all-pods", "action": "Deny", "from": [{"namespaces": {}}]}],
        egress=[
            {"name": "dns", "action": "Accept", "to": [copy.deepcopy(DNS_PEER)], "protocols": copy.deepcopy(DNS_PROTOCOLS)},
            {
                "name": "deny-everything-else",
                "action": "Deny",
                "to": [{"namespaces": {}}, {"networks": ["0.0.0.0/0", "::/0"]}],
            },
        ],
    )


def _always_allow_dns() -> dict[str, Any]:
    return _policy(
        "always-allow-dns",
        "Admin",
        1,
        {"namespaces": {}},
        egress=[{"name": "cluster-dns", "action": "Accept", "to": [copy.deepcopy(DNS_PEER)], "protocols": copy.deepcopy(DNS_PROTOCOLS)}],
    )


def _deny_metadata() -> dict[str, Any]:
    return _policy(
        "deny-cloud-metadata",
        "Admin",
        5,
        _every_namespace_but_system(),
        egress=[{"name": "metadata-address", "action": "Deny", "to": [{"networks": ["169.254.169.254/32"]}]}],
    )


@dataclass(frozen=True)
class Template:
    key: str
    title: str
    description: str
    build: Callable[[], dict[str, Any]]


TEMPLATES: dict[str, Template] = {
    t.key: t
    for t in (
        Template(
            "deny-other-namespaces",
            "Deny all ingress from other namespaces, except monitoring",
            "Admin tier: the namespace's own pods and monitoring are passed to the namespace's NetworkPolicies; every other namespace is denied.",
            _deny_other_namespaces,
        ),
        Template(
            "baseline-default-deny",
            "Baseline default deny for namespaces labelled netpolui.io/default-deny=true",
            "Baseline tier: what the namespaces' own policies leave open is denied, DNS excepted.",
            _baseline_default_deny,
        ),
        Template(
            "always-allow-dns",
            "Always allow DNS to kube-system",
            "Admin tier, priority 1: every pod may query the cluster DNS, whatever NetworkPolicies say.",
            _always_allow_dns,
        ),
        Template(
            "deny-cloud-metadata",
            "Admin deny egress to the metadata address 169.254.169.254",
            "Admin tier: no pod outside kube-system may reach the cloud metadata service.",
            _deny_metadata,
        ),
    )
}


# Findings about a cluster-wide policy whose fix is a prepared ClusterNetworkPolicy draft:
# the policy (converted to v1alpha2 when it is a v1alpha1 one) with the change made.
FIX_ACTIONS: dict[str, str] = {
    "admin-deny-cuts-dns": "Fix: accept DNS first",
    "tier-equal-priority": "Fix: a priority of its own",
}


def has_fix(code: str) -> bool:
    return code in FIX_ACTIONS


def _fix(cluster: Cluster, code: str, obj: dict[str, Any]) -> list[str]:
    """Make the change the finding `code` asks for, in place; notes saying what changed."""
    spec = obj["spec"]
    if code == "admin-deny-cuts-dns":
        rule = {"name": "allow-dns", "action": "Accept", "to": [copy.deepcopy(DNS_PEER)], "protocols": copy.deepcopy(DNS_PROTOCOLS)}
        spec["egress"] = [rule, *(spec.get("egress") or [])]
        return ["Fix: a first egress rule accepts DNS (UDP and TCP 53 to the cluster DNS pods) before the rule that denied it."]
    if code == "tier-equal-priority":
        model = engine_cache.engine_cluster(cluster)
        taken = {p.priority for p in model.cluster_policies if p.tier == spec.get("tier") and p.priority is not None}
        start = int(spec.get("priority") or 0)
        free = next((n for n in range(start + 1, 1001) if n not in taken), None)
        if free is None:
            free = next((n for n in range(start - 1, -1, -1) if n not in taken), start)
        spec["priority"] = free
        return [f"Fix: priority {start} -> {free}, the nearest one no other {spec.get('tier')} tier policy has; check that the order is the one you mean."]
    raise CnpDraftError(f"findings of kind {code!r} have no prepared ClusterNetworkPolicy fix")


def blank() -> dict[str, Any]:
    return _policy("", "Admin", 100, {"namespaces": {}})


def start_point(
    cluster: Cluster, *, template: str = "", clone: int | None = None, fix: str = ""
) -> tuple[dict[str, Any], list[str], str]:
    """The object a new draft starts from, notes about it, and its origin. `fix`: the
    code of a finding on the cloned policy, whose prepared change is made."""
    if fix and clone is None:
        raise CnpDraftError("a fix needs the cluster-wide policy it is about (clone)")
    if clone is not None:
        live = ClusterPolicy.objects.filter(cluster=cluster, pk=clone).first()
        if live is None:
            raise CnpDraftError("that cluster-wide policy is not in this cluster")
        conversion = engine.to_cluster_network_policy(engine.clean_policy(live.obj))
        notes = list(conversion.notes)
        if fix:
            notes = _fix(cluster, fix, conversion.obj) + notes
        return conversion.obj, notes, f"{live.kind}/{live.name}"
    if template:
        if template not in TEMPLATES:
            raise CnpDraftError(f"no template named {template!r}")
        return TEMPLATES[template].build(), [], f"template {template}"
    return blank(), [], ""


def prepare(obj: Any) -> dict[str, Any]:
    """The object as the form sent it, with kind and apiVersion fixed (the form edits
    ClusterNetworkPolicies only)."""
    if not isinstance(obj, Mapping):
        raise CnpDraftInvalid([engine.FieldError("", "is not an object")])
    out = copy.deepcopy(dict(obj))
    out["apiVersion"] = API_VERSION
    out["kind"] = KIND
    return out


def validate(obj: Mapping[str, Any]) -> list[engine.FieldError]:
    """The engine's checks, and no peer of unknown fields: the engine reads one (it fails
    closed), but a v1alpha2 API server prunes the field and refuses the empty peer."""
    try:
        errors = engine.validate_cluster_policy(obj)
    except (TypeError, ValueError, AttributeError) as exc:  # a shape the checks did not expect
        return [engine.FieldError("spec", f"cannot be read: {exc}")]
    return errors + [
        engine.FieldError(f"{where.path}.{field}", "is not a field of a v1alpha2 peer: the API server would refuse it")
        for where in engine.unknown_peers(obj)
        for field in where.fields
    ]


def to_yaml(obj: Mapping[str, Any]) -> str:
    return engine.dump_yaml([dict(obj)])


def _conn(src: engine.Endpoint, dst: engine.Endpoint, conns: engine.ConnSet, change: str) -> dict[str, Any]:
    return {"src": src.key, "dst": dst.key, "ports": str(conns), "conns": conns.to_json(), "change": change}


def what_if(cluster: Cluster, obj: Mapping[str, Any], *, limit: int = WHAT_IF_LIMIT) -> dict[str, Any]:
    """How workload reachability changes if `obj` (valid) were applied: added, or
    replacing the live ClusterNetworkPolicy of the same name."""
    base = engine_cache.analyzer(cluster)
    key = f"{KIND}/{obj['metadata']['name']}"
    model = base.cluster
    subject = engine.parse_cluster_policy(obj).subject
    if model.cluster_policy(key) is None and not any(
        subject.matches_pod(model.namespace_labels(p.namespace), p.labels, p.host_network) for p in model.pods
    ):
        # A policy applies to its subject's pods only: selecting none, it changes nothing.
        return {
            "key": key, "replaces_live": False, "selects": [], "counts": {"allowed": 0, "denied": 0},
            "is_empty": True, "allowed": [], "denied": [], "truncated": False, "text": "",
        }
    changed = base.with_policies_changed([dict(obj)])
    before, changed = engine.on_common_families(base, changed)
    old = engine_cache.base_reachability(cluster, "workload", "combined") if before is base else before.analyze()
    new = changed.analyze(level="workload", direction="combined")
    diff = engine.diff_reachability(old, new)
    allowed = [_conn(c.src, c.dst, c.conns, "new pair") for c in diff.added]
    denied = [_conn(c.src, c.dst, c.conns, "pair gone") for c in diff.removed]
    for c in diff.changed:
        src, dst = c.src_endpoint, c.dst_endpoint
        assert src is not None
        assert dst is not None
        more, less = c.new_conns - c.old_conns, c.old_conns - c.new_conns
        if not more.is_empty:
            allowed.append(_conn(src, dst, more, "more ports"))
        if not less.is_empty:
            denied.append(_conn(src, dst, less, "fewer ports"))
    allowed.sort(key=lambda e: (e["src"], e["dst"]))
    denied.sort(key=lambda e: (e["src"], e["dst"]))
    parsed = changed.cluster.cluster_policy(key)
    selects: list[str] = []
    if parsed is not None:
        selects = sorted(
            {
                p.workload_key
                for p in changed.cluster.pods
                if parsed.subject.matches_pod(changed.cluster.namespace_labels(p.namespace), p.labels, p.host_network)
            }
        )
    return {
        "key": key,
        "replaces_live": base.cluster.cluster_policy(key) is not None,
        "selects": selects,
        "counts": {"allowed": len(allowed), "denied": len(denied)},
        "is_empty": diff.is_empty,
        "allowed": allowed[:limit],
        "denied": denied[:limit],
        "truncated": len(allowed) > limit or len(denied) > limit,
        "text": diff.render_text(),
    }


def check(cluster: Cluster, obj: Any, *, with_what_if: bool = True) -> dict[str, Any]:
    """What the editor shows beside the form: problems with field paths, the YAML, and
    (when valid) the what-if."""
    try:
        prepared = prepare(obj)
    except CnpDraftInvalid as exc:
        return {"valid": False, "errors": [{"path": e.path, "message": e.message} for e in exc.errors], "yaml": "", "what_if": None}
    errors = validate(prepared)
    out: dict[str, Any] = {
        "valid": not errors,
        "errors": [{"path": e.path, "message": e.message} for e in errors],
        "yaml": to_yaml(prepared),
        "what_if": None,
    }
    if not errors and with_what_if:
        out["what_if"] = what_if(cluster, prepared)
    return out


def save(
    cluster: Cluster,
    obj: Any,
    *,
    actor: Any = None,
    draft: ClusterPolicyDraft | None = None,
    base_revision: int | None = None,
    origin: str = "",
) -> ClusterPolicyDraft:
    """Store a new draft, or a new revision of `draft`. Raises CnpDraftInvalid (with
    field paths) or CnpDraftConflict (name taken, or changed since `base_revision`)."""
    prepared = prepare(obj)
    errors = validate(prepared)
    if errors:
        raise CnpDraftInvalid(errors)
    name = str(prepared["metadata"]["name"])
    try:
        with transaction.atomic():
            if draft is None:
                draft = ClusterPolicyDraft.objects.create(
                    cluster=cluster, name=name, obj=prepared, origin=origin[:300], created_by=_user(actor), updated_by=_user(actor)
                )
                action = audit.Action.DRAFT_CREATED
            else:
                locked = ClusterPolicyDraft.objects.select_for_update().get(pk=draft.pk)
                if base_revision is not None and base_revision != locked.revision:
                    raise CnpDraftConflict(
                        f"the draft changed since you opened it (revision {locked.revision}, yours {base_revision}): reload it"
                    )
                locked.name = name
                locked.obj = prepared
                locked.revision += 1
                locked.updated_by = _user(actor)
                locked.save()
                draft = locked
                action = audit.Action.DRAFT_UPDATED
    except IntegrityError as exc:
        raise CnpDraftConflict(f"another ClusterNetworkPolicy draft is named {name!r}") from exc
    audit.record(
        action,
        actor=actor,
        cluster=cluster,
        object_type="cluster_policy_draft",
        object_id=draft.pk,
        summary=f"ClusterNetworkPolicy draft {name} (revision {draft.revision})",
    )
    return draft


def delete(draft: ClusterPolicyDraft, *, actor: Any = None) -> None:
    audit.record(
        audit.Action.DRAFT_DELETED,
        actor=actor,
        cluster=draft.cluster,
        object_type="cluster_policy_draft",
        object_id=draft.pk,
        summary=f"ClusterNetworkPolicy draft {draft.name} deleted",
    )
    draft.delete()


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def export_yaml(draft: ClusterPolicyDraft) -> str:
    return to_yaml(draft.obj)
