"""Sign-in with a limit on failures: per user name and per client address, at most
NETPOLUI_LOGIN_FAILURES failed attempts in NETPOLUI_LOGIN_WINDOW_SECONDS (10 in 15
minutes by default), counted in Django's cache (Redis when configured, so every web
process shares the count). Used by the login page and the admin site's login."""

from __future__ import annotations

import hashlib
import math
import time
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import HttpRequest


def _limit() -> int:
    return int(getattr(settings, "NETPOLUI_LOGIN_FAILURES", 10))


def _window() -> int:
    return int(getattr(settings, "NETPOLUI_LOGIN_WINDOW_SECONDS", 15 * 60))


def client_address(request: HttpRequest | None) -> str:
    """The client's address; behind a trusted proxy (NETPOLUI_TRUST_X_FORWARDED_FOR) the
    last one the proxy appended to X-Forwarded-For, else every user would share one."""
    if request is None:
        return ""
    if getattr(settings, "NETPOLUI_TRUST_X_FORWARDED_FOR", False):
        forwarded = [a.strip() for a in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if a.strip()]
        if forwarded:
            return forwarded[-1]
    return str(request.META.get("REMOTE_ADDR", ""))


def _keys(username: str, address: str) -> list[str]:
    keys = []
    if username:
        digest = hashlib.sha256(username.strip().lower().encode("utf-8", "replace")).hexdigest()[:32]
        keys.append(f"netpolui:signin-failures:user:{digest}")
    if address:
        keys.append(f"netpolui:signin-failures:addr:{address}")
    return keys


def _failures(key: str) -> list[float]:
    now = time.time()
    return [t for t in cache.get(key) or [] if now - t < _window()]


def seconds_blocked(username: str, address: str) -> int:
    """Seconds until another attempt is allowed (0: allowed now)."""
    wait = 0.0
    for key in _keys(username, address):
        failures = _failures(key)
        if len(failures) >= _limit():
            wait = max(wait, failures[-_limit()] + _window() - time.time())
    return max(0, math.ceil(wait))


def record_failure(username: str, address: str) -> None:
    for key in _keys(username, address):
        failures = _failures(key)
        failures.append(time.time())
        cache.set(key, failures[-_limit():], _window())


class _Limited:
    """The limit before the password is even checked, so a blocked guess learns nothing."""

    request: HttpRequest | None

    def clean(self) -> dict[str, Any]:
        username = str(self.data.get("username") or "")  # type: ignore[attr-defined]
        address = client_address(self.request)
        wait = seconds_blocked(username, address)
        if wait:
            minutes = max(1, math.ceil(wait / 60))
            raise forms.ValidationError(
                f"Too many failed sign-ins for this user or from this address; try again in {minutes} "
                f"minute{'s' if minutes != 1 else ''}.",
                code="rate_limited",
            )
        try:
            return super().clean()  # type: ignore[misc,no-any-return]
        except forms.ValidationError as exc:
            if getattr(exc, "code", None) == "invalid_login":
                record_failure(username, address)
            raise


class RateLimitedAuthenticationForm(_Limited, AuthenticationForm):
    pass


class RateLimitedAdminAuthenticationForm(_Limited, AdminAuthenticationForm):
    pass
