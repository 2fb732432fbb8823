"""What the HTML pages and the API share: the role check of a page, the cluster a URL
names, YAML downloads, comma-separated list parameters and counts per parent row.

Web modules (pages, API, forms) reach the engine and the Kubernetes client only through
policies.services; import-linter holds them to it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404

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


def get_cluster(request: HttpRequest, cluster_id: int) -> Cluster:
    """The cluster a page's URL names (404 if none); the nav bar shows it."""
    cluster = get_object_or_404(Cluster, pk=cluster_id)
    request.netpolui_cluster = cluster  # type: ignore[attr-defined]
    return cluster


def yaml_attachment(body: str, filename: str) -> HttpResponse:
    """A YAML download, as pages and API serve policies, drafts and drift exports."""
    response = HttpResponse(body, content_type="application/yaml; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def comma_list(values: Iterable[str]) -> list[str]:
    """Repeated parameters, each also split on commas: `?ns=a,b&ns=c` -> [a, b, c]."""
    return [v.strip() for raw in values for v in raw.split(",") if v.strip()]


def count_of(model: type[Any], *conditions: Q, **match: Any) -> Coalesce:
    """A correlated COUNT(*) subquery, `match` naming the outer row (`cluster=OuterRef("pk")`):
    one SQL statement for a whole page of rows."""
    rows = (
        model.objects.filter(*conditions, **match)
        .order_by()
        .values(*match)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)
