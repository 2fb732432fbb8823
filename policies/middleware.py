"""Request-wide guards: a Content-Security-Policy on every answer, and a cap on request
bodies checked before any view (or DRF parser) reads them."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from .errors import bad_parameter, too_large

# Scripts and everything else from our own origin only: no inline script, no eval, no
# framing; no inline style either (sizes are set from scripts through the CSSOM).
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


class RequestSizeLimitMiddleware:
    """A body larger than NETPOLUI_MAX_REQUEST_BYTES is refused with 413 before it is
    read: DRF's parsers read the stream directly, past Django's own upload limits.

    URL-encoded form bodies have a lower cap, NETPOLUI_MAX_FORM_BYTES: Python decodes
    `%XX` escapes into one object each, about 75 MB of memory per MB of escapes, so 8 MB
    of `%5B` would grow a worker past 600 MB. Long text goes as multipart/form-data."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = int(settings.NETPOLUI_MAX_REQUEST_BYTES)
        if request.content_type == "application/x-www-form-urlencoded":
            limit = min(limit, int(settings.NETPOLUI_MAX_FORM_BYTES))
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return too_large(request, limit)
        return self.get_response(request)


class QueryStringGuardMiddleware:
    """A NUL character in a query parameter is refused with 400 naming the parameter
    before any view sees it: PostgreSQL cannot hold or compare text containing NUL, so
    every filter that reaches the database would otherwise end in a 500."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        for name, values in request.GET.lists():
            if "\x00" in name or any("\x00" in v for v in values):
                return bad_parameter(request, name.replace("\x00", "\\x00"), "must not contain a NUL character")
        return self.get_response(request)
