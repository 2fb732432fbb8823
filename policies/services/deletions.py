"""Deletion drafts: proposing to delete a live NetworkPolicy, reviewed like any draft.

A deletion draft holds the live policy as it was when the draft was made and
`action = delete`. Its what-if is the engine's what-if of the removal; it is approved
(or not) through the drafts' usual status flow, exported as the `kubectl delete`
command, and read by drift's "approved drafts" source as "this policy is not wanted".
It has no content to edit: to keep the policy, delete the draft.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from .. import audit
from ..models import Cluster, DraftRevision, NetworkPolicy, PolicyDraft
from . import drafts
from .payload_types import WhatIf


def live_policy(cluster: Cluster, namespace: str, name: str) -> NetworkPolicy:
    policy = NetworkPolicy.objects.filter(cluster=cluster, namespace=namespace, name=name).first()
    if policy is None:
        raise drafts.DraftError(f"NetworkPolicy {namespace}/{name} is not in cluster {cluster.name}")
    return policy


def removal_what_if(cluster: Cluster, namespace: str, name: str) -> WhatIf:
    """How reachability changes if the live policy `namespace/name` were deleted
    (DraftError when there is no such policy)."""
    return drafts.what_if(cluster, [], removals=[f"{namespace}/{name}"])


def create_deletion_draft(
    cluster: Cluster, namespace: str, name: str, *, actor: Any, note: str = "", origin: str = ""
) -> PolicyDraft:
    """A new draft proposing to delete the live policy `namespace/name`; DraftError when
    there is no such policy, DraftConflict when a draft of that name exists already."""
    policy = live_policy(cluster, namespace, name)
    obj = drafts.clone_live(policy)
    summary = (
        "deletion of the live policy proposed"
        + (f" from {origin}" if origin else "")
        + (f": {note}" if note else "")
    )
    user = actor if getattr(actor, "pk", None) else None
    try:
        with transaction.atomic():
            draft = PolicyDraft.objects.create(
                cluster=cluster,
                namespace=namespace,
                name=name,
                obj=obj,
                action=PolicyDraft.Action.DELETE,
                created_by=user,
                updated_by=user,
            )
            DraftRevision.objects.create(
                draft=draft, number=1, author=user, obj=obj, status=draft.status, summary=summary[:1000]
            )
            audit.record(
                audit.Action.DRAFT_CREATED,
                actor=actor,
                cluster=cluster,
                object_type="draft",
                object_id=draft.pk,
                summary=f"{namespace}/{name}: {summary}",
                details={"revision": 1, "origin": origin, "action": "delete"},
            )
    except IntegrityError as exc:
        raise drafts.DraftConflict(
            f"cluster {cluster.name} already has a draft {namespace}/{name}: open it, or delete it first"
        ) from exc
    return draft


def _changes_of(cluster: Cluster, rows: list[PolicyDraft]) -> tuple[list[dict[str, Any]], list[str]]:
    """(policies to apply, live policy keys to delete) of several drafts; a deletion whose
    policy is gone already changes nothing."""
    live = {
        f"{ns}/{name}"
        for ns, name in NetworkPolicy.objects.filter(cluster=cluster).values_list("namespace", "name")
    }
    removals = [
        f"{d.namespace}/{d.name}"
        for d in rows
        if d.action == PolicyDraft.Action.DELETE and f"{d.namespace}/{d.name}" in live
    ]
    objs = [d.obj for d in rows if d.action != PolicyDraft.Action.DELETE]
    return objs, removals


def drafts_what_if(cluster: Cluster, rows: list[PolicyDraft]) -> WhatIf:
    """What several drafts change together: each policy applied, each deletion draft's
    live policy deleted."""
    objs, removals = _changes_of(cluster, rows)
    return drafts.what_if(cluster, objs, removals=removals)


def drafts_what_if_context(cluster: Cluster, rows: list[PolicyDraft]) -> dict[str, Any]:
    """drafts.what_if_context for several drafts (deletion drafts included)."""
    objs, removals = _changes_of(cluster, rows)
    return drafts.what_if_context(cluster, objs, removals)
