"""Query parameters of the per-cluster questions, validated into the services' terms.

A bad value is a 400 naming the parameter: `{"level": ["\"x\" is not a valid choice."]}`.
"""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from rest_framework import serializers

from ..choices import DIRECTIONS, FINDING_CODES, FORMATS, LEVELS, PROTOCOLS, SEVERITIES
from ..filtersets import LABEL_KEY
from ..models import Cluster, Namespace, NetworkPolicy, Pod, Workload
from ..services import analysis, reachability_pages
from ..web import comma_list, explain_port_rule, parse_port, reachability_query


def query_data(params: QueryDict, *, lists: tuple[str, ...] = ()) -> dict[str, Any]:
    """Query parameters as serializer input: the last value of each, all values of `lists`
    (each also split on commas, so `?namespace=a,b` equals `?namespace=a&namespace=b`)."""
    data: dict[str, Any] = {}
    for key in params:
        if key in lists:
            data[key] = comma_list(params.getlist(key))
        else:
            data[key] = params.get(key)
    return data


class ProtocolField(serializers.ChoiceField):
    """TCP, UDP or SCTP, in any letter case."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=list(PROTOCOLS), **kwargs)

    def to_internal_value(self, data: Any) -> Any:
        return super().to_internal_value(data.upper() if isinstance(data, str) else data)


class ClusterScoped(serializers.Serializer[Any]):
    """Checks namespace names against the cluster passed in the context."""

    def known_namespaces(self, names: list[str]) -> None:
        cluster: Cluster = self.context["cluster"]
        found = set(Namespace.objects.filter(cluster=cluster, name__in=names).values_list("name", flat=True))
        missing = [n for n in names if n not in found]
        for model in (Workload, Pod, NetworkPolicy):  # namespaces without a Namespace object
            if not missing:
                break
            found |= set(model.objects.filter(cluster=cluster, namespace__in=missing).values_list("namespace", flat=True).distinct())
            missing = [n for n in names if n not in found]
        if missing:
            raise serializers.ValidationError(
                f"no namespace {', '.join(repr(n) for n in missing)} in cluster {cluster.name}"
            )


class ReachabilityParams(ClusterScoped):
    level = serializers.ChoiceField(choices=list(LEVELS), default="workload")
    group_by = serializers.CharField(required=False, allow_blank=True, default="", max_length=317)
    namespace = serializers.ListField(child=serializers.CharField(max_length=63), required=False, default=list)
    protocol = ProtocolField(required=False, allow_blank=True, default="")
    port = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=65535)
    direction = serializers.ChoiceField(choices=list(DIRECTIONS), default="combined")
    format = serializers.ChoiceField(choices=list(FORMATS), default="edges")
    # Pieces of the workload and pod levels (large clusters): a page of sources, or the
    # edges of one node.
    offset = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=0)
    limit = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=reachability_pages.MAX_PAGE
    )
    node = serializers.CharField(required=False, allow_blank=True, default="", max_length=600)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        paged = attrs.get("offset") is not None or attrs.get("limit") is not None
        if (paged or attrs.get("node")) and attrs.get("level") not in ("workload", "pod"):
            field = "node" if attrs.get("node") else "limit" if attrs.get("limit") is not None else "offset"
            raise serializers.ValidationError(
                {field: [f"{field} applies to the workload and pod levels; the {attrs.get('level')} level is aggregated and comes whole"]}
            )
        if (paged or attrs.get("node")) and attrs.get("format") == "matrix":
            raise serializers.ValidationError({"format": ["pages and node edges come as edges, not as a matrix"]})
        return attrs

    def piece(self) -> tuple[str, int, int, str]:
        """("page", offset, limit, "") or ("node", 0, 0, node) or ("whole", 0, 0, "")."""
        data = self.validated_data
        if data["node"]:
            return "node", 0, 0, data["node"]
        if data["offset"] is not None or data["limit"] is not None:
            return "page", data["offset"] or 0, data["limit"] or reachability_pages.DEFAULT_PAGE, ""
        return "whole", 0, 0, ""

    def validate_group_by(self, value: str) -> str:
        if value and not LABEL_KEY.match(value):
            raise serializers.ValidationError(f"{value!r} is not a label key (such as tier or app.kubernetes.io/component)")
        return value

    def validate_namespace(self, value: list[str]) -> list[str]:
        if value:
            self.known_namespaces(value)
        return sorted(set(value))

    def to_query(self) -> analysis.ReachabilityQuery:
        data = self.validated_data
        return reachability_query(
            level=data["level"],
            group_by=data["group_by"],
            namespaces=data["namespace"],
            protocol=data["protocol"],
            port=data["port"],
            direction=data["direction"],
            fmt=data["format"],
        )


class PortParamField(serializers.CharField):
    """A port number (1-65535) or a named port (an IANA_SVC_NAME such as http)."""

    def to_internal_value(self, data: Any) -> int | str:
        try:
            return parse_port(str(super().to_internal_value(data)))
        except ValueError as exc:
            raise serializers.ValidationError(str(exc)) from exc


class ExplainParams(serializers.Serializer[Any]):
    src = serializers.CharField(max_length=600, help_text="source: ns/name[Kind], ns/name, a pod, or an IP address")
    dst = serializers.CharField(max_length=600, help_text="destination, named as src")
    port = PortParamField(required=False, allow_blank=False)
    protocol = ProtocolField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["port"], attrs["protocol"] = explain_port_rule(attrs.get("port"), attrs.get("protocol"))
        return attrs


class ExplainEdgeParams(serializers.Serializer[Any]):
    src = serializers.CharField(max_length=600, help_text="the edge's source node id, as reachability returned it")
    dst = serializers.CharField(max_length=600, help_text="the edge's target node id")
    level = serializers.ChoiceField(choices=list(LEVELS), default="workload")
    group_by = serializers.CharField(required=False, allow_blank=True, default="", max_length=317)
    direction = serializers.ChoiceField(choices=list(DIRECTIONS), default="combined")

    validate_group_by = ReachabilityParams.validate_group_by


class ExportParams(ClusterScoped):
    namespace = serializers.CharField(required=False, allow_blank=True, default="", max_length=63)

    def validate_namespace(self, value: str) -> str:
        if value:
            self.known_namespaces([value])
        return value


# Findings per answer when the client does not say; the most one answer may hold.
FINDINGS_PAGE = 500
FINDINGS_MAX_PAGE = 1000


class FindingParams(ClusterScoped):
    severity = serializers.ChoiceField(choices=list(SEVERITIES), required=False)
    code = serializers.ChoiceField(choices=list(FINDING_CODES), required=False)
    namespace = serializers.ListField(child=serializers.CharField(max_length=63), required=False, default=list)
    offset = serializers.IntegerField(required=False, default=0, min_value=0)
    limit = serializers.IntegerField(required=False, default=FINDINGS_PAGE, min_value=1, max_value=FINDINGS_MAX_PAGE)

    def validate_namespace(self, value: list[str]) -> list[str]:
        if value:
            self.known_namespaces(value)
        return value


class SummaryParams(serializers.Serializer[Any]):
    direction = serializers.ChoiceField(choices=list(DIRECTIONS), default="combined")
    group_by = serializers.CharField(required=False, allow_blank=True, default="", max_length=317)

    def validate_group_by(self, value: str) -> str:
        if value and not LABEL_KEY.match(value):
            raise serializers.ValidationError(f"{value!r} is not a label key (such as tier or app.kubernetes.io/component)")
        return value
