"""Sign-in with a limit on failures: per user name and per client address, at most
NETPOLUI_LOGIN_FAILURES failed attempts in a window of NETPOLUI_LOGIN_WINDOW_SECONDS
from the first (10 in 15 minutes by default), counted atomically in Django's cache (Redis when
configured, so every web process shares the count). Used by the login page and the admin site's login."""

from __future__ import annotations

import contextlib
import hashlib
import math
import time
from dataclasses import dataclass
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
        keys.append(f"netpolui:signin-attempts:user:{digest}")
    if address:
        keys.append(f"netpolui:signin-attempts:addr:{address}")
    return keys


def _increment(key: str) -> int:
    """Counts in the window that the key's first attempt opened; atomic on Redis and on
    the local-memory cache, so parallel attempts each get their own count."""
    for _attempt in range(2):
        if cache.add(key, 0, _window()):
            cache.set(f"{key}:since", time.time(), _window())
        try:
            return int(cache.incr(key))
        except ValueError:  # the window ended between add and incr
            continue
    return _limit() + 1


def _seconds_left(key: str) -> float:
    since = cache.get(f"{key}:since")
    return float(since) + _window() - time.time() if since is not None else float(_window())


def _release(keys: list[str]) -> None:
    for key in keys:
        with contextlib.suppress(ValueError):  # its window ended
            cache.decr(key)


@dataclass(frozen=True)
class _Reservation:
    """An attempt counted against the user name and the address before the password is
    checked; `wait` is how long until another is allowed when one of them is at the limit."""

    keys: list[str]
    wait: float


def _reserve_attempt(username: str, address: str) -> _Reservation:
    """Counts the attempt against every key; an attempt over the limit is counted nowhere."""
    counted: list[str] = []
    for key in _keys(username, address):
        counted.append(key)
        if _increment(key) > _limit():
            _release(counted)
            return _Reservation(keys=[], wait=max(1.0, _seconds_left(key)))
    return _Reservation(keys=counted, wait=0.0)


class _Limited:
    """The limit before the password is even checked, so a blocked guess learns nothing.
    Every attempt takes a slot before its password is checked and gives it back unless
    the password was wrong, so parallel guesses cannot all pass the check at once."""

    request: HttpRequest | None

    def clean(self) -> dict[str, Any]:
        username = str(self.data.get("username") or "")  # type: ignore[attr-defined]
        reservation = _reserve_attempt(username, client_address(self.request))
        if reservation.wait:
            minutes = max(1, math.ceil(reservation.wait / 60))
            raise forms.ValidationError(
                f"Too many failed sign-ins for this user or from this address; try again in {minutes} "
                f"minute{'s' if minutes != 1 else ''}.",
                code="rate_limited",
            )
        failed = False
        try:
            return super().clean()  # type: ignore[misc,no-any-return]
        except forms.ValidationError as exc:
            failed = getattr(exc, "code", None) == "invalid_login"
            raise
        finally:
            if not failed:
                _release(reservation.keys)


class RateLimitedAuthenticationForm(_Limited, AuthenticationForm):
    pass


class RateLimitedAdminAuthenticationForm(_Limited, AdminAuthenticationForm):
    pass
