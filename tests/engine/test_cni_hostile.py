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
