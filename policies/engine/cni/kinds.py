"""The CNI resources netpolui reads next to v1 NetworkPolicies and the cluster-wide
tiers: which CNI each belongs to, its API group, the versions netpolui reads (preferred
first), its plural and its scope.

Several kinds share a name with a built-in one (Calico's and Antrea's ``NetworkPolicy``,
Antrea's ``ClusterNetworkPolicy``): an object is always identified by its API group and
kind together, never by its kind alone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

CALICO = "calico"
CILIUM = "cilium"
ANTREA = "antrea"
CNIS: tuple[str, ...] = (CALICO, CILIUM, ANTREA)

CALICO_GROUP = "projectcalico.org"
CALICO_CRD_GROUP = "crd.projectcalico.org"
"""Calico's CRD datastore stores the same kinds under this group (version v1)."""
CILIUM_GROUP = "cilium.io"
ANTREA_GROUP = "crd.antrea.io"


@dataclass(frozen=True, slots=True)
class CniKind:
    """One CNI resource. ``policy`` is true for kinds that hold rules (as opposed to the
    tiers and address/endpoint sets the rules refer to)."""

    cni: str
    group: str
    versions: tuple[str, ...]
    kind: str
    plural: str
    namespaced: bool
    policy: bool

    def api_versions(self) -> tuple[str, ...]:
        return tuple(f"{self.group}/{v}" for v in self.versions)


def _calico(kind: str, plural: str, *, namespaced: bool, policy: bool) -> tuple[CniKind, CniKind]:
    return (
        CniKind(CALICO, CALICO_GROUP, ("v3",), kind, plural, namespaced, policy),
        CniKind(CALICO, CALICO_CRD_GROUP, ("v1",), kind, plural, namespaced, policy),
    )


CNI_KINDS: tuple[CniKind, ...] = (
    *_calico("NetworkPolicy", "networkpolicies", namespaced=True, policy=True),
    *_calico("GlobalNetworkPolicy", "globalnetworkpolicies", namespaced=False, policy=True),
    *_calico("Tier", "tiers", namespaced=False, policy=False),
    *_calico("NetworkSet", "networksets", namespaced=True, policy=False),
    *_calico("GlobalNetworkSet", "globalnetworksets", namespaced=False, policy=False),
    CniKind(CILIUM, CILIUM_GROUP, ("v2",), "CiliumNetworkPolicy", "ciliumnetworkpolicies", True, True),
    CniKind(
        CILIUM, CILIUM_GROUP, ("v2",), "CiliumClusterwideNetworkPolicy",
        "ciliumclusterwidenetworkpolicies", False, True,
    ),
    CniKind(ANTREA, ANTREA_GROUP, ("v1beta1", "v1alpha1"), "ClusterNetworkPolicy", "clusternetworkpolicies", False, True),
    CniKind(ANTREA, ANTREA_GROUP, ("v1beta1", "v1alpha1"), "NetworkPolicy", "networkpolicies", True, True),
    CniKind(ANTREA, ANTREA_GROUP, ("v1beta1", "v1alpha1"), "Tier", "tiers", False, False),
    CniKind(ANTREA, ANTREA_GROUP, ("v1beta1", "v1alpha3"), "ClusterGroup", "clustergroups", False, False),
    CniKind(ANTREA, ANTREA_GROUP, ("v1beta1", "v1alpha3"), "Group", "groups", True, False),
)

_BY_GROUP_KIND: dict[tuple[str, str], CniKind] = {(k.group, k.kind): k for k in CNI_KINDS}


def api_group(obj: Mapping[str, Any]) -> str:
    """The API group of an object's ``apiVersion`` ("" for the core group)."""
    api_version = obj.get("apiVersion")
    if not isinstance(api_version, str) or "/" not in api_version:
        return ""
    return api_version.split("/", 1)[0]


def cni_kind(obj: Mapping[str, Any]) -> CniKind | None:
    """The CNI resource an object is, by API group and kind; None for anything else."""
    kind = obj.get("kind")
    if not isinstance(kind, str):
        return None
    return _BY_GROUP_KIND.get((api_group(obj), kind))


def is_cni_object(obj: Mapping[str, Any]) -> bool:
    return cni_kind(obj) is not None


def cni_object_key(obj: Mapping[str, Any]) -> str:
    """The key naming a CNI object everywhere (explanations, findings, pages, drift):
    ``cni:Kind:namespace/name`` for namespaced kinds, ``cni:Kind:name`` for cluster-scoped
    ones, e.g. ``calico:GlobalNetworkPolicy:deny-egress`` or
    ``cilium:CiliumNetworkPolicy:shop/backend``. Raises ValueError for other objects."""
    found = cni_kind(obj)
    if found is None:
        raise ValueError(f"not a CNI object: {obj.get('apiVersion')} {obj.get('kind')}")
    meta = obj.get("metadata")
    meta = meta if isinstance(meta, Mapping) else {}
    name = str(meta.get("name") or "")
    if found.namespaced:
        return f"{found.cni}:{found.kind}:{meta.get('namespace') or 'default'}/{name}"
    return f"{found.cni}:{found.kind}:{name}"
