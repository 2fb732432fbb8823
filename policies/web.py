"""What the HTML pages and the API share: the role check of a page, the cluster a URL
names, YAML downloads, comma-separated list parameters and counts per parent row, and one
validator per input both take (ports, the explain question's port rule, the reachability
question, uploaded files, JSON text and its nesting).

Web modules (pages, API, forms) reach the engine and the Kubernetes client only through
policies.services; import-linter holds them to it."""

from __future__ import annotations

import json
import re
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
from .services.analysis import ReachabilityQuery

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


PORT_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,13}[a-z0-9])?$")


def parse_port(text: str) -> int | str:
    """A port as people type it in the explain question: a number (1-65535) or a named port
    (an IANA_SVC_NAME such as http). ValueError says what is wrong, for form and API alike."""
    text = text.strip()
    if len(text) > 15:
        raise ValueError("a port is a number (1-65535) or a name of at most 15 characters")
    if text.isdigit() and text.isascii():  # not '²', which isdigit() but int() refuses
        number = int(text)
        if not 1 <= number <= 65535:
            raise ValueError("a port number must be between 1 and 65535")
        return number
    if not PORT_NAME.match(text) or not re.search(r"[a-z]", text):
        raise ValueError(
            f"{text!r} is neither a port number (1-65535) nor a port name (lowercase letters, digits and '-', at most 15)"
        )
    return text


def explain_port_rule(port: int | str | None, protocol: str | None) -> tuple[int | str | None, str | None]:
    """(port, protocol) of an explain question: a port without protocol means TCP, as in a
    NetworkPolicy; neither means any connection."""
    if port is not None and not protocol:
        return port, "TCP"
    return port, protocol or None


def reachability_query(
    *,
    level: str,
    group_by: str = "",
    namespaces: Iterable[str] = (),
    protocol: str = "",
    port: int | None = None,
    direction: str = "combined",
    fmt: str = "edges",
) -> ReachabilityQuery:
    """The reachability question of a page's controls or of an API call, put one way:
    group_by only groups the tier level (elsewhere it would only split the cache) and
    namespaces are distinct and sorted. ValueError names a value out of range."""
    return ReachabilityQuery(
        level=level,
        group_by=group_by.strip() if level == "tier" else "",
        namespaces=tuple(sorted(set(namespaces))),
        protocol=protocol,
        port=port,
        direction=direction,
        format=fmt,
    )


def read_uploaded_text(upload: Any, limit_bytes: int) -> str:
    """The text of an uploaded file, for page forms and API serializers alike. ValueError
    says what is wrong with the file ("is larger than 5 MB", "is not UTF-8 text")."""
    if upload.size > limit_bytes:
        raise ValueError(f"is larger than {limit_bytes // (1024 * 1024)} MB")
    try:
        return str(upload.read().decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("is not UTF-8 text") from None


MAX_JSON_NESTING = 100
"""Deepest nesting of lists and objects read from JSON (Kubernetes objects need ~20):
json.loads reads a few hundred levels that code walking the value recursively does not."""


class JsonTooDeep(ValueError):
    def __init__(self) -> None:
        super().__init__(f"nested deeper than {MAX_JSON_NESTING} levels")


def nesting_depth(value: Any, limit: int) -> int:
    """The depth of nested lists and dicts, counted without recursion, up to limit + 1."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return deepest


def check_json_nesting(value: Any) -> Any:
    """The value, or JsonTooDeep when it nests deeper than MAX_JSON_NESTING."""
    if nesting_depth(value, MAX_JSON_NESTING) > MAX_JSON_NESTING:
        raise JsonTooDeep
    return value


def read_json(text: str | bytes) -> Any:
    """JSON text a page posted. ValueError when it is not JSON or nests too deeply."""
    try:
        return check_json_nesting(json.loads(text))
    except RecursionError:
        raise JsonTooDeep from None


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
