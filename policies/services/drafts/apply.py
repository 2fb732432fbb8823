"""Apply (admins, off unless NETPOLUI_ALLOW_APPLY): ``apply_draft`` does a server-side apply,
after a dry run.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from ... import audit, engine
from ...models import AuditEvent, Cluster, PolicyDraft
from .errors import ApplyFailed, ApplyRefused
from .lifecycle import _audit

# --- apply (admins, off unless NETPOLUI_ALLOW_APPLY) -------------------------------------------

DRY_RUN_VALID_SECONDS = 15 * 60


def apply_enabled() -> bool:
    return bool(getattr(settings, "NETPOLUI_ALLOW_APPLY", False))


def can_apply_to(cluster: Cluster) -> str | None:
    """Why apply is impossible for this cluster, or None."""
    if not apply_enabled():
        return "apply is turned off (set NETPOLUI_ALLOW_APPLY=true to allow admins to apply)"
    if cluster.source == Cluster.Source.MANIFESTS:
        return f"cluster {cluster.name} is a snapshot read from files: it has no API server to apply to"
    return None


def _connection(cluster: Cluster) -> Any:
    from ...k8s.client import ConnectionSettings

    return ConnectionSettings(
        source=cluster.source,
        kubeconfig_path=cluster.kubeconfig_path,
        context=cluster.context,
        server_url=cluster.server_url,
        token_file=cluster.token_file,
        ca_file=cluster.ca_file,
        insecure_skip_tls_verify=cluster.insecure_skip_tls_verify,
    )


def last_dry_run(draft: PolicyDraft, *, force: bool = False) -> AuditEvent | None:
    """The latest successful dry run of the draft's current revision, if still fresh,
    made with the same `force` (a dry run without force says nothing about taking over
    fields other managers own)."""
    since = timezone.now() - timedelta(seconds=DRY_RUN_VALID_SECONDS)
    events = audit.events_of("draft", draft.pk).filter(
        action=audit.Action.DRAFT_APPLY_DRY_RUN, at__gte=since
    ).order_by("-at", "-id")
    for event in events[:20]:
        if (
            event.details.get("ok")
            and event.details.get("revision") == draft.revision
            and bool(event.details.get("force", False)) == force
        ):
            return event
    return None


def apply_draft(
    draft: PolicyDraft, *, actor: Any, dry_run: bool, force: bool = False
) -> dict[str, Any]:
    """Server-side apply of an approved draft (field manager "netpolui").

    The real apply is refused unless a dry run of the same revision succeeded in the
    last 15 minutes: what the user saw is what gets applied. Returns the outcome,
    with the object as the server answered and the live object before.
    """
    from ...k8s.apply import ApplyError, apply_network_policy
    from ...k8s.client import ConnectionSettingsError, build_api_client

    why_not = can_apply_to(draft.cluster)
    if why_not:
        raise ApplyRefused(why_not)
    if draft.status != PolicyDraft.Status.APPROVED:
        raise ApplyRefused(
            f"draft {draft.namespace}/{draft.name} is not approved: approve it first"
        )
    if draft.action == PolicyDraft.Action.DELETE:
        raise ApplyRefused(
            f"draft {draft.namespace}/{draft.name} deletes a policy, which netpolui does not do itself: "
            f"run kubectl delete networkpolicy -n {draft.namespace} {draft.name}"
        )
    if not dry_run and last_dry_run(draft, force=force) is None:
        with_force = " with force" if force else ""
        raise ApplyRefused(
            f"run a dry run of draft {draft.namespace}/{draft.name} revision {draft.revision}{with_force} first"
        )
    obj = engine.clean_policy(draft.obj)
    action = audit.Action.DRAFT_APPLY_DRY_RUN if dry_run else audit.Action.DRAFT_APPLIED
    try:
        api_client = build_api_client(_connection(draft.cluster))
    except ConnectionSettingsError as exc:
        raise ApplyRefused(str(exc)) from exc
    try:
        result = apply_network_policy(api_client, obj, dry_run=dry_run, force=force)
    except ApplyError as exc:
        _audit(
            actor,
            draft.cluster,
            action,
            draft,
            f"{draft.namespace}/{draft.name} r{draft.revision}: failed: {exc}",
            {"revision": draft.revision, "ok": False, "error": str(exc), "force": force},
        )
        raise ApplyFailed(str(exc), status=exc.status, conflict=exc.conflict) from exc
    finally:
        api_client.close()  # type: ignore[no-untyped-call]
    outcome = result.to_dict()
    outcome["yaml"] = engine.dump_yaml([engine.clean_policy(result.obj)])
    outcome["before_yaml"] = (
        engine.dump_yaml([engine.clean_policy(result.before)]) if result.before else ""
    )
    _audit(
        actor,
        draft.cluster,
        action,
        draft,
        f"{draft.namespace}/{draft.name} r{draft.revision}: {result.verdict}"
        + (" (dry run)" if dry_run else ""),
        {"revision": draft.revision, "ok": True, "verdict": result.verdict, "force": force},
    )
    return outcome
