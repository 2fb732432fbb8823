"""The demo-cilium cluster: the demo's workloads and NetworkPolicies run by Cilium, whose
own policies change these answers (each compared with the plain demo cluster):

- docs.cilium.io, Deny Policies: "deny policies take precedence over allow policies":
  the ingressDeny from the monitoring namespace stops Prometheus scraping the backend
  that the v1 allow-prometheus-scrape allows;
- Policy Enforcement: a connection is allowed when some policy allows it: the CNP adds
  DNS (UDP and TCP 53 to kube-dns) to the payments API's egress, which the v1
  payments-egress isolated without it, and Prometheus to team-a's api on 8080;
- Entities: `world` is every address outside the cluster: team-a reaches none of them.
"""

from __future__ import annotations

import pytest

from policies.models import Cluster
from policies.services import analysis, cni

pytestmark = pytest.mark.django_db


def answers(cluster: Cluster) -> dict[tuple[str, str], str]:
    reach = analysis.analyzer(cluster).analyze(level="workload")
    pairs = [
        ("monitoring/prometheus[Deployment]", "shop/backend[Deployment]"),
        ("payments/payments-api[Deployment]", "kube-system/coredns[Deployment]"),
        ("monitoring/prometheus[Deployment]", "team-a/api[Deployment]"),
    ]
    out = {pair: str(reach.conns_between(*pair)) for pair in pairs}
    world = [n.key for n in reach.nodes if n.key.endswith("[External]")]
    out[("team-a/api[Deployment]", "world")] = "|".join(
        sorted({str(reach.conns_between("team-a/api[Deployment]", w)) for w in world})
    )
    return out


def test_cilium_policies_change_the_demos_answers(cilium_demo):
    plain = Cluster.objects.get(name="demo")
    assert cni.enforcing_cni(cilium_demo)["cni"] == "cilium"
    before, after = answers(plain), answers(cilium_demo)
    assert before[("monitoring/prometheus[Deployment]", "shop/backend[Deployment]")] == "TCP 9090"
    assert after[("monitoring/prometheus[Deployment]", "shop/backend[Deployment]")] == "No Connections"
    assert before[("payments/payments-api[Deployment]", "kube-system/coredns[Deployment]")] == "No Connections"
    assert after[("payments/payments-api[Deployment]", "kube-system/coredns[Deployment]")] == "TCP 53,UDP 53"
    assert before[("monitoring/prometheus[Deployment]", "team-a/api[Deployment]")] == "No Connections"
    assert after[("monitoring/prometheus[Deployment]", "team-a/api[Deployment]")] == "TCP 8080"
    assert "All Connections" in before[("team-a/api[Deployment]", "world")].split("|")
    assert after[("team-a/api[Deployment]", "world")] == "No Connections"


def test_the_calico_leftover_is_listed_not_applied(cilium_demo):
    leftover = next(o for o in cilium_demo.cni_objects.all() if o.key == "calico:GlobalNetworkPolicy:legacy-deny-payments")
    info = cni.policy_info(leftover)
    assert info["enforced"] is False
    assert "not enforced here" in info["not_enforced_reason"]
    # shop -> payments/ledger is what it would deny; Cilium's answer does not change.
    plain = analysis.analyzer(Cluster.objects.get(name="demo")).analyze(level="workload")
    run = analysis.analyzer(cilium_demo).analyze(level="workload")
    pair = ("shop/backend[Deployment]", "payments/ledger[StatefulSet]")
    assert str(run.conns_between(*pair)) == str(plain.conns_between(*pair))
