"""Drafts: ``create_draft``, ``update_draft``, ``set_status``, ``delete_draft``; each change
writes a DraftRevision (who, when, what changed) and an AuditEvent. Export
(``export_yaml``) and cloning live policies.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import IntegrityError, transaction

from ... import audit, engine
from ...models import Cluster, DraftRevision, NetworkPolicy, PolicyDraft
from .errors import DraftConflict, DraftError, DraftInvalid
from .preview import _differences, _name, stored_form, validate

# --- drafts: create, change, history ----------------------------------------------------------


def _actor(user: Any) -> Any:
    return user if getattr(user, "pk", None) else None


def _key_of(obj: Mapping[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata") or {}
    return str(meta.get("namespace") or ""), str(meta.get("name") or "")


def change_summary(old: Mapping[str, Any] | None, new: Mapping[str, Any], *, limit: int = 6) -> str:
    """What changed between two versions of a policy, in field paths."""
    if old is None:
        return "created"
    paths = _differences(old, new)
    if not paths:
        return "no change to the policy"
    shown = []
    for path in paths[:limit]:
        before = _value_at(old, path)
        after = _value_at(new, path)
        if before is _MISSING:
            shown.append(f"added {path}")
        elif after is _MISSING:
            shown.append(f"removed {path}")
        else:
            shown.append(f"{path}: {_short(before)} → {_short(after)}")
    more = len(paths) - limit
    text = "; ".join(shown) + (f"; and {more} more" if more > 0 else "")
    return text[:1000]


_MISSING = object()
_PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _value_at(obj: Any, path: str) -> Any:
    cur = obj
    for name, index in _PATH_PART.findall(path):
        if index:
            if not isinstance(cur, list) or int(index) >= len(cur):
                return _MISSING
            cur = cur[int(index)]
        else:
            if not isinstance(cur, Mapping) or name not in cur:
                return _MISSING
            cur = cur[name]
    return cur


def _short(value: Any) -> str:
    text = json.dumps(value, sort_keys=True)
    return text if len(text) <= 60 else text[:57] + "..."


def _audit(
    actor: Any,
    cluster: Cluster | None,
    action: audit.Action,
    draft: PolicyDraft | None,
    summary: str,
    details: dict[str, Any] | None = None,
) -> None:
    audit.record(
        action,
        actor=actor,
        cluster=cluster,
        object_type="draft",
        object_id=draft.pk if draft is not None else "",
        summary=summary,
        details=details,
    )


def _valid_stored_form(obj: Mapping[str, Any]) -> dict[str, Any]:
    prepared = stored_form(obj)
    errors = validate(prepared)
    if errors:
        raise DraftInvalid(errors)
    return prepared


def create_draft(
    cluster: Cluster, obj: Mapping[str, Any], *, actor: Any, note: str = "", origin: str = ""
) -> PolicyDraft:
    """Store a new draft; DraftInvalid if the API server would reject the policy,
    DraftConflict if the cluster already has a draft of that namespace/name."""
    prepared = _valid_stored_form(obj)
    namespace, name = _key_of(prepared)
    summary = "created" + (f" from {origin}" if origin else "") + (f": {note}" if note else "")
    try:
        with transaction.atomic():
            draft = PolicyDraft.objects.create(
                cluster=cluster,
                namespace=namespace,
                name=name,
                obj=prepared,
                created_by=_actor(actor),
                updated_by=_actor(actor),
            )
            DraftRevision.objects.create(
                draft=draft,
                number=1,
                author=_actor(actor),
                obj=prepared,
                status=draft.status,
                summary=summary[:1000],
            )
            _audit(
                actor,
                cluster,
                audit.Action.DRAFT_CREATED,
                draft,
                f"{namespace}/{name}: {summary}",
                {"revision": 1, "origin": origin},
            )
    except IntegrityError as exc:
        raise DraftConflict(
            f"cluster {cluster.name} already has a draft {namespace}/{name}: open it and edit it"
        ) from exc
    return draft


def update_draft(
    draft: PolicyDraft,
    obj: Mapping[str, Any],
    *,
    actor: Any,
    expected_revision: int | None = None,
    note: str = "",
) -> PolicyDraft:
    """Save a new version. Changing an approved draft's policy makes it a draft again:
    the approval was for the old content. A deletion draft is never edited."""
    if draft.action == PolicyDraft.Action.DELETE:
        raise DraftError(
            f"draft {draft.namespace}/{draft.name} deletes the live policy: it has no content to edit "
            "(delete the draft to keep the policy)"
        )
    prepared = _valid_stored_form(obj)
    namespace, name = _key_of(prepared)
    with transaction.atomic():
        current = PolicyDraft.objects.select_for_update().get(pk=draft.pk)
        if expected_revision is not None and expected_revision != current.revision:
            raise DraftConflict(
                f"draft {current.namespace}/{current.name} changed since you opened it "
                f"(now revision {current.revision}, you edited revision {expected_revision}): "
                "reload it and make your change again"
            )
        if prepared == current.obj:
            return current
        summary = change_summary(current.obj, prepared)
        if note:
            summary = f"{note} ({summary})"
        status_note = ""
        if current.status == PolicyDraft.Status.APPROVED:
            current.status = PolicyDraft.Status.DRAFT
            status_note = "; approval withdrawn: the policy changed"
        if (namespace, name) != (current.namespace, current.name):
            clash = PolicyDraft.objects.filter(
                cluster_id=current.cluster_id, namespace=namespace, name=name
            ).exclude(pk=current.pk)
            if clash.exists():
                raise DraftConflict(
                    f"cluster {current.cluster.name} already has a draft {namespace}/{name}"
                )
        current.namespace, current.name = namespace, name
        current.obj = prepared
        current.revision += 1
        current.updated_by = _actor(actor)
        current.save()
        DraftRevision.objects.create(
            draft=current,
            number=current.revision,
            author=_actor(actor),
            obj=prepared,
            status=current.status,
            summary=(summary + status_note)[:1000],
        )
        _audit(
            actor,
            current.cluster,
            audit.Action.DRAFT_UPDATED,
            current,
            f"{namespace}/{name} r{current.revision}: {summary}{status_note}",
            {"revision": current.revision},
        )
    return current


def set_status(
    draft: PolicyDraft, status: str, *, actor: Any, expected_revision: int | None = None
) -> PolicyDraft:
    if status not in PolicyDraft.Status.values:
        raise DraftError(f"status must be one of {', '.join(PolicyDraft.Status.values)}")
    with transaction.atomic():
        current = PolicyDraft.objects.select_for_update().get(pk=draft.pk)
        if expected_revision is not None and expected_revision != current.revision:
            raise DraftConflict(
                f"draft {current.namespace}/{current.name} changed since you opened it "
                f"(now revision {current.revision}): review it again before changing its status"
            )
        if current.status == status:
            return current
        old = current.status
        current.status = status
        current.revision += 1
        current.updated_by = _actor(actor)
        current.save()
        summary = f"status {old} → {status}"
        DraftRevision.objects.create(
            draft=current,
            number=current.revision,
            author=_actor(actor),
            obj=current.obj,
            status=status,
            summary=summary,
        )
        action = (
            audit.Action.DRAFT_APPROVED
            if status == PolicyDraft.Status.APPROVED
            else audit.Action.DRAFT_UNAPPROVED
        )
        _audit(
            actor,
            current.cluster,
            action,
            current,
            f"{current.namespace}/{current.name}: {summary}",
            {"revision": current.revision},
        )
    return current


def delete_draft(draft: PolicyDraft, *, actor: Any) -> None:
    with transaction.atomic():
        _audit(
            actor,
            draft.cluster,
            audit.Action.DRAFT_DELETED,
            draft,
            f"{draft.namespace}/{draft.name} deleted at revision {draft.revision}",
            {"revision": draft.revision, "policy": draft.obj},
        )
        draft.delete()


def restore_revision(draft: PolicyDraft, number: int, *, actor: Any) -> PolicyDraft:
    revision = draft.revisions.filter(number=number).first()
    if revision is None:
        raise DraftError(f"draft {draft.namespace}/{draft.name} has no revision {number}")
    return update_draft(draft, revision.obj, actor=actor, note=f"restored revision {number}")


def create_drafts(
    cluster: Cluster, objs: Sequence[Mapping[str, Any]], *, actor: Any, origin: str = ""
) -> list[PolicyDraft]:
    """Several drafts at once (an upload, the 3-tier template): all or none."""
    problems: list[engine.FieldError] = []
    seen: set[tuple[str, str]] = set()
    for obj in objs:
        prepared = stored_form(obj)
        problems += validate(prepared)
        key = _key_of(prepared)
        if key in seen:
            problems.append(
                engine.FieldError("metadata.name", "appears twice in the input", _name(prepared))
            )
        seen.add(key)
    if problems:
        raise DraftInvalid(problems)
    with transaction.atomic():
        return [create_draft(cluster, obj, actor=actor, origin=origin) for obj in objs]


# --- export ------------------------------------------------------------------------------------


def export_yaml(drafts: Iterable[PolicyDraft]) -> str:
    """Multi-document YAML in canonical field order, ready for `kubectl apply -f`.

    Deletion drafts are not documents (applying the policy would keep it): each is a
    comment with the `kubectl delete` command that carries it out."""
    rows = sorted(drafts, key=lambda d: (d.namespace, d.name))
    deletions = [d for d in rows if d.action == PolicyDraft.Action.DELETE]
    head = "".join(
        f"# deletion draft (revision {d.revision}, {d.status}): "
        f"kubectl delete networkpolicy -n {d.namespace} {d.name}\n"
        for d in deletions
    )
    kept = [engine.clean_policy(d.obj) for d in rows if d.action != PolicyDraft.Action.DELETE]
    return head + (engine.dump_yaml(kept) if kept else "")


def export_filename(
    cluster: Cluster, drafts: Sequence[PolicyDraft], *, namespace: str = "", status: str = ""
) -> str:
    if len(drafts) == 1 and not namespace:
        return f"{drafts[0].namespace}-{drafts[0].name}.yaml"
    parts = [cluster.name] + ([namespace] if namespace else []) + ([status] if status else [])
    return "-".join(parts + ["networkpolicies"]) + ".yaml"


def drafts_for_export(
    cluster: Cluster, *, ids: Sequence[int] = (), namespace: str = "", status: str = ""
) -> list[PolicyDraft]:
    rows = PolicyDraft.objects.filter(cluster=cluster)
    if ids:
        rows = rows.filter(pk__in=ids)
    if namespace:
        rows = rows.filter(namespace=namespace)
    if status:
        rows = rows.filter(status=status)
    found = list(rows.order_by("namespace", "name"))
    if ids and len(found) != len(set(ids)):
        missing = sorted(set(ids) - {d.pk for d in found})
        raise DraftError(f"no draft {', '.join(map(str, missing))} in cluster {cluster.name}")
    return found


def record_export(
    actor: Any, cluster: Cluster, drafts: Sequence[PolicyDraft], filename: str
) -> None:
    _audit(
        actor,
        cluster,
        audit.Action.DRAFTS_EXPORTED,
        drafts[0] if len(drafts) == 1 else None,
        f"{len(drafts)} draft(s) exported as {filename}",
        {"drafts": [d.pk for d in drafts], "revisions": {str(d.pk): d.revision for d in drafts}},
    )


# --- clone, templates, live policies -----------------------------------------------------------


def clone_live(policy: NetworkPolicy) -> dict[str, Any]:
    """A live policy as the editor's starting point: server-managed fields gone."""
    return stored_form(policy.obj)


def existing_draft(cluster: Cluster, obj: Mapping[str, Any]) -> PolicyDraft | None:
    namespace, name = _key_of(obj)
    return PolicyDraft.objects.filter(cluster=cluster, namespace=namespace, name=name).first()
