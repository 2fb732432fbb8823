"""Cluster-scoped policies (ClusterNetworkPolicy, AdminNetworkPolicy,
BaselineAdminNetworkPolicy) in drift review.

They are keyed ``Kind/name`` beside the NetworkPolicies' ``namespace/name`` (a kind
starts with a capital letter, a namespace never does), compared on their canonical form
(engine.normalize_cluster_policy: defaults applied, rule order kept since it decides),
and their effects computed through the same Analyzer. A desired state that holds no
cluster-scoped policy speaks for none: the platform team's guardrails are not "extra" in
a repository of one team's NetworkPolicies."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import engine
from ..models import Cluster, ClusterPolicy

CLUSTER_KINDS = frozenset(engine.CLUSTER_POLICY_KINDS)


def is_cluster_scoped(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") in CLUSTER_KINDS


def is_cluster_key(key: str) -> bool:
    return key.split("/", 1)[0] in CLUSTER_KINDS


def object_key(obj: Mapping[str, Any]) -> str:
    """``Kind/name`` of a cluster-scoped policy."""
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    return f"{obj.get('kind')}/{meta.get('name')}"


def validate(obj: Mapping[str, Any]) -> list[engine.FieldError]:
    return engine.validate_cluster_policy(obj)


def semantically_equal(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    """Equal in their canonical form (defaults applied, selectors and peers normalised,
    rules in their written order)."""
    try:
        return engine.normalize_cluster_policy(a) == engine.normalize_cluster_policy(b)
    except (TypeError, ValueError, AttributeError, KeyError):
        return engine.clean_policy(a) == engine.clean_policy(b)


def live_policies(cluster: Cluster) -> dict[str, dict[str, Any]]:
    """The live cluster-scoped policies by ``Kind/name``."""
    rows = ClusterPolicy.objects.filter(cluster=cluster).values_list("kind", "name", "obj")
    return {f"{kind}/{name}": obj for kind, name, obj in rows}


def delete_command(kind: str, name: str) -> str:
    return f"kubectl delete {kind.lower()} {name}"


def reconcile(base: engine.Analyzer, extra: bool, kind: str, name: str, desired: Mapping[str, Any]) -> engine.Analyzer:
    """The analyzer after removing the live policy (extra) or applying the desired one."""
    if extra:
        return base.with_policies_changed(removals=[f"{kind}/{name}"])
    return base.with_policies_changed([dict(desired)])
