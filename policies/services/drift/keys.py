"""The key of one object of the desired state: "namespace/name" for a NetworkPolicy,
the CNI object key for a Calico, Cilium or Antrea object
("calico:GlobalNetworkPolicy:deny-all", "cilium:CiliumNetworkPolicy:shop/backend").

A drift item stores a CNI object as namespace (blank when cluster-scoped) and
"cni:Kind:name": a NetworkPolicy's name never holds a colon, so the two never meet."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ...engine.cni.kinds import CNIS, cni_kind, cni_object_key


def policy_key(obj: Mapping[str, Any]) -> str:
    if cni_kind(obj) is not None:
        return cni_object_key(obj)
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


def describe(key: str) -> str:
    """How messages name the object: "NetworkPolicy shop/web" or the CNI key."""
    return key if is_cni_key(key) else f"NetworkPolicy {key}"
