"""Drift review in the REST API.

- ``/api/drift-sources/`` -- desired-state sources: list and read for viewers; create,
  change and delete for editors (directories and local repositories: admins). A YAML
  source is sent as ``yaml_text`` (JSON) or as a multipart ``upload`` file.
- ``/api/clusters/{cluster_id}/drift/`` -- the stored reports, newest first (the
  history); ``latest/`` the latest report with its differences; ``{id}/`` one report; ``items/``
  the differences with their diffs and reachability effect; ``items/{namespace}/{name}/``
  one of them; ``export/?which=reconcile|adopt`` the YAML bundles (editors);
  ``check/`` (POST, editors) compares now.

Registered on the router by ``register_drift(router)``.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import BaseRouter

from ..models import Cluster, DesiredSource, DriftItem, DriftReport
from ..roles import ADMIN, EDITOR, has_role
from ..services import drift
from ..web import read_uploaded_text, yaml_attachment
from .base import BaseViewSet

CLUSTER_ID = OpenApiParameter("cluster_id", int, OpenApiParameter.PATH, description="the cluster's id")
REPORT = OpenApiParameter(
    "report", int, OpenApiParameter.QUERY, required=False, description="a report id (default: the latest report)"
)


# --- serializers ---------------------------------------------------------------------------------


def _inline_choice(choices: Any, help_text: str, **kwargs: Any) -> serializers.ChoiceField:
    """A read-only choice field described by a pattern: an enum here would collide with
    the other components' "kind" and "status" enums (the schema must build without
    warnings), and the summary and detail shapes share these fields."""
    values = [value for value, _ in choices]
    field_class = extend_schema_field(
        {"type": "string", "pattern": "^(" + "|".join(values) + ")$", "description": f"{help_text}: {', '.join(values)}"}
    )(type("InlineChoiceField", (serializers.ChoiceField,), {}))
    return field_class(choices=choices, help_text=help_text, **kwargs)  # type: ignore[no-any-return]


class DesiredSourceSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    upload = serializers.FileField(
        write_only=True, required=False, help_text="multipart: a YAML file (kind upload); replaces yaml_text"
    )
    label = serializers.CharField(read_only=True, help_text="how pages name the source (credentials hidden)")
    # A multipart upload without the field means enabled, not an unticked checkbox.
    enabled = serializers.BooleanField(default=True, help_text="disabled sources are left out of the desired state")
    location = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=500,
        help_text="git: URL or local path; directory: absolute path on the server. Credentials in URLs are hidden when read back.",
    )

    class Meta:
        model = DesiredSource
        fields = [
            "id", "cluster", "kind", "name", "label", "enabled", "location", "branch", "subdirectory",
            "yaml_text", "file_name", "upload", "namespaces", "last_fetched_at", "revision", "last_error",
            "created_at", "updated_at",
        ]
        read_only_fields = ["last_fetched_at", "revision", "last_error", "created_at", "updated_at"]
        extra_kwargs = {"yaml_text": {"required": False}, "file_name": {"required": False}}

    def to_representation(self, instance: DesiredSource) -> dict[str, Any]:
        data = super().to_representation(instance)
        request = self.context.get("request")
        if drift.needs_admin(instance.kind, instance.location) and not (request and has_role(request.user, ADMIN)):
            data["location"] = ""  # a path on the server: admins only
        else:
            data["location"] = drift.redact(instance.location)
        return data

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        upload = attrs.pop("upload", None)
        if upload is not None:
            try:
                attrs["yaml_text"] = read_uploaded_text(upload, drift.UPLOAD_LIMIT_BYTES)
            except ValueError as exc:
                raise serializers.ValidationError({"upload": str(exc)}) from None
            attrs.setdefault("file_name", upload.name[:255])

        # A location read back with its credentials hidden and sent again means "unchanged".
        if self.instance is not None and attrs.get("location") == drift.redact(self.instance.location):
            attrs["location"] = self.instance.location

        def value(name: str) -> Any:
            if name in attrs:
                return attrs[name]
            return getattr(self.instance, name, "") if self.instance is not None else ""

        cluster = value("cluster")
        if self.instance is not None and "cluster" in attrs and attrs["cluster"] != self.instance.cluster:
            raise serializers.ValidationError({"cluster": "a source cannot move to another cluster"})
        request = self.context.get("request")
        errors = drift.check_source(
            cluster=cluster,
            kind=value("kind"),
            location=value("location") or "",
            branch=value("branch") or "",
            subdirectory=value("subdirectory") or "",
            yaml_text=value("yaml_text") or "",
            namespaces=value("namespaces") or "",
            is_admin=bool(request and has_role(request.user, ADMIN)),
            exclude_pk=self.instance.pk if self.instance is not None else None,
        )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class CountsSerializer(serializers.Serializer):  # type: ignore[type-arg]
    missing = serializers.IntegerField(source="missing_count")
    changed = serializers.IntegerField(source="changed_count")
    extra = serializers.IntegerField(source="extra_count")
    in_sync = serializers.IntegerField(source="in_sync_count")
    desired = serializers.IntegerField(source="desired_count")
    live = serializers.IntegerField(source="live_count")


class SourceProblemSerializer(serializers.Serializer):  # type: ignore[type-arg]
    source = serializers.IntegerField(allow_null=True)
    source_label = serializers.CharField()
    file = serializers.CharField(help_text="file (relative to the repository or directory) or document")
    line = serializers.IntegerField(help_text="0 when not known")
    message = serializers.CharField()
    fatal = serializers.BooleanField(help_text="the source could not be read at all, so nothing was compared")
    text = serializers.CharField(help_text="file:line: message")


class ConnectionRowSerializer(serializers.Serializer):  # type: ignore[type-arg]
    src = serializers.CharField(help_text="endpoint key: ns/name[Kind] or an address range")
    dst = serializers.CharField()
    conns = serializers.JSONField(help_text='"all", or per protocol the port ranges [first, last]')
    label = serializers.CharField(help_text="TCP 80,UDP 53 or All Connections")


class ConnectionDeltaSerializer(serializers.Serializer):  # type: ignore[type-arg]
    live_only = ConnectionRowSerializer(many=True, required=False, help_text="allowed live, not in the desired state")
    desired_only = ConnectionRowSerializer(many=True, required=False, help_text="allowed by the desired state, blocked live")
    counts = serializers.DictField(child=serializers.IntegerField(), required=False)
    truncated = serializers.BooleanField(required=False)
    error = serializers.CharField(required=False, help_text="why no effect was computed")


class DriftItemSerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    key = serializers.CharField(read_only=True)
    kind = _inline_choice(DriftItem.Kind.choices, "missing: desired, not live; extra: live, not desired; changed", read_only=True)
    effect = ConnectionDeltaSerializer(read_only=True)
    delete_command = serializers.SerializerMethodField(
        help_text="extra: the kubectl command that removes the live policy (apply cannot delete); null otherwise"
    )

    class Meta:
        model = DriftItem
        fields = ["id", "kind", "namespace", "name", "key", "origin", "first_seen_at", "effect", "delete_command"]

    def get_delete_command(self, item: DriftItem) -> str | None:
        return drift.delete_command(item)


class DriftItemDetailSerializer(DriftItemSerializer):
    diff = serializers.SerializerMethodField(help_text="unified diff, desired -> live, as written (cleaned)")
    normalized_diff = serializers.SerializerMethodField(help_text="unified diff after defaults, lists as sets")

    class Meta(DriftItemSerializer.Meta):
        fields = [*DriftItemSerializer.Meta.fields, "desired", "live", "diff", "normalized_diff"]

    def get_diff(self, item: DriftItem) -> str:
        return drift.unified_diff(item)

    def get_normalized_diff(self, item: DriftItem) -> str:
        return drift.unified_diff(item, normalized=True)


class DriftReportSummarySerializer(serializers.ModelSerializer):  # type: ignore[type-arg]
    counts = CountsSerializer(source="*", read_only=True)
    errors = SourceProblemSerializer(many=True, read_only=True)
    has_drift = serializers.BooleanField(read_only=True)
    status = _inline_choice(
        DriftReport.Status.choices, "ok; partial: compared, some source errors; error: not compared", read_only=True
    )
    compared = serializers.BooleanField(read_only=True)

    class Meta:
        model = DriftReport
        fields = [
            "id", "cluster", "computed_at", "checked_at", "runs", "status", "compared", "has_drift",
            "counts", "errors", "sources",
        ]


# A report embeds its first differences; `items/` pages through all of them.
EMBEDDED_ITEMS = 100


class DriftReportSerializer(DriftReportSummarySerializer):
    items = serializers.SerializerMethodField(
        help_text=f"the first {EMBEDDED_ITEMS} differences; all of them, paged, at items/?report=<id>"
    )
    items_total = serializers.SerializerMethodField(help_text="how many differences the report has")
    reachability = ConnectionDeltaSerializer(read_only=True)
    delete_commands = serializers.SerializerMethodField(
        help_text=(
            f"kubectl commands that remove the extra policies (apply cannot delete): the first {EMBEDDED_ITEMS}; "
            "all of them, paged, as the delete_command of each item at items/?report=<id>&kind=extra"
        )
    )
    delete_commands_total = serializers.SerializerMethodField(help_text="how many extra policies there are to delete")

    class Meta(DriftReportSummarySerializer.Meta):
        fields = [
            *DriftReportSummarySerializer.Meta.fields, "items", "items_total", "reachability", "findings",
            "delete_commands", "delete_commands_total",
        ]

    @extend_schema_field(DriftItemSerializer(many=True))
    def get_items(self, report: DriftReport) -> list[dict[str, Any]]:
        first = report.items.order_by("kind", "namespace", "name")[:EMBEDDED_ITEMS]
        return DriftItemSerializer(first, many=True).data  # type: ignore[return-value]

    def get_items_total(self, report: DriftReport) -> int:
        return report.items.count()

    def get_delete_commands(self, report: DriftReport) -> list[str]:
        return drift.delete_commands(report, limit=EMBEDDED_ITEMS)

    def get_delete_commands_total(self, report: DriftReport) -> int:
        return report.items.filter(kind=DriftItem.Kind.EXTRA).count()


class CheckQueuedSerializer(serializers.Serializer):  # type: ignore[type-arg]
    queued = serializers.BooleanField()
    cluster = serializers.IntegerField()


# --- viewsets ------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary="Desired-state sources"),
    retrieve=extend_schema(summary="One desired-state source"),
    create=extend_schema(summary="Add a desired-state source (editor; directories and local repositories: admin)"),
    update=extend_schema(summary="Change a desired-state source (editor)"),
    partial_update=extend_schema(summary="Change some fields of a desired-state source (editor)"),
    destroy=extend_schema(summary="Remove a desired-state source (editor)"),
)
class DesiredSourceViewSet(viewsets.ModelViewSet):  # type: ignore[type-arg]
    serializer_class = DesiredSourceSerializer
    queryset = DesiredSource.objects.select_related("cluster").order_by("cluster", "pk")
    filterset_fields = ["cluster", "kind", "enabled"]
    lookup_value_regex = BaseViewSet.lookup_value_regex

    def perform_create(self, serializer: DesiredSourceSerializer) -> None:
        source = drift.save_source(DesiredSource(**serializer.validated_data), actor=self.request.user)
        serializer.instance = source
        _queue_check(source.cluster_id)

    def perform_update(self, serializer: DesiredSourceSerializer) -> None:
        source = serializer.instance
        assert source is not None
        for field, value in serializer.validated_data.items():
            setattr(source, field, value)
        drift.save_source(source, actor=self.request.user)
        _queue_check(source.cluster_id)

    def perform_destroy(self, instance: DesiredSource) -> None:
        cluster_id = instance.cluster_id
        drift.delete_source(instance, actor=self.request.user)
        _queue_check(cluster_id)


def _queue_check(cluster_id: int) -> None:
    from .. import tasks

    transaction.on_commit(lambda: tasks.compute_drift.delay(cluster_id))


@extend_schema_view(
    list=extend_schema(
        summary="The stored drift reports of the cluster, newest first (the history)",
        parameters=[CLUSTER_ID],
        responses={200: DriftReportSummarySerializer(many=True)},
    ),
    retrieve=extend_schema(
        summary="One drift report with its differences",
        parameters=[CLUSTER_ID, OpenApiParameter("id", int, OpenApiParameter.PATH, description="the report's id")],
        responses={200: DriftReportSerializer},
    ),
)
class DriftViewSet(viewsets.GenericViewSet):  # type: ignore[type-arg]
    serializer_class = DriftReportSerializer
    queryset = DriftReport.objects.none()
    filter_backends: list[Any] = []
    # Set per action (RolePermission reads it): exports and checks need an editor.
    required_role: Any = None
    lookup_value_regex = BaseViewSet.lookup_value_regex

    def get_cluster(self) -> Cluster:
        return get_object_or_404(Cluster, pk=self.kwargs["cluster_id"])

    def get_queryset(self) -> Any:
        return DriftReport.objects.filter(cluster=self.get_cluster()).order_by("-computed_at", "-pk")

    def _report(self) -> DriftReport:
        cluster = self.get_cluster()
        wanted = self.request.query_params.get("report")
        if wanted:
            try:
                return get_object_or_404(DriftReport, cluster=cluster, pk=int(wanted))
            except ValueError:
                raise Http404("report must be a report id") from None
        report = drift.latest_report(cluster)
        if report is None:
            raise Http404(f"cluster {cluster.name} has no drift report yet")
        return report

    def list(self, request: Request, cluster_id: str) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(DriftReportSummarySerializer(page, many=True).data)

    def retrieve(self, request: Request, cluster_id: str, pk: str) -> Response:
        report = get_object_or_404(DriftReport, cluster=self.get_cluster(), pk=pk)
        return Response(DriftReportSerializer(report).data)

    @extend_schema(
        summary="The latest drift report of the cluster, with its differences",
        parameters=[CLUSTER_ID],
        responses={200: DriftReportSerializer, 404: OpenApiResponse(description="no report yet")},
    )
    @action(detail=False, methods=["get"])
    def latest(self, request: Request, cluster_id: str) -> Response:
        return Response(DriftReportSerializer(self._report()).data)

    @extend_schema(
        summary="The differences of a report, with their diffs and effect on reachability",
        parameters=[
            CLUSTER_ID,
            REPORT,
            OpenApiParameter("kind", str, OpenApiParameter.QUERY, required=False, enum=DriftItem.Kind.values),
            OpenApiParameter("namespace", str, OpenApiParameter.QUERY, required=False),
        ],
        responses={200: DriftItemDetailSerializer(many=True)},
    )
    @action(detail=False, methods=["get"])
    def items(self, request: Request, cluster_id: str) -> Response:
        items = self._report().items.order_by("kind", "namespace", "name")
        kind = request.query_params.get("kind")
        if kind:
            if kind not in DriftItem.Kind.values:
                return Response(
                    {"kind": [f"must be one of {', '.join(DriftItem.Kind.values)}"]}, status=status.HTTP_400_BAD_REQUEST
                )
            items = items.filter(kind=kind)
        if request.query_params.get("namespace"):
            items = items.filter(namespace=request.query_params["namespace"])
        page = self.paginate_queryset(items)
        return self.get_paginated_response(DriftItemDetailSerializer(page, many=True).data)

    @extend_schema(
        summary="One difference: both sides, the diffs and its effect on reachability",
        parameters=[
            CLUSTER_ID,
            REPORT,
            OpenApiParameter("namespace", str, OpenApiParameter.PATH),
            OpenApiParameter("name", str, OpenApiParameter.PATH),
        ],
        responses={200: DriftItemDetailSerializer},
    )
    @action(detail=False, methods=["get"], url_path=r"items/(?P<namespace>[^/]+)/(?P<name>[^/]+)")
    def item(self, request: Request, cluster_id: str, namespace: str, name: str) -> Response:
        item = get_object_or_404(DriftItem, report=self._report(), namespace=namespace, name=name)
        return Response(DriftItemDetailSerializer(item).data)

    @extend_schema(
        summary="YAML that reconciles the cluster with the desired state, or adopts the live policies (editor)",
        description=(
            "which=reconcile: the desired objects of the missing and changed policies for `kubectl apply`, "
            "preceded by commented `kubectl delete networkpolicy` commands for the extra policies (apply cannot "
            "delete; the report's delete_commands lists the first of them, each extra item its own). which=adopt: the live extra and changed "
            "policies, cleaned, to commit into the desired state."
        ),
        parameters=[
            CLUSTER_ID,
            REPORT,
            OpenApiParameter("which", str, OpenApiParameter.QUERY, required=False, enum=["reconcile", "adopt"], default="reconcile"),
        ],
        responses={(200, "application/yaml"): OpenApiTypes.STR},
    )
    @action(detail=False, methods=["get"], required_role=EDITOR)
    def export(self, request: Request, cluster_id: str) -> HttpResponse:
        which = request.query_params.get("which") or "reconcile"
        if which not in drift.EXPORTS:
            return Response({"which": ["must be reconcile or adopt"]}, status=status.HTTP_400_BAD_REQUEST)
        report = self._report()
        if not report.compared:
            return Response(
                {"detail": "this report did not compare anything: a source could not be read"},
                status=status.HTTP_409_CONFLICT,
            )
        return yaml_attachment(drift.EXPORTS[which][0](report), drift.export_filename(report, which))

    @extend_schema(
        summary="Compare now, fetching the sources (editor); the report appears when it finishes",
        parameters=[CLUSTER_ID],
        request=None,
        responses={202: CheckQueuedSerializer},
    )
    @action(detail=False, methods=["post"], required_role=EDITOR)
    def check(self, request: Request, cluster_id: str) -> Response:
        cluster = self.get_cluster()
        _queue_check(cluster.pk)
        return Response({"queued": True, "cluster": cluster.pk}, status=status.HTTP_202_ACCEPTED)


def register_drift(router: BaseRouter) -> None:
    router.register("drift-sources", DesiredSourceViewSet, basename="drift-source")
    router.register(r"clusters/(?P<cluster_id>[0-9]+)/drift", DriftViewSet, basename="cluster-drift")
