"""metav1.Status bodies, shaped as kube-apiserver writes them (k8s.io/apimachinery/pkg/api/errors)."""

from __future__ import annotations

from typing import Any

from .resources import Resource

REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}

DEFAULT_MESSAGES = {
    400: "the server rejected our request for an unknown reason",
    401: "Unauthorized",
    404: "the server could not find the requested resource",
    405: "the server does not allow this method on the requested resource",
    409: "the server reported a conflict",
    410: "the resource version requested is no longer available",
    429: "Too many requests, please try again later.",
    500: "Internal error occurred: injected fault",
    503: "the server is currently unable to handle the request",
    504: "the server was unable to return a response in the time allotted, but may still be processing the request",
}


def status_body(
    code: int,
    message: str | None = None,
    reason: str | None = None,
    details: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": metadata or {},
        "status": "Success" if 200 <= code < 300 else "Failure",
    }
    if 200 <= code < 300:
        if details:
            body["details"] = details
        body["code"] = code
        return body
    body["message"] = message if message is not None else DEFAULT_MESSAGES.get(code, "error")
    body["reason"] = reason or REASONS.get(code, "Unknown")
    if details:
        body["details"] = details
    body["code"] = code
    return body


class ApiError(Exception):
    """Raised anywhere in request handling; the server answers with its Status body."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        reason: str | None = None,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.code = code
        self.body = status_body(code, message, reason, details, metadata)
        self.headers = headers or {}
        super().__init__(f"{code} {self.body['reason']}: {self.body['message']}")


def _details(resource: Resource, name: str | None = None, **extra: Any) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if resource.group:
        details["group"] = resource.group
    details["kind"] = resource.plural
    details.update(extra)
    return details


def not_found(resource: Resource, name: str) -> ApiError:
    return ApiError(404, f'{resource.qualified} "{name}" not found', "NotFound",
                    _details(resource, name))


def namespace_not_found(namespace: str) -> ApiError:
    return ApiError(404, f'namespaces "{namespace}" not found', "NotFound",
                    {"name": namespace, "kind": "namespaces"})


def already_exists(resource: Resource, name: str) -> ApiError:
    return ApiError(409, f'{resource.qualified} "{name}" already exists', "AlreadyExists",
                    _details(resource, name))


def conflict(resource: Resource, name: str, why: str) -> ApiError:
    return ApiError(409, f'Operation cannot be fulfilled on {resource.qualified} "{name}": {why}',
                    "Conflict", _details(resource, name))


STALE = "the object has been modified; please apply your changes to the latest version and try again"


def forbidden(resource: Resource, name: str | None, verb: str, user: str,
              namespace: str | None, subresource: str | None = None) -> ApiError:
    target = f"{resource.plural}/{subresource}" if subresource else resource.plural
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    why = (f'User "{user}" cannot {verb} resource "{target}" in API group '
           f'"{resource.group}" {scope}')
    subject = f'{resource.qualified} "{name}"' if name else resource.qualified
    return ApiError(403, f"{subject} is forbidden: {why}", "Forbidden",
                    _details(resource, name))


def unauthorized() -> ApiError:
    return ApiError(401, "Unauthorized", "Unauthorized")


def bad_request(message: str) -> ApiError:
    return ApiError(400, message, "BadRequest")


def method_not_allowed() -> ApiError:
    return ApiError(405, DEFAULT_MESSAGES[405], "MethodNotAllowed")


def expired(message: str, continue_token: str | None = None) -> ApiError:
    metadata = {"continue": continue_token} if continue_token else None
    return ApiError(410, message, "Expired", metadata=metadata)


def invalid(qualified_kind: str, name: str, causes: list[dict[str, str]],
            group: str, kind: str) -> ApiError:
    """422 Invalid; each cause is {reason, message, field} as field.Error renders it."""
    rendered = [f"{c['field']}: {c['message']}" for c in causes]
    summary = rendered[0] if len(rendered) == 1 else "[" + ", ".join(rendered) + "]"
    details: dict[str, Any] = {"name": name} if name else {}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = causes
    return ApiError(422, f'{qualified_kind} "{name}" is invalid: {summary}', "Invalid", details)


def options_invalid(options_kind: str, causes: list[dict[str, str]]) -> ApiError:
    """422 for bad ListOptions/PatchOptions, e.g. an apply patch without fieldManager."""
    return invalid(f"{options_kind}.meta.k8s.io", "", causes, "meta.k8s.io", options_kind)
