"""The shapes of the per-cluster answers, for the OpenAPI schema. The payloads themselves
are built by policies.services.analysis; these serializers only describe them."""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..services.fixes import CLUSTER_POLICY_FIX_KIND, FIX_KINDS
from .serializers import NetworkPolicySummarySerializer, PodSerializer


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "enum": ["all"]},
            {
                "type": "object",
                "description": "per protocol (TCP, UDP, SCTP), merged port ranges [first, last]",
                "additionalProperties": {
                    "type": "array",
                    "items": {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 2},
                },
            },
        ]
    }
)
class ConnsField(serializers.JSONField):
    """"all", or the allowed port ranges per protocol: {"TCP": [[80, 80], [8080, 8090]]}."""


class Schema(serializers.Serializer[Any]):
    """Describes a payload; never used to read or write one."""


class ReachabilityNodeSerializer(Schema):
    id = serializers.CharField(help_text="endpoint key: ns/name[Kind], a tier ns/key=value, a namespace, or an address range")
    label = serializers.CharField()
    kind = serializers.CharField(help_text="the workload kind, Pod, Group (tier/namespace) or External")
    namespace = serializers.CharField()
    name = serializers.CharField(help_text="the object's name in the key (ns/name[Kind]), an external key's address range, or the group's name: read this, never parse id")
    object_kind = serializers.CharField(help_text="the kind in an object key (Deployment, Pod...; also for a tier-level group of an untiered workload); empty when the key names no object")
    labels = serializers.DictField(child=serializers.CharField())
    pods = serializers.IntegerField()
    host_network = serializers.BooleanField()
    ingress_isolated = serializers.BooleanField()
    egress_isolated = serializers.BooleanField()
    external = serializers.BooleanField()
    ip_range = serializers.ListField(child=serializers.CharField(), allow_null=True)
    external_role = serializers.CharField(required=False)
    members = serializers.ListField(child=serializers.CharField(), required=False, help_text="tier and namespace levels: the workloads grouped")


class ReachabilityEdgeSerializer(Schema):
    source = serializers.CharField()
    target = serializers.CharField()
    conns = ConnsField()
    label = serializers.CharField(help_text="the port set as the CLI prints it: TCP 80,UDP 53 or All Connections")


class ReachabilitySerializer(Schema):
    cluster = serializers.IntegerField()
    state_version = serializers.IntegerField()
    level = serializers.CharField()
    direction = serializers.CharField()
    group_by = serializers.CharField(allow_null=True)
    tier_keys = serializers.ListField(child=serializers.CharField())
    nodes = ReachabilityNodeSerializer(many=True)
    edges = ReachabilityEdgeSerializer(many=True, required=False, help_text="format=edges: the allowed pairs")
    matrix = serializers.ListField(
        child=serializers.ListField(child=ConnsField(allow_null=True)),
        required=False,
        help_text="format=matrix: row = source node, column = target node, in node order; null = nothing allowed",
    )
    counts = serializers.DictField(child=serializers.IntegerField())


class RuleMatchSerializer(Schema):
    policy = serializers.CharField()
    direction = serializers.CharField()
    rule_index = serializers.IntegerField()
    peer_index = serializers.IntegerField(allow_null=True)
    ports = serializers.CharField()
    conns = ConnsField()
    text = serializers.CharField()


class VerdictSerializer(Schema):
    direction = serializers.CharField()
    allowed = serializers.BooleanField()
    isolated = serializers.BooleanField()
    policies = serializers.ListField(child=serializers.CharField())
    matches = RuleMatchSerializer(many=True)
    conns = ConnsField()
    summary = serializers.CharField()


class ExplanationSerializer(Schema):
    src = serializers.CharField()
    dst = serializers.CharField()
    port = serializers.JSONField(allow_null=True)
    protocol = serializers.CharField(allow_null=True)
    allowed = serializers.BooleanField()
    conns = ConnsField()
    conns_text = serializers.CharField()
    egress = VerdictSerializer()
    ingress = VerdictSerializer()
    notes = serializers.ListField(child=serializers.CharField())
    text = serializers.CharField(help_text="the explanation as the CLI prints it")


class EdgeExplanationSerializer(Schema):
    pairs = ExplanationSerializer(many=True)
    truncated = serializers.BooleanField()
    total = serializers.IntegerField(required=False)


class FindingFixSerializer(Schema):
    kind = serializers.ChoiceField(
        choices=sorted({*FIX_KINDS.values(), CLUSTER_POLICY_FIX_KIND}),
        help_text="what the prepared policy changes (cluster-network-policy: a ClusterNetworkPolicy draft)",
    )
    label = serializers.CharField(help_text="the Fix action as the pages show it")
    url = serializers.CharField(help_text="the editor opened on the prepared policy (`?fix=`)")


class FindingSerializer(Schema):
    code = serializers.CharField()
    severity = serializers.CharField()
    namespace = serializers.CharField()
    object_kind = serializers.CharField()
    object_name = serializers.CharField()
    message = serializers.CharField()
    object_id = serializers.IntegerField(allow_null=True, help_text="id of the mirrored row it is about, when there is one")
    object_key = serializers.CharField(
        help_text="for a finding about a CNI object, its key (cni:Kind:namespace/name, e.g. "
        "calico:NetworkPolicy:db/allow-front, the key of /cni-policies/; object_id is then that object's id); empty otherwise"
    )
    fix = FindingFixSerializer(allow_null=True, help_text="the prepared fix, null when the finding has none")


class FindingsPageSerializer(Schema):
    offset = serializers.IntegerField()
    limit = serializers.IntegerField()
    total = serializers.IntegerField(help_text="findings that match the filters, on every page")
    next_offset = serializers.IntegerField(allow_null=True, help_text="the next page's offset; null after the last")


class FindingsSerializer(Schema):
    cluster = serializers.IntegerField()
    state_version = serializers.IntegerField()
    counts = serializers.DictField(child=serializers.IntegerField(), help_text="findings per code (all pages)")
    findings = FindingSerializer(many=True)
    page = FindingsPageSerializer()


class PodPoliciesSerializer(Schema):
    pod = PodSerializer()
    ingress_isolated = serializers.BooleanField()
    egress_isolated = serializers.BooleanField()
    host_network = serializers.BooleanField()
    policies = NetworkPolicySummarySerializer(many=True)
    cni_policies = serializers.ListField(
        child=serializers.JSONField(),
        help_text="the enforced Calico, Cilium or Antrea policies that select it, in evaluation order (key, kind, tier, order, directions, id)",
    )


class PolicySelectionSerializer(Schema):
    policy = NetworkPolicySummarySerializer()
    count = serializers.IntegerField(help_text="how many pods the policy selects")
    next = serializers.URLField(allow_null=True, help_text="the next page of pods")
    previous = serializers.URLField(allow_null=True, help_text="the previous page of pods")
    pods = PodSerializer(many=True, help_text="one page of the selected pods (?page=, ?page_size=)")
    workloads = serializers.ListField(child=serializers.CharField(), help_text="endpoint keys of everything selected")
    stand_ins = serializers.ListField(child=serializers.CharField(), help_text="keys of workloads selected through their pod template (no pod mirrored)")


class WorkloadPoliciesSerializer(Schema):
    workload = serializers.CharField(help_text="the workload's endpoint key")
    policies = NetworkPolicySummarySerializer(many=True)
    cni_policies = serializers.ListField(
        child=serializers.JSONField(),
        help_text="the enforced Calico, Cilium or Antrea policies that select its pods, in evaluation order",
    )


class PeerConnsSerializer(Schema):
    peer = serializers.CharField()
    conns = ConnsField()
    label = serializers.CharField()


class WorkloadConnectionsSerializer(Schema):
    workload = serializers.CharField()
    count = serializers.IntegerField(help_text="the longer list's length: the pages are ceil(count / page_size)")
    next = serializers.URLField(allow_null=True, help_text="the next page of both lists")
    previous = serializers.URLField(allow_null=True, help_text="the previous page of both lists")
    inbound_count = serializers.IntegerField(help_text="how many peers reach the workload")
    outbound_count = serializers.IntegerField(help_text="how many peers the workload reaches")
    inbound = PeerConnsSerializer(many=True, help_text="one page of the peers that reach the workload, in source order (?page=, ?page_size=)")
    outbound = PeerConnsSerializer(many=True, help_text="one page of the peers the workload reaches, in destination order")


ERRORS = {
    400: OpenApiTypes.OBJECT,
    403: OpenApiTypes.OBJECT,
    404: OpenApiTypes.OBJECT,
}


class CniStateSerializer(Schema):
    cluster = serializers.IntegerField()
    setting = serializers.CharField(help_text="the cluster's setting: auto, none, calico, cilium or antrea")
    cni = serializers.CharField(help_text="the CNI whose resources are enforced: none, calico, cilium or antrea")
    detected_by = serializers.CharField(help_text="how it was found: set on the cluster, agent pods, the policy objects present")
    served = serializers.ListField(child=serializers.CharField(), help_text="the CNIs whose resources the cluster serves (or its files hold)")
