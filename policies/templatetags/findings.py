"""Template helpers for findings: the "Fix" action and the object a finding is about."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from ..services import cnp_drafts, finding_groups, fixes
from ..services.analysis import FindingView

register = template.Library()


@register.simple_tag
def finding_fix(finding: FindingView, cluster_id: int) -> dict[str, Any] | None:
    """{"label", "url"} of the finding's Fix action (the editor opened on the prepared
    policy), or None when the finding has no prepared fix."""
    if cnp_drafts.has_fix(finding.code) and finding.object_id is not None and not finding.namespace:
        summary = fixes.fix_summary(
            cluster_id, finding.code, finding.namespace, finding.object_kind, finding.object_name, finding.object_id
        )
        assert summary is not None
        return {"label": summary["label"], "url": summary["url"]}
    link = finding_groups.fix_link(finding)
    if link is None:
        return None
    return {"label": link["label"], "url": f"{reverse('draft-new', args=[cluster_id])}?{link['query']}"}


@register.filter
def object_text(finding: FindingView) -> str:
    if finding.object_kind == "Namespace":
        return f"namespace {finding.object_name or finding.namespace}"
    kind = _kind_text(finding)
    if not finding.namespace:  # cluster-scoped: a cluster-wide policy
        return f"{finding.object_name} ({kind})"
    return f"{finding.namespace}/{finding.object_name} ({kind})"


def _kind_text(finding: FindingView) -> str:
    """A CNI object's kind with its CNI, unless the kind names it: a Calico NetworkPolicy
    beside the v1 one of that name."""
    if not finding.object_key:
        return finding.object_kind
    cni = finding.object_key.split(":", 1)[0].capitalize()
    return finding.object_kind if finding.object_kind.startswith(cni) else f"{cni} {finding.object_kind}"


@register.filter
def code_label(code: str) -> str:
    """`egress-without-dns` -> "Egress without DNS": a finding's kind in words."""
    words = code.replace("-", " ").split()
    return " ".join(w.upper() if w in ("dns", "ip") else w for w in words).capitalize().replace(" dns", " DNS")
