"""The key of one object of the desired state: "namespace/name" for a NetworkPolicy,
"Kind/name" for a cluster-wide policy (see drift_tiers), the CNI object key for a
Calico, Cilium or Antrea object ("calico:GlobalNetworkPolicy:deny-all",
"cilium:CiliumNetworkPolicy:shop/backend"). A CNI object is recognised by API group and
kind first: Antrea's ClusterNetworkPolicy is not the policy.networking.k8s.io one.

A drift item stores a CNI object as namespace (blank when cluster-scoped) and
"cni:Kind:name": a NetworkPolicy's name never holds a colon, so the two never meet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...engine.cni.kinds import CNIS, cni_kind, cni_object_key
from .. import drift_tiers


def is_cluster_scoped(obj: Mapping[str, Any]) -> bool:
    """A cluster-wide policy of policy.networking.k8s.io (not a CNI's kind of that name)."""
    return cni_kind(obj) is None and drift_tiers.is_cluster_scoped(obj)


def policy_key(obj: Mapping[str, Any]) -> str:
    """`namespace/name` of a NetworkPolicy, `Kind/name` of a cluster-wide policy, the
    key of a CNI object."""
    if cni_kind(obj) is not None:
        return cni_object_key(obj)
    if drift_tiers.is_cluster_scoped(obj):
        return drift_tiers.object_key(obj)
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), Mapping) else {}
    assert isinstance(meta, Mapping)
    return f"{meta.get('namespace') or 'default'}/{meta.get('name')}"


def is_cni_key(key: str) -> bool:
    head = key.split(":", 1)[0]
    return head in CNIS and key.count(":") >= 2


def split_key(key: str) -> tuple[str, str]:
    """(namespace, name) as a drift item stores them."""
    if is_cni_key(key):
        cni, kind, rest = key.split(":", 2)
        namespace, _, name = rest.rpartition("/")
        return namespace, f"{cni}:{kind}:{name}"
    namespace, name = key.split("/", 1)
    return namespace, name


def join_key(namespace: str, name: str) -> str:
    """The inverse of split_key."""
    if is_cni_key(name):
        cni, kind, rest = name.split(":", 2)
        return f"{cni}:{kind}:{namespace}/{rest}" if namespace else name
    return f"{namespace}/{name}"


def key_namespace(key: str) -> str:
    return split_key(key)[0]


def policy_words(key: str) -> str:
    """A key in a sentence: "NetworkPolicy shop/web", "ClusterNetworkPolicy deny-metadata",
    or the CNI key."""
    if is_cni_key(key):
        return key
    if drift_tiers.is_cluster_key(key):
        return key.replace("/", " ", 1)
    return f"NetworkPolicy {key}"
