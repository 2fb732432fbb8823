"""Clone to a v1 NetworkPolicy draft, only where the translation is exact.

Cilium's Policy Language page (docs.cilium.io/en/stable/security/policy/language/):
"endpointSelector ... selects the endpoints the policy applies to"; in a namespaced
CiliumNetworkPolicy, "fromEndpoints" without a namespace label select endpoints of the
policy's namespace, and `k8s:io.kubernetes.pod.namespace` names another one; `toPorts`
without `rules` is a layer 4 allow; `protocol` defaults to ANY. Its CIDR section: CIDR
rules "do not apply to traffic where both sides of the connection are either managed by
Cilium or use an IP belonging to a node in the cluster", which a v1 ipBlock does not say.
"""

from __future__ import annotations

import copy

import pytest

from policies.engine import validate_network_policy
from policies.models import CniObject
from policies.services.cni_clone import NotExact, cilium_to_v1, clone_verdict

from .manifests import ANTREA_ANP, CALICO_NP, CILIUM_CCNP, CILIUM_CNP

ALLOW = {
    "apiVersion": "cilium.io/v2",
    "kind": "CiliumNetworkPolicy",
    "metadata": {"name": "api-from-prometheus", "namespace": "team-a", "labels": {"owner": "sre"}},
    "spec": {
        "endpointSelector": {"matchLabels": {"app": "api"}},
        "ingress": [
            {
                "fromEndpoints": [
                    {"matchLabels": {"k8s:io.kubernetes.pod.namespace": "monitoring", "app": "prometheus"}},
                    {"matchLabels": {"k8s:role": "web"}},
                    {},
                ],
                "toPorts": [{"ports": [{"port": "8080", "protocol": "TCP"}, {"port": "9000", "endPort": 9010, "protocol": "UDP"}]}],
            },
            {"toPorts": [{"ports": [{"port": "http"}]}]},
        ],
        "egress": [
            {
                "toEndpoints": [
                    {"matchLabels": {"k8s:io.cilium.k8s.namespace.labels.team": "data"},
                     "matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}]}
                ]
            }
        ],
    },
}


def test_a_namespaced_allow_translates_peer_by_peer_and_port_by_port():
    v1 = cilium_to_v1(ALLOW)
    assert v1["metadata"] == {"name": "api-from-prometheus", "namespace": "team-a", "labels": {"owner": "sre"}}
    spec = v1["spec"]
    assert spec["podSelector"] == {"matchLabels": {"app": "api"}}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert spec["ingress"][0]["from"] == [
        {"podSelector": {"matchLabels": {"app": "prometheus"}},
         "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}},
        {"podSelector": {"matchLabels": {"role": "web"}}},
        {"podSelector": {}},  # empty in a namespaced policy: every endpoint of its namespace
    ]
    assert spec["ingress"][0]["ports"] == [
        {"protocol": "TCP", "port": 8080},
        {"protocol": "UDP", "port": 9000, "endPort": 9010},
    ]
    # No protocol is ANY: every protocol the answer knows, on the named port.
    assert spec["ingress"][1] == {"ports": [{"protocol": p, "port": "http"} for p in ("TCP", "UDP", "SCTP")]}
    assert spec["egress"][0]["to"] == [
        {"podSelector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["db"]}]},
         "namespaceSelector": {"matchLabels": {"team": "data"}}}
    ]
    assert validate_network_policy(v1) == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: s.update(ingressDeny=[{"fromEndpoints": [{}]}]), "spec.ingressDeny has no v1 NetworkPolicy equivalent"),
        (lambda s: s["ingress"][0].update(fromCIDR=["10.0.0.0/8"]), "never match endpoints inside the cluster"),
        (lambda s: s["ingress"][0].update(fromEntities=["world"]), "spec.ingress[0].fromEntities: it has no v1"),
        (lambda s: s["ingress"][0]["toPorts"][0].update(rules={"http": [{"method": "GET"}]}), "L7 rules narrow the traffic"),
        (lambda s: s.update(ingress=[{}]), "in Cilium it allows nothing, in a v1 NetworkPolicy everything"),
        (lambda s: s.update(enableDefaultDeny={"ingress": False}), "enableDefaultDeny false"),
        (lambda s: s["egress"][0].update(toFQDNs=[{"matchName": "example.com"}]), "spec.egress[0].toFQDNs"),
        (lambda s: s.update(endpointSelector={"matchLabels": {"reserved:host": ""}}), "is not a Kubernetes label"),
        # int() on these was a ValueError, a 500 on the CNI page
        (lambda s: s["ingress"][0]["toPorts"][0]["ports"][1].update(endPort="x"), "ports[1].endPort 'x' is not a port number"),
        (lambda s: s["ingress"][0]["toPorts"][0]["ports"][1].update(endPort="9" * 5000), "is not a port number"),
    ],
)
def test_what_a_v1_policy_cannot_say_is_refused_with_the_field(change, reason):
    obj = copy.deepcopy(ALLOW)
    change(obj["spec"])
    with pytest.raises(NotExact, match=reason.replace("[", r"\[").replace("]", r"\]")):
        cilium_to_v1(obj)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("obj", "cni", "possible", "words"),
    [
        (CILIUM_CNP, "cilium", False, "spec.ingressDeny"),
        (CILIUM_CCNP, "cilium", False, "no single namespace"),
        (CALICO_NP, "calico", False, "ordered within tiers"),
        (ANTREA_ANP, "antrea", False, "their Allow ends the evaluation"),
        (ALLOW, "cilium", True, ""),
    ],
)
def test_clone_verdict_per_cni(make_cluster, obj, cni, possible, words):
    cluster = make_cluster("c", rows=0)
    meta = obj["metadata"]
    row = CniObject(cluster=cluster, cni=cni, kind=obj["kind"], api_version=obj["apiVersion"],
                    namespace=meta.get("namespace", ""), name=meta["name"], uid="u", obj=obj, policy=True)
    verdict = clone_verdict(row)
    assert verdict.possible is possible
    assert words in verdict.reason
    assert (verdict.obj is not None) is possible


@pytest.mark.parametrize("port", ["²", "1" * 5000])
def test_a_port_int_refuses_is_kept_as_text_for_validation_to_name(port):
    """'²' passes isdigit() and int() refuses more than 4,300 digits: both were a ValueError."""
    obj = copy.deepcopy(ALLOW)
    obj["spec"]["ingress"][0]["toPorts"][0]["ports"][0]["port"] = port
    v1 = cilium_to_v1(obj)
    assert v1["spec"]["ingress"][0]["ports"][0] == {"protocol": "TCP", "port": port}
    assert any("ports[0].port" in e.path for e in validate_network_policy(v1))
