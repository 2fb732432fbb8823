"""One filterset per resource, shared by the HTML lists and the API lists."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import django_filters as filters
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.db.models.fields.json import KeyTransform

from .models import (
    TOP_LEVEL_WORKLOAD,
    Cluster,
    ClusterPolicy,
    CniObject,
    Namespace,
    NetworkPolicy,
    Pod,
    PolicyDraft,
    Workload,
)

# A label key: an optional DNS-subdomain prefix and a name of at most 63 characters;
# a label value: at most 63 characters of the same alphabet, or empty.
LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$")
LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
MAX_LABEL_TERMS = 20


def parse_label_filter(value: str) -> list[tuple[str, str | None]]:
    """`key=value,other` -> [(key, value), (other, None)]: every pair must match,
    a bare key only needs to exist. Keys and values must be Kubernetes label keys and
    values, so nothing else (an ORM lookup such as `isnull`, a NUL byte) gets further."""
    terms: list[tuple[str, str | None]] = []
    for raw in value.split(","):
        term = raw.strip()
        if not term:
            continue
        key, eq, label_value = term.partition("=")
        key, label_value = key.strip(), label_value.strip()
        if not key:
            raise ValidationError(f"label filter {term[:100]!r} has no key")
        if not LABEL_KEY.match(key):
            raise ValidationError(
                f"{key[:100]!r} is not a label key (such as app or app.kubernetes.io/name)"
            )
        if eq and not LABEL_VALUE.match(label_value):
            raise ValidationError(
                f"{label_value[:100]!r} is not a label value (at most 63 letters, digits, '-', '_' or '.')"
            )
        terms.append((key, label_value if eq else None))
    if len(terms) > MAX_LABEL_TERMS:
        raise ValidationError(f"at most {MAX_LABEL_TERMS} label terms, found {len(terms)}")
    return terms


class LabelFilter(filters.CharFilter):
    """Filter on the `labels` JSON column with `key=value,key2` (all must hold)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "labels to match, as key=value or key, comma-separated")
        # A malformed value is a form error (400 in the API), found before filtering.
        kwargs.setdefault("validators", [parse_label_filter])
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: str) -> QuerySet[Any]:
        if not value:
            return qs
        for i, (key, label_value) in enumerate(parse_label_filter(value)):
            if label_value is None:
                qs = qs.filter(**{f"{self.field_name}__has_key": key})
            else:
                # The key is data, never part of a lookup path (`isnull`, `a__b`).
                alias = f"_label_{i}"
                qs = qs.alias(**{alias: KeyTransform(key, self.field_name)}).filter(**{alias: label_value})
        return qs


class RepeatableCSVWidget(filters.widgets.CSVWidget):
    """Reads `?x=a,b` and `?x=a&x=b` alike."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        values = data.getlist(name) if hasattr(data, "getlist") else []
        if len(values) > 1:
            return [v for raw in values for v in raw.split(",")]
        return super().value_from_datadict(data, files, name)


class MultiValueCharFilter(filters.BaseInFilter, filters.CharFilter):
    """`?namespace=a,b` or `?namespace=a&namespace=b`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", RepeatableCSVWidget)
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        values = [v for v in (value or []) if v]
        if not values:
            return qs
        return qs.filter(**{f"{self.field_name}__in": values})


class ClusterFilterSet(filters.FilterSet):
    name = filters.CharFilter(lookup_expr="icontains")
    source = filters.ChoiceFilter(choices=Cluster.Source.choices)
    status = filters.ChoiceFilter(choices=Cluster.Status.choices)

    class Meta:
        model = Cluster
        fields = ["name", "source", "status"]


class NamespaceFilterSet(filters.FilterSet):
    cluster = filters.ModelChoiceFilter(queryset=Cluster.objects.all())
    name = filters.CharFilter(lookup_expr="icontains")
    label = LabelFilter(field_name="labels")

    class Meta:
        model = Namespace
        fields = ["cluster", "name", "label"]


class WorkloadFilterSet(filters.FilterSet):
    cluster = filters.ModelChoiceFilter(queryset=Cluster.objects.all())
    namespace = MultiValueCharFilter(field_name="namespace")
    kind = filters.ChoiceFilter(choices=Workload.Kind.choices)
    name = filters.CharFilter(lookup_expr="icontains")
    label = LabelFilter(field_name="template_labels")
    top = filters.BooleanFilter(method="filter_top", help_text="only top-most owners (true)")

    class Meta:
        model = Workload
        fields = ["cluster", "namespace", "kind", "name", "label", "top"]

    def filter_top(self, qs: QuerySet[Workload], name: str, value: bool | None) -> QuerySet[Workload]:
        if value is None:
            return qs
        return qs.filter(TOP_LEVEL_WORKLOAD) if value else qs.exclude(TOP_LEVEL_WORKLOAD)


class PodFilterSet(filters.FilterSet):
    cluster = filters.ModelChoiceFilter(queryset=Cluster.objects.all())
    namespace = MultiValueCharFilter(field_name="namespace")
    name = filters.CharFilter(lookup_expr="icontains")
    workload = filters.CharFilter(field_name="top_name", help_text="the top-most owner's name")
    host_network = filters.BooleanFilter()
    label = LabelFilter(field_name="labels")
    ip = filters.CharFilter(method="filter_ip", help_text="a pod IP")

    class Meta:
        model = Pod
        fields = ["cluster", "namespace", "name", "workload", "host_network", "label", "ip"]

    def filter_ip(self, qs: QuerySet[Pod], name: str, value: str) -> QuerySet[Pod]:
        if not value:
            return qs
        return qs.filter(pk__in=[p.pk for p in qs.only("pk", "ips") if value in (p.ips or [])])


class ClusterPolicyFilterSet(filters.FilterSet):
    cluster = filters.ModelChoiceFilter(queryset=Cluster.objects.all())
    kind = filters.ChoiceFilter(choices=ClusterPolicy.Kind.choices)
    tier = filters.ChoiceFilter(choices=[("Admin", "Admin"), ("Baseline", "Baseline")])
    name = filters.CharFilter(lookup_expr="icontains")
    label = LabelFilter(field_name="labels")
    namespace = MultiValueCharFilter(
        method="filter_namespace",
        help_text="policies whose subject selects pods of this namespace (repeat or comma-separate for several)",
    )
    pod = filters.CharFilter(
        method="filter_pod",
        label="Selects pod",
        help_text="policies whose subject selects this pod (name or namespace/name)",
    )

    class Meta:
        model = ClusterPolicy
        fields = ["cluster", "kind", "tier", "name", "label", "namespace", "pod"]

    def _keep(self, qs: QuerySet[ClusterPolicy], keys_of: Callable[[Cluster], set[str]]) -> QuerySet[ClusterPolicy]:
        keep: list[int] = []
        for cluster in Cluster.objects.filter(pk__in=qs.values("cluster_id")):
            keys = keys_of(cluster)
            keep += [
                pk for pk, kind, name in qs.filter(cluster=cluster).values_list("pk", "kind", "name") if f"{kind}/{name}" in keys
            ]
        return qs.filter(pk__in=keep)

    def filter_namespace(self, qs: QuerySet[ClusterPolicy], name: str, value: Any) -> QuerySet[ClusterPolicy]:
        from .services.tier_pages import keys_applying_to_namespaces

        namespaces = [v.strip() for v in value or [] if v and v.strip()]
        if not namespaces:
            return qs
        return self._keep(qs, lambda cluster: keys_applying_to_namespaces(cluster, namespaces))

    def filter_pod(self, qs: QuerySet[ClusterPolicy], name: str, value: str) -> QuerySet[ClusterPolicy]:
        from .services.tier_pages import keys_selecting_pod

        value = value.strip()
        if not value:
            return qs
        namespace, _, pod_name = value.rpartition("/")
        return self._keep(qs, lambda cluster: keys_selecting_pod(cluster, namespace, pod_name))


class CniPolicyFilterSet(filters.FilterSet):
    cluster = filters.ModelChoiceFilter(queryset=Cluster.objects.all())
    cni = filters.ChoiceFilter(choices=[(c.value, c.label) for c in Cluster.Cni if c.value not in ("auto", "none")])
    kind = filters.CharFilter(field_name="kind", help_text="the kind as written: GlobalNetworkPolicy, CiliumNetworkPolicy ...")
    namespace = MultiValueCharFilter(field_name="namespace", help_text="blank for cluster-scoped kinds")
    name = filters.CharFilter(lookup_expr="icontains")
    tier = filters.CharFilter(field_name="tier")
    enforced = filters.BooleanFilter(
        method="filter_enforced", help_text="true: the cluster's CNI applies it; false: listed, not enforced here"
    )
    label = LabelFilter(field_name="labels")

    class Meta:
        model = CniObject
        fields = ["cluster", "cni", "kind", "namespace", "name", "tier", "enforced", "label"]

    def filter_enforced(self, qs: QuerySet[CniObject], name: str, value: bool | None) -> QuerySet[CniObject]:
        from .services.cni import filter_enforced

        if value is None:
            return qs
        return filter_enforced(qs, value)


class NetworkPolicyFilterSet(filters.FilterSet):
    cluster = filters.ModelChoiceFilter(queryset=Cluster.objects.all())
    namespace = MultiValueCharFilter(field_name="namespace")
    name = filters.CharFilter(lookup_expr="icontains")
    type = filters.ChoiceFilter(
        choices=[("ingress", "Ingress"), ("egress", "Egress")],
        method="filter_type",
        help_text="policies that isolate this direction (policyTypes after defaulting)",
    )
    label = LabelFilter(field_name="labels")
    pod = filters.CharFilter(
        method="filter_pod",
        label="Selects pod",
        help_text="policies whose podSelector selects this pod (name or namespace/name)",
    )

    class Meta:
        model = NetworkPolicy
        fields = ["cluster", "namespace", "name", "type", "label", "pod"]

    def filter_pod(self, qs: QuerySet[NetworkPolicy], name: str, value: str) -> QuerySet[NetworkPolicy]:
        from .services.analysis import policies_selecting_pod

        value = value.strip()
        if not value:
            return qs
        namespace, _, pod_name = value.rpartition("/")
        pods = Pod.objects.filter(cluster_id__in=qs.values("cluster_id"), name=pod_name)
        if namespace:
            pods = pods.filter(namespace=namespace)
        selecting: set[int] = set()
        for pod in pods.select_related("cluster"):
            selecting.update(policies_selecting_pod(pod)["policies"].values_list("pk", flat=True))
        return qs.filter(pk__in=selecting)

    def filter_type(self, qs: QuerySet[NetworkPolicy], name: str, value: str) -> QuerySet[NetworkPolicy]:
        if value == "ingress":
            return qs.filter(affects_ingress=True)
        if value == "egress":
            return qs.filter(affects_egress=True)
        return qs


class DraftFilterSet(filters.FilterSet):
    """Drafts by cluster, namespace, status and name; for the list page and GET /api/drafts/."""

    namespace = filters.CharFilter(field_name="namespace")
    status = filters.ChoiceFilter(choices=PolicyDraft.Status.choices)
    name = filters.CharFilter(
        field_name="name", lookup_expr="icontains", label="Name contains"
    )

    class Meta:
        model = PolicyDraft
        fields = ["cluster", "namespace", "status", "name"]
