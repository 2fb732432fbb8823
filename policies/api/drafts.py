"""The drafts API: policy drafts CRUD, and the editor's questions (validate, preview,
what-if, parse), export and apply. Everything goes through policies.services.drafts.

A policy can be sent in any of three shapes: ``policy`` (the Kubernetes JSON object),
``yaml`` (text) or ``form`` (the editor's form data). A policy the API server would
reject is a 400 whose body is the list of problems: ``[{"path", "message", "text"}]``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from ..filtersets import DraftFilterSet
from ..models import Cluster, DraftRevision, NetworkPolicy, PolicyDraft
from ..query import MAX_ID, BadParameter, parse_id, parse_ids
from ..roles import ADMIN, EDITOR, VIEWER
from ..services import deletions, drafts, starter_policies
from ..web import yaml_attachment

# --- errors -------------------------------------------------------------------------------------


class InvalidPolicy(APIException):
    """400 with the list of problems as the body, each with the field's path."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_detail = "the policy is not valid"

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__()
        self.detail = errors  # type: ignore[assignment]


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "conflict"


def _invalid(errors: Any) -> InvalidPolicy:
    return InvalidPolicy(drafts.error_dicts(errors))


def _unreadable(exc: drafts.YamlUnreadable) -> InvalidPolicy:
    return InvalidPolicy([{"path": "yaml", "message": m, "text": m} for m in exc.messages])


# --- serializers --------------------------------------------------------------------------------


class FieldErrorSchema(serializers.Serializer[Any]):
    path = serializers.CharField(help_text="the field, e.g. spec.ingress[0].ports[1].endPort")
    message = serializers.CharField(help_text="what is wrong with it")
    text = serializers.CharField(help_text="the full sentence, with the policy's name")


INVALID = {
    400: OpenApiResponse(FieldErrorSchema(many=True), description="the problems, one per field")
}


@extend_schema_field(OpenApiTypes.STR)
class DraftStatusField(serializers.ChoiceField):
    """draft or approved (a plain string in the schema: "status" names the cluster enum there)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=PolicyDraft.Status.choices, **kwargs)


class DraftSerializer(serializers.ModelSerializer[PolicyDraft]):
    status = DraftStatusField(read_only=True)
    action = serializers.ChoiceField(
        choices=PolicyDraft.Action.choices,
        read_only=True,
        help_text="apply: the policy is created or replaced; delete: the live policy is deleted",
    )
    policy = serializers.JSONField(
        source="obj", read_only=True, help_text="the NetworkPolicy object"
    )
    yaml = serializers.SerializerMethodField(help_text="the policy as canonical YAML")
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    updated_by = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = PolicyDraft
        fields = [
            "id",
            "cluster",
            "namespace",
            "name",
            "status",
            "action",
            "revision",
            "policy",
            "yaml",
            "created_by",
            "updated_by",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_yaml(self, draft: PolicyDraft) -> str:
        return drafts.canonical_yaml([draft.obj])


class RevisionSerializer(serializers.ModelSerializer[DraftRevision]):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    policy = serializers.JSONField(source="obj", read_only=True)

    class Meta:
        model = DraftRevision
        fields = ["number", "author", "at", "status", "summary", "policy"]
        read_only_fields = fields


class PolicyInput(serializers.Serializer[Any]):
    """One policy as `policy` (object), `yaml` (one document) or `form` (editor form data)."""

    policy = serializers.JSONField(required=False, help_text="a NetworkPolicy object")
    yaml = serializers.CharField(
        required=False, trim_whitespace=False, help_text="one NetworkPolicy as YAML"
    )
    form = serializers.JSONField(required=False, help_text="the editor's form data")
    namespace = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="with yaml: the namespace of a document without one",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        given = [k for k in ("policy", "yaml", "form") if k in attrs]
        if len(given) != 1:
            raise serializers.ValidationError("send exactly one of policy, yaml or form")
        for key in ("policy", "form"):
            if key in attrs and not isinstance(attrs[key], dict):
                raise serializers.ValidationError({key: ["must be a JSON object"]})
        return attrs

    def resolve(self) -> tuple[dict[str, Any], list[drafts.FieldError]]:
        """The policy (prepared) and the problems of the form data itself."""
        data = self.validated_data
        if "form" in data:
            return drafts.form_to_policy(data["form"])
        if "yaml" in data:
            try:
                docs = drafts.parse_yaml(
                    data["yaml"], default_namespace=data.get("namespace") or ""
                )
            except drafts.YamlUnreadable as exc:
                raise _unreadable(exc) from exc
            if len(docs) != 1:
                raise InvalidPolicy(
                    [
                        {
                            "path": "yaml",
                            "message": f"holds {len(docs)} policies: send one",
                            "text": f"yaml holds {len(docs)} policies: send one",
                        }
                    ]
                )
            return docs[0].obj, []
        return drafts.stored_form(data["policy"]), []


class DraftCreateInput(PolicyInput):
    cluster = serializers.PrimaryKeyRelatedField(queryset=Cluster.objects.all())
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)


class DraftUpdateInput(PolicyInput):
    note = serializers.CharField(required=False, allow_blank=True, max_length=300)
    revision = serializers.IntegerField(
        required=False, help_text="the revision you edited: refused with 409 if the draft moved on"
    )
    status = DraftStatusField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(k in attrs for k in ("policy", "yaml", "form")):
            if "status" not in attrs:
                raise serializers.ValidationError(
                    "send a policy (policy, yaml or form) or a status"
                )
            return attrs
        return super().validate(attrs)


class PreviewInput(PolicyInput):
    cluster = serializers.PrimaryKeyRelatedField(
        queryset=Cluster.objects.all(), required=False, help_text="for the three-zone picture"
    )


class WhatIfInput(serializers.Serializer[Any]):
    cluster = serializers.PrimaryKeyRelatedField(queryset=Cluster.objects.all())
    policy = serializers.JSONField(required=False)
    policies = serializers.ListField(child=serializers.JSONField(), required=False)
    form = serializers.JSONField(required=False)
    yaml = serializers.CharField(
        required=False, trim_whitespace=False, help_text="one or many documents"
    )
    namespace = serializers.CharField(required=False, allow_blank=True)
    drafts = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        help_text="draft ids (a deletion draft deletes its live policy)",
    )
    removals = serializers.ListField(
        child=serializers.RegexField(r"^[^/\s]+/[^/\s]+$", max_length=320),
        required=False,
        help_text='live policies to delete, "namespace/name"',
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not any(k in attrs for k in ("policy", "policies", "form", "yaml", "drafts", "removals")):
            raise serializers.ValidationError("send policy, policies, form, yaml, drafts or removals")
        return attrs

    def removal_keys(self) -> list[str]:
        """The live policies to delete: `removals`, then those of the deletion drafts
        among `drafts` whose policy is still live."""
        data = self.validated_data
        keys = list(data.get("removals") or [])
        wanted = data.get("drafts") or []
        if wanted:
            live = {
                f"{ns}/{name}"
                for ns, name in NetworkPolicy.objects.filter(cluster=data["cluster"]).values_list("namespace", "name")
            }
            for d in PolicyDraft.objects.filter(
                cluster=data["cluster"], pk__in=wanted, action=PolicyDraft.Action.DELETE
            ).order_by("namespace", "name"):
                if f"{d.namespace}/{d.name}" in live:
                    keys.append(f"{d.namespace}/{d.name}")
        return keys

    def resolve(self) -> list[dict[str, Any]]:
        data = self.validated_data
        objs: list[dict[str, Any]] = []
        problems: list[drafts.FieldError] = []
        if "policy" in data:
            objs.append(data["policy"])
        objs += list(data.get("policies") or [])
        if "form" in data:
            obj, form_errors = drafts.form_to_policy(data["form"])
            objs.append(obj)
            problems += form_errors
        if "yaml" in data:
            try:
                docs = drafts.parse_yaml(
                    data["yaml"], default_namespace=data.get("namespace") or ""
                )
            except drafts.YamlUnreadable as exc:
                raise _unreadable(exc) from exc
            objs += [d.obj for d in docs]
        if data.get("drafts"):
            rows = {
                d.pk: d
                for d in PolicyDraft.objects.filter(cluster=data["cluster"], pk__in=data["drafts"])
            }
            missing = [i for i in data["drafts"] if i not in rows]
            if missing:
                raise serializers.ValidationError(
                    {"drafts": [f"no draft {i} in this cluster" for i in missing]}
                )
            objs += [rows[i].obj for i in data["drafts"] if rows[i].action != PolicyDraft.Action.DELETE]
        if problems:
            raise _invalid(problems)
        if any(not isinstance(o, dict) for o in objs):
            raise serializers.ValidationError({"policies": ["each policy must be a JSON object"]})
        return objs


class DeletionInput(serializers.Serializer[Any]):
    cluster = serializers.PrimaryKeyRelatedField(queryset=Cluster.objects.all())
    namespace = serializers.CharField(max_length=63)
    name = serializers.CharField(max_length=253)
    note = serializers.CharField(required=False, allow_blank=True, max_length=500)


class ParseInput(serializers.Serializer[Any]):
    yaml = serializers.CharField(trim_whitespace=False)
    namespace = serializers.CharField(required=False, allow_blank=True)


class ImportInput(serializers.Serializer[Any]):
    cluster = serializers.PrimaryKeyRelatedField(queryset=Cluster.objects.all())
    yaml = serializers.CharField(required=False, trim_whitespace=False)
    namespace = serializers.CharField(required=False, allow_blank=True, default="")
    template = serializers.ChoiceField(
        choices=[t.slug for t in starter_policies.TEMPLATES], required=False
    )
    params = serializers.DictField(child=serializers.CharField(), required=False, default=dict)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("yaml" in attrs) == ("template" in attrs):
            raise serializers.ValidationError("send yaml or template")
        if "template" in attrs and not attrs.get("namespace"):
            raise serializers.ValidationError(
                {"namespace": ["a template needs the target namespace"]}
            )
        return attrs


class ApplyInput(serializers.Serializer[Any]):
    dry_run = serializers.BooleanField(default=True)
    force = serializers.BooleanField(default=False)


# --- the viewset --------------------------------------------------------------------------------


def _role(request: Request) -> str:
    from rest_framework.permissions import SAFE_METHODS

    return VIEWER if request.method in SAFE_METHODS else EDITOR


EXPORT_PARAMS = [
    OpenApiParameter("cluster", OpenApiTypes.INT, required=True, description="the cluster's id"),
    OpenApiParameter(
        "ids",
        OpenApiTypes.INT,
        many=True,
        explode=True,
        description="draft ids (repeat, or separate with commas)",
    ),
    OpenApiParameter("namespace", OpenApiTypes.STR, description="only this namespace"),
    OpenApiParameter(
        "status",
        OpenApiTypes.STR,
        enum=["draft", "approved"],
        description="only drafts with this status",
    ),
]


@extend_schema_view(
    list=extend_schema(
        summary="Policy drafts", description="Filter with ?cluster=&namespace=&status=&name="
    ),
    retrieve=extend_schema(summary="One draft with its policy and canonical YAML"),
    create=extend_schema(
        summary="Create a draft (editor)",
        request=DraftCreateInput,
        responses={
            201: DraftSerializer,
            **INVALID,
            409: OpenApiResponse(description="a draft of that name exists"),
        },
    ),
    update=extend_schema(
        summary="Save a new version of a draft (editor)",
        request=DraftUpdateInput,
        responses={
            200: DraftSerializer,
            **INVALID,
            409: OpenApiResponse(description="the draft moved on"),
        },
    ),
    partial_update=extend_schema(
        summary="Change a draft's policy or status (editor)",
        request=DraftUpdateInput,
        responses={
            200: DraftSerializer,
            **INVALID,
            409: OpenApiResponse(description="the draft moved on"),
        },
    ),
    destroy=extend_schema(summary="Delete a draft (editor)"),
)
class DraftViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,  # type: ignore[type-arg]
):
    """NetworkPolicy drafts: stored with their history; every change is audited."""

    serializer_class = DraftSerializer
    filterset_class = DraftFilterSet
    required_role: Any = staticmethod(_role)

    def get_queryset(self) -> QuerySet[PolicyDraft]:
        return PolicyDraft.objects.select_related("created_by", "updated_by", "cluster").order_by(
            "cluster", "namespace", "name", "pk"
        )

    def _out(self, draft: PolicyDraft, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            DraftSerializer(draft, context=self.get_serializer_context()).data, status=code
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = DraftCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        obj, form_errors = data.resolve()
        if form_errors:
            raise _invalid(form_errors + drafts.validate(obj))
        try:
            draft = drafts.create_draft(
                data.validated_data["cluster"],
                obj,
                actor=request.user,
                note=data.validated_data.get("note", ""),
                origin="the API",
            )
        except drafts.DraftInvalid as exc:
            raise _invalid(exc.errors) from exc
        except drafts.DraftConflict as exc:
            raise Conflict(str(exc)) from exc
        return self._out(draft, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        draft = self.get_object()
        data = DraftUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        revision = values.get("revision")
        try:
            if any(k in values for k in ("policy", "yaml", "form")):
                obj, form_errors = data.resolve()
                if form_errors:
                    raise _invalid(form_errors + drafts.validate(obj))
                draft = drafts.update_draft(
                    draft,
                    obj,
                    actor=request.user,
                    expected_revision=revision,
                    note=values.get("note", ""),
                )
                revision = draft.revision if revision is not None else None
            if "status" in values:
                draft = drafts.set_status(
                    draft, values["status"], actor=request.user, expected_revision=revision
                )
        except drafts.DraftInvalid as exc:
            raise _invalid(exc.errors) from exc
        except drafts.DraftConflict as exc:
            raise Conflict(str(exc)) from exc
        except drafts.DraftError as exc:  # a deletion draft has no content to edit
            raise Conflict(str(exc)) from exc
        return self._out(draft)

    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.update(request, *args, **kwargs)

    def perform_destroy(self, instance: PolicyDraft) -> None:
        drafts.delete_draft(instance, actor=self.request.user)

    @extend_schema(
        summary="Who changed the draft, what and when",
        responses={200: RevisionSerializer(many=True)},
    )
    # One draft's revisions, whole: neither filtered nor paged (the schema said both).
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request: Request, pk: str | None = None) -> Response:
        draft = self.get_object()
        rows = draft.revisions.select_related("author").order_by("-number")
        return Response(RevisionSerializer(rows, many=True).data)

    # --- the editor's questions (no change to anything: viewers may ask) --------------------

    @extend_schema(
        summary="Check a policy with the API server's rules",
        request=PolicyInput,
        responses={200: OpenApiResponse(description="{valid: true, policy, yaml}"), **INVALID},
    )
    @action(detail=False, methods=["post"], required_role=VIEWER)
    def validate(self, request: Request) -> Response:
        data = PolicyInput(data=request.data)
        data.is_valid(raise_exception=True)
        obj, form_errors = data.resolve()
        errors = form_errors + drafts.validate(obj)
        if errors:
            raise _invalid(errors)
        return Response({"valid": True, "policy": obj, "yaml": drafts.canonical_yaml([obj])})

    @extend_schema(
        summary="Canonical YAML, errors, warnings and the three-zone picture of a policy",
        description="Always 200: an invalid policy comes back with its errors (the editor previews while you type).",
        request=PreviewInput,
        responses={
            200: OpenApiResponse(description="{policy, yaml, valid, errors, warnings, zones}")
        },
    )
    @action(detail=False, methods=["post"], required_role=VIEWER)
    def preview(self, request: Request) -> Response:
        data = PreviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        cluster = values.get("cluster")
        if "form" in values:
            return Response(drafts.preview(cluster, form=values["form"]))
        obj, _ = data.resolve()
        return Response(drafts.preview(cluster, policy=obj))

    @extend_schema(
        summary="How reachability would change if the policies were applied",
        description=(
            "Connections newly allowed and newly denied (workload pairs with ports), workloads whose "
            "isolation changes and workloads that would lose DNS. Each policy is added, or replaces "
            "the live policy of the same namespace/name; each of `removals` (and each deletion draft "
            "among `drafts`) deletes its live policy. `allowed`, `denied` and the diff `text` hold "
            f"at most {drafts.WHAT_IF_LIMIT} connections each (`truncated` says when more changed; "
            "`counts` counts them all)."
        ),
        request=WhatIfInput,
        responses={
            200: OpenApiResponse(
                description="{allowed, denied, counts, isolation, dns, policies, text}"
            ),
            **INVALID,
        },
    )
    @action(detail=False, methods=["post"], url_path="what-if", required_role=VIEWER)
    def what_if(self, request: Request) -> Response:
        data = WhatIfInput(data=request.data)
        data.is_valid(raise_exception=True)
        objs = data.resolve()
        try:
            return Response(
                drafts.what_if(data.validated_data["cluster"], objs, removals=data.removal_keys())
            )
        except drafts.DraftInvalid as exc:
            raise _invalid(exc.errors) from exc
        except drafts.DraftError as exc:  # a removal names no live policy
            raise serializers.ValidationError({"removals": [str(exc)]}) from exc

    @extend_schema(
        summary="What-if of this draft",
        responses={200: OpenApiResponse(description="as POST /drafts/what-if/")},
    )
    @action(detail=True, methods=["get"], url_path="what-if")
    def draft_what_if(self, request: Request, pk: str | None = None) -> Response:
        draft = self.get_object()
        try:
            return Response(deletions.drafts_what_if(draft.cluster, [draft]))
        except drafts.DraftInvalid as exc:
            raise _invalid(exc.errors) from exc

    @extend_schema(
        summary="Read YAML into editor form data",
        description="Each document with its form data, canonical YAML, errors and the fields the form cannot hold (losses).",
        request=ParseInput,
        responses={200: OpenApiResponse(description="{documents: [...]}"), **INVALID},
    )
    @action(detail=False, methods=["post"], required_role=VIEWER)
    def parse(self, request: Request) -> Response:
        data = ParseInput(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            docs = drafts.parse_yaml(
                data.validated_data["yaml"],
                default_namespace=data.validated_data.get("namespace") or "",
            )
        except drafts.YamlUnreadable as exc:
            raise _unreadable(exc) from exc
        return Response({"documents": [d.to_dict() for d in docs]})

    @extend_schema(
        summary="Start-point templates",
        responses={200: OpenApiResponse(description="[{slug, title, description, params}]")},
    )
    @action(detail=False, methods=["get"], url_path="templates", url_name="templates")
    def template_list(self, request: Request) -> Response:
        return Response([t.to_dict() for t in starter_policies.TEMPLATES])

    @extend_schema(
        summary="Create drafts from YAML (one per document) or from a template (editor)",
        request=ImportInput,
        responses={
            201: DraftSerializer(many=True),
            **INVALID,
            409: OpenApiResponse(description="a draft of that name exists"),
        },
    )
    @action(
        detail=False, methods=["post"], url_path="import", url_name="import", required_role=EDITOR
    )
    def import_(self, request: Request) -> Response:
        data = ImportInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            if "template" in values:
                objs = starter_policies.render(values["template"], values["namespace"], values["params"])
                origin = f"template {values['template']}"
            else:
                docs = drafts.parse_yaml(values["yaml"], default_namespace=values["namespace"])
                objs = [d.obj for d in docs]
                origin = "imported YAML"
            created = drafts.create_drafts(
                values["cluster"], objs, actor=request.user, origin=origin
            )
        except starter_policies.TemplateError as exc:
            raise serializers.ValidationError({"params": [str(exc)]}) from exc
        except drafts.YamlUnreadable as exc:
            raise _unreadable(exc) from exc
        except drafts.DraftInvalid as exc:
            raise _invalid(exc.errors) from exc
        except drafts.DraftConflict as exc:
            raise Conflict(str(exc)) from exc
        context = self.get_serializer_context()
        return Response(
            DraftSerializer(created, many=True, context=context).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Propose deleting a live policy: a deletion draft (editor)",
        description=(
            "A draft whose approval means the live NetworkPolicy namespace/name should be deleted "
            "(the fix of a policy that selects nothing). It is reviewed and approved like any draft, "
            "never edited; its what-if is the removal's, its export the `kubectl delete` command."
        ),
        request=DeletionInput,
        responses={
            201: DraftSerializer,
            **INVALID,
            409: OpenApiResponse(description="a draft of that name exists"),
        },
    )
    @action(
        detail=False, methods=["post"], url_path="deletions", url_name="deletions", required_role=EDITOR
    )
    def propose_deletion(self, request: Request) -> Response:
        data = DeletionInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        try:
            draft = deletions.create_deletion_draft(
                values["cluster"],
                values["namespace"],
                values["name"],
                actor=request.user,
                note=values.get("note", ""),
                origin="the API",
            )
        except drafts.DraftConflict as exc:
            raise Conflict(str(exc)) from exc
        except drafts.DraftError as exc:
            raise serializers.ValidationError({"name": [str(exc)]}) from exc
        return self._out(draft, status.HTTP_201_CREATED)

    # --- export and apply ------------------------------------------------------------------

    @extend_schema(
        summary="Several drafts as one YAML file (editor)",
        description="Multi-document YAML in canonical field order, ready for `kubectl apply -f`: the drafts named by ids, or all of a namespace, or all approved ones (status=approved).",
        parameters=EXPORT_PARAMS,
        responses={(200, "application/yaml"): OpenApiTypes.STR},
    )
    @action(detail=False, methods=["get"], required_role=EDITOR)
    def export(self, request: Request) -> HttpResponse:
        cluster_id = parse_id(request.query_params.get("cluster", ""))
        if cluster_id is None:
            raise serializers.ValidationError({"cluster": ["the cluster's id is required"]})
        cluster = get_object_or_404(Cluster, pk=cluster_id)
        try:
            ids = parse_ids(request.query_params.getlist("ids"))
        except BadParameter as exc:
            raise serializers.ValidationError({"ids": [exc.message]}) from None
        status_value = request.query_params.get("status", "")
        if status_value and status_value not in PolicyDraft.Status.values:
            raise serializers.ValidationError(
                {"status": [f'"{status_value}" is not draft or approved']}
            )
        namespace = request.query_params.get("namespace", "")
        try:
            rows = drafts.drafts_for_export(
                cluster, ids=ids, namespace=namespace, status=status_value
            )
        except drafts.DraftError as exc:
            raise serializers.ValidationError({"ids": [str(exc)]}) from exc
        if not rows:
            raise serializers.ValidationError({"detail": ["no draft matches: nothing to export"]})
        filename = drafts.export_filename(cluster, rows, namespace=namespace, status=status_value)
        drafts.record_export(request.user, cluster, rows, filename)
        return yaml_attachment(drafts.export_yaml(rows), filename)

    @extend_schema(
        summary="One draft as a YAML file (editor)",
        operation_id="drafts_export_one",
        responses={(200, "application/yaml"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"], url_path="export", required_role=EDITOR)
    def draft_export(self, request: Request, pk: str | None = None) -> HttpResponse:
        draft = self.get_object()
        filename = drafts.export_filename(draft.cluster, [draft])
        drafts.record_export(request.user, draft.cluster, [draft], filename)
        return yaml_attachment(drafts.export_yaml([draft]), filename)

    @extend_schema(
        summary="Server-side apply of an approved draft (admin)",
        description=(
            "Off unless NETPOLUI_ALLOW_APPLY is set. dry_run=true (the default) asks the API server "
            "what it would store; dry_run=false applies, and is refused unless a dry run of the same "
            "revision succeeded in the last 15 minutes. force takes over fields another field "
            "manager owns."
        ),
        request=ApplyInput,
        responses={
            200: OpenApiResponse(
                description="{verdict, dry_run, created, unchanged, object, before, yaml, before_yaml}"
            ),
            403: OpenApiResponse(description="apply is off, or not an admin"),
            409: OpenApiResponse(
                description="not approved, no dry run yet, or a field manager conflict"
            ),
            502: OpenApiResponse(description="the API server failed or could not be reached"),
        },
    )
    @action(detail=True, methods=["post"], required_role=ADMIN)
    def apply(self, request: Request, pk: str | None = None) -> Response:
        draft = self.get_object()
        data = ApplyInput(data=request.data)
        data.is_valid(raise_exception=True)
        if not drafts.apply_enabled():
            raise PermissionDenied(drafts.can_apply_to(draft.cluster))
        try:
            result = drafts.apply_draft(
                draft,
                actor=request.user,
                dry_run=data.validated_data["dry_run"],
                force=data.validated_data["force"],
            )
        except drafts.ApplyRefused as exc:
            raise Conflict(str(exc)) from exc
        except drafts.ApplyFailed as exc:
            if exc.conflict:
                raise Conflict(str(exc)) from exc
            error = APIException(str(exc))
            error.status_code = (
                status.HTTP_422_UNPROCESSABLE_ENTITY
                if exc.status == 422
                else status.HTTP_502_BAD_GATEWAY
            )
            raise error from exc
        return Response(result)
