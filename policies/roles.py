"""Roles as Django groups: viewer reads, editor also drafts and exports, admin also manages
clusters and applies policies. A superuser is an admin."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group

VIEWER = "viewer"
EDITOR = "editor"
ADMIN = "admin"
ROLES = (VIEWER, EDITOR, ADMIN)
_RANK = {VIEWER: 1, EDITOR: 2, ADMIN: 3}


def ensure_roles() -> None:
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def role_of(user: Any) -> str | None:
    """The highest role the user holds, or None."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    if user.is_superuser:
        return ADMIN
    cached = getattr(user, "_netpolui_role", False)
    if cached is not False:
        return cached  # type: ignore[no-any-return]
    names = set(user.groups.values_list("name", flat=True))
    role = next((name for name in (ADMIN, EDITOR, VIEWER) if name in names), None)
    user._netpolui_role = role  # one query per request, not per check
    return role


def has_role(user: Any, role: str) -> bool:
    held = role_of(user)
    return held is not None and _RANK[held] >= _RANK[role]
