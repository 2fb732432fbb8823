"""The per-port truth table page, and its CSV and Markdown downloads."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.text import slugify

from ..models import Cluster
from ..roles import VIEWER
from ..services import filter_checks, truth_table
from ..web import role_required
from .views import _namespaces

EXPORTS = {"csv": ("text/csv; charset=utf-8", truth_table.to_csv), "md": ("text/markdown; charset=utf-8", truth_table.to_markdown)}


@role_required(VIEWER)
def truth_table_page(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = get_object_or_404(Cluster, pk=cluster_id)
    request.netpolui_cluster = cluster  # type: ignore[attr-defined]
    namespaces = _namespaces(cluster)
    get = request.GET
    ports_text = get.get("ports", "").strip()
    direction = get.get("direction") or "combined"
    level = get.get("level") or "workload"
    chosen = [ns for ns in get.getlist("namespace") if ns]
    errors: list[str] = []
    table: dict[str, Any] | None = None
    try:
        ports = truth_table.parse_ports(ports_text) if ports_text else truth_table.default_ports(cluster)
    except truth_table.TableError as exc:
        errors.append(str(exc))
        ports = []
    for ns in chosen:
        if ns not in namespaces:
            errors.append(f'The cluster has no namespace "{ns}".' + filter_checks.did_you_mean(ns, namespaces))
    if not errors:
        try:
            table = truth_table.build(cluster, ports, direction=direction, level=level, namespaces=chosen)
        except truth_table.TableError as exc:
            errors.append(str(exc))
    fmt = get.get("format", "")
    if fmt in EXPORTS and table is not None:
        content_type, render_text = EXPORTS[fmt]
        response = HttpResponse(render_text(table), content_type=content_type)
        suffix = "-" + "-".join(slugify(p.param) for p in ports)
        response["Content-Disposition"] = f'attachment; filename="{cluster.name}-truth-table{suffix}.{fmt}"'
        return response
    query = request.GET.copy()
    query.pop("format", None)
    if not ports_text:
        query["ports"] = ",".join(p.param for p in ports)
    return render(
        request,
        "policies/truth_table.html",
        {
            "cluster": cluster,
            "table": table,
            "errors": errors,
            "ports_text": ports_text or ",".join(p.param for p in ports),
            "direction": direction,
            "level": level,
            "namespaces": namespaces,
            "chosen": chosen,
            "directions": ("combined", "ingress", "egress"),
            "levels": ("workload", "tier", "namespace"),
            "query": query.urlencode(),
        },
        status=400 if errors else 200,
    )
