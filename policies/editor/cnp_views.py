"""The ClusterNetworkPolicy (v1alpha2) editor: a form page (cnp_editor.js) whose live
YAML, problems and what-if come from the check endpoint; drafts saved, exported and
deleted here. Everything goes through policies.services.cnp_drafts."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from ..models import Cluster, ClusterPolicyDraft
from ..query import parse_id
from ..roles import EDITOR, VIEWER, has_role
from ..services import cnp_drafts
from ..web import JsonTooDeep, get_cluster, read_json, role_required, yaml_attachment


def _draft(request: HttpRequest, cluster_id: int, pk: int) -> ClusterPolicyDraft:
    cluster = get_cluster(request, cluster_id)
    return get_object_or_404(ClusterPolicyDraft.objects.select_related("cluster"), pk=pk, cluster=cluster)


def _edit_url(draft: ClusterPolicyDraft) -> str:
    return reverse("cnp-edit", args=[draft.cluster_id, draft.pk])


def _read_obj(text: str) -> tuple[Any, str]:
    """The policy the form sent as JSON, or a sentence saying why it cannot be read."""
    try:
        return read_json(text), ""
    except JsonTooDeep as exc:
        return None, f"The editor sent a policy {exc}."
    except ValueError:
        return None, "The editor sent a policy that is not valid JSON; reload the page and try again."


def _page(
    request: HttpRequest,
    cluster: Cluster,
    obj: Any,
    *,
    draft: ClusterPolicyDraft | None = None,
    notes: list[str] | None = None,
    origin: str = "",
    errors: list[dict[str, str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    can_edit = has_role(request.user, EDITOR)
    context = {
        "cluster": cluster,
        "draft": draft,
        "initial": obj,
        "notes": notes or [],
        "origin": origin,
        "server_errors": errors or [],
        "read_only": not can_edit,
        "templates": cnp_drafts.TEMPLATES.values(),
        "check_url": reverse("cnp-check", args=[cluster.pk]),
        "namespaces": list(cluster.namespaces.order_by("name").values_list("name", flat=True)),
    }
    return render(request, "editor/cnp_editor.html", context, status=status)


@require_http_methods(["GET", "POST"])
@role_required(VIEWER)
def cnp_new(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    if request.method == "GET":
        try:
            clone = None
            if request.GET.get("clone"):
                clone = parse_id(request.GET.get("clone"))
                if clone is None:
                    raise cnp_drafts.CnpDraftError("clone must be the id of a cluster-wide policy")
            obj, notes, origin = cnp_drafts.start_point(
                cluster, template=request.GET.get("template", ""), clone=clone, fix=request.GET.get("fix", "")
            )
        except cnp_drafts.CnpDraftError as exc:
            messages.error(request, str(exc))
            obj, notes, origin = cnp_drafts.blank(), [], ""
            return _page(request, cluster, obj, status=400)
        if origin.startswith(("AdminNetworkPolicy/", "BaselineAdminNetworkPolicy/")):
            notes.insert(0, f"A v1alpha2 ClusterNetworkPolicy converted from {origin}; check it, then save it as a draft.")
        elif origin.startswith("ClusterNetworkPolicy/"):
            notes.insert(0, f"A copy of {origin}: saved under the same name it would replace it.")
        return _page(request, cluster, obj, notes=notes, origin=origin)
    if not has_role(request.user, EDITOR):
        raise PermissionDenied("Saving drafts needs the editor role.")
    obj, problem = _read_obj(request.POST.get("obj", ""))
    origin = request.POST.get("origin", "")[:300]
    if problem:
        messages.error(request, problem)
        return _page(request, cluster, cnp_drafts.blank(), status=400)
    try:
        draft = cnp_drafts.save(cluster, obj, actor=request.user, origin=origin)
    except cnp_drafts.CnpDraftInvalid as exc:
        errors = [{"path": e.path, "message": e.message} for e in exc.errors]
        return _page(request, cluster, obj, origin=origin, errors=errors, status=400)
    except cnp_drafts.CnpDraftConflict as exc:
        messages.error(request, str(exc))
        return _page(request, cluster, obj, origin=origin, status=409)
    messages.success(request, f"ClusterNetworkPolicy draft {draft.name} saved (revision {draft.revision}).")
    return HttpResponseRedirect(_edit_url(draft))


@require_http_methods(["GET", "POST"])
@role_required(VIEWER)
def cnp_edit(request: HttpRequest, cluster_id: int, pk: int) -> HttpResponse:
    draft = _draft(request, cluster_id, pk)
    if request.method == "GET":
        return _page(request, draft.cluster, draft.obj, draft=draft, origin=draft.origin)
    if not has_role(request.user, EDITOR):
        raise PermissionDenied("Changing drafts needs the editor role.")
    obj, problem = _read_obj(request.POST.get("obj", ""))
    if problem:
        messages.error(request, problem)
        return HttpResponseRedirect(_edit_url(draft))
    try:
        revision = int(request.POST.get("revision", ""))
    except ValueError:
        revision = None
    try:
        draft = cnp_drafts.save(draft.cluster, obj, actor=request.user, draft=draft, base_revision=revision)
    except cnp_drafts.CnpDraftInvalid as exc:
        errors = [{"path": e.path, "message": e.message} for e in exc.errors]
        return _page(request, draft.cluster, obj, draft=draft, errors=errors, status=400)
    except cnp_drafts.CnpDraftConflict as exc:
        messages.error(request, str(exc))
        return _page(request, draft.cluster, obj, draft=draft, status=409)
    messages.success(request, f"ClusterNetworkPolicy draft {draft.name} saved (revision {draft.revision}).")
    return HttpResponseRedirect(_edit_url(draft))


@require_POST
@role_required(VIEWER)
def cnp_check(request: HttpRequest, cluster_id: int) -> HttpResponse:
    """The form's policy (JSON body) -> problems with field paths, YAML, what-if."""
    cluster = get_cluster(request, cluster_id)
    try:
        body = request.body.decode("utf-8", errors="replace")
    except RequestDataTooBig:
        return JsonResponse({"detail": "The policy is too large."}, status=413)
    obj, problem = _read_obj(body)
    if problem:
        return JsonResponse({"detail": problem}, status=400)
    return JsonResponse(cnp_drafts.check(cluster, obj))


@require_GET
@role_required(EDITOR)
def cnp_export(request: HttpRequest, cluster_id: int, pk: int) -> HttpResponse:
    draft = _draft(request, cluster_id, pk)
    return yaml_attachment(cnp_drafts.export_yaml(draft), f"clusternetworkpolicy-{slugify(draft.name)}.yaml")


@require_POST
@role_required(EDITOR)
def cnp_delete(request: HttpRequest, cluster_id: int, pk: int) -> HttpResponse:
    draft = _draft(request, cluster_id, pk)
    name = draft.name
    cnp_drafts.delete(draft, actor=request.user)
    messages.success(request, f"ClusterNetworkPolicy draft {name} deleted.")
    return HttpResponseRedirect(reverse("draft-list", args=[cluster_id]))
