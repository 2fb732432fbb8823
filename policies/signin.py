"""Sign-in with a limit on failures: per user name and per client address, at most
NETPOLUI_LOGIN_FAILURES failed attempts in any NETPOLUI_LOGIN_WINDOW_SECONDS (10 in any
15 minutes by default: a sliding window, so no burst across a window boundary), counted
atomically in Django's cache (Redis when configured, so every web process shares the
count). Used by the login page and the admin site's login."""

from __future__ import annotations

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


def _slots(key: str) -> list[str]:
    return [f"{key}:slot:{i}" for i in range(_limit())]


def _take_slot(key: str) -> tuple[str | None, float]:
    """One of the key's `limit` slots, or (None, seconds until one is free).

    A slot is a cache entry that lives one window from the attempt that took it, taken with
    an atomic add (Redis SET NX, or the local-memory cache's lock): at most `limit`
    attempts hold one within any window, however they are spread or run in parallel."""
    slots = _slots(key)
    for _look in range(2):  # a second look: a slot may have been given back meanwhile
        taken = cache.get_many(slots)
        for slot in slots:
            if slot not in taken and cache.add(slot, time.time(), _window()):
                return slot, 0.0
        if len(taken) == len(slots):
            break
    first = min((float(at) for at in taken.values()), default=time.time())
    return None, first + _window() - time.time()


def _release(slots: list[str]) -> None:
    cache.delete_many(slots)


@dataclass(frozen=True)
class _Reservation:
    """An attempt counted against the user name and the address before the password is
    checked; `wait` is how long until another is allowed when one of them is at the limit."""

    slots: list[str]
    wait: float


def _reserve_attempt(username: str, address: str) -> _Reservation:
    """Takes a slot of every key; an attempt over the limit holds none."""
    counted: list[str] = []
    for key in _keys(username, address):
        slot, wait = _take_slot(key)
        if slot is None:
            _release(counted)
            return _Reservation(slots=[], wait=max(1.0, wait))
        counted.append(slot)
    return _Reservation(slots=counted, wait=0.0)


class _Limited:
    """The limit before the password is even checked, so a blocked guess learns nothing.
    Every attempt takes a slot before its password is checked and gives it back unless
    the password was wrong (a failure keeps it for the window), so parallel guesses cannot
    all pass the check at once."""

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
                _release(reservation.slots)


class RateLimitedAuthenticationForm(_Limited, AuthenticationForm):
    pass


class RateLimitedAdminAuthenticationForm(_Limited, AdminAuthenticationForm):
    pass
