"""Forms of the editor pages (the drafts filterset lives in policies.filtersets).

The policy itself is not a Django form: the page's script keeps the editor's form data
(see services.drafts.policy_to_form) in one hidden JSON field, and the server turns it
into the policy and validates it with the API server's rules.
"""

from __future__ import annotations

from typing import Any

from django import forms

from ..models import PolicyDraft
from ..services import drift, starter_policies
from ..web import JsonTooDeep, read_json, read_uploaded_text


class PolicyFormField(forms.CharField):
    """The editor's form data as JSON text (a hidden field the page script fills in)."""

    widget = forms.HiddenInput

    def clean(self, value: Any) -> dict[str, Any]:  # type: ignore[override]
        text = super().clean(value)
        try:
            data = read_json(text)
        except JsonTooDeep as exc:
            raise forms.ValidationError(f"the editor sent form data {exc}") from exc
        except ValueError as exc:
            raise forms.ValidationError("the editor sent form data that is not JSON") from exc
        if not isinstance(data, dict):
            raise forms.ValidationError("the editor sent form data that is not an object")
        return data


class SaveDraftForm(forms.Form):
    form_json = PolicyFormField()
    note = forms.CharField(
        required=False,
        max_length=300,
        label="Change note",
        help_text="Optional: why you made this change (kept in the history).",
    )
    revision = forms.IntegerField(required=False, widget=forms.HiddenInput)
    origin = forms.CharField(required=False, max_length=200, widget=forms.HiddenInput)


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=PolicyDraft.Status.choices)
    revision = forms.IntegerField(required=False)


class TemplateForm(forms.Form):
    template = forms.ChoiceField(choices=[(t.slug, t.title) for t in starter_policies.TEMPLATES])
    namespace = forms.CharField(max_length=63, initial="default")
    from_namespace = forms.CharField(max_length=63, required=False, label="Source namespace")
    tier = forms.CharField(max_length=63, required=False, label="Tier")
    from_tier = forms.CharField(max_length=63, required=False, label="Source tier")
    port = forms.CharField(max_length=5, required=False, label="TCP port")

    def policies(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        values = {k: data.get(k) or "" for k in ("from_namespace", "tier", "from_tier", "port")}
        try:
            return starter_policies.render(data["template"], data["namespace"], values)
        except starter_policies.TemplateError as exc:
            raise forms.ValidationError(str(exc)) from exc


class ImportForm(forms.Form):
    yaml = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false", "class": "code"}),
        label="Paste YAML",
        help_text="One or many NetworkPolicy documents separated by ---, or a kind: List.",
    )
    file = forms.FileField(required=False, label="or upload a file", widget=forms.FileInput)
    namespace = forms.CharField(
        max_length=63,
        required=False,
        label="Namespace for documents without one",
        help_text="As kubectl apply -n would: used where metadata.namespace is missing.",
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None:
            try:
                data["yaml"] = read_uploaded_text(upload, drift.UPLOAD_LIMIT_BYTES)
            except ValueError as exc:
                raise forms.ValidationError(f"the file {exc}") from exc
            data["source"] = upload.name
        else:
            data["source"] = "pasted YAML"
        if not (data.get("yaml") or "").strip():
            raise forms.ValidationError("paste some YAML or choose a file")
        return data


class ApplyForm(forms.Form):
    step = forms.ChoiceField(choices=[("dry-run", "dry run"), ("apply", "apply")])
    force = forms.BooleanField(required=False, label="Force: take over fields another manager owns")
    revision = forms.IntegerField()
