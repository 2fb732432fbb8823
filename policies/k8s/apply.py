"""Server-side apply of a NetworkPolicy, with a dry run first.

netpolui applies as field manager "netpolui" (application/apply-patch+yaml). A dry run
(`dryRun=All`) runs admission and validation on the server without storing anything,
so what the user is shown is what the server would keep. Conflicts with another field
manager (kubectl, a GitOps controller) are reported, not overridden, unless the caller
asks to force: taking ownership of someone else's fields is a decision for a person.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kubernetes import client as k8s
from kubernetes.client.exceptions import ApiException

from .client import RESOURCES_BY_KIND, describe_failure, server_url

FIELD_MANAGER = "netpolui"
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"


class ApplyError(Exception):
    """The server refused the apply, or could not be reached; the message says why."""

    def __init__(self, message: str, *, status: int | None = None, conflict: bool = False) -> None:
        super().__init__(message)
        self.status = status
        self.conflict = conflict


@dataclass(frozen=True)
class ApplyResult:
    """What the server answered: the object it stores (or would store) and what was there."""

    dry_run: bool
    created: bool
    obj: dict[str, Any]
    before: dict[str, Any] | None

    @property
    def unchanged(self) -> bool:
        return self.before is not None and _content(self.before) == _content(self.obj)

    @property
    def verdict(self) -> str:
        if self.created:
            return "would be created" if self.dry_run else "created"
        if self.unchanged:
            return "unchanged"
        return "would be updated" if self.dry_run else "updated"

    def to_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "created": self.created,
            "unchanged": self.unchanged,
            "verdict": self.verdict,
            "object": self.obj,
            "before": self.before,
        }


def _content(obj: dict[str, Any]) -> tuple[Any, Any, Any]:
    meta = obj.get("metadata") or {}
    return meta.get("labels") or {}, meta.get("annotations") or {}, obj.get("spec")


def apply_network_policy(
    api_client: k8s.ApiClient,
    obj: dict[str, Any],
    *,
    dry_run: bool,
    force: bool = False,
    field_manager: str = FIELD_MANAGER,
) -> ApplyResult:
    """Server-side apply `obj` (a clean NetworkPolicy dict with namespace and name)."""
    meta = obj.get("metadata") or {}
    name, namespace = meta.get("name"), meta.get("namespace") or "default"
    body = {**obj, "metadata": {**meta, "namespace": namespace}}
    api = k8s.NetworkingV1Api(api_client)
    try:
        try:
            before = api_client.sanitize_for_serialization(
                api.read_namespaced_network_policy(name, namespace)
            )
        except ApiException as exc:
            if exc.status != 404:
                raise
            before = None
        kwargs: dict[str, Any] = {"field_manager": field_manager, "force": force}
        if dry_run:
            kwargs["dry_run"] = "All"
        data, status, _ = api.patch_namespaced_network_policy_with_http_info(
            name, namespace, body, _content_type=APPLY_CONTENT_TYPE, **kwargs
        )
    except ApiException as exc:
        raise _error(exc, api_client) from exc
    except Exception as exc:  # connection, TLS, timeouts: described in words
        failure = describe_failure(exc, resource=_RESOURCE, server=server_url(api_client))
        raise ApplyError(failure.message) from exc
    return ApplyResult(
        dry_run=dry_run,
        created=status == 201 or before is None,
        obj=api_client.sanitize_for_serialization(data),
        before=before,
    )


_RESOURCE = RESOURCES_BY_KIND["NetworkPolicy"]


def _error(exc: ApiException, api_client: k8s.ApiClient) -> ApplyError:
    status = int(exc.status or 0)
    if status == 409:
        message = _message(exc)
        return ApplyError(
            f"{message}. Another field manager owns these fields; apply with force to take "
            "them over, or change them where they are managed",
            status=409,
            conflict=True,
        )
    if status == 422:
        return ApplyError(f"the API server rejected the policy: {_message(exc)}", status=422)
    if status == 403:
        return ApplyError(
            f"permission denied (403 Forbidden): {_message(exc)}. netpolui's service account "
            'needs: apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], '
            'verbs: ["get", "patch"]',
            status=403,
        )
    failure = describe_failure(exc, resource=_RESOURCE, server=server_url(api_client))
    return ApplyError(failure.message, status=status)


def _message(exc: ApiException) -> str:
    import json

    body = exc.body
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    try:
        status = json.loads(body or "")
    except ValueError:
        return str(body or exc.reason or "")
    if isinstance(status, dict) and status.get("message"):
        return str(status["message"])
    return str(exc.reason or "")
