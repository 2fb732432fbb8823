"""Audit events: who did what to which object, and when. Every write goes through
`record`, with an action from `Action`, so the names stay one list."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.db.models import QuerySet

from .models import AuditEvent, Cluster


class Action(StrEnum):
    CLUSTER_REGISTERED = "cluster.registered"
    CLUSTER_UPDATED = "cluster.updated"
    CLUSTER_DELETED = "cluster.deleted"
    DRAFT_CREATED = "draft.created"
    DRAFT_UPDATED = "draft.updated"
    DRAFT_APPROVED = "draft.approved"
    DRAFT_UNAPPROVED = "draft.unapproved"
    DRAFT_DELETED = "draft.deleted"
    DRAFTS_EXPORTED = "drafts.exported"
    DRAFT_APPLY_DRY_RUN = "draft.apply_dry_run"
    DRAFT_APPLIED = "draft.applied"
    DRIFT_SOURCE_CREATED = "drift_source.created"
    DRIFT_SOURCE_UPDATED = "drift_source.updated"
    DRIFT_SOURCE_DELETED = "drift_source.deleted"
    TOKEN_CREATED = "token.created"


def record(
    action: Action,
    *,
    actor: Any = None,
    cluster: Cluster | None = None,
    object_type: str = "",
    object_id: object = "",
    summary: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Store one event; an anonymous or missing actor is stored as none."""
    return AuditEvent.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        cluster=cluster,
        action=str(action),
        object_type=object_type,
        object_id="" if object_id is None else str(object_id),
        summary=summary[:500],
        details=details or {},
    )


def events_of(object_type: str, object_id: object) -> QuerySet[AuditEvent]:
    """One object's events, newest first."""
    return AuditEvent.objects.filter(object_type=object_type, object_id=str(object_id))
