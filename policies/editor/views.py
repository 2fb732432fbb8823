"""The policy editor's pages: drafts list, start points, the form editor, history,
export and apply. Everything goes through policies.services.drafts; the editor page's
live preview and what-if call the drafts API (policies.api.drafts) from editor.js."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from .. import audit
from ..filtersets import DraftFilterSet
from ..models import Cluster, ClusterPolicyDraft, CniObject, NetworkPolicy, PolicyDraft
from ..query import BadParameter, parse_id, parse_ids
from ..roles import ADMIN, EDITOR, VIEWER, has_role
from ..services import cni, deletions, drafts, fixes, starter_policies
from ..web import get_cluster, role_required, yaml_attachment
from .forms import (
    ApplyForm,
    ImportForm,
    SaveDraftForm,
    StatusForm,
    TemplateForm,
)


def _draft(request: HttpRequest, cluster_id: int, pk: int) -> PolicyDraft:
    cluster = get_cluster(request, cluster_id)
    return get_object_or_404(PolicyDraft.objects.select_related("cluster"), pk=pk, cluster=cluster)


def _editor_url(draft: PolicyDraft) -> str:
    return reverse("draft-edit", args=[draft.cluster_id, draft.pk])


# --- list --------------------------------------------------------------------------------------


@require_GET
@role_required(VIEWER)
def draft_list(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    base = PolicyDraft.objects.filter(cluster=cluster).select_related("updated_by")
    filterset = DraftFilterSet(request.GET or None, queryset=base)
    if filterset.is_bound and filterset.is_valid():
        rows = list(filterset.qs.order_by("namespace", "name"))
    else:
        rows = list(base.order_by("namespace", "name"))
    namespaces = sorted(set(base.values_list("namespace", flat=True)))
    approved = sorted(
        set(base.filter(status=PolicyDraft.Status.APPROVED).values_list("namespace", flat=True))
    )
    return render(
        request,
        "editor/draft_list.html",
        {
            "cluster": cluster,
            "rows": rows,
            "filterset": filterset,
            "current": {k: request.GET.get(k, "") for k in ("namespace", "status", "name")},
            "namespaces": namespaces,
            "approved_namespaces": approved,
            "can_edit": has_role(request.user, EDITOR),
            "total": base.count(),
            "cnp_drafts": ClusterPolicyDraft.objects.filter(cluster=cluster).select_related("updated_by"),
        },
    )


# --- start points and the editor ---------------------------------------------------------------


def _editor(
    request: HttpRequest,
    cluster: Cluster,
    *,
    form_data: dict[str, Any],
    draft: PolicyDraft | None = None,
    errors: list[drafts.FieldError] | None = None,
    notes: list[str] | None = None,
    origin: str = "",
    note: str = "",
    status: int = 200,
    deletion: dict[str, Any] | None = None,
) -> HttpResponse:
    read_only = not has_role(request.user, EDITOR)
    config = {
        "form": form_data,
        "errors": drafts.error_dicts(errors or []),
        "readOnly": read_only,
        "cluster": cluster.pk,
        "urls": {
            "preview": reverse("policydraft-preview"),
            "whatIf": reverse("policydraft-what-if"),
            "parse": reverse("policydraft-parse"),
        },
        "labels": drafts.label_suggestions(cluster),
        "namespaces": drafts.namespace_names(cluster),
    }
    context = {
        "cluster": cluster,
        "draft": draft,
        "editor_config": config,
        "read_only": read_only,
        "notes": notes or [],
        "save_form": SaveDraftForm(
            initial={"revision": draft.revision if draft else None, "origin": origin, "note": note}
        ),
        "server_errors": errors or [],
        "deletion": deletion,
        "origin": origin,
    }
    if draft is not None:
        context.update(_draft_context(request, draft))
    return render(request, "editor/editor.html", context, status=status)


def _draft_context(request: HttpRequest, draft: PolicyDraft) -> dict[str, Any]:
    revisions = list(draft.revisions.select_related("author").order_by("-number")[:50])
    why_not = drafts.can_apply_to(draft.cluster)
    return {
        "revisions": revisions,
        "audit": audit.events_of("draft", draft.pk)
        .select_related("actor")
        .order_by("-at", "-id")[:20],
        "can_edit": has_role(request.user, EDITOR),
        "is_admin": has_role(request.user, ADMIN),
        "apply_enabled": drafts.apply_enabled(),
        "apply_blocked": why_not,
        "live_policy": NetworkPolicy.objects.filter(
            cluster=draft.cluster, namespace=draft.namespace, name=draft.name
        ).first(),
    }


def _start_page(
    request: HttpRequest,
    cluster: Cluster,
    *,
    template_form: TemplateForm | None = None,
    import_form: ImportForm | None = None,
    import_errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    namespace = request.GET.get("namespace", "")
    live = NetworkPolicy.objects.filter(cluster=cluster).order_by("namespace", "name")
    return render(
        request,
        "editor/start.html",
        {
            "cluster": cluster,
            "namespaces": drafts.namespace_names(cluster),
            "namespace": namespace,
            "templates": starter_policies.TEMPLATES,
            "template_form": template_form
            or TemplateForm(initial={"namespace": namespace or "default"}),
            "import_form": import_form or ImportForm(initial={"namespace": namespace}),
            "import_errors": import_errors or [],
            "live_policies": live,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@role_required(VIEWER)
def draft_new(request: HttpRequest, cluster_id: int) -> HttpResponse:
    """GET: the start points, or the editor opened on one (?start=blank, ?clone=<policy
    id>, ?template=<slug>). POST (editors): save the form as a new draft."""
    cluster = get_cluster(request, cluster_id)
    if request.method == "POST":
        if not has_role(request.user, EDITOR):
            raise PermissionDenied("Creating drafts needs the editor role.")
        return _save_new(request, cluster)
    if request.GET.get("start") == "blank":
        return _editor(
            request, cluster, form_data=drafts.blank_form(request.GET.get("namespace", ""))
        )
    if request.GET.get("fix"):
        return _fix(request, cluster)
    if request.GET.get("clone"):
        clone = parse_id(request.GET["clone"])
        if clone is None:
            raise Http404("clone names a live policy by its id")
        policy = get_object_or_404(NetworkPolicy, pk=clone, cluster=cluster)
        obj = drafts.clone_live(policy)
        notes = [f"Cloned from the live policy {policy.namespace}/{policy.name}."]
        existing = drafts.existing_draft(cluster, obj)
        if existing is not None:
            notes.append(
                f"A draft {existing.namespace}/{existing.name} exists already: rename this one, "
                "or open the existing draft."
            )
        return _editor(
            request,
            cluster,
            form_data=drafts.policy_to_form(obj),
            notes=notes,
            origin=f"live policy {policy.namespace}/{policy.name}",
        )
    if request.GET.get("clone_cni"):
        return _clone_cni(request, cluster)
    if request.GET.get("template"):
        form = TemplateForm(request.GET)
        if not form.is_valid():
            return _start_page(request, cluster, template_form=form, status=400)
        try:
            objs = form.policies()
        except Exception as exc:  # forms.ValidationError from the template's parameters
            form.add_error(None, exc)  # type: ignore[arg-type]
            return _start_page(request, cluster, template_form=form, status=400)
        origin = f"template {form.cleaned_data['template']}"
        if len(objs) == 1:
            return _editor(
                request,
                cluster,
                form_data=drafts.policy_to_form(drafts.stored_form(objs[0])),
                origin=origin,
            )
        return _import_preview(
            request, cluster, drafts.canonical_yaml(objs), namespace="", origin=origin
        )
    return _start_page(request, cluster)


def _clone_cni(request: HttpRequest, cluster: Cluster) -> HttpResponse:
    """The editor opened on a CNI policy translated to v1, where the translation is exact."""
    pk = parse_id(request.GET["clone_cni"])
    if pk is None:
        raise Http404("clone_cni names a CNI policy by its id")
    row = get_object_or_404(CniObject, pk=pk, cluster=cluster)
    verdict = cni.clone_verdict(row)
    if not verdict["possible"]:
        messages.error(request, f"{row.key} cannot be cloned into a NetworkPolicy: {verdict['reason']}.")
        return _start_page(request, cluster, status=400)
    obj = drafts.stored_form(verdict["obj"])
    notes = [f"Translated from {row.key}: the same traffic is allowed, as a v1 NetworkPolicy."]
    existing = drafts.existing_draft(cluster, obj)
    if existing is not None:
        notes.append(
            f"A draft {existing.namespace}/{existing.name} exists already: rename this one, or open the existing draft."
        )
    return _editor(request, cluster, form_data=drafts.policy_to_form(obj), notes=notes, origin=row.key)


def _fix(request: HttpRequest, cluster: Cluster) -> HttpResponse:
    """The editor opened on the prepared fix of one finding (?fix=code&namespace&kind&name)."""
    get = request.GET
    try:
        proposal = fixes.propose(cluster, get["fix"], get.get("namespace", ""), get.get("kind", ""), get.get("name", ""))
    except fixes.FixUnavailable as exc:
        messages.error(request, str(exc))
        return _start_page(request, cluster, status=404)
    deletion = None
    if proposal.deletes:
        namespace, _, name = proposal.deletes.partition("/")
        deletion = {
            "namespace": namespace,
            "name": name,
            "what_if": deletions.removal_what_if(cluster, namespace, name),
            "existing": PolicyDraft.objects.filter(cluster=cluster, namespace=namespace, name=name).first(),
        }
    return _editor(
        request,
        cluster,
        form_data=drafts.policy_to_form(proposal.obj),
        notes=proposal.notes,
        origin=proposal.origin,
        deletion=deletion,
    )


@require_POST
@role_required(EDITOR)
def draft_new_deletion(request: HttpRequest, cluster_id: int) -> HttpResponse:
    """Save a deletion draft of the live policy `namespace/name` (POST fields), to be
    reviewed and approved like any draft."""
    cluster = get_cluster(request, cluster_id)
    namespace = request.POST.get("namespace", "")[:63]
    name = request.POST.get("name", "")[:253]
    origin = request.POST.get("origin", "")[:200]
    note = request.POST.get("note", "")[:500]
    if any("\x00" in value for value in (namespace, name, origin, note)):
        # The database cannot hold it, and no Kubernetes name has one.
        messages.error(request, "The namespace, name, origin and note cannot contain NUL characters.")
        return HttpResponseRedirect(reverse("draft-new", args=[cluster.pk]))
    try:
        draft = deletions.create_deletion_draft(
            cluster, namespace, name, actor=request.user, note=note, origin=origin
        )
    except drafts.DraftError as exc:
        messages.error(request, str(exc))
        existing = PolicyDraft.objects.filter(cluster=cluster, namespace=namespace, name=name).first()
        if existing is not None:
            return HttpResponseRedirect(_editor_url(existing))
        return HttpResponseRedirect(reverse("draft-new", args=[cluster.pk]))
    messages.success(
        request,
        f"Deletion draft {draft.namespace}/{draft.name} saved: approve it to carry the deletion out.",
    )
    return HttpResponseRedirect(_editor_url(draft))


def _deletion_page(request: HttpRequest, draft: PolicyDraft, *, status: int = 200) -> HttpResponse:
    """A deletion draft: the policy it deletes, the what-if of deleting it now, review."""
    what_if = None
    gone = False
    try:
        what_if = deletions.removal_what_if(draft.cluster, draft.namespace, draft.name)
    except drafts.DraftError:
        gone = True
    context = {
        "cluster": draft.cluster,
        "draft": draft,
        "what_if": what_if,
        "policy_gone": gone,
        "yaml": drafts.canonical_yaml([draft.obj]),
        "read_only": not has_role(request.user, EDITOR),
        **_draft_context(request, draft),
    }
    return render(request, "editor/deletion.html", context, status=status)


def _save_new(request: HttpRequest, cluster: Cluster) -> HttpResponse:
    form = SaveDraftForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The editor sent incomplete data; please try again.")
        return HttpResponseRedirect(reverse("draft-new", args=[cluster.pk]))
    data = form.cleaned_data
    obj, form_errors = drafts.form_to_policy(data["form_json"])
    errors = form_errors + (drafts.validate(obj) if form_errors else [])
    if not errors:
        try:
            draft = drafts.create_draft(
                cluster, obj, actor=request.user, note=data["note"], origin=data["origin"]
            )
        except drafts.DraftInvalid as exc:
            errors = exc.errors
        except drafts.DraftConflict as exc:
            messages.error(request, str(exc))
            return _editor(
                request,
                cluster,
                form_data=data["form_json"],
                origin=data["origin"],
                note=data["note"],
                status=409,
            )
        else:
            messages.success(request, f"Draft {draft.namespace}/{draft.name} saved (revision 1).")
            return HttpResponseRedirect(_editor_url(draft))
    return _editor(
        request,
        cluster,
        form_data=data["form_json"],
        errors=errors,
        origin=data["origin"],
        note=data["note"],
        status=400,
    )


@require_http_methods(["GET", "POST"])
@role_required(VIEWER)
def draft_edit(request: HttpRequest, cluster_id: int, pk: int) -> HttpResponse:
    draft = _draft(request, cluster_id, pk)
    if draft.action == PolicyDraft.Action.DELETE:
        if request.method == "POST":
            messages.error(
                request,
                "A deletion draft has no content to edit: delete the draft to keep the policy.",
            )
        return _deletion_page(request, draft, status=400 if request.method == "POST" else 200)
    if request.method == "GET":
        return _editor(
            request, draft.cluster, form_data=drafts.policy_to_form(draft.obj), draft=draft
        )
    if not has_role(request.user, EDITOR):
        raise PermissionDenied("Changing drafts needs the editor role.")
    form = SaveDraftForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The editor sent incomplete data; please try again.")
        return HttpResponseRedirect(_editor_url(draft))
    data = form.cleaned_data
    obj, form_errors = drafts.form_to_policy(data["form_json"])
    errors = form_errors + (drafts.validate(obj) if form_errors else [])
    if not errors:
        try:
            before = draft.revision
            draft = drafts.update_draft(
                draft,
                obj,
                actor=request.user,
                expected_revision=data["revision"],
                note=data["note"],
            )
        except drafts.DraftInvalid as exc:
            errors = exc.errors
        except drafts.DraftConflict as exc:
            messages.error(request, str(exc))
            return _editor(
                request,
                draft.cluster,
                form_data=data["form_json"],
                draft=draft,
                note=data["note"],
                status=409,
            )
        else:
            if draft.revision == before:
                messages.info(request, "Nothing changed: the draft is as it was.")
            else:
                messages.success(
                    request,
                    f"Draft {draft.namespace}/{draft.name} saved (revision {draft.revision}).",
                )
            return HttpResponseRedirect(_editor_url(draft))
    return _editor(
        request,
        draft.cluster,
        form_data=data["form_json"],
        draft=draft,
        errors=errors,
        note=data["note"],
        status=400,
    )


# --- pasted and uploaded YAML ------------------------------------------------------------------


def _import_preview(
    request: HttpRequest,
    cluster: Cluster,
    text: str,
    *,
    namespace: str,
    origin: str,
    source: str = "pasted YAML",
) -> HttpResponse:
    try:
        docs = drafts.parse_yaml(text, default_namespace=namespace, source=source)
    except drafts.YamlUnreadable as exc:
        form = ImportForm(initial={"yaml": text, "namespace": namespace})
        return _start_page(
            request, cluster, import_form=form, import_errors=exc.messages, status=400
        )
    rows = []
    for doc in docs:
        rows.append(
            {
                "doc": doc,
                "yaml": drafts.canonical_yaml([doc.obj]),
                "existing": drafts.existing_draft(cluster, doc.obj),
            }
        )
    valid = all(not d.errors for d in docs)
    return render(
        request,
        "editor/import_preview.html",
        {
            "cluster": cluster,
            "rows": rows,
            "valid": valid,
            "blocked": any(r["existing"] for r in rows),
            **drafts.what_if_context(cluster, [d.obj for d in docs] if valid else []),
            "text": drafts.canonical_yaml([d.obj for d in docs]),
            "namespace": namespace,
            "origin": origin,
            "can_edit": has_role(request.user, EDITOR),
        },
        status=200 if valid else 400,
    )


@require_POST
@role_required(VIEWER)
def draft_import(request: HttpRequest, cluster_id: int) -> HttpResponse:
    """Pasted or uploaded YAML: one document opens in the editor, several go to a
    preview from which editors create one draft each."""
    cluster = get_cluster(request, cluster_id)
    form = ImportForm(request.POST, request.FILES)
    if not form.is_valid():
        return _start_page(request, cluster, import_form=form, status=400)
    data = form.cleaned_data
    namespace = data.get("namespace") or ""
    try:
        docs = drafts.parse_yaml(data["yaml"], default_namespace=namespace, source=data["source"])
    except drafts.YamlUnreadable as exc:
        return _start_page(
            request, cluster, import_form=form, import_errors=exc.messages, status=400
        )
    if len(docs) == 1:
        doc = docs[0]
        notes = [f"Read from {data['source']}."]
        if doc.namespace_added:
            notes.append(f"The document had no namespace: it goes to {namespace}.")
        if doc.losses:
            notes.append(
                "The form cannot hold these fields, so they are left out: " + ", ".join(doc.losses)
            )
        existing = drafts.existing_draft(cluster, doc.obj)
        if existing is not None:
            notes.append(
                f"A draft {existing.namespace}/{existing.name} exists already: rename this one, "
                "or open the existing draft and paste there."
            )
        return _editor(
            request,
            cluster,
            form_data=doc.form,
            errors=doc.errors,
            notes=notes,
            origin=data["source"],
        )
    return _import_preview(
        request,
        cluster,
        data["yaml"],
        namespace=namespace,
        origin=data["source"],
        source=data["source"],
    )


@require_POST
@role_required(EDITOR)
def draft_import_confirm(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    text = request.POST.get("yaml", "")
    namespace = request.POST.get("namespace", "")
    origin = request.POST.get("origin", "")[:200] or "imported YAML"
    try:
        docs = drafts.parse_yaml(text, default_namespace=namespace)
        created = drafts.create_drafts(
            cluster, [d.obj for d in docs], actor=request.user, origin=origin
        )
    except (drafts.YamlUnreadable, drafts.DraftInvalid, drafts.DraftConflict) as exc:
        messages.error(request, str(exc))
        return _import_preview(request, cluster, text, namespace=namespace, origin=origin)
    names = ", ".join(f"{d.namespace}/{d.name}" for d in created)
    messages.success(request, f"{len(created)} drafts created: {names}.")
    return HttpResponseRedirect(reverse("draft-list", args=[cluster.pk]))


# --- status, delete, history ------------------------------------------------------------------


@require_POST
@role_required(EDITOR)
def draft_status(request: HttpRequest, cluster_id: int, pk: int) -> HttpResponse:
    draft = _draft(request, cluster_id, pk)
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose draft or approved.")
        return HttpResponseRedirect(_editor_url(draft))
    try:
        draft = drafts.set_status(
            draft,
            form.cleaned_data["status"],
            actor=request.user,
            expected_revision=form.cleaned_data["revision"],
        )
    except drafts.DraftError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Draft {draft.namespace}/{draft.name} is now {draft.status}.")
    return HttpResponseRedirect(_editor_url(draft))


@require_POST
@role_required(EDITOR)
def draft_delete(request: HttpRequest, cluster_id: int, pk: int) -> HttpResponse:
    draft = _draft(request, cluster_id, pk)
    name = f"{draft.namespace}/{draft.name}"
    drafts.delete_draft(draft, actor=request.user)
    messages.success(request, f"Draft {name} deleted.")
    return HttpResponseRedirect(reverse("draft-list", args=[cluster_id]))


@require_GET
@role_required(VIEWER)
def draft_revision(request: HttpRequest, cluster_id: int, pk: int, number: int) -> HttpResponse:
    draft = _draft(request, cluster_id, pk)
    revision = draft.revisions.select_related("author").filter(number=number).first()
    if revision is None:
        raise Http404(f"draft {draft.namespace}/{draft.name} has no revision {number}")
    previous = draft.revisions.filter(number__lt=number).order_by("-number").first()
    return render(
        request,
        "editor/revision.html",
        {
            "cluster": draft.cluster,
            "draft": draft,
            "revision": revision,
            "yaml": drafts.canonical_yaml([revision.obj]),
            "previous_yaml": drafts.canonical_yaml([previous.obj]) if previous else "",
            "previous": previous,
            "can_edit": has_role(request.user, EDITOR),
        },
    )


@require_POST
@role_required(EDITOR)
def draft_restore(request: HttpRequest, cluster_id: int, pk: int, number: int) -> HttpResponse:
    draft = _draft(request, cluster_id, pk)
    try:
        draft = drafts.restore_revision(draft, number, actor=request.user)
    except drafts.DraftError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Revision {number} restored as revision {draft.revision}.")
    return HttpResponseRedirect(_editor_url(draft))


# --- what-if, export, apply --------------------------------------------------------------------


def _nothing_selected(request: HttpRequest, cluster: Cluster, verb: str) -> HttpResponse | None:
    """The list's "selected" buttons with no box ticked: say so instead of taking every draft."""
    if request.GET.get("from") != "selection" or _ids(request):
        return None
    messages.error(request, f"No draft is selected: tick the drafts to {verb}.")
    return HttpResponseRedirect(reverse("draft-list", args=[cluster.pk]))


def _ids(request: HttpRequest) -> list[int]:
    try:
        return parse_ids(request.GET.getlist("ids"))
    except BadParameter:
        raise Http404("draft ids are numbers") from None


@require_GET
@role_required(VIEWER)
def draft_what_if_many(request: HttpRequest, cluster_id: int) -> HttpResponse:
    """What the selected drafts (or all approved drafts of a namespace) change together."""
    cluster = get_cluster(request, cluster_id)
    namespace = request.GET.get("namespace", "")
    status = request.GET.get("status", "")
    if (refused := _nothing_selected(request, cluster, "see together in a what-if")) is not None:
        return refused
    try:
        rows = drafts.drafts_for_export(
            cluster, ids=_ids(request), namespace=namespace, status=status
        )
    except drafts.DraftError as exc:
        raise Http404(str(exc)) from exc
    return render(
        request,
        "editor/what_if.html",
        {
            "cluster": cluster,
            "rows": rows,
            **deletions.drafts_what_if_context(cluster, rows),
            "namespace": namespace,
            "status": status,
        },
    )


@require_GET
@role_required(EDITOR)
def draft_export(request: HttpRequest, cluster_id: int, pk: int) -> HttpResponse:
    draft = _draft(request, cluster_id, pk)
    filename = drafts.export_filename(draft.cluster, [draft])
    drafts.record_export(request.user, draft.cluster, [draft], filename)
    return yaml_attachment(drafts.export_yaml([draft]), filename)


@require_GET
@role_required(EDITOR)
def draft_export_many(request: HttpRequest, cluster_id: int) -> HttpResponse:
    """Selected drafts (?ids=), or a namespace's (?namespace=, ?status=approved), as one file."""
    cluster = get_cluster(request, cluster_id)
    namespace = request.GET.get("namespace", "")
    status = request.GET.get("status", "")
    if status and status not in PolicyDraft.Status.values:
        raise Http404(f"unknown status {status!r}")
    if (refused := _nothing_selected(request, cluster, "download")) is not None:
        return refused
    try:
        rows = drafts.drafts_for_export(
            cluster, ids=_ids(request), namespace=namespace, status=status
        )
    except drafts.DraftError as exc:
        raise Http404(str(exc)) from exc
    if not rows:
        messages.error(request, "No draft matches: nothing to export.")
        return HttpResponseRedirect(reverse("draft-list", args=[cluster.pk]))
    filename = drafts.export_filename(cluster, rows, namespace=namespace, status=status)
    drafts.record_export(request.user, cluster, rows, filename)
    return yaml_attachment(drafts.export_yaml(rows), filename)


@require_POST
@role_required(ADMIN)
def draft_apply(request: HttpRequest, cluster_id: int, pk: int) -> HttpResponse:
    """Step 1 (dry run): show what the API server would store. Step 2: apply it."""
    draft = _draft(request, cluster_id, pk)
    form = ApplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a dry run or apply.")
        return HttpResponseRedirect(_editor_url(draft))
    data = form.cleaned_data
    if data["revision"] != draft.revision:
        messages.error(
            request,
            f"The draft changed (now revision {draft.revision}): run the dry run again.",
        )
        return HttpResponseRedirect(_editor_url(draft))
    dry_run = data["step"] == "dry-run"
    try:
        result = drafts.apply_draft(draft, actor=request.user, dry_run=dry_run, force=data["force"])
    except (drafts.ApplyRefused, drafts.ApplyFailed) as exc:
        messages.error(request, f"{'Dry run' if dry_run else 'Apply'} failed: {exc}")
        return HttpResponseRedirect(_editor_url(draft))
    if not dry_run:
        messages.success(
            request,
            f"{draft.namespace}/{draft.name} {result['verdict']} in cluster {draft.cluster.name}.",
        )
        return HttpResponseRedirect(_editor_url(draft))
    return render(
        request,
        "editor/apply.html",
        {
            "cluster": draft.cluster,
            "draft": draft,
            "result": result,
            "force": data["force"],
            "result_json": json.dumps(result.get("object"), indent=2, sort_keys=True),
        },
    )
