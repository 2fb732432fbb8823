"""What every page's layout needs: the navigation and the cluster being looked at."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

from .models import Cluster
from .roles import role_of

# (label, url name, needs a cluster id). Pages register their URL names; entries whose
# page does not exist are left out of the bar rather than breaking it.
NAV = (
    ("Overview", "cluster-overview", True),
    ("Tier graph", "graph", True),
    ("Matrix", "matrix", True),
    ("Policies", "policy-list", True),
    ("Cluster-wide", "cluster-policy-list", True),
    ("CNI policies", "cni-policy-list", True),
    ("Editor", "draft-list", True),
    ("Drift", "drift-summary", True),
)


def _reverse(name: str, *args: Any) -> str | None:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def layout(request: HttpRequest) -> dict[str, Any]:
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    match = getattr(request, "resolver_match", None)
    cluster_id = None
    if match is not None:
        cluster_id = match.kwargs.get("cluster_id")
    current = getattr(request, "netpolui_cluster", None)
    if current is None and cluster_id is not None:
        current = Cluster.objects.filter(pk=cluster_id).first()
    clusters = list(Cluster.objects.only("pk", "name").order_by("name"))
    if current is None and clusters:
        current = clusters[0]
    nav = []
    url_name = match.url_name if match else None
    for label, name, needs_cluster in NAV:
        url = _reverse(name, current.pk) if needs_cluster and current else _reverse(name)
        if url:
            nav.append({"label": label, "url": url, "active": url_name == name})
    return {
        "nav_clusters": clusters,
        "current_cluster": current,
        "nav_items": nav,
        "user_role": role_of(request.user),
    }
