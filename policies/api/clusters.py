"""Clusters in the REST API: the mirrored clusters (writable by admins) and the questions
asked of a cluster (reachability, explain, export, findings).

Every answer comes from policies.services.analysis; nothing here talks to the engine.
"""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, QuerySet
from django.http import HttpResponse
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import SAFE_METHODS
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from .. import audit, filtersets
from ..choices import DIRECTIONS, FINDING_CODES, FORMATS, LEVELS, SEVERITIES
from ..models import (
    TOP_LEVEL_WORKLOAD,
    Cluster,
    Namespace,
    NetworkPolicy,
    Pod,
    Workload,
)
from ..roles import ADMIN, EDITOR, VIEWER
from ..services import analysis, cni, fixes, reachability_pages
from ..services.sync import ClusterSetupError, load_manifests
from ..web import count_of, yaml_attachment
from . import params as p
from . import schemas as r
from .base import NAMESPACES, BaseViewSet, validated_params
from .serializers import (
    ClusterCreateSerializer,
    ClusterSerializer,
    CniSettingSerializer,
)


class _NoFormatParam:
    URL_FORMAT_OVERRIDE = None


class QueryFormatNegotiation(DefaultContentNegotiation):
    """`?format=` is a parameter of reachability (edges or matrix), not DRF's renderer
    override: renderers are chosen by the Accept header only."""

    settings = _NoFormatParam  # type: ignore[assignment]


class YAMLRenderer(BaseRenderer):
    """For clients that accept only YAML: errors come back as YAML too."""

    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        if data is None:
            return b""
        # Through JSON first: error details are str subclasses that safe_dump refuses.
        plain = json.loads(json.dumps(data, cls=JSONEncoder))
        return yaml.safe_dump(plain, sort_keys=False).encode()


def _cluster_role(request: Request) -> str:
    return VIEWER if request.method in SAFE_METHODS else ADMIN


@extend_schema_view(
    list=extend_schema(summary="Clusters and their sync status", parameters=[]),
    retrieve=extend_schema(summary="One cluster and its sync status"),
    create=extend_schema(summary="Register a cluster (admin)", request=ClusterCreateSerializer, responses={201: ClusterSerializer, **r.ERRORS}),
    destroy=extend_schema(summary="Remove a cluster and its mirror (admin)"),
)
class ClusterViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Mirrored clusters. Connection settings (paths, never file contents) only for admins."""

    required_role = staticmethod(_cluster_role)
    serializer_class = ClusterSerializer
    filterset_class = filtersets.ClusterFilterSet
    content_negotiation_class = QueryFormatNegotiation

    def get_queryset(self) -> QuerySet[Cluster]:
        qs = Cluster.objects.all().order_by("name", "pk")
        if self.action in ("list", "retrieve"):
            qs = qs.annotate(
                namespace_count=count_of(Namespace, cluster=OuterRef("pk")),
                workload_count=count_of(Workload, TOP_LEVEL_WORKLOAD, cluster=OuterRef("pk")),
                pod_count=count_of(Pod, cluster=OuterRef("pk")),
                policy_count=count_of(NetworkPolicy, cluster=OuterRef("pk")),
            )
        return qs

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return ClusterCreateSerializer if self.action == "create" else ClusterSerializer

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = ClusterCreateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        cluster = serializer.save()
        if cluster.source == Cluster.Source.MANIFESTS:
            # A directory that cannot be read leaves the cluster registered and failing,
            # with the reason in last_error.
            with contextlib.suppress(ClusterSetupError):
                load_manifests(cluster)
        elif not settings.CELERY_TASK_ALWAYS_EAGER:
            from ..tasks import sync_cluster

            transaction.on_commit(lambda: sync_cluster.delay(cluster.pk))
        self.action = "retrieve"
        created = self.get_queryset().get(pk=cluster.pk)
        return Response(ClusterSerializer(created, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Cluster) -> None:
        with transaction.atomic():
            audit.record(
                audit.Action.CLUSTER_DELETED,
                actor=self.request.user,
                object_type="cluster",
                object_id=instance.pk,
                summary=f"{instance.name} ({instance.get_source_display()})",
            )
            instance.delete()

    # --- the questions asked of a cluster --------------------------------------------------

    @extend_schema(
        summary="Who can reach whom",
        description=(
            "Nodes (workloads, pods, tiers or namespaces, plus external address ranges) with their "
            "isolation per direction, and the allowed connections as sparse edges or a row-major "
            "matrix. At the workload and pod levels, a cluster with more source nodes than "
            "NETPOLUI_API_WHOLE_SOURCES (500) answers a request without offset, limit or node with "
            "the first page of sources (`page.next_offset` gives the next) and refuses the matrix "
            "format. Cached per cluster state version: a repeated request does no engine work. "
            "The response (a page too) carries an ETag; send it back in If-None-Match to get 304."
        ),
        parameters=[
            OpenApiParameter("level", OpenApiTypes.STR, enum=list(LEVELS), default="workload", description="what a node is"),
            OpenApiParameter("group_by", OpenApiTypes.STR, description="level=tier: the label key that names tiers (default: the NETPOLUI_TIER_KEYS setting, tier, app.kubernetes.io/component, app)"),
            NAMESPACES,
            OpenApiParameter("protocol", OpenApiTypes.STR, enum=["TCP", "UDP", "SCTP"], description="only connections on this protocol"),
            OpenApiParameter("port", OpenApiTypes.INT, description="only connections on this port (1-65535)"),
            OpenApiParameter("direction", OpenApiTypes.STR, enum=list(DIRECTIONS), default="combined", description="combined = egress AND ingress allow it; ingress/egress = that side's policies alone"),
            OpenApiParameter("format", OpenApiTypes.STR, enum=list(FORMATS), default="edges", description="edges (sparse list) or matrix"),
            OpenApiParameter("offset", OpenApiTypes.INT, description="workload/pod level: the first source node of a page (connection-list order); the response's page.next_offset gives the next"),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"workload/pod level: source nodes per page (default {reachability_pages.DEFAULT_PAGE}, at most {reachability_pages.MAX_PAGE})"),
            OpenApiParameter("node", OpenApiTypes.STR, description="workload/pod level: only the edges from and to this node id"),
        ],
        responses={200: r.ReachabilitySerializer, 304: OpenApiResponse(description="not modified (If-None-Match)"), **r.ERRORS},
    )
    @action(detail=True, methods=["get"])
    def reachability(self, request: Request, pk: str | None = None) -> HttpResponse:
        cluster = self.get_object()
        params = validated_params(p.ReachabilityParams, request, lists=("namespace",), cluster=cluster)
        query = params.to_query()
        piece, offset, limit, node = params.piece()
        if piece == "whole" and query.level in ("workload", "pod"):
            piece, limit = _whole_or_first_page(cluster, query)
        if piece == "node":
            try:
                return Response(reachability_pages.node_edges(cluster, query, node))
            except analysis.UnknownEndpoint as exc:
                raise serializers.ValidationError({"node": [str(exc)]}) from exc
        # Served compressed when the client accepts it (browsers do): the cache keeps the
        # compressed bytes, a tenth of the JSON.
        gzipped = "gzip" in request.headers.get("Accept-Encoding", "")
        if piece == "page":
            key, body = reachability_pages.reachability_page_json(cluster, query, offset, limit, gzipped=gzipped)
        else:
            key, body = analysis.reachability_json(cluster, query, gzipped=gzipped)
        etag = f'"{key}"'
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(body, content_type="application/json")
            if gzipped:
                response["Content-Encoding"] = "gzip"
        response["ETag"] = etag
        response["Cache-Control"] = "private, no-cache"
        patch_vary_headers(response, ["Accept-Encoding"])
        return response

    @extend_schema(
        summary="Reachability at a glance",
        description=(
            "Workload pairs counted per namespace pair and per tier pair with what they allow "
            "together, the workloads reachable from the most sources and those reaching the "
            "most destinations, and the totals. Computed once per cluster state version."
        ),
        parameters=[
            OpenApiParameter("direction", OpenApiTypes.STR, enum=list(DIRECTIONS), default="combined"),
            OpenApiParameter("group_by", OpenApiTypes.STR, description="the label key that names tiers"),
        ],
        responses={200: OpenApiTypes.OBJECT, **r.ERRORS},
    )
    @action(detail=True, methods=["get"])
    def summary(self, request: Request, pk: str | None = None) -> Response:
        cluster = self.get_object()
        data = validated_params(p.SummaryParams, request).validated_data
        return Response(reachability_pages.summary(cluster, data["direction"], data["group_by"]))

    @extend_schema(
        summary="Why a connection is allowed or denied",
        description="The verdict per direction (egress from src, ingress to dst) with the policies and rule indexes that decided it, as `netpolui explain` prints it.",
        parameters=[
            OpenApiParameter("src", OpenApiTypes.STR, required=True, description="source: ns/name[Kind], ns/name, a pod or an IP address"),
            OpenApiParameter("dst", OpenApiTypes.STR, required=True, description="destination, named like src"),
            OpenApiParameter("port", OpenApiTypes.STR, description="a port number or a named port; omitted = any port"),
            OpenApiParameter("protocol", OpenApiTypes.STR, enum=["TCP", "UDP", "SCTP"], description="default TCP when port is given; omitted with port = any protocol"),
        ],
        responses={200: r.ExplanationSerializer, **r.ERRORS},
    )
    @action(detail=True, methods=["get"])
    def explain(self, request: Request, pk: str | None = None) -> Response:
        cluster = self.get_object()
        data = validated_params(p.ExplainParams, request).validated_data
        try:
            result = analysis.explain(cluster, data["src"], data["dst"], port=data["port"], protocol=data["protocol"])
        except analysis.UnknownEndpoint as exc:
            raise serializers.ValidationError({_endpoint_field(str(exc), data): [str(exc)]}) from exc
        return Response(result)

    @extend_schema(
        summary="Why an edge of the graph exists",
        description="For a workload or pod edge, its explanation; for a tier or namespace edge, the explanation of each member pair (at most 25).",
        parameters=[
            OpenApiParameter("src", OpenApiTypes.STR, required=True, description="the edge's source node id"),
            OpenApiParameter("dst", OpenApiTypes.STR, required=True, description="the edge's target node id"),
            OpenApiParameter("level", OpenApiTypes.STR, enum=list(LEVELS), default="workload"),
            OpenApiParameter("group_by", OpenApiTypes.STR, description="level=tier: the label key that names tiers"),
            OpenApiParameter("direction", OpenApiTypes.STR, enum=list(DIRECTIONS), default="combined"),
        ],
        responses={200: r.EdgeExplanationSerializer, **r.ERRORS},
    )
    @action(detail=True, methods=["get"], url_path="explain-edge", url_name="explain-edge")
    def explain_edge(self, request: Request, pk: str | None = None) -> Response:
        cluster = self.get_object()
        data = validated_params(p.ExplainEdgeParams, request).validated_data
        try:
            result = analysis.explain_edge(
                cluster, data["src"], data["dst"], level=data["level"],
                group_by=data["group_by"] if data["level"] == "tier" else "", direction=data["direction"],
            )
        except analysis.UnknownEndpoint as exc:
            raise serializers.ValidationError({_endpoint_field(str(exc), data): [str(exc)]}) from exc
        return Response(result)

    @extend_schema(
        summary="The live policies as YAML (editor)",
        description="A multi-document YAML file of the cluster's NetworkPolicies (or one namespace's), clean of server-managed fields, ready for `kubectl apply -f`.",
        parameters=[OpenApiParameter("namespace", OpenApiTypes.STR, description="only this namespace")],
        responses={(200, "application/yaml"): OpenApiTypes.STR, **r.ERRORS},
    )
    @action(detail=True, methods=["get"], required_role=EDITOR, renderer_classes=[JSONRenderer, YAMLRenderer])
    def export(self, request: Request, pk: str | None = None) -> HttpResponse:
        cluster = self.get_object()
        namespace = validated_params(p.ExportParams, request, cluster=cluster).validated_data["namespace"]
        body = analysis.export_yaml(cluster, namespace or None)
        name = f"{cluster.name}-{namespace}" if namespace else cluster.name
        return yaml_attachment(body, f"{name}-networkpolicies.yaml")

    @extend_schema(
        summary="Which CNI enforces policies (admins may set it)",
        description=(
            "GET: the cluster's setting (auto, none, calico, cilium, antrea), the CNI that "
            "enforces policies and how that was found (set, served resources, agent pods). "
            "POST {\"cni\": ...} (admin): set it; resources of any other CNI are listed but "
            "not enforced."
        ),
        request=CniSettingSerializer,
        responses={200: r.CniStateSerializer, **r.ERRORS},
    )
    @action(detail=True, methods=["get", "post"])
    def cni(self, request: Request, pk: str | None = None) -> Response:
        cluster = self.get_object()
        if request.method == "POST":
            body = CniSettingSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            cni.set_setting(cluster, body.validated_data["cni"], actor=request.user)
            cluster.refresh_from_db()
        return Response({"cluster": cluster.pk, **cni.enforcing_cni(cluster)})

    @extend_schema(
        summary="What deserves a look",
        description=(
            "The engine's findings, most severe first: namespaces with no policy, workloads not "
            "isolated for ingress or egress, policies that select nothing, peers that match "
            "nothing, named ports that resolve nowhere, egress isolation without DNS, "
            "hostNetwork pods selected by a policy, workloads open to the internet, peers that "
            "admit every namespace. A finding with a prepared fix carries `fix`: its kind, the "
            "label of the Fix action and the editor URL (`?fix=`) that opens the prepared policy, "
            "whose what-if shows the effect before anything is saved; `fix` is null otherwise."
        ),
        parameters=[
            OpenApiParameter("severity", OpenApiTypes.STR, enum=list(SEVERITIES)),
            OpenApiParameter("code", OpenApiTypes.STR, enum=list(FINDING_CODES)),
            NAMESPACES,
            OpenApiParameter("offset", OpenApiTypes.INT, description="the first finding of the page (default 0); page.next_offset gives the next"),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"findings per page (default {p.FINDINGS_PAGE}, at most {p.FINDINGS_MAX_PAGE})"),
        ],
        responses={200: r.FindingsSerializer, **r.ERRORS},
    )
    @action(detail=True, methods=["get"])
    def findings(self, request: Request, pk: str | None = None) -> Response:
        cluster = self.get_object()
        data = validated_params(p.FindingParams, request, lists=("namespace",), cluster=cluster).validated_data
        items = analysis.findings(cluster)
        if data.get("severity"):
            items = [f for f in items if f.severity == data["severity"]]
        if data.get("code"):
            items = [f for f in items if f.code == data["code"]]
        if data["namespace"]:
            items = [f for f in items if f.namespace in data["namespace"]]
        offset, limit = data["offset"], data["limit"]
        return Response(
            {
                "cluster": cluster.pk,
                "state_version": cluster.state_version,
                "counts": dict(Counter(f.code for f in items)),
                "findings": [
                    {
                        **f.to_dict(),
                        "fix": fixes.fix_summary(
                            cluster.pk, f.code, f.namespace, f.object_kind, f.object_name, f.object_id
                        ),
                    }
                    for f in items[offset : offset + limit]
                ],
                "page": {
                    "offset": offset,
                    "limit": limit,
                    "total": len(items),
                    "next_offset": offset + limit if offset + limit < len(items) else None,
                },
            }
        )


def _whole_or_first_page(cluster: Cluster, query: analysis.ReachabilityQuery) -> tuple[str, int]:
    """("whole", 0) while the level is small enough to answer at once, else ("page", the
    default page size, at most the whole answer's limit); a matrix of that size is refused
    with what to ask instead."""
    sources = reachability_pages.source_count(cluster, query)
    if sources <= settings.NETPOLUI_API_WHOLE_SOURCES:
        return "whole", 0
    if query.format == "matrix":
        raise serializers.ValidationError(
            {
                "format": [
                    f"the {query.level} level of cluster {cluster.name} has {sources} nodes, more than "
                    f"{settings.NETPOLUI_API_WHOLE_SOURCES} for one matrix: filter by namespace, ask "
                    "level=tier or level=namespace, or page the edges with offset and limit"
                ]
            }
        )
    return "page", min(reachability_pages.DEFAULT_PAGE, settings.NETPOLUI_API_WHOLE_SOURCES)


def _endpoint_field(message: str, data: dict[str, Any]) -> str:
    """Which parameter the engine's "no workload, pod or IP address 'x'" is about (it
    resolves src first, and quotes the name it could not resolve)."""
    return "src" if repr(data["src"]) in message else "dst"
