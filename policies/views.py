"""HTML pages. Views read through policies.services; HTMX only for fragments."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import mirror
from .models import Cluster
from .roles import VIEWER, has_role

View = Callable[..., HttpResponse]


def role_required(role: str = VIEWER) -> Callable[[View], View]:
    """Anonymous users go to the sign-in page; signed-in users without the role get 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not has_role(request.user, role):
                raise PermissionDenied(f"This page needs the {role} role.")
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


@role_required(VIEWER)
def clusters(request: HttpRequest) -> HttpResponse:
    rows = [{"cluster": c, "state": mirror.display_status(c)} for c in Cluster.objects.order_by("name")]
    return render(request, "policies/clusters.html", {"rows": rows})
