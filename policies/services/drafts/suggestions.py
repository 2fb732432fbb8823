"""What the editor offers to type: label keys and values, namespace names.
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache

from ...models import Cluster, Namespace, Pod, Workload
from .form import _text

# --- label suggestions ------------------------------------------------------------------------

SUGGESTION_LIMIT = 200


def label_suggestions(cluster: Cluster) -> dict[str, dict[str, list[str]]]:
    """Label keys and values present in the cluster, for the form's datalists:
    {"pod": {key: [values]}, "namespace": {key: [values]}}."""
    key = f"draft-labels:{cluster.pk}:{cluster.state_version}"
    cached = cache.get(key)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    pod: dict[str, set[str]] = {}
    namespace: dict[str, set[str]] = {}

    def add(target: dict[str, set[str]], labels: Any) -> None:
        for k, v in (labels or {}).items():
            target.setdefault(str(k), set()).add(_text(v))

    for labels in Pod.objects.filter(cluster=cluster).values_list("labels", flat=True):
        add(pod, labels)
    for labels in Workload.objects.filter(cluster=cluster).values_list(
        "template_labels", flat=True
    ):
        add(pod, labels)
    for name, labels in Namespace.objects.filter(cluster=cluster).values_list("name", "labels"):
        add(namespace, labels)
        add(namespace, {"kubernetes.io/metadata.name": name})
    out = {
        "pod": {k: sorted(v)[:SUGGESTION_LIMIT] for k, v in sorted(pod.items())},
        "namespace": {k: sorted(v)[:SUGGESTION_LIMIT] for k, v in sorted(namespace.items())},
    }
    cache.set(key, out, timeout=3600)
    return out


def namespace_names(cluster: Cluster) -> list[str]:
    return list(
        Namespace.objects.filter(cluster=cluster).order_by("name").values_list("name", flat=True)
    )
