"""Nothing is anonymous: reads need the viewer role, writes the editor role; a view may
ask for more with `required_role` (admin for clusters and apply)."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import SAFE_METHODS, BasePermission

from ..roles import EDITOR, VIEWER, has_role


class RolePermission(BasePermission):
    message = "Your role does not allow this."

    def has_permission(self, request: Any, view: Any) -> bool:
        user = request.user
        if not user or not user.is_authenticated:
            return False
        required = getattr(view, "required_role", None)
        if callable(required):
            required = required(request)
        if required is None:
            required = VIEWER if request.method in SAFE_METHODS else EDITOR
        return has_role(user, required)
