"""CNI policies as v1 NetworkPolicies: where the translation says it is exact, the
cluster answers the same with the CNI policy (its CNI enforcing) and with the
translation (no CNI); where it is not, it says why."""

from __future__ import annotations

import ipaddress
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policies.engine import Analyzer, build_cluster, validate_network_policy
from policies.engine.cni.translate import to_network_policy

from .builders import namespace, pod
from .strategies import labels_st
from .test_cni_properties import NS, PORTS, calico_policy_st, cilium_policy_st


def answers(objs: list[dict[str, Any]], cni: str) -> dict[tuple[str, str], str]:
    """Connections by (src, dst), external ranges named by their probe addresses (a
    translation may cut the outside address space differently and mean the same)."""
    reach = Analyzer(build_cluster(objs, cni=cni)).analyze(level="pod")
    pairs = {(c.src.key, c.dst.key): c.conns for c in reach.connections}
    probes = ["0.0.0.0", "9.255.255.255", "10.0.0.1", "10.1.2.3", "11.0.0.0", "192.168.1.1", "255.255.255.255",
              "::1", "2001:db8::1"]

    def names(key: str) -> list[str]:
        node = reach.node(key)
        if node is None or not node.is_external or node.ip_range is None:
            return [key]
        first, last = (ipaddress.ip_address(a) for a in node.ip_range)
        return [p for p in probes if ipaddress.ip_address(p).version == first.version
                and first <= ipaddress.ip_address(p) <= last]

    out: dict[tuple[str, str], str] = {}
    for (src, dst), conns in pairs.items():
        for s in names(src):
            for d in names(dst):
                out[(s, d)] = str(conns)
    return out


@st.composite
def one_policy_cluster(draw: Any, maker: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    objs: list[dict[str, Any]] = [namespace(n, env=draw(st.sampled_from(["prod", "dev"]))) for n in NS]
    for i in range(draw(st.integers(1, 4))):
        objs.append(pod(draw(st.sampled_from(NS)), f"pod{i}", draw(labels_st),
                        ports=draw(st.lists(st.sampled_from(PORTS), max_size=2, unique=True))))
    return objs, draw(maker(0))


def check(objs: list[dict[str, Any]], policy: dict[str, Any], cni: str) -> bool:
    t = to_network_policy(policy)
    if not t.exact:
        assert t.policy is None
        assert t.reasons
        return False
    assert t.policy is not None
    assert validate_network_policy(t.policy) == []
    assert answers([*objs, policy], cni) == answers([*objs, t.policy], "none"), t.policy
    return True


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(one_policy_cluster(calico_policy_st))
def test_exact_calico_translations_answer_the_same(case: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
    check(*case, "calico")


@st.composite
def allow_only_cilium(draw: Any, i: int) -> dict[str, Any]:
    """Namespaced CiliumNetworkPolicies without deny rules: most translate."""
    obj = draw(cilium_policy_st(i))
    spec = {k: v for k, v in obj["spec"].items() if k not in ("ingressDeny", "egressDeny", "enableDefaultDeny")}
    return {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy",
            "metadata": {"name": f"c{i}", "namespace": draw(st.sampled_from(NS))}, "spec": spec}


@settings(max_examples=300, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
@given(one_policy_cluster(allow_only_cilium))
def test_exact_cilium_translations_answer_the_same(case: tuple[list[dict[str, Any]], dict[str, Any]]) -> None:
    check(*case, "cilium")


def test_examples_and_reasons() -> None:
    ok = {"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy", "metadata": {"name": "p", "namespace": "db"},
          "spec": {"selector": "app == 'pg' && has(tier)", "ingress": [
              {"action": "Allow", "protocol": "TCP", "source": {"selector": "app in {'api'}", "namespaceSelector": "all()"},
               "destination": {"ports": [5432, "8000:8100", "metrics"]}}]}}
    t = to_network_policy(ok)
    assert t.exact
    assert t.policy is not None
    assert t.policy["spec"] == {
        "podSelector": {"matchLabels": {"app": "pg"}, "matchExpressions": [{"key": "tier", "operator": "Exists"}]},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"namespaceSelector": {}, "podSelector": {"matchExpressions": [
            {"key": "app", "operator": "In", "values": ["api"]}]}}],
            "ports": [{"protocol": "TCP", "port": 5432}, {"protocol": "TCP", "port": 8000, "endPort": 8100},
                      {"protocol": "TCP", "port": "metrics"}]}],
    }
    deny = {**ok, "spec": {**ok["spec"], "ingress": [{"action": "Deny"}]}}
    assert to_network_policy(deny).reasons == ["spec.ingress[0]: action Deny has no v1 equivalent (v1 rules only allow)"]
    starts = {**ok, "spec": {**ok["spec"], "selector": "app starts with 'p'"}}
    assert "has no label selector equivalent" in to_network_policy(starts).reasons[0]
    acnp = {"apiVersion": "crd.antrea.io/v1beta1", "kind": "ClusterNetworkPolicy", "metadata": {"name": "x"}, "spec": {}}
    assert not to_network_policy(acnp).exact
    fqdn = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "c", "namespace": "web"},
            "spec": {"endpointSelector": {}, "egress": [{"toFQDNs": [{"matchName": "x.example"}]}]}}
    assert to_network_policy(fqdn).reasons == ["spec.egress[0].toFQDNs has no v1 equivalent"]
