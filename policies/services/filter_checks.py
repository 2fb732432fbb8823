"""Bad filters behave the same on every page: a value naming something the cluster does
not have becomes a sentence, with the closest name when there is one, instead of an
empty result that reads as "nothing there"."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence

from ..models import Cluster, Pod, Workload


def did_you_mean(value: str, choices: Iterable[str]) -> str:
    """` Did you mean "x"?` for the closest choice, or an empty string."""
    close = difflib.get_close_matches(value, list(choices), n=1, cutoff=0.6)
    return f' Did you mean "{close[0]}"?' if close else ""


def unknown_namespaces(values: Iterable[str], namespaces: Sequence[str]) -> list[str]:
    return [
        f'The cluster has no namespace "{v}".' + did_you_mean(v, namespaces)
        for v in values
        if v and v not in namespaces
    ]


def pod_problem(cluster: Cluster, value: str) -> str | None:
    """Why "Selects pod" cannot answer for `value` (namespace/pod or a pod name), or None."""
    value = value.strip()
    if not value:
        return None
    namespace, _, name = value.rpartition("/")
    pods = Pod.objects.filter(cluster=cluster, name=name)
    if namespace:
        pods = pods.filter(namespace=namespace)
    if pods.exists():
        return None
    workloads = Workload.objects.filter(cluster=cluster, name=name)
    if namespace:
        workloads = workloads.filter(namespace=namespace)
    workload = workloads.first()
    if workload is not None:
        pod_names = list(
            Pod.objects.filter(
                cluster=cluster, namespace=workload.namespace, top_kind=workload.top_kind or workload.kind,
                top_name=workload.top_name or workload.name,
            ).values_list("name", flat=True)[:3]
        )
        hint = (
            f' Did you mean "{workload.namespace}/{pod_names[0]}"?'
            if pod_names
            else " It has no running pod: open the workload's page for the policies that select its template."
        )
        return f"{workload.namespace}/{workload.name} is a {workload.kind}, not a pod." + hint
    candidates = [
        f"{ns}/{n}" for ns, n in Pod.objects.filter(cluster=cluster).values_list("namespace", "name")[:5000]
    ]
    return f'No pod "{value}" in cluster {cluster.name}.' + did_you_mean(
        value if namespace else value, candidates if namespace else [c.split("/", 1)[1] for c in candidates]
    )


def policy_list_problems(cluster: Cluster, params: Mapping[str, str], namespaces: Sequence[str]) -> list[str]:
    problems = unknown_namespaces(
        [v.strip() for raw in params.getlist("namespace") for v in raw.split(",")]
        if hasattr(params, "getlist")
        else [params.get("namespace", "")],
        namespaces,
    )
    pod = pod_problem(cluster, params.get("pod", "") or "")
    if pod:
        problems.append(pod)
    return problems


def reachability_problems(
    params: Mapping[str, str], namespaces: Sequence[str], label_keys: Sequence[str], tier_keys: Sequence[str]
) -> list[str]:
    problems = unknown_namespaces(
        params.getlist("namespace") if hasattr(params, "getlist") else [],
        namespaces,
    )
    group_by = (params.get("group_by") or "").strip()
    if group_by and group_by not in label_keys and group_by not in tier_keys:
        problems.append(
            f'No pod in the cluster has the label key "{group_by}": every workload would stand alone.'
            + did_you_mean(group_by, label_keys)
        )
    return problems
