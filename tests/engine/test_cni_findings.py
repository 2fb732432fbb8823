"""Findings about CNI policies: each check fires on the state it describes and stays
quiet on a close state that does not have the problem."""

from __future__ import annotations

from typing import Any

from policies.engine import FINDING_CODES, build_cluster, findings

from .builders import namespace, pod

BASE = [namespace("web"), namespace("db"), pod("web", "front", {"app": "front"}),
        pod("web", "admin", {"app": "admin"}), pod("db", "pg", {"app": "pg"})]


def gnp(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", "metadata": {"name": name}, "spec": spec}


def codes(objs: list[dict[str, Any]], cni: str | None = "calico") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in findings(build_cluster(objs, cni=cni)):
        out.setdefault(f.code, []).append(f.message)
    return out


def test_codes_are_declared() -> None:
    for code in ("cni-policy-invalid", "cni-policy-not-enforced", "cni-rule-shadowed",
                 "cni-rule-not-static", "cni-not-evaluated", "cni-policy-selects-nothing"):
        assert code in FINDING_CODES


def test_not_enforced_here() -> None:
    pol = gnp("p", selector="app == 'pg'", ingress=[{"action": "Deny"}])
    found = codes([*BASE, pol], cni="cilium")
    assert found["cni-policy-not-enforced"] == [
        "calico:GlobalNetworkPolicy:p: a calico policy, but the cluster's CNI is cilium "
        "(set by the user): not enforced here, never applied"
    ]
    assert "cni-policy-not-enforced" not in codes([*BASE, pol])


def test_a_finding_names_its_cni_object_by_key() -> None:
    pol = {"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
           "metadata": {"name": "p", "namespace": "db"}, "spec": {"selector": "app == 'nobody'"}}
    found = findings(build_cluster([*BASE, pol], cni="calico"))
    assert [(f.code, f.object_kind, f.object_key) for f in found if f.code.startswith("cni-")] == [
        ("cni-policy-selects-nothing", "NetworkPolicy", "calico:NetworkPolicy:db/p")
    ]


def test_invalid_selector_with_position() -> None:
    pol = gnp("p", selector="app == 'pg' &&", ingress=[{"action": "Deny"}])
    [msg] = codes([*BASE, pol])["cni-policy-invalid"]
    assert "spec.selector" in msg
    assert "position 14" in msg


def test_calico_rule_shadowed_by_earlier_policy_and_rule() -> None:
    early = gnp("deny-front", order=10, selector="app == 'pg'", ingress=[
        {"action": "Deny", "source": {"selector": "app == 'front'"}}])
    late = gnp("allow-front", order=20, selector="app == 'pg'", ingress=[
        {"action": "Allow", "protocol": "TCP", "source": {"selector": "app == 'front'"}, "destination": {"ports": [80]}},
        {"action": "Allow", "source": {"selector": "app == 'admin'"}}])
    found = codes([*BASE, early, late])
    [msg] = found["cni-rule-shadowed"]
    assert msg.startswith("calico:GlobalNetworkPolicy:allow-front: ingress rule #0 (Allow) never decides")
    assert "deny-front" in msg
    # Different peers: not shadowed.
    other = gnp("deny-front", order=10, selector="app == 'pg'", ingress=[
        {"action": "Deny", "source": {"selector": "app == 'nobody'"}}])
    assert "cni-rule-shadowed" not in codes([*BASE, other, late])
    # A Log rule never shadows.
    log = gnp("deny-front", order=10, selector="app == 'pg'", ingress=[
        {"action": "Log", "source": {"selector": "app == 'front'"}}])
    assert "cni-rule-shadowed" not in codes([*BASE, log, late])


def test_antrea_rule_shadowed_within_policy() -> None:
    pol = {"apiVersion": "crd.antrea.io/v1beta1", "kind": "ClusterNetworkPolicy", "metadata": {"name": "p"},
           "spec": {"priority": 5, "appliedTo": [{"podSelector": {"matchLabels": {"app": "pg"}}}], "ingress": [
               {"action": "Drop", "name": "all"},
               {"action": "Allow", "name": "front", "from": [{"podSelector": {"matchLabels": {"app": "front"}}}]}]}}
    [msg] = codes([*BASE, pol], cni="antrea")["cni-rule-shadowed"]
    assert "ingress rule front (Allow)" in msg


def test_cilium_l7_fqdn_and_host_policy() -> None:
    cnp = {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "c", "namespace": "web"},
           "spec": {"endpointSelector": {}, "egress": [
               {"toFQDNs": [{"matchName": "example.com"}]},
               {"toEndpoints": [{}], "toPorts": [{"ports": [{"port": "80", "protocol": "TCP"}], "rules": {"http": [{}]}}]}]}}
    host = {"apiVersion": "cilium.io/v2", "kind": "CiliumClusterwideNetworkPolicy", "metadata": {"name": "h"},
            "spec": {"nodeSelector": {}, "ingress": [{"fromEntities": ["cluster"]}]}}
    found = codes([*BASE, cnp, host], cni="cilium")
    assert len(found["cni-rule-not-static"]) == 2
    assert any("host policy" in m for m in found["cni-not-evaluated"])


def test_selects_nothing() -> None:
    pol = gnp("p", selector="app == 'ghost'", ingress=[{"action": "Deny"}])
    assert codes([*BASE, pol])["cni-policy-selects-nothing"] == [
        "calico:GlobalNetworkPolicy:p: selects no pod (selector app == 'ghost')"]


def test_v1_isolation_findings_count_cni_isolation() -> None:
    """A workload a Calico policy isolates is not "not isolated"; a namespace only CNI
    policies restrict says so."""
    from .builders import netpol

    v1 = netpol("web", "front-only", podSelector={"matchLabels": {"app": "front"}}, ingress=[{}])
    lock = gnp("lock-admin", selector="app == 'admin'", types=["Ingress", "Egress"])
    found = {(f.code, f.object_name): f.message for f in findings(build_cluster([*BASE, v1, lock], cni="calico"))}
    assert ("ingress-not-isolated", "admin") not in found
    assert ("egress-not-isolated", "admin") not in found
    assert ("egress-not-isolated", "front") in found
    db_only = gnp("lock-pg", selector="app == 'pg'")
    found2 = {(f.code, f.object_name): f.message for f in findings(build_cluster([*BASE, db_only], cni="calico"))}
    assert found2[("namespace-without-policy", "db")] == (
        "no NetworkPolicy in this namespace: only calico policies restrict its pods")
    assert found2[("namespace-without-policy", "web")] == (
        "no NetworkPolicy in this namespace: every pod accepts and opens any connection")
