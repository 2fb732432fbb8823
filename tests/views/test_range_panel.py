"""The side panel of an address-range node that stands for several ranges (an ipBlock with
an `except`, "other IPv4 addresses"): every range it stands for with its CIDRs, and every
policy rule whose ipBlock holds one of them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from policies.models import Cluster
from tests.engine.builders import namespace, netpol, pod
from tests.views.test_pages import json_script

WITH_EXCEPT = "10.0.0.0/8 except 10.1.0.0/16"


@pytest.fixture
def viewer(client_for):
    return client_for("viewer")


@pytest.fixture
def cluster(db):
    from policies import mirror

    def egress_to(name: str, block: dict) -> dict:
        return netpol("shop", name, policy_types=["Egress"], egress=[{"to": [{"ipBlock": block}]}])

    cluster = Cluster.objects.create(name="r", source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")
    mirror.load_snapshot(
        cluster,
        [
            namespace("shop"),
            pod("shop", "web", {"app": "web"}, ip="10.9.0.1"),
            egress_to("to-ten-but-one", {"cidr": "10.0.0.0/8", "except": ["10.1.0.0/16"]}),
            egress_to("to-ten", {"cidr": "10.0.0.0/8"}),
        ],
    )
    cluster.refresh_from_db()
    return cluster


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
