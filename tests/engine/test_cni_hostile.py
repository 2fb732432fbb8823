"""Malformed CNI objects: listed with problems (or ignored parts noted), never a
traceback; the answers still come."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.engine import Analyzer, build_cluster, explain, findings
from policies.engine.cni.kinds import CNI_KINDS

from .builders import namespace, pod

BASE = [namespace("web"), pod("web", "a", {"app": "a"}, ports=[("http", "TCP", 80)]), pod("web", "b", {"app": "b"})]

scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.sampled_from(
    ["", "all()", "app == 'a'", "app ==", "TCP", "UDP", "ANY", "80", "http", "8000:8100", "99999:1", "Allow",
     "Deny", "Pass", "Drop", "Reject", "Log", "world", "cluster", "10.0.0.0/8", "::/0", "nonsense/99", "Self",
     "Ingress", "Egress", "securityops", "default"]))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from([
            "selector", "namespaceSelector", "notSelector", "nets", "notNets", "ports", "notPorts", "protocol",
            "action", "source", "destination", "ingress", "egress", "ingressDeny", "egressDeny", "types", "order",
            "tier", "endpointSelector", "fromEndpoints", "toEndpoints", "toPorts", "port", "endPort", "rules",
            "fromCIDR", "toCIDRSet", "cidr", "except", "toEntities", "fromEntities", "matchLabels",
            "matchExpressions", "key", "operator", "values", "appliedTo", "podSelector", "priority", "from", "to",
            "namespaces", "match", "ipBlock", "group", "serviceAccounts", "names", "toFQDNs", "enableDefaultDeny",
            "specs", "spec", "nodeSelector", "childGroups", "ipBlocks", "defaultAction", "http", "ipVersion"]),
            inner, max_size=4),
    ),
    max_leaves=12,
)


@st.composite
def hostile_object(draw: Any) -> dict[str, Any]:
    kind = draw(st.sampled_from(CNI_KINDS))
    meta: dict[str, Any] = {"name": draw(st.sampled_from(["x", "default.x", "security.x"]))}
    if kind.namespaced:
        meta["namespace"] = "web"
    obj: dict[str, Any] = {"apiVersion": kind.api_versions()[0], "kind": kind.kind, "metadata": meta}
    obj["spec"] = draw(values)
    if draw(st.integers(0, 4)) == 0:
        obj["specs"] = draw(values)
    return obj


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(hostile_object(), min_size=1, max_size=3), st.sampled_from(["calico", "cilium", "antrea", None]))
def test_malformed_cni_objects_never_crash(objs: list[dict[str, Any]], cni: str | None) -> None:
    cluster = build_cluster([*BASE, *objs], cni=cni, strict=False)
    reach = Analyzer(cluster).analyze(level="pod")
    assert reach.nodes
    explain(cluster, "web/a", "web/b", port=80)
    findings(cluster)
    for info in cluster.cni_policies.values():
        info.to_dict()
        for p in info.problems:
            assert p.path


# -- hostile outlines and values (hqa) -----------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=20), st.sampled_from(["\x00", "<script>", "'\"", "ä", "1e400", "nan", "-1", "65536"]),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=8,
)

GOOD_SPECS: dict[str, dict[str, Any]] = {
    "calico": {
        "tier": "default", "order": 10, "selector": "app == 'a'", "types": ["Ingress", "Egress"],
        "ingress": [{"action": "Allow", "protocol": "TCP", "source": {"selector": "all()", "nets": ["10.0.0.0/8"]},
                     "destination": {"ports": [80, "8000:8100"]}}],
        "egress": [{"action": "Deny", "destination": {"namespaceSelector": "global()", "notNets": ["::/0"]}}],
    },
    "cilium": {
        "endpointSelector": {"matchLabels": {"app": "a"}},
        "ingress": [{"fromEndpoints": [{"matchLabels": {"app": "b"}}],
                     "toPorts": [{"ports": [{"port": "80", "endPort": 90, "protocol": "TCP"}]}]}],
        "egressDeny": [{"toCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}]}],
    },
    "antrea": {
        "tier": "securityops", "priority": 5,
        "appliedTo": [{"podSelector": {"matchLabels": {"app": "a"}}}],
        "ingress": [{"action": "Allow", "from": [{"podSelector": {}, "namespaceSelector": {}}],
                     "ports": [{"protocol": "TCP", "port": 80, "endPort": 90}]}],
        "egress": [{"action": "Drop", "to": [{"ipBlock": {"cidr": "10.0.0.0/8"}}]}],
    },
}


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, (*prefix, k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, (*prefix, i)))
    return out


def _with(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    if isinstance(value, dict):
        return {**value, path[0]: _with(value[path[0]], path[1:], new)}
    copy = list(value)
    copy[path[0]] = _with(copy[path[0]], path[1:], new)
    return copy


@st.composite
def one_field_spoiled(draw: Any) -> dict[str, Any]:
    """A valid-looking object of any CNI kind with one field (at any depth) replaced by
    a random JSON-ish value."""
    kind = draw(st.sampled_from(CNI_KINDS))
    spec: dict[str, Any] = GOOD_SPECS[kind.cni] if kind.policy else {"order": 5, "priority": 5, "selector": "all()",
                                                                      "childGroups": ["g"], "nets": ["10.0.0.0/8"]}
    meta: dict[str, Any] = {"name": "x"}
    if kind.namespaced:
        meta["namespace"] = "web"
    obj: dict[str, Any] = {"apiVersion": kind.api_versions()[0], "kind": kind.kind, "metadata": meta, "spec": spec}
    path = draw(st.sampled_from(_paths(obj)[2:]))  # never apiVersion/kind
    return dict(_with(obj, path, draw(json_values)))


@settings(max_examples=400, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(one_field_spoiled(), min_size=1, max_size=3), st.sampled_from(["calico", "cilium", "antrea"]))
def test_one_spoiled_field_at_any_depth_never_crashes(objs: list[dict[str, Any]], cni: str) -> None:
    cluster = build_cluster([*BASE, *objs], cni=cni, strict=False)
    Analyzer(cluster).analyze(level="pod")
    explain(cluster, "web/a", "web/b", port=80)
    findings(cluster)
    for info in cluster.cni_policies.values():
        info.to_dict()
        assert all(p.path for p in info.problems)


def _policy(cni: str, obj_overrides: dict[str, Any]) -> dict[str, Any]:
    kind = {"calico": ("projectcalico.org/v3", "NetworkPolicy"), "cilium": ("cilium.io/v2", "CiliumNetworkPolicy"),
            "antrea": ("crd.antrea.io/v1beta1", "NetworkPolicy")}[cni]
    obj: dict[str, Any] = {"apiVersion": kind[0], "kind": kind[1], "metadata": {"name": "x", "namespace": "web"},
                           "spec": GOOD_SPECS[cni]}
    obj.update(obj_overrides)
    return obj


def test_a_policy_whose_spec_is_not_a_mapping_is_invalid_not_an_empty_policy() -> None:
    # Read as {} it would select every pod of web and deny their ingress (Calico).
    for cni in ("calico", "cilium", "antrea"):
        cluster = build_cluster([*BASE, _policy(cni, {"spec": [1, 2]})], cni=cni, strict=False)
        (info,) = cluster.cni_policies.values()
        assert not info.enforced, cni
        assert ("spec", "must be a mapping") in [(p.path, p.message) for p in info.problems], cni
        assert not cluster.cni_tier_policies
        assert explain(cluster, "web/b", "web/a", port=80).allowed, cni


def test_a_policy_without_a_usable_name_or_metadata_is_invalid() -> None:
    for cni in ("calico", "antrea"):
        for meta, path in ((["x"], "metadata"), ({"namespace": "web"}, "metadata.name"),
                           ({"name": ["x"], "namespace": "web"}, "metadata.name"),
                           ({"name": "x", "namespace": {"a": 1}}, "metadata.namespace")):
            cluster = build_cluster([*BASE, _policy(cni, {"metadata": meta})], cni=cni, strict=False)
            (info,) = cluster.cni_policies.values()
            assert not info.enforced, (cni, meta)
            assert path in [p.path for p in info.problems], (cni, meta)


def test_a_cilium_specs_that_is_not_a_list_of_mappings_is_named() -> None:
    obj = _policy("cilium", {"specs": "abc"})
    del obj["spec"]
    (info,) = build_cluster([*BASE, obj], cni="cilium", strict=False).cni_policies.values()
    assert "specs" in [p.path for p in info.problems]


def test_an_antrea_tier_with_a_non_finite_priority_is_ignored_with_a_note() -> None:
    for prio in ("nan", float("nan"), float("inf"), "-inf", None, [1]):
        tier = {"apiVersion": "crd.antrea.io/v1beta1", "kind": "Tier", "metadata": {"name": "t"},
                "spec": {"priority": prio}}
        pol = _policy("antrea", {"spec": {**GOOD_SPECS["antrea"], "tier": "t"}})
        cluster = build_cluster([*BASE, tier, pol], cni="antrea", strict=False)
        assert "t" not in [name for name, _, _ in cluster.cni_tiers], prio
        (info,) = cluster.cni_policies.values()
        assert not info.enforced
        assert "spec.tier" in [p.path for p in info.problems]


def _group(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": "crd.antrea.io/v1beta1", "kind": "ClusterGroup", "metadata": {"name": name}, "spec": spec}


def test_antrea_groups_with_wrong_child_or_block_types_or_themselves_as_child_are_named() -> None:
    pol = {"apiVersion": "crd.antrea.io/v1beta1", "kind": "ClusterNetworkPolicy", "metadata": {"name": "p"},
           "spec": {"priority": 1, "tier": "securityops", "appliedTo": [{"group": "g"}],
                    "ingress": [{"action": "Drop", "from": [{"podSelector": {}}]}]}}
    for spec, words in (
        ({"childGroups": "abc"}, "spec.childGroups must be a list of group names"),
        ({"childGroups": [1, 2]}, "spec.childGroups must be a list of group names"),
        ({"ipBlocks": 5, "podSelector": {}}, "spec.ipBlocks must be a list of IP blocks"),
        ({"childGroups": ["g"], "podSelector": {"matchLabels": {"app": "a"}}}, "a group cannot be its own child"),
    ):
        cluster = build_cluster([*BASE, _group("g", spec), pol], cni="antrea", strict=False)
        notes = " | ".join(cluster.notes) if hasattr(cluster, "notes") else ""
        (info,) = cluster.cni_policies.values()
        # a string is not read letter by letter as group names
        assert not any("child group 'a'" in p.message for p in info.problems), spec
        assert words in notes, (spec, notes)
