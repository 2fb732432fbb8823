"""Error answers: JSON under /api/ (API errors are JSON always), the usual pages elsewhere.

Wired as Django's handler400/403/404/500 and CSRF failure view; DRF's own exceptions
keep going through DRF's handler (JSON already)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.html import escape
from django.views import csrf, defaults

log = logging.getLogger(__name__)


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _megabytes(n: int) -> str:
    return f"{n / (1024 * 1024):g} MB" if n >= 1024 * 1024 else f"{n} bytes"


def too_large(request: HttpRequest, limit: int) -> HttpResponse:
    message = f"the request body is larger than the {_megabytes(limit)} limit"
    if is_api(request):
        return JsonResponse({"detail": message}, status=413)
    return HttpResponse(f"<!doctype html><title>Request too large</title><h1>Request too large</h1><p>{message}.</p>", status=413)


def bad_parameter(request: HttpRequest, name: str, message: str) -> HttpResponse:
    """400 naming the query parameter: `{name: [message]}` as DRF words its own, or a page."""
    if is_api(request):
        return JsonResponse({name: [message]}, status=400)
    return HttpResponse(
        f"<!doctype html><title>Bad request</title><h1>Bad request</h1><p>{escape(name)}: {message}.</p>",
        status=400,
    )


def bad_request(request: HttpRequest, exception: Exception | None = None, **kwargs: Any) -> HttpResponse:
    if isinstance(exception, RequestDataTooBig):
        from django.conf import settings

        return too_large(request, int(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0))
    if is_api(request):
        return JsonResponse({"detail": "bad request"}, status=400)
    return defaults.bad_request(request, exception)  # type: ignore[arg-type]


def permission_denied(request: HttpRequest, exception: Exception | None = None, **kwargs: Any) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "you do not have permission to do this"}, status=403)
    return defaults.permission_denied(request, exception)  # type: ignore[arg-type]


def page_not_found(request: HttpRequest, exception: Exception | None = None, **kwargs: Any) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "not found"}, status=404)
    return defaults.page_not_found(request, exception)  # type: ignore[arg-type]


def server_error(request: HttpRequest, **kwargs: Any) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": "internal error; the details are in the server log"}, status=500)
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "", **kwargs: Any) -> HttpResponse:
    if is_api(request):
        return JsonResponse({"detail": f"CSRF check failed: {reason}"}, status=403)
    return csrf.csrf_failure(request, reason)
