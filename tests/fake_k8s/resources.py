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

_BY_NAME: dict[str, Resource] = {}
for _r in (*RESOURCES, *POLICY_API_RESOURCES):
    for _name in (_r.plural, _r.kind, _r.kind.lower(), _r.singular, *_r.short_names):
        _BY_NAME[_name] = _r


def resource_for(name: str) -> Resource:
    """The resource for a plural, kind or short name: `networkpolicies`, `NetworkPolicy`, `netpol`."""
    try:
        return _BY_NAME.get(name) or _BY_NAME[name.lower()]
    except KeyError:
        raise KeyError(f"the fake API server does not serve {name!r}") from None


def resource_for_object(obj: dict) -> Resource:
    kind = obj.get("kind")
    if not kind:
        raise ValueError(f"object has no kind: {obj.get('metadata', {}).get('name')!r}")
    resource = resource_for(kind)
    api_version = obj.get("apiVersion")
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
