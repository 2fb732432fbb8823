"""The mirrored resources in the REST API, read-only: namespaces, workloads, pods and
live NetworkPolicies, each with the questions asked of one object."""

from __future__ import annotations

from django.db.models import F, OuterRef, QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from .. import filtersets
from ..models import (
    TOP_LEVEL_WORKLOAD,
    ClusterPolicy,
    CniObject,
    Namespace,
    NetworkPolicy,
    Pod,
    Workload,
)
from ..services import analysis, cni
from ..web import count_of
from . import schemas as r
from .base import CLUSTER_ID, PAGE_PARAMETERS, ReadOnlyViewSet
from .pagination import page_lists
from .serializers import (
    ClusterPolicySerializer,
    CniPolicySerializer,
    NamespaceSerializer,
    NetworkPolicySerializer,
    NetworkPolicySummarySerializer,
    PodSerializer,
    WorkloadSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="Namespaces", parameters=[CLUSTER_ID]),
    retrieve=extend_schema(summary="One namespace"),
)
class NamespaceViewSet(ReadOnlyViewSet):
    serializer_class = NamespaceSerializer
    filterset_class = filtersets.NamespaceFilterSet
    model = Namespace
    ordering = ("cluster_id", "name", "pk")

    def rows(self) -> QuerySet[Namespace]:
        scope = {"cluster": OuterRef("cluster"), "namespace": OuterRef("name")}
        return Namespace.objects.defer("obj").annotate(
            workload_count=count_of(Workload, TOP_LEVEL_WORKLOAD, **scope),
            pod_count=count_of(Pod, **scope),
            policy_count=count_of(NetworkPolicy, **scope),
        )


@extend_schema_view(
    list=extend_schema(summary="Workloads (Deployments, StatefulSets, ... and their ReplicaSets)", parameters=[CLUSTER_ID]),
    retrieve=extend_schema(summary="One workload"),
)
class WorkloadViewSet(ReadOnlyViewSet):
    serializer_class = WorkloadSerializer
    filterset_class = filtersets.WorkloadFilterSet
    model = Workload
    ordering = ("cluster_id", "namespace", "name", "kind", "pk")

    def rows(self) -> QuerySet[Workload]:
        return Workload.objects.defer("obj").annotate(
            pod_count=count_of(
                Pod, cluster=OuterRef("cluster"), namespace=OuterRef("namespace"),
                top_kind=OuterRef("top_kind"), top_name=OuterRef("top_name"),
            )
        )

    @extend_schema(summary="Policies that select the workload's pods", responses={200: r.WorkloadPoliciesSerializer, **r.ERRORS})
    @action(detail=True, methods=["get"])
    def policies(self, request: Request, pk: str | None = None) -> Response:
        workload = self.get_object()
        policies = analysis.policies_selecting_workload(workload)
        return Response(
            {
                "workload": analysis.workload_key(workload),
                "policies": NetworkPolicySummarySerializer(policies.order_by("namespace", "name"), many=True).data,
                "cni_policies": cni.applying(workload.cluster, endpoint_key=analysis.workload_key(workload)),
            }
        )

    @extend_schema(
        summary="What the workload can reach and what reaches it (a page of each)",
        description=(
            "The workload's peers each way at the workload level (direction combined). The inbound "
            "and outbound lists are paged in step: page N holds peers (N-1)*page_size ... of each; "
            "`count` is the longer list's length, `inbound_count` and `outbound_count` each list's, "
            "and `next` is null on the last page."
        ),
        parameters=PAGE_PARAMETERS,
        responses={200: r.WorkloadConnectionsSerializer, **r.ERRORS},
    )
    @action(detail=True, methods=["get"])
    def connections(self, request: Request, pk: str | None = None) -> Response:
        workload = self.get_object()
        key = analysis.workload_key(workload)
        both = analysis.endpoint_reachability(workload.cluster, key)
        return Response({"workload": key, **page_lists(request, both)})


@extend_schema_view(
    list=extend_schema(summary="Pods", parameters=[CLUSTER_ID]),
    retrieve=extend_schema(summary="One pod"),
)
class PodViewSet(ReadOnlyViewSet):
    serializer_class = PodSerializer
    filterset_class = filtersets.PodFilterSet
    model = Pod
    ordering = ("cluster_id", "namespace", "name", "pk")

    def rows(self) -> QuerySet[Pod]:
        return Pod.objects.defer("obj")

    @extend_schema(summary="Policies that select the pod, and its isolation", responses={200: r.PodPoliciesSerializer, **r.ERRORS})
    @action(detail=True, methods=["get"])
    def policies(self, request: Request, pk: str | None = None) -> Response:
        pod = self.get_object()
        selection = analysis.policies_selecting_pod(pod)
        return Response(
            {
                "pod": PodSerializer(pod).data,
                "ingress_isolated": selection["ingress_isolated"],
                "egress_isolated": selection["egress_isolated"],
                "host_network": selection.get("host_network", pod.host_network),
                "policies": NetworkPolicySummarySerializer(selection["policies"].order_by("namespace", "name"), many=True).data,
                "cni_policies": cni.applying(pod.cluster, pod=(pod.namespace, pod.name)),
            }
        )


@extend_schema_view(
    list=extend_schema(summary="Live cluster-wide policies (Admin and Baseline tiers) with their rules", parameters=[CLUSTER_ID]),
    retrieve=extend_schema(summary="One live cluster-wide policy with its ordered rules and YAML"),
)
class ClusterPolicyViewSet(ReadOnlyViewSet):
    """Live cluster-wide policies, in evaluation order per cluster (tier, priority)."""

    serializer_class = ClusterPolicySerializer
    filterset_class = filtersets.ClusterPolicyFilterSet
    model = ClusterPolicy
    # The BaselineAdminNetworkPolicy has no priority: after the Baseline ones.
    ordering = ("cluster_id", "tier", F("priority").asc(nulls_last=True), "kind", "name", "pk")

    def rows(self) -> QuerySet[ClusterPolicy]:
        return ClusterPolicy.objects.select_related("cluster")


@extend_schema_view(
    list=extend_schema(
        summary="Live Calico, Cilium and Antrea policy resources, each in its own shape",
        description=(
            "The CNIs' own resources mirrored from each cluster (policies, and Calico and Antrea "
            "tiers, network sets and groups), with the engine's reading: enforced here or why not "
            "(a CNI the cluster does not run is listed, never applied), tier, order, rules with "
            "their actions, problems and notes."
        ),
        parameters=[CLUSTER_ID],
    ),
    retrieve=extend_schema(summary="One CNI resource with the engine's reading and its YAML"),
)
class CniPolicyViewSet(ReadOnlyViewSet):
    serializer_class = CniPolicySerializer
    filterset_class = filtersets.CniPolicyFilterSet
    model = CniObject
    ordering = ("cluster_id", "cni", "tier", F("order").asc(nulls_last=True), "kind", "namespace", "name", "pk")

    def rows(self) -> QuerySet[CniObject]:
        return CniObject.objects.select_related("cluster")


@extend_schema_view(
    list=extend_schema(summary="Live NetworkPolicies with their YAML", parameters=[CLUSTER_ID]),
    retrieve=extend_schema(summary="One live NetworkPolicy with its YAML"),
)
class NetworkPolicyViewSet(ReadOnlyViewSet):
    serializer_class = NetworkPolicySerializer
    filterset_class = filtersets.NetworkPolicyFilterSet
    model = NetworkPolicy
    ordering = ("cluster_id", "namespace", "name", "pk")

    @extend_schema(
        summary="The pods (a page of them) and workloads the policy selects",
        parameters=PAGE_PARAMETERS,
        responses={200: r.PolicySelectionSerializer, **r.ERRORS},
    )
    @action(detail=True, methods=["get"])
    def selected(self, request: Request, pk: str | None = None) -> Response:
        policy = self.get_object()
        pods = analysis.pods_selected_by_policy(policy).order_by("namespace", "name", "pk")
        keys = analysis.workloads_selected_by_policy(policy)
        with_pods = {analysis.pod_key(pod) for pod in pods.only("namespace", "name", "top_name", "top_kind")}
        page = self.paginate_queryset(pods.defer("obj"))
        paged = self.get_paginated_response(PodSerializer(page, many=True).data).data
        return Response(
            {
                "policy": NetworkPolicySummarySerializer(policy).data,
                "count": paged["count"],
                "next": paged["next"],
                "previous": paged["previous"],
                "pods": paged["results"],
                "workloads": keys,
                "stand_ins": [k for k in keys if k not in with_pods],
            }
        )

