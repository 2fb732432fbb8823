"""The side panel of an address-range node that stands for several ranges (an ipBlock with
an `except`, "other IPv4 addresses"): every range it stands for with its CIDRs, every
policy rule whose ipBlock holds one of them, and every cluster-wide or CNI rule whose
CIDRs do."""

from __future__ import annotations

import pytest
from django.urls import reverse

from policies.models import Cluster, ClusterPolicy, CniObject
from tests.engine.builders import anp, banp, cnp, namespace, netpol, pod
from tests.views.test_pages import json_script

WITH_EXCEPT = "10.0.0.0/8 except 10.1.0.0/16"


@pytest.fixture
def viewer(client_for):
    return client_for("viewer")


def egress_to(name: str, block: dict) -> dict:
    return netpol("shop", name, policy_types=["Egress"], egress=[{"to": [{"ipBlock": block}]}])


def cluster_with(*extra: dict) -> Cluster:
    from policies import mirror

    cluster = Cluster.objects.create(name="r", source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")
    mirror.load_snapshot(
        cluster,
        [
            namespace("shop"),
            pod("shop", "web", {"app": "web"}, ip="10.9.0.1"),
            egress_to("to-ten-but-one", {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}),
            egress_to("to-ten", {"cidr": "10.0.0.0/8"}),
            *extra,
        ],
    )
    cluster.refresh_from_db()
    return cluster


@pytest.fixture
def cluster(db):
    return cluster_with()


SHOP = {"namespaces": {"matchLabels": {"kubernetes.io/metadata.name": "shop"}}}
TO_TEN_ONE = [{"networks": ["10.1.0.0/16"]}]
CLUSTER_WIDE = [
    anp("admin-ten-one", 10, SHOP, egress=[{"name": "to-ten-one", "action": "Allow", "to": TO_TEN_ONE}]),
    banp(SHOP, egress=[{"name": "deny-ten-one", "action": "Deny", "to": TO_TEN_ONE}]),
    cnp("cnp-ten-one", "Admin", 20, SHOP, egress=[{"action": "Accept", "to": TO_TEN_ONE}]),
]
CALICO = [
    pod("kube-system", "calico-node-a", {"k8s-app": "calico-node"}, host_network=True),
    {
        "apiVersion": "projectcalico.org/v3",
        "kind": "GlobalNetworkPolicy",
        "metadata": {"name": "web-out"},
        "spec": {
            "order": 10,
            "selector": "app == 'web'",
            "types": ["Egress"],
            "egress": [
                {"action": "Allow", "protocol": "TCP", "destination": {"ports": [53]}},
                {"action": "Allow", "destination": {"nets": ["10.1.0.0/16"]}},
                {"action": "Deny", "destination": {"notNets": ["192.168.0.0/16"]}},
            ],
        },
    },
]
CILIUM = [
    pod("kube-system", "cilium-a", {"k8s-app": "cilium"}, host_network=True),
    {
        "apiVersion": "cilium.io/v2",
        "kind": "CiliumNetworkPolicy",
        "metadata": {"name": "web-out", "namespace": "shop"},
        "spec": {
            "endpointSelector": {"matchLabels": {"app": "web"}},
            "egress": [{"toCIDR": ["10.1.0.0/16"]}],
            "egressDeny": [{"toCIDRSet": [{"cidr": "10.0.0.0/8", "except": ["10.2.0.0/16"]}]}],
        },
    },
]
ANTREA = [
    pod("kube-system", "antrea-agent-a", {"app": "antrea", "component": "antrea-agent"}, host_network=True),
    {
        "apiVersion": "crd.antrea.io/v1beta1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "web-out", "namespace": "shop"},
        "spec": {
            "priority": 5,
            "appliedTo": [{"podSelector": {"matchLabels": {"app": "web"}}}],
            "egress": [
                {"action": "Allow", "to": [{"podSelector": {}}]},
                {"action": "Allow", "to": [{"ipBlock": {"cidr": "10.1.0.0/16"}}]},
            ],
        },
    },
]


def panel(viewer, cluster: Cluster, node_id: str, level: str = "workload") -> str:
    response = viewer.get(reverse("node", args=[cluster.pk]), {"id": node_id, "level": level}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    return response.content.decode()


def test_the_graph_draws_the_except_block_as_one_node_of_two_ranges(viewer, cluster):
    page = viewer.get(reverse("graph", args=[cluster.pk]), {"level": "workload"}).content.decode()
    nodes = {n["id"]: n for n in json_script(page, "graph-data")["nodes"]}
    assert nodes[WITH_EXCEPT]["ranges"] == [["10.0.0.0", "10.0.255.255"], ["10.2.0.0", "10.255.255.255"]]


@pytest.mark.parametrize("level", ["workload", "tier", "namespace"])
def test_a_range_node_lists_every_range_and_the_policies_naming_them(viewer, cluster, level):
    html = panel(viewer, cluster, WITH_EXCEPT, level)
    ranges = html.split('data-testid="node-ranges"')[1].split("</ul>")[0]
    assert "10.0.0.0 – 10.0.255.255" in ranges
    assert "10.0.0.0/16" in ranges
    assert "10.2.0.0 – 10.255.255.255" in ranges
    assert "10.2.0.0/15, 10.4.0.0/14, 10.8.0.0/13, 10.16.0.0/12, 10.32.0.0/11, 10.64.0.0/10, 10.128.0.0/9" in ranges
    assert "10.1." not in ranges
    naming = html.split('data-testid="node-range-policies"')[1].split("</ul>")[0]
    assert "shop/to-ten-but-one" in naming
    assert f"egress rule #0: {WITH_EXCEPT}" in naming
    assert "shop/to-ten<" in naming
    assert "egress rule #0: 10.0.0.0/8<" in naming
    # the pod reaching both ranges is one source of the node
    inbound = html.split('class="conn-list inbound"')[1].split("</ul>\n</li>")[0]
    assert inbound.count('class="conn"') == 1


def test_the_excepted_range_is_named_only_by_the_block_that_holds_it(viewer, cluster):
    html = panel(viewer, cluster, "10.0.0.0/8")
    ranges = html.split('data-testid="node-ranges"')[1].split("</ul>")[0]
    assert "10.1.0.0 – 10.1.255.255 <span" in ranges
    assert "10.1.0.0/16" in ranges
    assert "10.2.0.0" not in ranges
    naming = html.split('data-testid="node-range-policies"')[1].split("</ul>")[0]
    assert "shop/to-ten<" in naming
    assert "to-ten-but-one" not in naming


def test_a_workload_or_an_unknown_id_keeps_its_own_panel(viewer, cluster):
    assert 'data-testid="node-ranges"' not in panel(viewer, cluster, "shop/web[Pod]")
    response = viewer.get(reverse("node", args=[cluster.pk]), {"id": "10.3.0.0/16", "level": "workload"})
    assert response.status_code == 404


def tier_rules(html: str) -> list[str]:
    listed = html.split('data-testid="node-range-tier-rules"')[1].split("</ul>")[0]
    return [item.split("</li>")[0] for item in listed.split("<li>")[1:]]


@pytest.mark.parametrize(
    ("cni_objects", "rules"),
    [
        (CALICO, ["egress rule #1: nets 10.1.0.0/16", "egress rule #2: notNets 192.168.0.0/16"]),
        (
            CILIUM,
            [
                'egress rule #0 "egressDeny[0]": CIDR set 10.0.0.0/8 except 10.2.0.0/16',
                'egress rule #0 "egress[0]": CIDR 10.1.0.0/16',
            ],
        ),
        (ANTREA, ["egress rule #1: ipBlock 10.1.0.0/16"]),
    ],
    ids=["calico", "cilium", "antrea"],
)
def test_a_range_node_lists_the_cluster_wide_and_cni_rules_naming_it(viewer, db, cni_objects, rules):
    cluster = cluster_with(*CLUSTER_WIDE, *cni_objects)
    listed = tier_rules(panel(viewer, cluster, "10.0.0.0/8"))
    ids = {p.name: p.pk for p in ClusterPolicy.objects.filter(cluster=cluster)}
    cni = CniObject.objects.get(cluster=cluster, name="web-out")
    expected = [
        (reverse("cluster-policy-detail", args=[ids["admin-ten-one"]]), 'egress rule #0 "to-ten-one": networks 10.1.0.0/16'),
        (reverse("cluster-policy-detail", args=[ids["cnp-ten-one"]]), "egress rule #0: networks 10.1.0.0/16"),
        (reverse("cluster-policy-detail", args=[ids["default"]]), 'egress rule #0 "deny-ten-one": networks 10.1.0.0/16'),
        *((reverse("cni-policy-detail", args=[cni.pk]), rule) for rule in rules),
    ]
    assert len(listed) == len(expected), listed
    for item, (href, position) in zip(listed, expected, strict=True):
        assert f'href="{href}"' in item
        assert position in item.replace("&quot;", '"')
