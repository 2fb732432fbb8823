"""Drift review pages: the summary per cluster (counts, trend, differences grouped as
missing / changed / extra, reachability delta, coverage), a page per difference (side-by-
side YAML diff and its effect on reachability), the history, the two YAML exports and
the desired-source form. Views read through policies.services.drift."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.views.decorators.http import require_http_methods, require_POST

from .. import mirror
from ..models import Cluster, DesiredSource, DriftReport
from ..roles import ADMIN, EDITOR, VIEWER, has_role
from ..services import analysis, cni, drift
from ..web import get_cluster, read_uploaded_text, role_required, yaml_attachment

TREND_REPORTS = 30
HISTORY_PAGE_SIZE = 50


def _url(name: str, *args: Any) -> str | None:
    """A link to another page, or None when that page is not part of this install."""
    try:
        return reverse(name, args=args)
    except NoReverseMatch:
        return None


def _report(cluster: Cluster, report_id: Any) -> DriftReport | None:
    if report_id in (None, ""):
        return drift.latest_report(cluster)
    try:
        pk = int(report_id)
    except (TypeError, ValueError):
        raise Http404("no such drift report") from None
    return get_object_or_404(DriftReport, pk=pk, cluster=cluster)


def _endpoint_links(cluster: Cluster, keys: set[str]) -> dict[str, str]:
    links: dict[str, str] = {}
    for key, (kind, pk) in analysis.endpoint_rows(cluster, keys).items():
        url = _url("workload-detail" if kind == "workload" else "pod-detail", pk)
        if url:
            links[key] = url
    return links


def _connection_rows(cluster: Cluster, rows: list[dict[str, Any]], links: dict[str, str]) -> list[dict[str, Any]]:
    return [{**row, "src_url": links.get(row["src"]), "dst_url": links.get(row["dst"])} for row in rows]


def _delta_context(cluster: Cluster, delta: dict[str, Any]) -> dict[str, Any]:
    """Connection lists with links to the workloads they name."""
    if not delta or "error" in delta:
        return {"error": delta.get("error") if delta else None}
    keys = {r[k] for side in ("live_only", "desired_only") for r in delta.get(side, []) for k in ("src", "dst")}
    links = _endpoint_links(cluster, keys)
    return {
        "live_only": _connection_rows(cluster, delta.get("live_only", []), links),
        "desired_only": _connection_rows(cluster, delta.get("desired_only", []), links),
        "counts": delta.get("counts", {}),
        "truncated": delta.get("truncated", False),
    }


def _trend(reports: list[DriftReport]) -> dict[str, Any]:
    """Bars for the trend: per report the missing, changed and extra counts (stacked)."""
    top = max((r.drift_count for r in reports), default=0) or 1
    bars = []
    for r in reports:
        bars.append(
            {
                "report": r,
                "compared": r.compared,
                "segments": [
                    {"kind": kind, "count": count, "percent": round(100 * count / top, 1)}
                    for kind, count in (("missing", r.missing_count), ("changed", r.changed_count), ("extra", r.extra_count))
                    if count
                ],
            }
        )
    return {"bars": bars, "top": top}


def _summary(request: HttpRequest, cluster: Cluster, report: DriftReport | None) -> HttpResponse:
    sources = list(DesiredSource.objects.filter(cluster=cluster).order_by("pk"))
    context: dict[str, Any] = {
        "cluster": cluster,
        "report": report,
        "latest": drift.latest_report(cluster),
        "sources": sources,
        "can_edit": has_role(request.user, EDITOR),
        "trend": _trend(drift.history(cluster, TREND_REPORTS)),
        "mirror_state": mirror.display_status(cluster),
    }
    if report is not None:
        groups = drift.grouped_items(report)
        keys = [i.key for items in groups.values() for i in items]
        policy_ids = analysis.policy_ids(cluster, keys)
        cni_ids = cni.ids_by_key(cluster, keys)
        context["groups"] = [
            {
                "kind": kind,
                "title": {"missing": "Missing in the cluster", "changed": "Changed", "extra": "Extra in the cluster"}[kind],
                "hint": {
                    "missing": "in the desired state, not running in the cluster",
                    "changed": "running, but not as the desired state says (compared after defaults; order does not matter)",
                    "extra": "running in the cluster, not in the desired state",
                }[kind],
                "items": [
                    {"item": item, "policy_url": _policy_url(item.key, policy_ids, cni_ids)}
                    for item in items
                ],
            }
            for kind, items in groups.items()
        ]
        context["delta"] = _delta_context(cluster, report.reachability)
        findings = report.findings or {}
        context["coverage"] = [f for f in findings.get("desired", []) if f["code"] in drift.COVERAGE_CODES]
        context["other_findings"] = [f for f in findings.get("desired", []) if f["code"] not in drift.COVERAGE_CODES]
        context["resolved"] = findings.get("resolved", [])
        context["is_latest"] = context["latest"] is not None and context["latest"].pk == report.pk
    return render(request, "drift/summary.html", context)


def _policy_url(key: str, policy_ids: dict[str, int], cni_ids: dict[str, int]) -> str | None:
    """The live object's page: a NetworkPolicy's or a CNI object's."""
    if key in policy_ids:
        return _url("policy-detail", policy_ids[key])
    if key in cni_ids:
        return _url("cni-policy-detail", cni_ids[key])
    return None


@role_required(VIEWER)
def drift_summary(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    return _summary(request, cluster, drift.latest_report(cluster))


@role_required(VIEWER)
def drift_report(request: HttpRequest, cluster_id: int, report_id: int) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    return _summary(request, cluster, _report(cluster, report_id))


@role_required(VIEWER)
def drift_history(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    reports = DriftReport.objects.filter(cluster=cluster).order_by("-computed_at", "-pk")
    page = Paginator(reports, HISTORY_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "drift/history.html", {"cluster": cluster, "page": page})


@role_required(VIEWER)
def drift_item(request: HttpRequest, cluster_id: int, namespace: str, name: str) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    report = _report(cluster, request.GET.get("report"))
    item = report.items.filter(namespace=namespace, name=name).first() if report else None
    if item is None:
        raise Http404(f"no difference for {namespace}/{name} in this drift report")
    normalized = request.GET.get("view") == "normalized"
    policy_ids = analysis.policy_ids(cluster, [item.key])
    cni_ids = cni.ids_by_key(cluster, [item.key])
    return render(
        request,
        "drift/item.html",
        {
            "cluster": cluster,
            "report": report,
            "item": item,
            "normalized": normalized,
            "diff": drift.item_diff(item, normalized=normalized),
            "effect": _delta_context(cluster, item.effect),
            "policy_url": _policy_url(item.key, policy_ids, cni_ids),
            "history": drift.item_history(cluster, namespace, name),
            "can_edit": has_role(request.user, EDITOR),
        },
    )


@role_required(EDITOR)
def drift_export(request: HttpRequest, cluster_id: int, which: str) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    if which not in drift.EXPORTS:
        raise Http404("the exports are reconcile and adopt")
    report = _report(cluster, request.GET.get("report"))
    if report is None or not report.compared:
        raise Http404("no compared drift report to export")
    render_export = drift.EXPORTS[which][0]
    return yaml_attachment(render_export(report), drift.export_filename(report, which))


@require_POST
@role_required(EDITOR)
def drift_check(request: HttpRequest, cluster_id: int) -> HttpResponse:
    """Compare now (fetching the sources) instead of waiting for the schedule."""
    cluster = get_cluster(request, cluster_id)
    _queue_check(cluster)
    messages.info(request, "Drift check started: the report below is replaced when it finishes.")
    return redirect("drift-summary", cluster.pk)


def _queue_check(cluster: Cluster) -> None:
    from .. import tasks

    transaction.on_commit(lambda: tasks.compute_drift.delay(cluster.pk))


# --- desired sources -----------------------------------------------------------------------------


class DesiredSourceForm(forms.ModelForm):  # type: ignore[type-arg]
    upload = forms.FileField(
        required=False,
        widget=forms.FileInput,
        label="YAML file",
        help_text="One or more NetworkPolicies, multi-document YAML (---) or a List.",
    )

    class Meta:
        model = DesiredSource
        fields = ["kind", "name", "location", "branch", "subdirectory", "upload", "yaml_text", "namespaces", "enabled"]
        labels = {
            "kind": "Desired state from",
            "name": "Name (optional)",
            "location": "Repository URL or path / directory",
            "branch": "Branch",
            "subdirectory": "Sub-directory",
            "yaml_text": "…or paste the YAML",
            "namespaces": "Namespaces it speaks for",
        }
        help_texts = {
            "location": "Git: https://, ssh://, git@host:repo or a local path (admins). Directory: an absolute path on the server (admins).",
            "branch": "Empty: the repository's default branch.",
            "subdirectory": "Only read manifests under this directory of the repository or directory.",
            "namespaces": "Comma-separated. Empty: every namespace, so any live policy it does not define is reported as extra.",
        }
        widgets = {
            "kind": forms.RadioSelect,
            "yaml_text": forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "mono"}),
        }

    def __init__(self, *args: Any, cluster: Cluster, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = DesiredSource.Kind.choices  # no blank choice
        self.cluster = cluster
        self.user = user
        # Credentials in a clone URL are never shown again, nor a server path to a
        # non-admin; sent back unchanged, they stay.
        if self.instance.pk and not self.is_bound:
            self.initial["location"] = self._shown_location()

    def _shown_location(self) -> str:
        if has_role(self.user, ADMIN):
            return drift.redact(self.instance.location)
        return drift.shown_location(self.instance)

    def clean_location(self) -> str:
        location = str(self.cleaned_data.get("location") or "").strip()
        if self.instance.pk and location == self._shown_location():
            return self.instance.location
        return location

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("upload")
        if upload is not None:
            try:
                data["yaml_text"] = read_uploaded_text(upload, drift.UPLOAD_LIMIT_BYTES)
            except ValueError as exc:
                self.add_error("upload", str(exc))
                return data
            self.instance.file_name = upload.name[:255]
        elif data.get("kind") == DesiredSource.Kind.UPLOAD and data.get("yaml_text") and not self.instance.file_name:
            self.instance.file_name = "pasted YAML"
        errors = drift.check_source(
            cluster=self.cluster,
            kind=data.get("kind") or "",
            location=data.get("location") or "",
            branch=data.get("branch") or "",
            subdirectory=data.get("subdirectory") or "",
            yaml_text=data.get("yaml_text") or "",
            namespaces=data.get("namespaces") or "",
            is_admin=has_role(self.user, ADMIN),
            exclude_pk=self.instance.pk,
        )
        for field, message in errors.items():
            self.add_error(field if field in self.fields else None, message)
        return data


def _sources_page(request: HttpRequest, cluster: Cluster, form: DesiredSourceForm, editing: DesiredSource | None, status: int = 200) -> HttpResponse:
    return render(
        request,
        "drift/sources.html",
        {
            "cluster": cluster,
            "sources": DesiredSource.objects.filter(cluster=cluster).order_by("pk"),
            "form": form,
            "editing": editing,
            "is_admin": has_role(request.user, ADMIN),
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@role_required(EDITOR)
def drift_sources(request: HttpRequest, cluster_id: int) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    source = DesiredSource(cluster=cluster)
    if request.method == "POST":
        form = DesiredSourceForm(request.POST, request.FILES, instance=source, cluster=cluster, user=request.user)
        if form.is_valid():
            drift.save_source(form.save(commit=False), actor=request.user)
            _queue_check(cluster)
            messages.success(request, "Source added; the drift check runs now.")
            return redirect("drift-summary", cluster.pk)
        return _sources_page(request, cluster, form, None, status=400)
    initial = {"kind": request.GET.get("kind") or DesiredSource.Kind.GIT}
    form = DesiredSourceForm(instance=source, initial=initial, cluster=cluster, user=request.user)
    return _sources_page(request, cluster, form, None)


@require_http_methods(["GET", "POST"])
@role_required(EDITOR)
def drift_source_edit(request: HttpRequest, cluster_id: int, pk: int) -> HttpResponse:
    cluster = get_cluster(request, cluster_id)
    source = get_object_or_404(DesiredSource, pk=pk, cluster=cluster)
    if request.method == "POST":
        if "delete" in request.POST:
            drift.delete_source(source, actor=request.user)
            messages.success(request, f"Source {source.label} removed.")
            return redirect("drift-sources", cluster.pk)
        form = DesiredSourceForm(request.POST, request.FILES, instance=source, cluster=cluster, user=request.user)
        if form.is_valid():
            drift.save_source(form.save(commit=False), actor=request.user)
            _queue_check(cluster)
            messages.success(request, "Source saved; the drift check runs now.")
            return redirect("drift-summary", cluster.pk)
        return _sources_page(request, cluster, form, source, status=400)
    form = DesiredSourceForm(instance=source, cluster=cluster, user=request.user)
    return _sources_page(request, cluster, form, source)
