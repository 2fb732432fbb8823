"""Serializers of the mirrored resources. Query parameters of the per-cluster questions
live in params.py; the shapes of their answers in responses.py (for the schema)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..mirror import display_status
from ..models import Cluster, ClusterPolicy, CniObject, Namespace, NetworkPolicy, Pod, Workload
from ..roles import ADMIN, has_role
from ..services import analysis, cni
from ..services.sync import ClusterSetupError, ClusterSpec, register_cluster

# How a cluster is reached: paths to files only (never their contents), shown to admins.
CONNECTION_FIELDS = ("kubeconfig_path", "context", "server_url", "token_file", "ca_file", "insecure_skip_tls_verify", "manifests_dir")

STATUS_WORDS = {
    "live": "live: listing done, watching for changes",
    "lagging": "lagging: no heartbeat from the sync for over two minutes",
    "failing": "failing: the last sync attempt failed (see last_error)",
    "pending": "pending: not synced yet",
    "snapshot": "static snapshot read from manifests",
    "syncing": "syncing: listing the cluster's objects",
}


class ClusterCountsSerializer(serializers.Serializer[Any]):
    namespaces = serializers.IntegerField()
    workloads = serializers.IntegerField()
    pods = serializers.IntegerField()
    policies = serializers.IntegerField()


class ClusterSerializer(serializers.ModelSerializer[Cluster]):
    """A cluster and how its sync stands. Connection settings only for admins."""

    source_display = serializers.CharField(source="get_source_display", read_only=True)
    sync_status = serializers.SerializerMethodField(
        help_text="live, lagging, failing, pending or snapshot, from the stored state and heartbeat age"
    )
    sync_status_text = serializers.SerializerMethodField(help_text="the sync status in words")
    counts = serializers.SerializerMethodField()

    class Meta:
        model = Cluster
        fields = [
            "id", "name", "description", "source", "source_display",
            "sync_status", "sync_status_text", "status", "last_error", "last_error_at",
            "heartbeat_at", "last_event_at", "last_list_at", "state_version", "counts", "cni",
            "created_at", *CONNECTION_FIELDS,
        ]
        read_only_fields = fields

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        request = self.context.get("request")
        if request is None or not has_role(request.user, ADMIN):
            for name in CONNECTION_FIELDS:
                fields.pop(name, None)
        return fields

    @extend_schema_field(serializers.ChoiceField(choices=["live", "lagging", "failing", "pending", "snapshot", "syncing"]))
    def get_sync_status(self, cluster: Cluster) -> str:
        return display_status(cluster)

    def get_sync_status_text(self, cluster: Cluster) -> str:
        status = display_status(cluster)
        return STATUS_WORDS.get(status, status)

    @extend_schema_field(ClusterCountsSerializer)
    def get_counts(self, cluster: Cluster) -> dict[str, int]:
        return {
            "namespaces": getattr(cluster, "namespace_count", None) or 0,
            "workloads": getattr(cluster, "workload_count", None) or 0,
            "pods": getattr(cluster, "pod_count", None) or 0,
            "policies": getattr(cluster, "policy_count", None) or 0,
        }


class ClusterCreateSerializer(serializers.Serializer[Cluster]):
    """Register a cluster, checked as `manage.py add_cluster` checks it."""

    name = serializers.CharField(max_length=63)
    source = serializers.ChoiceField(choices=Cluster.Source.choices)
    description = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    kubeconfig_path = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    context = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    server_url = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    token_file = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    ca_file = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")
    insecure_skip_tls_verify = serializers.BooleanField(required=False, default=False)
    manifests_dir = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")

    # register_cluster says what is wrong in one sentence; this names the field it is about.
    ERROR_FIELDS = (
        ("cluster name", "name"),
        ("exists already", "name"),
        ("manifests directory", "manifests_dir"),
        ("kubeconfig", "kubeconfig_path"),
        ("--server", "server_url"),
        ("token file", "token_file"),
        ("CA file", "ca_file"),
        ("unknown source", "source"),
    )

    def create(self, validated_data: dict[str, Any]) -> Cluster:
        request = self.context.get("request")
        try:
            return register_cluster(ClusterSpec(**validated_data), actor=getattr(request, "user", None))
        except ClusterSetupError as exc:
            message = str(exc).replace("--server must be", "server_url must be")
            field = next((f for words, f in self.ERROR_FIELDS if words in str(exc)), None)
            if field is None and validated_data["source"] != Cluster.Source.MANIFESTS:
                field = "kubeconfig_path" if validated_data["source"] == Cluster.Source.KUBECONFIG else "server_url"
            raise serializers.ValidationError({field or "non_field_errors": [message]}) from exc


class NamespaceSerializer(serializers.ModelSerializer[Namespace]):
    cluster = serializers.IntegerField(source="cluster_id", read_only=True)
    workloads = serializers.IntegerField(source="workload_count", read_only=True, default=0)
    pods = serializers.IntegerField(source="pod_count", read_only=True, default=0)
    policies = serializers.IntegerField(source="policy_count", read_only=True, default=0)

    class Meta:
        model = Namespace
        fields = ["id", "cluster", "name", "uid", "labels", "workloads", "pods", "policies", "updated_at"]
        read_only_fields = fields


class WorkloadSerializer(serializers.ModelSerializer[Workload]):
    cluster = serializers.IntegerField(source="cluster_id", read_only=True)
    key = serializers.SerializerMethodField(help_text="the endpoint key of its top-most owner, as reachability names it")
    is_top = serializers.BooleanField(read_only=True)
    pods = serializers.IntegerField(source="pod_count", read_only=True, default=0)

    class Meta:
        model = Workload
        fields = [
            "id", "cluster", "namespace", "kind", "name", "uid", "key", "labels", "template_labels",
            "owner_kind", "owner_name", "top_kind", "top_name", "is_top", "pods", "updated_at",
        ]
        read_only_fields = fields

    def get_key(self, workload: Workload) -> str:
        return analysis.workload_key(workload)


class PodSerializer(serializers.ModelSerializer[Pod]):
    cluster = serializers.IntegerField(source="cluster_id", read_only=True)
    key = serializers.SerializerMethodField(help_text="the endpoint key of the workload it belongs to (or the pod itself)")

    class Meta:
        model = Pod
        fields = [
            "id", "cluster", "namespace", "name", "uid", "key", "labels", "ips", "ports",
            "host_network", "node_name", "phase", "owner_kind", "owner_name", "top_kind",
            "top_name", "updated_at",
        ]
        read_only_fields = fields

    def get_key(self, pod: Pod) -> str:
        return analysis.pod_key(pod)


class NetworkPolicySummarySerializer(serializers.ModelSerializer[NetworkPolicy]):
    cluster = serializers.IntegerField(source="cluster_id", read_only=True)

    class Meta:
        model = NetworkPolicy
        fields = ["id", "cluster", "namespace", "name", "policy_types", "affects_ingress", "affects_egress"]
        read_only_fields = fields


class NetworkPolicySerializer(serializers.ModelSerializer[NetworkPolicy]):
    cluster = serializers.IntegerField(source="cluster_id", read_only=True)
    spec = serializers.JSONField(read_only=True)
    yaml = serializers.SerializerMethodField(help_text="the policy as clean YAML, ready for kubectl apply")
    scope = serializers.SerializerMethodField(help_text="Namespaced (cluster-wide policies: /api/cluster-policies/)")
    tier = serializers.SerializerMethodField(help_text="the evaluation tier: NetworkPolicy, between Admin and Baseline")
    priority = serializers.SerializerMethodField(help_text="none: NetworkPolicies are additive, unordered")

    class Meta:
        model = NetworkPolicy
        fields = [
            "id", "cluster", "scope", "tier", "priority", "namespace", "name", "uid", "labels", "generation",
            "resource_version", "policy_types", "affects_ingress", "affects_egress", "spec", "yaml", "updated_at",
        ]
        read_only_fields = fields

    def get_scope(self, policy: NetworkPolicy) -> str:
        return "Namespaced"

    def get_tier(self, policy: NetworkPolicy) -> str:
        return "NetworkPolicy"

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_priority(self, policy: NetworkPolicy) -> int | None:
        return None

    def get_yaml(self, policy: NetworkPolicy) -> str:
        return analysis.policy_yaml(policy)


class ClusterPolicySerializer(serializers.ModelSerializer[ClusterPolicy]):
    """A cluster-wide policy: ClusterNetworkPolicy (v1alpha2), AdminNetworkPolicy or
    BaselineAdminNetworkPolicy (v1alpha1), with its ordered rules and their actions."""

    cluster = serializers.IntegerField(source="cluster_id", read_only=True)
    scope = serializers.SerializerMethodField(help_text="Cluster")
    spec = serializers.JSONField(read_only=True)
    rules = serializers.SerializerMethodField(help_text="subject and ordered rules as the engine reads them")
    yaml = serializers.SerializerMethodField(help_text="the policy as clean YAML, ready for kubectl apply")

    class Meta:
        model = ClusterPolicy
        fields = [
            "id", "cluster", "scope", "kind", "api_version", "tier", "priority", "name", "uid", "labels",
            "generation", "resource_version", "spec", "rules", "yaml", "updated_at",
        ]
        read_only_fields = fields

    def get_scope(self, policy: ClusterPolicy) -> str:
        return "Cluster"

    @extend_schema_field(serializers.JSONField())
    def get_rules(self, policy: ClusterPolicy) -> dict[str, Any]:
        return analysis.cluster_policy_rules(policy)

    def get_yaml(self, policy: ClusterPolicy) -> str:
        return analysis.cluster_policy_yaml(policy)


class CniPolicySerializer(serializers.ModelSerializer[CniObject]):
    """A CNI's own policy resource (Calico, Cilium, Antrea) in its own shape, with the
    engine's reading of it: enforced here or why not, tier, order, rules with actions."""

    cluster = serializers.IntegerField(source="cluster_id", read_only=True)
    key = serializers.CharField(read_only=True, help_text="cni:Kind:namespace/name, as explanations name it")
    enforced = serializers.SerializerMethodField()
    reading = serializers.SerializerMethodField(
        help_text="the engine's reading: enforced, not_enforced_reason, tier, order, selects, rules, problems, notes"
    )
    yaml = serializers.SerializerMethodField(help_text="the object as clean YAML in its own shape")

    class Meta:
        model = CniObject
        fields = [
            "id", "cluster", "key", "cni", "api_version", "kind", "namespace", "name", "uid", "labels",
            "tier", "order", "enforced", "generation", "resource_version", "obj", "reading", "yaml", "updated_at",
        ]
        read_only_fields = fields

    def _reading(self, row: CniObject) -> dict[str, Any]:
        cache = self.context.setdefault("cni_readings", {})
        if row.pk not in cache:
            cache[row.pk] = cni.policy_info(row)
        return cache[row.pk]  # type: ignore[no-any-return]

    def get_enforced(self, row: CniObject) -> bool:
        return bool(self._reading(row)["enforced"])

    @extend_schema_field(serializers.JSONField())
    def get_reading(self, row: CniObject) -> dict[str, Any]:
        return self._reading(row)

    def get_yaml(self, row: CniObject) -> str:
        return cni.policy_yaml(row)


class CniSettingSerializer(serializers.Serializer[Any]):
    """Which CNI enforces policies on a cluster: auto (detect it), none, or one CNI."""

    cni = serializers.ChoiceField(choices=Cluster.Cni.choices)
