"""Pages of the CNIs' own policy resources (Calico, Cilium, Antrea): the list with the
cluster's enforcing CNI (admins change the setting there), and one object's page with
the engine's reading of it and its YAML in its own shape. Read-only: the editor writes
v1 NetworkPolicies."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.text import slugify
from django.views.decorators.http import require_POST

from ..filtersets import CniPolicyFilterSet
from ..models import Cluster, CniObject
from ..roles import ADMIN, VIEWER
from ..services import analysis, cni, finding_groups
from ..web import get_cluster, role_required, yaml_attachment
from .views import PAGE_SIZE, render_fragment


@role_required(VIEWER)
def cni_policy_list(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    base = CniObject.objects.filter(cluster=cluster).order_by("cni", "tier", "order", "kind", "namespace", "name")
    filterset = CniPolicyFilterSet(request.GET, queryset=base)
    rows = filterset.qs if filterset.is_valid() else base.none()
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "cluster": cluster,
        "filterset": filterset,
        "page": page,
        "rows": [{"row": row, "info": cni.policy_info(row)} for row in page.object_list],
        "enforcing": cni.enforcing_cni(cluster),
        "settings": Cluster.Cni.choices,
        "kinds": sorted(set(CniObject.objects.filter(cluster=cluster).values_list("kind", flat=True))),
        "namespaces": sorted(
            set(CniObject.objects.filter(cluster=cluster).exclude(namespace="").values_list("namespace", flat=True))
        ),
        "query": query.urlencode(),
    }
    return render_fragment(request, "policies/cni_policy_list.html", "partials/cni_policy_table.html", context)


@require_POST
@role_required(ADMIN)
def cni_setting(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    try:
        cni.set_setting(cluster, request.POST.get("cni", ""), actor=request.user)
    except cni.SettingError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Enforcing CNI of {cluster.name}: {cluster.get_cni_display()}.")
    return redirect("cni-policy-list", cluster_id=cluster.pk)


@role_required(VIEWER)
def cni_policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(CniObject.objects.select_related("cluster"), pk=pk)
    cluster = row.cluster
    request.netpolui_cluster = cluster  # type: ignore[attr-defined]
    selected = cni.selected_endpoints(row)
    return render(
        request,
        "policies/cni_policy_detail.html",
        {
            "cluster": cluster,
            "row": row,
            "selected": selected,
            "rows": analysis.endpoint_rows(cluster, selected),
            "info": cni.policy_info(row),
            "enforcing": cni.enforcing_cni(cluster),
            "yaml": cni.policy_yaml(row),
            "clone": cni.clone_verdict(row),
            "object_findings": finding_groups.for_cni_object(cluster, row.key),
        },
    )


@role_required(VIEWER)
def cni_policy_yaml(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(CniObject, pk=pk)
    where = f"{slugify(row.namespace)}-" if row.namespace else ""
    return yaml_attachment(cni.policy_yaml(row), f"{row.cni}-{slugify(row.kind)}-{where}{slugify(row.name)}.yaml")
