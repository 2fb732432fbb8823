"""The resource types the fake serves, described the way API discovery describes them."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Resource:
    plural: str
    kind: str
    group: str  # "" for the core group
    version: str
    namespaced: bool = True
    has_status: bool = True  # a status subresource: writes to the main resource keep .status
    has_generation: bool = True  # metadata.generation bumps when the spec changes
    short_names: tuple[str, ...] = ()
    singular: str = ""

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def qualified(self) -> str:
        """`networkpolicies.networking.k8s.io`, or `pods` for the core group, as errors spell it."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def qualified_kind(self) -> str:
        """`NetworkPolicy.networking.k8s.io`, or `Pod`, as 422 Invalid messages spell it."""
        return f"{self.kind}.{self.group}" if self.group else self.kind

    @property
    def api_prefix(self) -> str:
        return f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"

    def collection_path(self, namespace: str | None = None) -> str:
        if self.namespaced and namespace:
            return f"{self.api_prefix}/namespaces/{namespace}/{self.plural}"
        return f"{self.api_prefix}/{self.plural}"


RESOURCES: tuple[Resource, ...] = (
    Resource("namespaces", "Namespace", "", "v1", namespaced=False, has_generation=False,
             short_names=("ns",), singular="namespace"),
    Resource("pods", "Pod", "", "v1", has_generation=False, short_names=("po",), singular="pod"),
    Resource("replicasets", "ReplicaSet", "apps", "v1", short_names=("rs",), singular="replicaset"),
    Resource("deployments", "Deployment", "apps", "v1", short_names=("deploy",),
             singular="deployment"),
    Resource("statefulsets", "StatefulSet", "apps", "v1", short_names=("sts",),
             singular="statefulset"),
    Resource("daemonsets", "DaemonSet", "apps", "v1", short_names=("ds",), singular="daemonset"),
    Resource("jobs", "Job", "batch", "v1", singular="job"),
    Resource("cronjobs", "CronJob", "batch", "v1", short_names=("cj",), singular="cronjob"),
    Resource("networkpolicies", "NetworkPolicy", "networking.k8s.io", "v1", has_status=False,
             short_names=("netpol",), singular="networkpolicy"),
)

# Served only by a fake started with policy_api=True, as a cluster that installed the
# Network Policy API CRDs (kubernetes-sigs/network-policy-api) serves them; Nodes with
# them, for `nodes` peers.
POLICY_API_RESOURCES: tuple[Resource, ...] = (
    Resource("nodes", "Node", "", "v1", namespaced=False, has_generation=False,
             short_names=("no",), singular="node"),
    Resource("clusternetworkpolicies", "ClusterNetworkPolicy", "policy.networking.k8s.io",
             "v1alpha2", namespaced=False, short_names=("cnp",),
             singular="clusternetworkpolicy"),
    Resource("adminnetworkpolicies", "AdminNetworkPolicy", "policy.networking.k8s.io",
             "v1alpha1", namespaced=False, short_names=("anp",),
             singular="adminnetworkpolicy"),
    Resource("baselineadminnetworkpolicies", "BaselineAdminNetworkPolicy",
             "policy.networking.k8s.io", "v1alpha1", namespaced=False, short_names=("banp",),
             singular="baselineadminnetworkpolicy"),
)

# ClusterNetworkPolicy in upstream's newest version, for a fake started with
# cluster_network_policy_versions=("v1beta1",) (or both, as one CRD serving two versions:
# the objects are the same).
CLUSTER_NETWORK_POLICY_V1BETA1 = Resource(
    "clusternetworkpolicies", "ClusterNetworkPolicy", "policy.networking.k8s.io", "v1beta1",
    namespaced=False, short_names=("cnp",), singular="clusternetworkpolicy")


def policy_api_resources(cluster_network_policy_versions: tuple[str, ...]) -> tuple[Resource, ...]:
    """Nodes and the policy.networking.k8s.io kinds, ClusterNetworkPolicy in those versions."""
    cnp = {"v1alpha2": POLICY_API_RESOURCES[1], "v1beta1": CLUSTER_NETWORK_POLICY_V1BETA1}
    unknown = set(cluster_network_policy_versions) - set(cnp)
    if unknown:
        raise ValueError(f"cluster_network_policy_versions: unknown {sorted(unknown)}; known: {sorted(cnp)}")
    return (POLICY_API_RESOURCES[0], *(cnp[v] for v in cluster_network_policy_versions),
            *POLICY_API_RESOURCES[2:])


def _cni(plural: str, kind: str, group: str, version: str, namespaced: bool) -> Resource:
    return Resource(plural, kind, group, version, namespaced=namespaced, has_status=False,
                    singular=kind.lower())


# Served by a fake started with cni_api={"calico", "cilium", "antrea"} (any subset), as a
# cluster running that CNI serves them: Calico through its API server
# (projectcalico.org/v3; "calico-crd" serves the CRD datastore's crd.projectcalico.org/v1
# instead, "calico-both" both), Cilium's and Antrea's CRDs. Calico brings ServiceAccounts
# (which a real cluster always serves) along; "antrea-v1alpha1" is an older Antrea.
# Kinds that reuse a built-in name are
# reached as `plural.group` or `Kind.group` (`networkpolicies.projectcalico.org`).
_CALICO_KINDS = (
    ("networkpolicies", "NetworkPolicy", True),
    ("globalnetworkpolicies", "GlobalNetworkPolicy", False),
    ("tiers", "Tier", False),
    ("networksets", "NetworkSet", True),
    ("globalnetworksets", "GlobalNetworkSet", False),
)
SERVICE_ACCOUNTS = Resource("serviceaccounts", "ServiceAccount", "", "v1", has_status=False,
                            has_generation=False, short_names=("sa",), singular="serviceaccount")
CNI_API_RESOURCES: dict[str, tuple[Resource, ...]] = {
    "calico": tuple(_cni(p, k, "projectcalico.org", "v3", n) for p, k, n in _CALICO_KINDS),
    "calico-crd": tuple(_cni(p, k, "crd.projectcalico.org", "v1", n) for p, k, n in _CALICO_KINDS),
    "cilium": (
        _cni("ciliumnetworkpolicies", "CiliumNetworkPolicy", "cilium.io", "v2", True),
        _cni("ciliumclusterwidenetworkpolicies", "CiliumClusterwideNetworkPolicy", "cilium.io",
             "v2", False),
    ),
    "antrea": (
        _cni("clusternetworkpolicies", "ClusterNetworkPolicy", "crd.antrea.io", "v1beta1", False),
        _cni("networkpolicies", "NetworkPolicy", "crd.antrea.io", "v1beta1", True),
        _cni("tiers", "Tier", "crd.antrea.io", "v1beta1", False),
        _cni("clustergroups", "ClusterGroup", "crd.antrea.io", "v1beta1", False),
        _cni("groups", "Group", "crd.antrea.io", "v1beta1", True),
    ),
}
CNI_API_RESOURCES["calico-both"] = CNI_API_RESOURCES["calico"] + CNI_API_RESOURCES["calico-crd"]
# An older Antrea that serves its policies as v1alpha1 only ("antrea" serves v1beta1).
CNI_API_RESOURCES["antrea-v1alpha1"] = (
    _cni("clusternetworkpolicies", "ClusterNetworkPolicy", "crd.antrea.io", "v1alpha1", False),
    _cni("networkpolicies", "NetworkPolicy", "crd.antrea.io", "v1alpha1", True),
)


def cni_resources(cni_api: frozenset[str] | set[str] | tuple[str, ...]) -> tuple[Resource, ...]:
    unknown = set(cni_api) - set(CNI_API_RESOURCES)
    if unknown:
        raise ValueError(f"cni_api: unknown {sorted(unknown)}; known: {sorted(CNI_API_RESOURCES)}")
    out: list[Resource] = []
    for name in sorted(cni_api):
        out += [r for r in CNI_API_RESOURCES[name] if r not in out]
    if any(name.startswith("calico") for name in cni_api):
        out.append(SERVICE_ACCOUNTS)
    return tuple(out)


_BY_NAME: dict[str, Resource] = {}
_ALL_CNI = tuple(r for rs in CNI_API_RESOURCES.values() for r in rs)
for _r in (*_ALL_CNI, SERVICE_ACCOUNTS):
    for _name in (_r.qualified, _r.qualified_kind, _r.plural, _r.kind, _r.singular, *_r.short_names):
        _BY_NAME.setdefault(_name, _r)
for _r in (*RESOURCES, *POLICY_API_RESOURCES, SERVICE_ACCOUNTS):
    for _name in (_r.plural, _r.kind, _r.kind.lower(), _r.singular, *_r.short_names):
        _BY_NAME[_name] = _r  # a bare built-in name is the built-in kind
    _BY_NAME[_r.qualified] = _r


def resource_for(name: str) -> Resource:
    """The resource for a plural, kind or short name: `networkpolicies`, `NetworkPolicy`,
    `netpol`; a CNI kind by `plural.group` or `Kind.group` when the name is shared."""
    try:
        return _BY_NAME.get(name) or _BY_NAME[name.lower()]
    except KeyError:
        raise KeyError(f"the fake API server does not serve {name!r}") from None


def resource_for_object(obj: dict) -> Resource:
    kind = obj.get("kind")
    if not kind:
        raise ValueError(f"object has no kind: {obj.get('metadata', {}).get('name')!r}")
    api_version = obj.get("apiVersion")
    if api_version and "/" in api_version:
        group = api_version.split("/", 1)[0]
        candidates = [c for c in (*_ALL_CNI, CLUSTER_NETWORK_POLICY_V1BETA1, *POLICY_API_RESOURCES)
                      if c.group == group and c.kind == kind]
        for candidate in candidates:
            if candidate.api_version == api_version:
                return candidate
        if candidates:
            raise ValueError(f"{kind} is served as {candidates[0].api_version}, not {api_version}")
    resource = resource_for(kind)
    if api_version and api_version != resource.api_version:
        raise ValueError(f"{kind} is served as {resource.api_version}, not {api_version}")
    return resource


def resource_at(group: str, version: str, plural: str,
                served: tuple[Resource, ...] = RESOURCES) -> Resource | None:
    for resource in served:
        if (resource.group, resource.version, resource.plural) == (group, version, plural):
            return resource
    return None


def groups(served: tuple[Resource, ...] = RESOURCES) -> dict[str, list[Resource]]:
    """Resources by group/version, core first."""
    out: dict[str, list[Resource]] = {}
    for resource in served:
        out.setdefault(resource.api_version, []).append(resource)
    return out
