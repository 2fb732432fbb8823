"""HTML pages. Views read through policies.services; HTMX only for fragments: a view
returns its partial template for an HX-Request (and says so with Vary: HX-Request),
never a site-wide navigation."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.core.paginator import Paginator
from django.db.models import OuterRef, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.text import slugify

from .. import mirror
from ..choices import DIRECTIONS, LEVELS
from ..filtersets import NetworkPolicyFilterSet
from ..models import TOP_LEVEL_WORKLOAD, Cluster, Namespace, NetworkPolicy, Pod, Workload
from ..roles import EDITOR, VIEWER
from ..services import (
    analysis,
    cni,
    filter_checks,
    finding_groups,
    graph_pictures,
    graph_view,
    matrix_page,
    tier_pages,
)
from ..web import count_of, get_cluster, role_required, yaml_attachment
from .forms import ExplainForm, ReachabilityForm

View = Callable[..., HttpResponse]
PAGE_SIZE = 100
# Above these sizes the graph page draws without edge labels and with a faster layout;
# the side panel still gives every label and explanation.
GRAPH_LABEL_LIMIT = 150
GRAPH_FAST_LAYOUT_NODES = 120


def is_htmx(request: HttpRequest) -> bool:
    return request.headers.get("HX-Request") == "true"


def render_fragment(
    request: HttpRequest, page: str, partial: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """The whole page, or only its fragment when HTMX asks (Vary tells caches apart)."""
    response = render(request, partial if is_htmx(request) else page, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _top_workloads(cluster: Cluster) -> QuerySet[Workload]:
    return Workload.objects.filter(cluster=cluster).filter(TOP_LEVEL_WORKLOAD)


# --- clusters and overview ----------------------------------------------------------------------


@role_required(VIEWER)
def clusters(request: HttpRequest) -> HttpResponse:
    rows = Cluster.objects.annotate(
        namespace_count=count_of(Namespace, cluster=OuterRef("pk")),
        workload_count=count_of(Workload, TOP_LEVEL_WORKLOAD, cluster=OuterRef("pk")),
        pod_count=count_of(Pod, cluster=OuterRef("pk")),
        policy_count=count_of(NetworkPolicy, cluster=OuterRef("pk")),
    ).order_by("name")
    return render(
        request,
        "policies/clusters.html",
        {"rows": [{"cluster": c, "state": mirror.display_status(c)} for c in rows]},
    )


def _overview_counts(cluster: Cluster) -> dict[str, int]:
    return {
        "namespaces": Namespace.objects.filter(cluster=cluster).count(),
        "workloads": _top_workloads(cluster).count(),
        "pods": Pod.objects.filter(cluster=cluster).count(),
        "policies": NetworkPolicy.objects.filter(cluster=cluster).count(),
    }


def _tier_choices(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tiers first, then the workloads no tier label groups, for the "who can reach" box."""
    choices = [
        {"id": n["id"], "members_kind": "workload" if analysis.parse_endpoint_key(n["id"]) else "tier"}
        for n in nodes
        if not n["external"]
    ]
    return sorted(choices, key=lambda c: (c["members_kind"] != "tier", c["id"]))


@role_required(VIEWER)
def cluster_overview(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    # Node lists only: the pickers need names, not the pairs.
    tier_nodes = analysis.level_nodes(cluster, "tier")
    workload_nodes = analysis.level_nodes(cluster, "workload")
    context = finding_groups.page_context(cluster, request.GET, _namespaces(cluster))
    return render(
        request,
        "policies/overview.html",
        {
            **context,
            "cluster": cluster,
            "state": mirror.display_status(cluster),
            "counts": _overview_counts(cluster),
            "tier_nodes": _tier_choices(tier_nodes),
            "endpoint_names": [n["id"] for n in workload_nodes],
            "explain_form": ExplainForm(),
        },
    )


# --- graph, matrix and their side panels ------------------------------------------------------


def _namespaces(cluster: Cluster) -> list[str]:
    names = set(Namespace.objects.filter(cluster=cluster).values_list("name", flat=True))
    names |= set(Workload.objects.filter(cluster=cluster).values_list("namespace", flat=True).distinct())
    return sorted(names)


def _label_keys(cluster: Cluster) -> list[str]:
    """Label keys on the cluster's pod templates and pods: the choices for grouping."""
    keys: set[str] = set()
    for labels in Workload.objects.filter(cluster=cluster).values_list("template_labels", flat=True):
        keys.update(labels or {})
    for labels in Pod.objects.filter(cluster=cluster, owner_kind="").values_list("labels", flat=True):
        keys.update(labels or {})
    keys.discard("pod-template-hash")
    keys.discard("controller-revision-hash")
    return sorted(keys)


def _reachability_page(
    request: HttpRequest, cluster_id: int, *, template: str, fmt: str, default_level: str
) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    namespaces = _namespaces(cluster)
    extra: dict[str, Any] = {}
    if fmt == "edges" and not request.GET.get("level"):
        # a large cluster's graph starts at the namespace level (namespaces open on demand)
        default_level = graph_view.start_level(cluster, request.GET.get("group_by", "").strip())
        extra["started_at_namespaces"] = default_level == "namespace"
    form = ReachabilityForm(request.GET or None, namespaces=namespaces, default_level=default_level)
    query = form.query(fmt)
    expand: list[str] = []
    expand_tier: list[str] = []
    if fmt == "matrix":
        oversized = matrix_page.too_large(cluster, query)
        if oversized:
            payload = _not_drawn(request, oversized, extra)
        else:
            payload, extra["matrix_data"] = matrix_page.matrix_page(cluster, query)
    elif query.level in ("workload", "pod") and (oversized := matrix_page.too_large(cluster, query)):
        # 10,000 pods would be millions of edges to compute, send and lay out: ask first
        payload = _not_drawn(request, oversized, extra)
    else:
        expand, expand_tier = _opened(request, cluster, query, namespaces)
        payload, extra["graph_data"] = graph_view.graph_page(cluster, query, tuple(expand), tuple(expand_tier))
        extra["breadcrumb"] = _breadcrumb(request, expand, expand_tier)
    label_keys = _label_keys(cluster)
    return render(
        request,
        template,
        {
            "filter_problems": filter_checks.reachability_problems(
                request.GET, namespaces, label_keys, analysis.tier_keys()
            ),
            "cluster": cluster,
            "form": form,
            "query": query,
            "payload": payload,
            "label_keys": label_keys,
            "tier_keys": analysis.tier_keys(),
            "page_config": {
                "cluster": cluster.pk,
                "level": query.level,
                "group_by": query.group_by,
                "direction": query.direction,
                "port": query.port,
                "protocol": query.protocol,
                "label_limit": GRAPH_LABEL_LIMIT,
                "draw_limit": settings.NETPOLUI_GRAPH_DRAW_LIMIT,
                "fast_layout_nodes": GRAPH_FAST_LAYOUT_NODES,
                "explain_url": reverse("explain", args=[cluster.pk]),
                "node_url": reverse("node", args=[cluster.pk]),
                "expand": expand,
                "expand_limit": graph_view.MAX_EXPANDED,
                "expand_tier": expand_tier,
                "expand_tier_limit": graph_view.MAX_EXPANDED_TIERS,
            },
            **extra,
        },
    )


def _not_drawn(request: HttpRequest, oversized: matrix_page.MatrixTooLarge, extra: dict[str, Any]) -> dict[str, Any]:
    """A matrix or graph over the node bound: the page's payload (counts only) and, in
    `extra`, the bound and links to the biggest namespaces."""
    extra["too_large"] = oversized
    extra["namespace_links"] = [(name, size, _with_namespace(request, name)) for name, size in oversized.namespaces]
    return {"counts": {"nodes": oversized.nodes, "edges": None}}


def _with_namespace(request: HttpRequest, namespace: str) -> str:
    params = request.GET.copy()
    params.setlist("namespace", [namespace])
    params.pop("page", None)
    return f"{request.path}?{params.urlencode()}"


def _opened(
    request: HttpRequest, cluster: Cluster, query: analysis.ReachabilityQuery, namespaces: list[str]
) -> tuple[list[str], list[str]]:
    """The graph's opened namespaces (`expand`) and opened tiers (`expand_tier`, ids
    "ns/key=value" of tiers in an opened namespace) the URL names and the cluster has."""
    known = set(namespaces)
    expand = [ns for ns in dict.fromkeys(request.GET.getlist("expand")) if ns in known]
    expand = expand[: graph_view.MAX_EXPANDED] if query.level == "namespace" else []
    if not expand:
        return [], []
    tier_ids = {n["id"] for n in analysis.level_nodes(cluster, "tier", query.group_by) if not n["external"]}
    wanted = set(graph_view.open_tiers(expand, request.GET.getlist("expand_tier")))
    expand_tier = [t for t in dict.fromkeys(request.GET.getlist("expand_tier")) if t in wanted and t in tier_ids]
    return expand, expand_tier


def _breadcrumb(request: HttpRequest, expand: list[str], expand_tier: list[str] | None = None) -> list[dict[str, Any]]:
    """The opened namespaces, each with the link that closes it (and those after it), and
    under each its opened tiers, each with the link that closes that tier alone."""
    tiers = expand_tier or []
    crumbs = []
    for i, ns in enumerate(expand):
        query = request.GET.copy()
        query.setlist("expand", expand[:i])
        query.setlist("expand_tier", [t for t in tiers if t.split("/", 1)[0] in expand[:i]])
        query.pop("sel", None)
        opened = []
        for tier in tiers:
            if tier.split("/", 1)[0] != ns:
                continue
            tier_query = request.GET.copy()
            tier_query.setlist("expand", expand)
            tier_query.setlist("expand_tier", [t for t in tiers if t != tier])
            tier_query.pop("sel", None)
            opened.append({"tier": tier, "label": tier.split("/", 1)[1], "close_url": "?" + tier_query.urlencode()})
        crumbs.append({"namespace": ns, "close_url": "?" + query.urlencode(), "tiers": opened})
    return crumbs


@role_required(VIEWER)
def graph(request: HttpRequest, cluster_id: int) -> HttpResponse:
    return _reachability_page(
        request, cluster_id, template="policies/graph.html", fmt="edges", default_level="tier"
    )


@role_required(VIEWER)
def graph_picture(request: HttpRequest, cluster_id: int, fmt: str) -> HttpResponse:
    """The graph page's current view (same query string) as an SVG or PNG download."""
    cluster = get_cluster(request, cluster_id)
    namespaces = _namespaces(cluster)
    # the level the page started at when the link names none (namespaces on a large cluster)
    default_level = "tier" if request.GET.get("level") else graph_view.start_level(cluster, request.GET.get("group_by", "").strip())
    form = ReachabilityForm(request.GET or None, namespaces=namespaces, default_level=default_level)
    query = form.query("edges")
    if query.level in ("workload", "pod") and (oversized := matrix_page.too_large(cluster, query)):
        return HttpResponse(
            f"The {cluster.name} graph has {oversized.nodes} {query.level} nodes, more than the "
            f"{oversized.limit} a picture draws (NETPOLUI_MATRIX_MAX_NODES): filter it to a few namespaces.\n",
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    expand, expand_tier = _opened(request, cluster, query, namespaces)
    try:
        data = graph_pictures.graph_picture(cluster, query, fmt, tuple(expand), tuple(expand_tier))
    except graph_pictures.GraphPictureUnavailable as exc:
        return HttpResponse(
            f"The {cluster.name} graph cannot be downloaded as {fmt.upper()}: {exc}.\n",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    content_type = "image/svg+xml" if fmt == "svg" else "image/png"
    response = HttpResponse(data, content_type=content_type)
    name = slugify(f"{cluster.name}-{query.level}-graph")
    response["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@role_required(VIEWER)
def matrix(request: HttpRequest, cluster_id: int) -> HttpResponse:
    return _reachability_page(
        request, cluster_id, template="policies/matrix.html", fmt="matrix", default_level="workload"
    )


@role_required(VIEWER)
def explain(request: HttpRequest, cluster_id: int) -> HttpResponse:
    """Why src may (or may not) reach dst: a page of its own, or the side-panel fragment
    of a graph edge or a matrix cell."""
    cluster = get_cluster(request, cluster_id)
    form = ExplainForm(request.GET or None)
    context: dict[str, Any] = {"cluster": cluster, "form": form, "explanations": None}
    status = 200
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        level = data.get("level") or "workload"
        try:
            result = graph_view.explain_graph_edge(
                cluster,
                data["src"],
                data["dst"],
                level=level,
                group_by=data.get("group_by") or "",
                direction=data.get("direction") or "combined",
                expand=tuple(ns for ns in (data.get("expand") or "").split(",") if ns),
                expand_tier=tuple(t for t in (data.get("expand_tier") or "").split(",") if t),
                port=data["port"],
                protocol=data.get("protocol") or None,
            )
        except (analysis.UnknownEndpoint, ValueError) as exc:
            context["error"] = str(exc)
            status = 400 if not is_htmx(request) else 200
        else:
            pairs = analysis.annotate_explanations(cluster, result["pairs"])
            tier_pages.annotate_tier_matches(cluster, pairs)
            rows = analysis.endpoint_rows(cluster, [k for p in pairs for k in (p["src"], p["dst"])])
            context.update(
                explanations=pairs,
                truncated=result.get("truncated", False),
                total=result.get("total", len(pairs)),
                aggregated=result.get("aggregated", False),
                ranges=result.get("ranges", False),
                rows=rows,
                src=data["src"],
                dst=data["dst"],
                level=level,
            )
    elif form.is_bound:
        status = 400 if not is_htmx(request) else 200
    if not form.is_bound:
        context["endpoint_names"] = [n["id"] for n in analysis.level_nodes(cluster, "workload")]
    return render_fragment(request, "policies/explain.html", "partials/explain.html", context, status)


@role_required(VIEWER)
def node(request: HttpRequest, cluster_id: int) -> HttpResponse:
    """A node of the graph: its members, the policies selecting them, who may reach it."""
    cluster = get_cluster(request, cluster_id)
    node_id = request.GET.get("id", "")
    level = request.GET.get("level") or "workload"
    direction = request.GET.get("direction") or "combined"
    if level not in LEVELS or direction not in DIRECTIONS:
        raise Http404("unknown level or direction")
    range_node = graph_view.range_panel(cluster, node_id)
    try:
        details = analysis.node_details(
            cluster,
            node_id,
            level=level,
            group_by=request.GET.get("group_by", ""),
            direction=direction,
            ranges=[r["key"] for r in range_node["ranges"]] if range_node else (),
        )
    except analysis.UnknownEndpoint as exc:
        raise Http404(str(exc)) from exc
    if range_node:
        details["address_ranges"] = range_node
    tier_pages.annotate_node_details(cluster, details)
    context = {"cluster": cluster, "details": details, "rows": _detail_rows(cluster, details)}
    return render_fragment(request, "policies/node.html", "partials/node.html", context)


def _detail_rows(cluster: Cluster, details: dict[str, Any]) -> dict[str, tuple[str, int]]:
    keys: list[str] = [m["key"] for m in details["members"]]
    for side in ("inbound", "outbound"):
        for row in details[side]:
            keys.append(row["peer"])
            for ex in row["explanations"]:
                keys += [ex["src"], ex["dst"]]
    return analysis.endpoint_rows(cluster, keys)


# --- policies -----------------------------------------------------------------------------------


@role_required(VIEWER)
def policy_list(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    base = NetworkPolicy.objects.filter(cluster=cluster).order_by("namespace", "name")
    filterset = NetworkPolicyFilterSet(request.GET, queryset=base)
    policies = filterset.qs if filterset.is_valid() else base.none()
    page = Paginator(
        policies.only("pk", "cluster_id", "name", "namespace", "obj", "affects_ingress", "affects_egress"),
        PAGE_SIZE,
    ).get_page(request.GET.get("page"))
    keys = [f"{p.namespace}/{p.name}" for p in page.object_list]
    counts = analysis.policy_selection_counts(cluster, keys)
    rows = [{"policy": p, "selects": counts.get(k)} for p, k in zip(page.object_list, keys, strict=True)]
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "filter_problems": filter_checks.policy_list_problems(cluster, request.GET, _namespaces(cluster)),
        "cluster": cluster,
        "filterset": filterset,
        "page": page,
        "rows": rows,
        "namespaces": _namespaces(cluster),
        "pod_names": Pod.objects.filter(cluster=cluster).values_list("namespace", "name")[:2000],
        "query": query.urlencode(),
    }
    return render_fragment(request, "policies/policy_list.html", "partials/policy_table.html", context)


def _selected_reachability(cluster: Cluster, keys: Iterable[str], limit: int = 20) -> list[dict[str, Any]]:
    out = []
    for key in list(keys)[:limit]:
        try:
            out.append(analysis.node_details(cluster, key, level="workload", limit=60))
        except analysis.UnknownEndpoint:
            continue
        tier_pages.annotate_node_details(cluster, out[-1])
    return out


@role_required(VIEWER)
def policy_detail(request: HttpRequest, pk: int) -> HttpResponse:
    policy = get_object_or_404(NetworkPolicy.objects.select_related("cluster"), pk=pk)
    cluster = policy.cluster
    request.netpolui_cluster = cluster  # type: ignore[attr-defined]
    selected_keys = analysis.workloads_selected_by_policy(policy)
    selected = _selected_reachability(cluster, selected_keys)
    row_keys = list(selected_keys)
    for details in selected:
        row_keys += [r["peer"] for r in details["inbound"]]
    return render(
        request,
        "policies/policy_detail.html",
        {
            "cluster": cluster,
            "policy": policy,
            "key": f"{policy.namespace}/{policy.name}",
            "yaml": analysis.policy_yaml(policy),
            "rules": analysis.policy_rules(policy),
            "pods": analysis.pods_selected_by_policy(policy),
            "selected_keys": selected_keys,
            "selected": selected,
            "more_selected": max(0, len(selected_keys) - len(selected)),
            "rows": analysis.endpoint_rows(cluster, row_keys),
            "object_findings": finding_groups.for_object(cluster, "NetworkPolicy", policy.namespace, policy.name),
        },
    )


@role_required(VIEWER)
def policy_yaml(request: HttpRequest, pk: int) -> HttpResponse:
    """The policy as a YAML file, clean of server-managed fields (the text the page shows)."""
    policy = get_object_or_404(NetworkPolicy, pk=pk)
    filename = f"{slugify(policy.namespace)}-{slugify(policy.name)}.yaml"
    return yaml_attachment(analysis.policy_yaml(policy), filename)


@role_required(EDITOR)
def cluster_export(request: HttpRequest, cluster_id: int) -> HttpResponse:
    """Every live policy of the cluster (or one namespace) as multi-document YAML."""
    cluster = get_cluster(request, cluster_id)
    namespace = request.GET.get("namespace") or None
    suffix = f"-{slugify(namespace)}" if namespace else ""
    return yaml_attachment(
        analysis.export_yaml(cluster, namespace=namespace), f"{cluster.name}{suffix}-networkpolicies.yaml"
    )


# --- workloads, pods, namespaces --------------------------------------------------------------


def _endpoint_context(cluster: Cluster, key: str) -> dict[str, Any]:
    try:
        details = analysis.node_details(cluster, key, level="workload")
    except analysis.UnknownEndpoint:
        return {"details": None, "rows": {}}
    tier_pages.annotate_node_details(cluster, details)
    return {"details": details, "rows": _detail_rows(cluster, details)}


def _cni_context(cluster: Cluster, **which: Any) -> dict[str, Any]:
    """The CNI policies that select the workload or pod (see partials/cni_policies_applying)."""
    applying = cni.applying(cluster, **which)
    return {"cni_applying": applying, "cni_enforcing": cni.enforcing_cni(cluster) if applying else None}


@role_required(VIEWER)
def workload_detail(request: HttpRequest, pk: int) -> HttpResponse:
    workload = get_object_or_404(Workload.objects.select_related("cluster"), pk=pk)
    cluster = workload.cluster
    request.netpolui_cluster = cluster  # type: ignore[attr-defined]
    key = analysis.workload_key(workload)
    top = None
    if not workload.is_top:
        top = Workload.objects.filter(
            cluster=cluster, namespace=workload.namespace, kind=workload.top_kind, name=workload.top_name
        ).first()
    pods = Pod.objects.filter(
        cluster=cluster,
        namespace=workload.namespace,
        top_kind=workload.top_kind or workload.kind,
        top_name=workload.top_name or workload.name,
    )
    context = {"cluster": cluster, "workload": workload, "key": key, "top": top, "pods": pods}
    context["tier_policies"] = tier_pages.applying_to_workload(workload)
    context.update(tier_pages.tier_directions(context["tier_policies"]))
    context["object_findings"] = finding_groups.for_object(cluster, workload.kind, workload.namespace, workload.name)
    context.update(_endpoint_context(cluster, key))
    context.update(_cni_context(cluster, endpoint_key=key))
    return render(request, "policies/workload_detail.html", context)


@role_required(VIEWER)
def pod_detail(request: HttpRequest, pk: int) -> HttpResponse:
    pod = get_object_or_404(Pod.objects.select_related("cluster"), pk=pk)
    cluster = pod.cluster
    request.netpolui_cluster = cluster  # type: ignore[attr-defined]
    key = analysis.pod_key(pod)
    owner = None
    if pod.top_kind and pod.top_kind != "Pod":
        owner = Workload.objects.filter(
            cluster=cluster, namespace=pod.namespace, kind=pod.top_kind, name=pod.top_name
        ).first()
    context = {
        "cluster": cluster,
        "pod": pod,
        "key": key,
        "owner": owner,
        "selection": analysis.policies_selecting_pod(pod),
        "tier_policies": tier_pages.applying_to_pod(pod),
        "object_findings": finding_groups.for_object(cluster, "Pod", pod.namespace, pod.name),
    }
    context.update(_endpoint_context(cluster, key))
    context.update(_cni_context(cluster, pod=(pod.namespace, pod.name)))
    return render(request, "policies/pod_detail.html", context)


@role_required(VIEWER)
def namespace_detail(request: HttpRequest, pk: int) -> HttpResponse:
    namespace = get_object_or_404(Namespace.objects.select_related("cluster"), pk=pk)
    cluster = namespace.cluster
    request.netpolui_cluster = cluster  # type: ignore[attr-defined]
    return render(
        request,
        "policies/namespace_detail.html",
        {
            "cluster": cluster,
            "namespace": namespace,
            "workloads": _top_workloads(cluster).filter(namespace=namespace.name),
            "bare_pods": Pod.objects.filter(cluster=cluster, namespace=namespace.name, top_kind="Pod"),
            "policies": NetworkPolicy.objects.filter(cluster=cluster, namespace=namespace.name),
            "findings": [f for f in analysis.findings_by_risk(cluster) if f.namespace == namespace.name],
            "cluster_policies": tier_pages.applying_to_namespace(cluster, namespace.name),
        },
    )
