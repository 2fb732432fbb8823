"""Template helpers: endpoint names as people read them, links to object pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html

from ..choices import PROTOCOLS
from ..services.analysis import FindingView, external_range, parse_endpoint_key
from ..services.analysis import conns_parts as _conns_parts
from ..services.analysis import conns_text as _conns_text

register = template.Library()

ANY_ADDRESS = "0.0.0.0-255.255.255.255"
WORKLOAD_KINDS = {
    "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob",
}


def endpoint_text(key: str) -> str:
    """`shop/backend[Deployment]` -> `shop/backend (Deployment)`; tiers and ranges in words."""
    body = external_range(key)
    if body is not None:
        if body in (ANY_ADDRESS, "::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"):
            return "any address outside the cluster"
        return f"{body.replace('-', ' – ', 1) if body.count('-') == 1 else body} (outside the cluster)"
    parsed = parse_endpoint_key(key)
    if parsed is not None:
        namespace, name, kind = parsed
        return f"{namespace}/{name} ({kind})"
    namespace, sep, rest = key.partition("/")
    if sep and "=" in rest:
        return f"{namespace}: {rest}"
    return key


register.filter("endpoint_text", endpoint_text)


@register.simple_tag
def endpoint(key: str, rows: dict[str, tuple[str, int]] | None = None) -> str:
    """The endpoint's name, linked to its workload or pod page when it has one."""
    text = endpoint_text(key)
    row = (rows or {}).get(key)
    if row is None:
        return format_html('<span class="endpoint" title="{}">{}</span>', key, text)
    url = reverse("workload-detail" if row[0] == "workload" else "pod-detail", args=[row[1]])
    return format_html('<a class="endpoint" href="{}" title="{}">{}</a>', url, key, text)


@register.simple_tag
def policy_link(key: str, pk: int | None) -> str:
    if pk is None:
        return format_html('<span class="policy-name">{}</span>', key)
    return format_html('<a class="policy-name" href="{}">{}</a>', reverse("policy-detail", args=[pk]), key)


CLUSTER_POLICY_KINDS = ("ClusterNetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy")


@register.simple_tag
def cluster_policy_link(key: str, pk: int | None) -> str:
    """A cluster-wide policy ("Kind/name") as "Kind name", linked to its page; a CNI
    policy ("cilium:CiliumNetworkPolicy:shop/web") the same way, linked to its own."""
    if key.split(":", 1)[0] in ("calico", "cilium", "antrea") and key.count(":") >= 2:
        _cni, kind, name = key.split(":", 2)
        if pk is None:
            return format_html('<span class="policy-name">{} <span class="kind">{}</span></span>', name, kind)
        return format_html(
            '<a class="policy-name" href="{}">{} <span class="kind">{}</span></a>',
            reverse("cni-policy-detail", args=[pk]),
            name,
            kind,
        )
    kind, _, name = key.partition("/")
    if pk is None:
        return format_html('<span class="policy-name">{} <span class="kind">{}</span></span>', name, kind)
    return format_html(
        '<a class="policy-name" href="{}">{} <span class="kind">{}</span></a>',
        reverse("cluster-policy-detail", args=[pk]),
        name,
        kind,
    )


@register.filter
def finding_url(finding: FindingView) -> str:
    if finding.object_id is None:
        return ""
    if finding.object_key:  # a Calico NetworkPolicy is not the v1 one
        return reverse("cni-policy-detail", args=[finding.object_id])
    kind = finding.object_kind
    if kind == "Namespace":
        return reverse("namespace-detail", args=[finding.object_id])
    if kind == "NetworkPolicy":
        return reverse("policy-detail", args=[finding.object_id])
    if kind in CLUSTER_POLICY_KINDS:
        return reverse("cluster-policy-detail", args=[finding.object_id])
    if kind == "Pod":
        return reverse("pod-detail", args=[finding.object_id])
    if kind in WORKLOAD_KINDS:
        return reverse("workload-detail", args=[finding.object_id])
    return ""


@register.filter
def conns_kind(conns: Any) -> str:
    """all / some / none: how much of a connection set is allowed (for CSS and text)."""
    if conns == "all":
        return "all"
    return "some" if conns else "none"


@register.filter
def conns_parts(conns: Any) -> list[dict[str, str]]:
    """A connection set as one part per protocol: [{"proto": "TCP", "text": "TCP 80,443"}]
    (the engine's wording and protocol order; "all" is one part, proto "all")."""
    return [{"proto": proto, "text": text} for proto, text in _conns_parts(conns)]


@register.filter
def conns_text(conns: Any) -> str:
    """A connection set (its JSON form) as the one text every page, the API and the CLI
    print: "All Connections", "TCP 80,UDP 53", "No Connections"."""
    return _conns_text(conns)


@register.filter
def protocols(conns: Any) -> list[str]:
    if conns == "all":
        return list(PROTOCOLS)
    return sorted(conns or {})


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None
