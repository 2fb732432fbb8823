"""The cluster model: namespaces, pods, workloads and NetworkPolicies from plain dicts.

``build_cluster(objects, *, strict=True) -> Cluster`` takes Kubernetes-shaped dicts
(or an ``Inventory`` from ``load_paths``, which adds file:line to errors).

- Every namespace carries ``kubernetes.io/metadata.name=<name>``, also one that has no
  Namespace object; an object without namespace lives in ``default``.
- A pod names its top-most owner found in the input (Pod -> ReplicaSet -> Deployment,
  Pod -> Job -> CronJob, following controller ownerReferences). When its direct owner is
  not in the input the pod shows that owner (``ns/rs-name[ReplicaSet]``); a bare pod, or
  a static pod owned by a Node, is ``ns/pod[Pod]``.
- A workload given without pods stands for one pod with its template's labels and ports.
- NetworkPolicies are validated as the API server would. ``strict=True`` raises
  ``ManifestError`` listing every error; ``strict=False`` keeps the invalid ones out of
  the analysis and lists them in ``cluster.invalid_policies``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from typing import Any

from .cni.build import CniSource, CniState, build_cni, tier_plan
from .cni.common import CniPolicyInfo, CniTierPolicy, PlanTier
from .cni.kinds import cni_kind, cni_object_key
from .manifests import InputError, Inventory, Location, ManifestError
from .model import (
    NAMESPACE_NAME_LABEL,
    NamedPort,
    NetworkPolicy,
    Pod,
    PolicySpec,
    Workload,
    frozen_labels,
    new_pod,
    parse_network_policy,
    parse_policy_spec,
)
from .selectors import dns1123_label_error
from .tier_validation import validate_cluster_policy
from .tiers import ClusterPolicy, Node, is_cluster_policy, parse_cluster_policy, parse_node
from .validation import (
    FieldError,
    network_policy_metadata_errors,
    network_policy_spec_errors,
    policy_display_name,
)

WORKLOAD_KINDS = (
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "ReplicaSet",
    "ReplicationController",
    "Job",
    "CronJob",
)


@dataclass(frozen=True)
class Isolation:
    """Whether a pod is isolated per direction, and by which policies."""

    ingress: bool
    egress: bool
    ingress_policies: tuple[str, ...] = ()
    egress_policies: tuple[str, ...] = ()


@dataclass
class Cluster:
    """Namespaces (name -> labels), pods, workloads and valid policies.

    ``policies`` are the namespaced NetworkPolicies; ``cluster_policies`` the valid
    cluster-wide ones (keys ``Kind/name``) in evaluation order; ``nodes`` the Node
    objects of the input (what `nodes` peers select).
    """

    namespaces: dict[str, Mapping[str, str]]
    pods: list[Pod]
    workloads: list[Workload]
    policies: list[NetworkPolicy]
    invalid_policies: list[tuple[str, list[FieldError]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    cluster_policies: list[ClusterPolicy] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    cni: str = "none"
    """The CNI that enforces policies: calico, cilium, antrea or none."""
    cni_detected_by: str = ""
    cni_policies: dict[str, CniPolicyInfo] = field(default_factory=dict)
    """Every CNI policy object of the input by cni_object_key, enforced or not, and every
    Antrea group Antrea would refuse (with its problems)."""
    cni_tier_policies: list[CniTierPolicy] = field(default_factory=list)
    """The enforced (valid) CNI policies compiled into the tier model."""
    cni_tiers: list[tuple[str, float, str]] = field(default_factory=list)
    cni_source: CniSource = field(default_factory=CniSource)
    """What the CNI part was built from (``with_cni_changes`` builds it again)."""

    def __post_init__(self) -> None:
        self.cluster_policies = sorted(self.cluster_policies, key=lambda p: p.order)
        self.tier_plan: list[PlanTier] = tier_plan(
            self.cluster_policies, self.cni, self.cni_tier_policies, self.cni_tiers
        )
        self._policy_index = {p.key: p for p in self.policies}
        self._cluster_policy_index = {p.key: p for p in self.cluster_policies}
        # Selectors are namespaced: checks over every policy look in one namespace's pods
        # instead of all of them (10,000 pods x 2,000 policies took half a minute).
        self._pods_by_namespace: dict[str, list[Pod]] = {}
        for pod in self.pods:
            self._pods_by_namespace.setdefault(pod.namespace, []).append(pod)

    def pods_in_namespace(self, namespace: str) -> list[Pod]:
        """The pods of one namespace, in input order."""
        return self._pods_by_namespace.get(namespace, [])

    def pod_namespaces(self) -> list[str]:
        """The namespaces that have pods."""
        return list(self._pods_by_namespace)

    def cluster_policy(self, key: str) -> ClusterPolicy | None:
        """A cluster-wide policy by its key, ``Kind/name``."""
        return self._cluster_policy_index.get(key)

    def cluster_policies_selecting(self, pod: Pod, direction: str) -> list[ClusterPolicy]:
        """Cluster-wide policies whose subject selects `pod` and that have rules in
        `direction`, in evaluation order."""
        ns_labels = self.namespace_labels(pod.namespace)
        return [
            p
            for p in self.cluster_policies
            if p.rules(direction) and p.subject.matches_pod(ns_labels, pod.labels, pod.host_network)
        ]

    def policy(self, key: str) -> NetworkPolicy | None:
        return self._policy_index.get(key)

    def cni_isolating(self, pod: Pod, direction: str) -> list[str]:
        """Keys of the enforced CNI policies that isolate `pod` in `direction`: members
        of a tier ending in deny that select it for that direction (Calico, Cilium)."""
        ns_labels = self.namespace_labels(pod.namespace)
        out: list[str] = []
        for pt in self.tier_plan:
            if pt.end != "deny":
                continue
            for m in pt.members:
                if (
                    isinstance(m, CniTierPolicy)
                    and m.applies_to(direction)
                    and m.key not in out
                    and m.subject.matches_pod(ns_labels, pod.labels, pod.host_network, pod.service_account)
                ):
                    out.append(m.key)
        return out

    def cni_selecting(self, pod: Pod) -> list[str]:
        """Keys of the enforced CNI policies whose subject selects `pod`."""
        ns_labels = self.namespace_labels(pod.namespace)
        return list(
            dict.fromkeys(
                p.key
                for p in self.cni_tier_policies
                if p.subject.matches_pod(ns_labels, pod.labels, pod.host_network, pod.service_account)
            )
        )

    @cached_property
    def _pod_index(self) -> dict[str, Pod]:
        # Built on the first look-up by name, which `analyze` never makes (10,000 keys).
        return {p.key: p for p in self.pods}

    def pod(self, namespace: str, name: str) -> Pod | None:
        return self._pod_index.get(f"{namespace}/{name}")

    def namespace_labels(self, namespace: str) -> Mapping[str, str]:
        return self.namespaces.get(namespace) or {NAMESPACE_NAME_LABEL: namespace}

    def policies_selecting(self, namespace: str, pod_name: str) -> list[str]:
        """Keys ("ns/name") of the policies whose podSelector selects that pod."""
        pod = self.pod(namespace, pod_name)
        if pod is None:
            return []
        return [
            p.key
            for p in self.policies
            if p.namespace == pod.namespace and p.pod_selector.matches(pod.labels)
        ]

    def pods_selected_by(self, policy_key: str) -> list[Pod]:
        policy = self.policy(policy_key)
        if policy is None:
            return []
        return [p for p in self.pods_in_namespace(policy.namespace) if policy.pod_selector.matches(p.labels)]

    def isolation(self, pod: Pod) -> Isolation:
        ing: list[str] = []
        eg: list[str] = []
        for p in self.policies:
            if p.namespace != pod.namespace or not p.pod_selector.matches(pod.labels):
                continue
            if p.affects_ingress:
                ing.append(p.key)
            if p.affects_egress:
                eg.append(p.key)
        return Isolation(bool(ing), bool(eg), tuple(ing), tuple(eg))

    def with_policies(
        self,
        policies: Sequence[NetworkPolicy],
        cluster_policies: Sequence[ClusterPolicy] | None = None,
    ) -> Cluster:
        """The same pods and namespaces under another set of policies (and of
        cluster-wide policies, when given)."""
        namespaces = dict(self.namespaces)
        for p in policies:
            namespaces.setdefault(p.namespace, frozen_labels({NAMESPACE_NAME_LABEL: p.namespace}))
        return Cluster(
            namespaces,
            self.pods,
            self.workloads,
            list(policies),
            list(self.invalid_policies),
            list(self.notes),
            list(self.cluster_policies if cluster_policies is None else cluster_policies),
            list(self.nodes),
            self.cni,
            self.cni_detected_by,
            dict(self.cni_policies),
            list(self.cni_tier_policies),
            list(self.cni_tiers),
            self.cni_source,
        )

    def with_cni_changes(
        self, upserts: Sequence[Mapping[str, Any]] = (), removals: Sequence[str] = ()
    ) -> Cluster:
        """The same cluster with CNI objects (policies, tiers, sets, groups) added or
        replaced (`upserts`) and removed (`removals`, cni_object_keys); KeyError for a
        removal that is not there."""
        source = self.cni_source.changed(upserts, removals)
        state = build_cni(
            source.objects,
            agents=source.agents,
            namespaces=self.namespaces,
            service_accounts=source.service_accounts,
            requested=source.requested,
        )
        return Cluster(
            dict(self.namespaces),
            self.pods,
            self.workloads,
            list(self.policies),
            list(self.invalid_policies),
            list(self.notes),
            list(self.cluster_policies),
            list(self.nodes),
            state.cni,
            state.detected_by,
            state.policies,
            state.tier_policies,
            state.tiers,
            state.source,
        )


# dict first: most objects are plain dicts, and an ABC check costs ten times more.
_MAP = (dict, Mapping)

# Kinds a CNI object may have: those shared with built-ins are checked by API group.
_CNI_SHARED = frozenset({"NetworkPolicy", "ClusterNetworkPolicy"})
_CNI_ONLY = frozenset(
    {
        "GlobalNetworkPolicy", "Tier", "NetworkSet", "GlobalNetworkSet", "CiliumNetworkPolicy",
        "CiliumClusterwideNetworkPolicy", "ClusterGroup", "Group",
    }
)
_AGENT_NAMESPACES = ("kube-system", "calico-system")


def _service_account(spec: Mapping[str, Any]) -> str:
    sa = spec.get("serviceAccountName") or spec.get("serviceAccount")
    return sa if isinstance(sa, str) and sa else "default"

# -- building -----------------------------------------------------------------------------


_NO_META: Mapping[str, Any] = {}


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    meta = obj.get("metadata")
    if meta.__class__ is dict or isinstance(meta, Mapping):
        return meta
    return _NO_META


def _ns(obj: Mapping[str, Any]) -> str:
    ns = _meta(obj).get("namespace")
    return ns if isinstance(ns, str) and ns else "default"


def _controller_ref(obj: Mapping[str, Any]) -> tuple[str, str] | None:
    """(kind, name) of the owner reference marked controller: the workload that manages the
    object (metav1.GetControllerOf); other owners only hold it for garbage collection.

    A controller reference without its (required) kind still names the pods' common
    owner; np-guard shows such pods as one ``ns/owner[Pod]``, and so do we."""
    return _controller_ref_in(_meta(obj))


def _controller_ref_in(meta: Mapping[str, Any]) -> tuple[str, str] | None:
    """_controller_ref of an object by its metadata (the pod loop has it at hand)."""
    refs = meta.get("ownerReferences")
    if refs.__class__ is not list and not isinstance(refs, list):
        return None
    for r in refs:
        if r.__class__ is not dict and not isinstance(r, Mapping):
            continue
        name = r.get("name")
        if r.get("controller") and name:
            kind = r.get("kind")
            return (
                kind if kind.__class__ is str and kind else str(kind or "Pod"),
                name if name.__class__ is str else str(r["name"]),
            )
    return None


def _pod_template(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = obj.get("spec") if isinstance(obj.get("spec"), _MAP) else {}
    assert isinstance(spec, _MAP)
    if obj.get("kind") == "CronJob":
        jt = spec.get("jobTemplate")
        spec = (
            jt.get("spec")
            if isinstance(jt, _MAP) and isinstance(jt.get("spec"), _MAP)
            else {}
        )
        assert isinstance(spec, _MAP)
    tpl = spec.get("template")
    return tpl if isinstance(tpl, _MAP) else {}


_NAME_PATHS = ("metadata.name", "metadata.namespace")


def _odd_name(loc: Location, name: str, path: str, message: str) -> str:
    where = f"{loc.file}:{loc.line_of(path)}"
    return f"{where}: {name}: {path} {message}; the API server would refuse it, read anyway"


class _Problems:
    def __init__(self) -> None:
        self.errors: list[InputError] = []

    def add(self, loc: Location, obj: Mapping[str, Any], path: str, message: str) -> None:
        name = f"{obj.get('kind')} {_ns(obj)}/{_meta(obj).get('name')}"
        self.errors.append(
            InputError(loc.file, loc.line_of(path), name, path, f"{name}: {path} {message}")
        )


def _template_labels_path(kind: str) -> str:
    if kind == "CronJob":
        return "spec.jobTemplate.spec.template.metadata.labels"
    return "spec.template.metadata.labels"


def _labels(
    obj: Mapping[str, Any],
    path: str,
    loc: Location,
    problems: _Problems,
    cache: _Interned | None = None,
    *,
    owner: Mapping[str, Any],
) -> Mapping[str, str]:
    """The labels of the metadata `obj` (of the object `owner`, which a problem names)."""
    raw = obj.get("labels") if isinstance(obj, _MAP) else None
    if raw is None:
        return frozen_labels(None)
    if raw.__class__ is not dict and not isinstance(raw, Mapping):
        problems.add(loc, owner, path, "must be a map of label keys to values")
        return frozen_labels(None)
    return cache.labels(raw) if cache is not None else frozen_labels(raw)


class _Interned:
    """One answer per distinct label map and port list of one build: the pods of a
    workload repeat their template's, and the sorted, read-only copy costs several
    times the look-up (10,000 pods of 1,000 workloads). The answers are immutable, so
    sharing them changes nothing."""

    def __init__(self) -> None:
        self._labels: dict[tuple[tuple[Any, Any], ...], Mapping[str, str]] = {}
        self._ports: dict[tuple[NamedPort, ...], tuple[NamedPort, ...]] = {}

    def labels(self, raw: Mapping[str, Any]) -> Mapping[str, str]:
        """frozen_labels(raw), once per distinct map."""
        try:
            key = tuple(raw.items())
            found = self._labels.get(key)
        except TypeError:  # an unhashable value (a list): rare, and built every time
            return frozen_labels(raw)
        if found is None:
            found = frozen_labels(raw)
            # Only maps of text are kept: True == 1 and both hash alike, so a pod
            # labelled `1` must not get the labels ("true") of one labelled `true`.
            if all(k.__class__ is str and v.__class__ is str for k, v in key):
                self._labels[key] = found
        return found

    def ports(self, found: list[NamedPort], plain: bool) -> tuple[NamedPort, ...]:
        """The sorted, distinct named ports of `found`, once per distinct list of
        `plain` ones (exact str and int: an int subclass equal to a number must not be
        answered with that number)."""
        if not found:
            return ()
        if not plain:
            return tuple(sorted(set(found)))
        key = tuple(found)
        out = self._ports.get(key)
        if out is None:
            out = self._ports[key] = tuple(sorted(set(found)))
        return out


def _named_ports(pod_spec: Mapping[str, Any], cache: _Interned | None = None) -> tuple[NamedPort, ...]:
    out: list[NamedPort] = []
    plain = True
    containers = pod_spec.get("containers")
    # The checks test the exact type first (isinstance, with the Mapping ABC for
    # anything but a dict, costs several times more); other types take the old checks.
    for c in containers if containers.__class__ is list or isinstance(containers, list) else ():
        if c.__class__ is not dict and not isinstance(c, Mapping):
            continue
        ports = c.get("ports")
        if ports.__class__ is not list and not isinstance(ports, list):
            continue
        for p in ports:
            if p.__class__ is not dict and not isinstance(p, Mapping):
                continue
            name, number = p.get("name"), p.get("containerPort")
            if not name:
                continue
            if name.__class__ is str and number.__class__ is int:
                pass
            elif isinstance(name, str) and isinstance(number, int) and not isinstance(number, bool):
                plain = False
            else:
                continue
            proto = p.get("protocol")
            out.append((name, proto if proto.__class__ is str and proto else str(proto or "TCP"), number))
    if cache is None:
        return tuple(sorted(set(out)))
    return cache.ports(out, plain)


def _pod_ips(obj: Mapping[str, Any]) -> tuple[str, ...]:
    status = obj.get("status")
    if status.__class__ is not dict and not isinstance(status, Mapping):
        return ()
    pod_ip = status.get("podIP")
    entries = status.get("podIPs")
    if not entries:  # a pod read from a manifest, or one address: no list to merge
        return (pod_ip,) if isinstance(pod_ip, str) else ()
    ips: list[str] = []
    for entry in entries:
        if isinstance(entry, _MAP) and isinstance(entry.get("ip"), str):
            ips.append(entry["ip"])
    if isinstance(pod_ip, str) and pod_ip not in ips:
        ips.insert(0, pod_ip)
    return tuple(ips)


def build_cluster(
    objects: Iterable[Mapping[str, Any]] | Inventory,
    *,
    strict: bool = True,
    locations: Sequence[Location] | None = None,
    cni: str | None = None,
) -> Cluster:
    """Build the cluster model from Kubernetes-shaped dicts (or an Inventory).

    `cni` names the CNI that enforces policies ("calico", "cilium", "antrea", "none");
    None detects it (see ``cni.build``). CNI policy objects (identified by API group
    and kind: a ``projectcalico.org/v3`` NetworkPolicy is never read as a v1 one) of
    that CNI are applied, the others listed in ``cluster.cni_policies``."""
    notes: list[str] = []
    if isinstance(objects, Inventory):
        locations = objects.locations
        notes = list(objects.notes)
        objs: list[Mapping[str, Any]] = list(objects.objects)
    else:
        objs = [o for o in objects if isinstance(o, _MAP)]
    locs = list(locations) if locations is not None else [Location("<input>") for _ in objs]
    problems = _Problems()
    inp = _sort_input(objs, locs, notes, problems)
    interned = _Interned()
    pods, by_owner = _pods(inp, problems, interned)
    _add_stand_ins(inp, pods, by_owner, problems, interned)
    workloads = _workloads(inp, by_owner, problems, interned)

    if problems.errors and strict:
        raise ManifestError(problems.errors)

    namespaces = inp.namespaces
    policies = inp.policies
    for ns_name in {p.namespace for p in pods} | {p.namespace for p in policies.values()}:
        namespaces.setdefault(ns_name, frozen_labels({NAMESPACE_NAME_LABEL: ns_name}))

    pods.sort(key=attrgetter("namespace", "name", "owner_kind"))  # the same tuples, built in C
    policy_list = sorted(policies.values(), key=lambda p: p.key)
    cni_state = (
        build_cni(
            inp.cni_objs,
            agents=inp.agents,
            namespaces=namespaces,
            service_accounts=inp.service_accounts,
            requested=cni,
        )
        if inp.cni_objs or inp.agents or cni is not None
        else CniState()
    )
    notes.extend(cni_state.notes)
    notes.extend(_invalid_cni_notes(inp, cni_state))
    return Cluster(
        dict(sorted(namespaces.items())),
        pods,
        workloads,
        policy_list,
        inp.invalid,
        notes,
        list(inp.cluster_policies.values()),
        [inp.nodes[k] for k in sorted(inp.nodes)],
        cni_state.cni,
        cni_state.detected_by,
        cni_state.policies,
        cni_state.tier_policies,
        cni_state.tiers,
        cni_state.source,
    )


def _invalid_cni_notes(inp: _Input, cni_state: CniState) -> list[str]:
    """Where each invalid CNI policy is, with what is wrong: it is left out of the answers."""
    notes: list[str] = []
    for obj, loc in zip(inp.cni_objs, inp.cni_locs, strict=True):
        info = cni_state.policies.get(cni_object_key(obj)) if cni_kind(obj) else None
        if info is None or not info.problems or info.raw is not obj:
            continue
        for problem in info.problems:
            notes.append(
                f"{loc.file}:{loc.line_of(problem.path)}: {info.key}: {problem.path} {problem.message}; "
                "the policy is left out"
            )
    return notes


@dataclass
class _Input:
    """The input objects sorted by what they are (build_cluster's first step)."""

    namespaces: dict[str, Mapping[str, str]] = field(default_factory=dict)
    workload_objs: dict[tuple[str, str, str], tuple[Mapping[str, Any], Location]] = field(default_factory=dict)
    pod_objs: list[tuple[Mapping[str, Any], Location]] = field(default_factory=list)
    policies: dict[str, NetworkPolicy] = field(default_factory=dict)
    policy_locs: dict[str, Location] = field(default_factory=dict)
    cluster_policies: dict[str, ClusterPolicy] = field(default_factory=dict)
    nodes: dict[str, Node] = field(default_factory=dict)
    invalid: list[tuple[str, list[FieldError]]] = field(default_factory=list)
    cni_objs: list[Mapping[str, Any]] = field(default_factory=list)
    cni_locs: list[Location] = field(default_factory=list)
    agents: list[Mapping[str, Any]] = field(default_factory=list)
    service_accounts: dict[tuple[str, str], Mapping[str, str]] = field(default_factory=dict)


class _PolicySpecs:
    """validate_network_policy and parse_network_policy with each distinct spec checked
    and parsed once per build: a policy stamped into every namespace (default deny,
    DNS egress) repeats its spec, and both steps cost ten times the key.

    The key is the spec's repr: for the plain data the readers give (dicts, lists,
    text, numbers, booleans, null) it spells out every type and value (``1``, ``'1'``,
    ``True`` and ``1.0`` differ, so do a list and a tuple). A spec that has no repr
    (nested too deep) is checked and parsed on its own."""

    def __init__(self) -> None:
        self._errors: dict[str, list[tuple[str, str]]] = {}
        self._parsed: dict[str, PolicySpec] = {}

    def validate(self, obj: Mapping[str, Any]) -> tuple[list[FieldError], str | None]:
        """validate_network_policy(obj), and the key of its spec (None: not kept)."""
        errors = network_policy_metadata_errors(obj)
        spec = obj.get("spec")
        try:
            key: str | None = repr(spec)
        except (RecursionError, ValueError):  # too deep, or a number too long to print
            key = None
        found = self._errors.get(key) if key is not None else None
        if found is None:
            found = network_policy_spec_errors(spec)
            if key is not None:
                self._errors[key] = found
        if found:
            name = policy_display_name(obj)
            errors.extend(FieldError(path, message, name) for path, message in found)
        return errors, key

    def parse(self, obj: Mapping[str, Any], key: str | None) -> NetworkPolicy:
        """parse_network_policy(obj) of a policy `validate` passed, by its spec key."""
        if key is None:
            return parse_network_policy(obj)
        spec = self._parsed.get(key)
        if spec is None:
            spec = self._parsed[key] = parse_policy_spec(obj.get("spec"))
        return parse_network_policy(obj, spec)


def _sort_input(
    objs: Sequence[Mapping[str, Any]], locs: Sequence[Location], notes: list[str], problems: _Problems
) -> _Input:
    """Namespaces, workloads, pods, policies (checked as the API server would; invalid
    ones listed apart), cluster-wide policies, nodes and CNI objects of the input."""
    inp = _Input()
    specs = _PolicySpecs()
    pod_objs, agents = inp.pod_objs, inp.agents
    for obj, loc in zip(objs, locs, strict=True):
        kind = obj.get("kind")
        if kind == "Pod":  # most objects; of the checks below only the agents' concern pods
            meta = obj.get("metadata")
            if (meta.__class__ is dict or isinstance(meta, Mapping)) and meta.get("namespace") in _AGENT_NAMESPACES:
                agents.append(obj)
            pod_objs.append((obj, loc))
            continue
        meta = _meta(obj)
        if kind in _CNI_SHARED or (isinstance(kind, str) and kind in _CNI_ONLY):
            if cni_kind(obj) is not None:
                inp.cni_objs.append(obj)
                inp.cni_locs.append(loc)
                continue
            if kind in _CNI_ONLY:
                continue
        if kind in ("Pod", "DaemonSet") and meta.get("namespace") in _AGENT_NAMESPACES:
            inp.agents.append(obj)
        if kind == "ServiceAccount":
            sa_labels = meta.get("labels")
            inp.service_accounts[(_ns(obj), str(meta.get("name")))] = frozen_labels(
                sa_labels if isinstance(sa_labels, _MAP) else None
            )
        elif kind == "Namespace":
            name = str(meta.get("name"))
            err = dns1123_label_error(name)
            if err:  # the API server would refuse it; the name still means one namespace
                notes.append(_odd_name(loc, f"Namespace {name}", "metadata.name", f'"{name}" {err}'))
            ns_labels = dict(_labels(meta, "metadata.labels", loc, problems, owner=obj))
            ns_labels[NAMESPACE_NAME_LABEL] = name
            inp.namespaces[name] = frozen_labels(ns_labels)
        elif kind == "Pod":
            inp.pod_objs.append((obj, loc))
        elif kind in WORKLOAD_KINDS:
            inp.workload_objs[(_ns(obj), str(kind), str(meta.get("name")))] = (obj, loc)
        elif kind == "NetworkPolicy":
            errors, spec_key = specs.validate(obj)
            key = f"{_ns(obj)}/{meta.get('name')}"
            if errors and meta.get("name") and all(e.path in _NAME_PATHS for e in errors):
                # A name the API server would refuse (`web_policy`) changes no answer.
                notes.extend(_odd_name(loc, f"NetworkPolicy {key}", e.path, e.message) for e in errors)
                errors = []
            if errors:
                inp.invalid.append((key, errors))
                for e in errors:
                    problems.errors.append(
                        InputError(loc.file, loc.line_of(e.path), e.obj, e.path, str(e))
                    )
                continue
            if key in inp.policies:
                prev = inp.policy_locs[key]
                notes.append(
                    f"NetworkPolicy {key} is defined twice ({prev.file}:{prev.line} and {loc.file}:{loc.line}); "
                    "the later one is used"
                )
            inp.policies[key] = specs.parse(obj, spec_key)
            inp.policy_locs[key] = loc
        elif is_cluster_policy(obj):
            errors = validate_cluster_policy(obj)
            key = f"{kind}/{meta.get('name')}"
            if errors:
                inp.invalid.append((key, errors))
                for e in errors:
                    problems.errors.append(
                        InputError(loc.file, loc.line_of(e.path), e.obj, e.path, str(e))
                    )
                continue
            if key in inp.policy_locs:
                prev = inp.policy_locs[key]
                notes.append(
                    f"{kind} {meta.get('name')} is defined twice ({prev.file}:{prev.line} and "
                    f"{loc.file}:{loc.line}); the later one is used"
                )
            inp.cluster_policies[key] = parse_cluster_policy(obj)
            inp.policy_locs[key] = loc
        elif kind == "Node":
            node = parse_node(obj)
            inp.nodes[node.name] = node

    return inp


def _pods(
    inp: _Input, problems: _Problems, interned: _Interned
) -> tuple[list[Pod], dict[tuple[str, str, str], list[Pod]]]:
    """The input's pods, each under the owner it is shown as, and the pods per owner."""
    # A pod shows its top-most owner found in the input; when its direct owner is
    # missing it shows that owner, as np-guard does.
    shown_owner: dict[tuple[str, str, str], tuple[str, str]] = {}  # one walk per owner

    def display_owner(meta: Mapping[str, Any], ns: str) -> tuple[str, str] | None:
        ref = _controller_ref_in(meta)
        if ref is None or ref[0] == "Node":
            return None
        key = (ns, *ref)
        found = shown_owner.get(key)
        if found is None:
            found = shown_owner[key] = top_owner(ns, ref)
        return found

    def top_owner(ns: str, ref: tuple[str, str]) -> tuple[str, str]:
        shown = ref
        seen = set()
        while (ns, *shown) in inp.workload_objs and shown not in seen:
            seen.add(shown)
            parent = _controller_ref(inp.workload_objs[(ns, *shown)][0])
            if parent is None or (ns, *parent) not in inp.workload_objs:
                break
            shown = parent
        return shown

    pods: list[Pod] = []
    by_owner: dict[tuple[str, str, str], list[Pod]] = {}
    for obj, loc in inp.pod_objs:
        # _meta and _ns inlined: this loop runs once per pod of the cluster.
        meta = obj.get("metadata")
        if meta.__class__ is not dict and not isinstance(meta, Mapping):
            meta = _NO_META
        spec = obj.get("spec")
        if spec.__class__ is not dict and not isinstance(spec, Mapping):
            spec = _NO_META
        ns = meta.get("namespace")
        if not (ns and isinstance(ns, str)):
            ns = "default"
        owner = display_owner(meta, ns)
        name = str(meta.get("name"))
        owner_kind, owner_name = owner if owner else ("Pod", name)
        pod = new_pod(
            ns,
            name,
            _labels(meta, "metadata.labels", loc, problems, interned, owner=obj),
            _named_ports(spec, interned),
            bool(spec.get("hostNetwork")),
            _pod_ips(obj),
            owner_kind,
            owner_name,
            False,
            str(meta.get("uid") or ""),
            _service_account(spec),
        )
        pods.append(pod)
        owned = by_owner.get((ns, owner_kind, owner_name))
        if owned is None:
            by_owner[(ns, owner_kind, owner_name)] = [pod]
        else:
            owned.append(pod)
    return pods, by_owner


def _add_stand_ins(
    inp: _Input,
    pods: list[Pod],
    by_owner: dict[tuple[str, str, str], list[Pod]],
    problems: _Problems,
    interned: _Interned,
) -> None:
    """Workloads without pods stand for one pod with their template's labels and ports,
    unless another workload in the input owns them (that one stands for them)."""
    for (ns, kind, name), (obj, loc) in sorted(inp.workload_objs.items()):
        if (ns, kind, name) in by_owner:
            continue
        parent = _controller_ref(obj)
        if parent is not None and (ns, *parent) in inp.workload_objs:
            continue
        tpl = _pod_template(obj)
        tpl_meta = _meta(tpl)
        tpl_spec = tpl.get("spec") if isinstance(tpl.get("spec"), _MAP) else {}
        assert isinstance(tpl_spec, _MAP)
        path = _template_labels_path(kind)
        stand_in = Pod(
            namespace=ns,
            name=name,
            labels=_labels(tpl_meta, path, loc, problems, interned, owner=obj),
            named_ports=_named_ports(tpl_spec, interned),
            host_network=bool(tpl_spec.get("hostNetwork")),
            owner_kind=kind,
            owner_name=name,
            stand_in=True,
            uid=str(_meta(obj).get("uid") or ""),
            service_account=_service_account(tpl_spec),
        )
        pods.append(stand_in)
        by_owner[(ns, kind, name)] = [stand_in]



def _workloads(
    inp: _Input,
    by_owner: dict[tuple[str, str, str], list[Pod]],
    problems: _Problems,
    interned: _Interned,
) -> list[Workload]:
    """One workload per owner, labelled from its pod template (or its first pod)."""
    workloads: list[Workload] = []
    for (ns, kind, name), members in sorted(by_owner.items()):
        members.sort(key=attrgetter("name"))
        wobj = inp.workload_objs.get((ns, kind, name))
        if wobj is not None:
            # A stand-in already holds its template's labels (and its problem, when they
            # are not a map, was reported then).
            labels = (
                _labels(
                    _meta(_pod_template(wobj[0])), _template_labels_path(kind), wobj[1], problems, interned, owner=wobj[0]
                )
                if kind != "Pod" and not members[0].stand_in
                else members[0].labels
            )
            uid = str(_meta(wobj[0]).get("uid") or "")
        else:
            labels, uid = members[0].labels, members[0].uid if kind == "Pod" else ""
        if not labels:
            labels = members[0].labels
        workloads.append(Workload(ns, name, kind, labels, tuple(members), uid))

    return workloads
