"""Forms of the dashboard pages: the graph and matrix controls, the explain question.

Every control is a GET parameter, so a page's URL is a shareable link to what it shows."""

from __future__ import annotations

from typing import Any

from django import forms

from ..choices import DIRECTION_LABELS, LEVEL_LABELS, LEVELS, PROTOCOLS
from ..services.analysis import ReachabilityQuery
from ..web import parse_port, reachability_query

# the common ones first (TCP, UDP, then SCTP), not alphabetically
_COMMON_FIRST = ("TCP", "UDP", "SCTP")
PROTOCOL_CHOICES = [
    ("", "any protocol"),
    *((p, p) for p in sorted(PROTOCOLS, key=lambda p: _COMMON_FIRST.index(p) if p in _COMMON_FIRST else len(_COMMON_FIRST))),
]
DIRECTION_CHOICES = list(DIRECTION_LABELS.items())


class ReachabilityForm(forms.Form):
    """The controls above the graph and the matrix."""

    LEVEL_CHOICES = list(LEVEL_LABELS.items())

    level = forms.ChoiceField(choices=LEVEL_CHOICES, required=False, label="Show")
    group_by = forms.CharField(
        required=False,
        max_length=317,  # a label key: 253-character prefix, "/", 63-character name
        label="Tier label key",
        help_text="the pod label that names a tier; empty = the configured keys in order",
    )
    namespace = forms.MultipleChoiceField(choices=[], required=False, label="Namespaces")
    protocol = forms.ChoiceField(choices=PROTOCOL_CHOICES, required=False, label="Protocol")
    port = forms.IntegerField(required=False, min_value=1, max_value=65535, label="Port")
    direction = forms.ChoiceField(choices=DIRECTION_CHOICES, required=False, label="Direction")
    sel = forms.CharField(required=False, widget=forms.HiddenInput, max_length=2000)

    def __init__(self, *args: Any, namespaces: list[str], default_level: str = "tier", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.default_level = default_level
        self.fields["namespace"].choices = [(ns, ns) for ns in namespaces]
        self.fields["level"].initial = default_level
        self.fields["direction"].initial = "combined"

    def query(self, fmt: str = "edges") -> ReachabilityQuery:
        """The reachability question the controls ask (defaults where a value is invalid)."""
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        return reachability_query(
            level=data.get("level") or self.default_level,
            group_by=data.get("group_by") or "",
            namespaces=data.get("namespace") or (),
            protocol=data.get("protocol") or "",
            port=data.get("port"),
            direction=data.get("direction") or "combined",
            fmt=fmt,
        )


class ExplainForm(forms.Form):
    """"Can SRC reach DST (on PORT)?" — endpoints as the engine names them."""

    src = forms.CharField(max_length=600, label="From", help_text="a workload (ns/name), pod, tier or an IP address")
    dst = forms.CharField(max_length=600, label="To")
    port = forms.CharField(
        required=False, max_length=600, label="Port", help_text="a number or a named port; empty = every port"
    )
    protocol = forms.ChoiceField(choices=PROTOCOL_CHOICES, required=False, label="Protocol")
    level = forms.ChoiceField(
        choices=[(level, level) for level in LEVELS],
        required=False,
        widget=forms.HiddenInput,
    )
    group_by = forms.CharField(required=False, max_length=317, widget=forms.HiddenInput)
    direction = forms.ChoiceField(choices=DIRECTION_CHOICES, required=False, widget=forms.HiddenInput)
    # the namespaces a namespace-level graph shows opened into tiers, comma-separated
    expand = forms.CharField(required=False, max_length=4000, widget=forms.HiddenInput)
    # the tiers ("ns/key=value") of those namespaces opened into their workloads, comma-separated
    expand_tier = forms.CharField(required=False, max_length=8000, widget=forms.HiddenInput)

    def clean_port(self) -> int | str | None:
        value = (self.cleaned_data.get("port") or "").strip()
        if not value:
            return None
        try:
            return parse_port(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from exc
