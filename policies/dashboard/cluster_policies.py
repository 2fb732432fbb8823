"""Pages of the cluster-wide policies (ClusterNetworkPolicy, AdminNetworkPolicy,
BaselineAdminNetworkPolicy): the list in evaluation order and one policy's page."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils.text import slugify

from ..filtersets import ClusterPolicyFilterSet
from ..models import ClusterPolicy, Pod
from ..roles import VIEWER
from ..services import analysis, finding_groups, tier_pages
from ..web import get_cluster, role_required, yaml_attachment
from .views import PAGE_SIZE, _namespaces, render_fragment


@role_required(VIEWER)
def cluster_policy_list(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    base = tier_pages.ordered(ClusterPolicy.objects.filter(cluster=cluster))
    params = request.GET.copy()
    params.pop("cluster", None)  # the URL names the cluster
    filterset = ClusterPolicyFilterSet(params, queryset=base)
    policies = filterset.qs if filterset.is_valid() else base.none()
    page = Paginator(policies, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    namespaces = _namespaces(cluster)
    context = {
        "cluster": cluster,
        "filterset": filterset,
        "page": page,
        "rows": tier_pages.list_rows(cluster, list(page.object_list)),
        "namespaces": namespaces,
        "kinds": ClusterPolicy.Kind.choices,
        "pod_names": Pod.objects.filter(cluster=cluster).values_list("namespace", "name")[:2000],
        "query": query.urlencode(),
        "total": ClusterPolicy.objects.filter(cluster=cluster).count(),
    }
    return render_fragment(
        request, "policies/cluster_policy_list.html", "partials/cluster_policy_table.html", context
    )


@role_required(VIEWER)
def cluster_policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(ClusterPolicy.objects.select_related("cluster"), pk=pk)
    cluster = policy.cluster
    request.netpolui_cluster = cluster  # type: ignore[attr-defined]
    details = tier_pages.policy_details(policy)
    return render(
        request,
        "policies/cluster_policy_detail.html",
        {
            "cluster": cluster,
            "policy": policy,
            "key": f"{policy.kind}/{policy.name}",
            "details": details,
            "yaml": analysis.cluster_policy_yaml(policy),
            "rows": analysis.endpoint_rows(cluster, details["selected"]),
            "object_findings": finding_groups.for_object(cluster, policy.kind, "", policy.name),
        },
    )


@role_required(VIEWER)
def cluster_policy_yaml(request: HttpRequest, pk: int) -> HttpResponse:
    """The policy as a YAML file, clean of server-managed fields (the text the page shows)."""
    policy = get_object_or_404(ClusterPolicy, pk=pk)
    filename = f"{slugify(policy.kind).lower()}-{slugify(policy.name)}.yaml"
    return yaml_attachment(analysis.cluster_policy_yaml(policy), filename)
