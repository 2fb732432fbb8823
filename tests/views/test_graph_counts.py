"""Each edge of the graph page says how many workload pairs it stands for (`pairs`): the
same number as counting the workload pairs of the connection list between the members
of its two nodes, at every level, with namespaces and tiers opened, with address ranges
merged under the ipBlock that names them, and under a port filter."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from django.urls import reverse

from policies import engine
from policies.models import Cluster
from policies.services import analysis
from tests.views.test_pages import json_script


@pytest.fixture
def viewer(client_for):
    return client_for("viewer")


@pytest.fixture
def cluster(db):
    from bench.generate import generate_cluster
    from policies import mirror

    cluster = Cluster.objects.create(name="c", source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")
    mirror.load_snapshot(cluster, generate_cluster(pods=240, workloads=80, namespaces=4, policies=120, seed=4))
    cluster.refresh_from_db()
    return cluster


def workload_pairs(cluster: Cluster, direction: str = "combined") -> list[tuple[str, str, engine.ConnSet]]:
    payload = analysis.reachability(cluster, analysis.ReachabilityQuery(level="workload", direction=direction))
    return [(e["source"], e["target"], engine.ConnSet.from_json(e["conns"])) for e in payload["edges"]]


def counted_pairs(data: dict, pairs: list[tuple[str, str, engine.ConnSet]], port: int | None = None) -> Counter:
    """(drawn source, drawn destination) -> how many workload pairs lie between them."""
    node_of = {m: n["id"] for n in data["nodes"] for m in (n.get("members") or [n["id"]])}
    return Counter(
        (node_of[s], node_of[d])
        for s, d, conns in pairs
        if port is None or not conns.restrict("TCP", port).is_empty
    )


def graph_data(viewer, cluster: Cluster, **params) -> dict:
    page = viewer.get(reverse("graph", args=[cluster.pk]), params).content.decode()
    return json_script(page, "graph-data")


def assert_counts(data: dict, expected: Counter) -> None:
    assert data["edges"]
    for edge in data["edges"]:
        assert edge["pairs"] == expected[(edge["source"], edge["target"])], edge
    assert any(edge["pairs"] > 1 for edge in data["edges"])


@pytest.mark.parametrize("level", ["namespace", "tier"])
def test_an_aggregated_edge_counts_the_workload_pairs_between_its_nodes(viewer, cluster, level):
    data = graph_data(viewer, cluster, level=level)
    assert_counts(data, counted_pairs(data, workload_pairs(cluster)))


def test_workload_edges_count_one_pair_each_and_a_merged_range_the_sum_of_its_ranges(viewer, cluster):
    pairs = workload_pairs(cluster)
    data = graph_data(viewer, cluster, level="workload")
    merged = {n["id"] for n in data["nodes"] if len(n.get("ranges") or []) > 1}
    assert merged  # some ipBlock names several ranges
    expected = counted_pairs(data, pairs)
    for edge in data["edges"]:
        assert edge["pairs"] == expected[(edge["source"], edge["target"])]
        if edge["source"] not in merged and edge["target"] not in merged:
            assert edge["pairs"] == 1
    assert any(e["pairs"] > 1 for e in data["edges"] if e["source"] in merged or e["target"] in merged)


def test_opened_namespaces_and_tiers_count_pairs_between_what_is_drawn(viewer, cluster):
    tier = next(
        t for t in analysis.level_nodes(cluster, "tier") if not t["external"] and len(t.get("members") or []) > 1
    )
    data = graph_data(
        viewer, cluster, level="namespace", expand=tier["namespace"], expand_tier=tier["id"], direction="egress"
    )
    assert {n["level"] for n in data["nodes"]} >= {"namespace", "tier", "workload"}
    assert_counts(data, counted_pairs(data, workload_pairs(cluster, "egress")))


def test_under_a_port_filter_only_the_pairs_allowing_that_port_count(viewer, cluster):
    pairs = workload_pairs(cluster)
    whole = graph_data(viewer, cluster, level="namespace")
    # a port some pairs of a namespace pair allow and others not
    port, (src, _) = next(
        (port, key)
        for port in (53, 443, 8000, 8080)
        for key, n in counted_pairs(whole, pairs, port).items()
        if 0 < n < counted_pairs(whole, pairs)[key]
    )
    for params in ({"level": "namespace"}, {"level": "namespace", "expand": src}):
        data = graph_data(viewer, cluster, protocol="TCP", port=port, **params)
        expected = counted_pairs(data, pairs, port)
        assert_counts(data, expected)
        assert expected != counted_pairs(data, pairs)


def explain_panel(viewer, cluster: Cluster, src: str, dst: str, **params) -> str:
    response = viewer.get(
        reverse("explain", args=[cluster.pk]), {"src": src, "dst": dst, **params}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    return response.content.decode()


def explained_pairs(html: str) -> list[tuple[str, str, str]]:
    """(verdict class, source, destination) of each pair the panel explains."""
    return re.findall(r'<article class="explanation (\w+)" data-src="([^"]*)" data-dst="([^"]*)"', html)


def edge_some_of_whose_pairs_lack_the_port(data: dict, pairs, port: int) -> dict | None:
    every_port = counted_pairs(data, pairs)
    return next((e for e in data["edges"] if e["pairs"] < every_port[(e["source"], e["target"])]), None)


@pytest.mark.parametrize("protocol", ["TCP", ""])
def test_under_a_port_filter_an_aggregated_edge_explains_the_pairs_its_label_counts(viewer, cluster, protocol):
    pairs = workload_pairs(cluster)
    port = 53
    namespaces = [n["id"] for n in graph_data(viewer, cluster, level="namespace")["nodes"] if not n["external"]]
    views = [({"level": "namespace"}, None), *(({"level": "namespace", "expand": ns}, ns) for ns in namespaces)]
    checked = set()
    for params, opened in views:
        data = graph_data(viewer, cluster, protocol=protocol, port=port, **params)
        edge = edge_some_of_whose_pairs_lack_the_port(data, pairs, port)
        if edge is None:
            continue
        checked.add(opened is not None)
        html = explain_panel(viewer, cluster, edge["source"], edge["target"], port=port, protocol=protocol, **params)
        count = edge["pairs"]
        assert f"{count} workload pair{'s' if count > 1 else ''} in this edge" in html
        node_of = {m: n["id"] for n in data["nodes"] for m in (n.get("members") or [n["id"]])}
        allowing = {
            (s, d)
            for s, d, conns in pairs
            if (node_of[s], node_of[d]) == (edge["source"], edge["target"])
            and not conns.restrict(protocol or None, port).is_empty
        }
        listed = explained_pairs(html)
        assert {(s, d) for _, s, d in listed} <= allowing
        assert len(listed) == min(len(allowing), 25)
        assert {verdict for verdict, _, _ in listed} == {"allowed"}
    assert checked == {False, True}


def test_a_workload_edge_of_a_merged_range_node_totals_its_pairs_and_gives_each_range_a_verdict(viewer, cluster):
    data = graph_data(viewer, cluster, level="workload")
    ranges = {n["id"]: n["members"] for n in data["nodes"] if len(n.get("ranges") or []) > 1}
    edge = max(
        (e for e in data["edges"] if e["source"] in ranges or e["target"] in ranges), key=lambda e: e["pairs"]
    )
    html = explain_panel(viewer, cluster, edge["source"], edge["target"], level="workload")
    count = edge["pairs"]
    assert f"{count} workload pair{'s' if count > 1 else ''} in this edge; the verdict for each address range" in html
    role = {n["id"]: n.get("external_role") for n in analysis.level_nodes(cluster, "workload") if n["external"]}
    # a merged node holds the ranges cut for sources and those cut for destinations
    sources = [k for k in ranges.get(edge["source"], [edge["source"]]) if role.get(k, "source") in ("source", "both")]
    targets = [k for k in ranges.get(edge["target"], [edge["target"]]) if role.get(k, "destination") in ("destination", "both")]
    assert len(sources) * len(targets) > 1
    listed = explained_pairs(html)
    assert sorted((s, d) for _, s, d in listed) == sorted((s, d) for s in sources for d in targets)
    assert sum(verdict == "allowed" for verdict, _, _ in listed) == count


def test_a_port_on_any_protocol_explains_a_workload_pair_on_the_protocol_it_allows(viewer, db):
    from policies import mirror
    from tests.engine.builders import namespace, netpol, pod

    cluster = Cluster.objects.create(name="dns", source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")
    mirror.load_snapshot(
        cluster,
        [
            namespace("shop"),
            pod("shop", "web", {"app": "web"}),
            pod("shop", "dns", {"app": "dns"}),
            netpol("shop", "dns-udp", podSelector={"matchLabels": {"app": "dns"}}, policyTypes=["Ingress"],
                   ingress=[{"ports": [{"protocol": "UDP", "port": 53}]}]),
        ],
    )
    cluster.refresh_from_db()
    data = graph_data(viewer, cluster, level="workload", port=53)
    edge = next(e for e in data["edges"] if (e["source"], e["target"]) == ("shop/web[Pod]", "shop/dns[Pod]"))
    assert edge["label"] == "UDP 53"
    html = explain_panel(viewer, cluster, "shop/web[Pod]", "shop/dns[Pod]", level="workload", port=53)
    assert explained_pairs(html) == [("allowed", "shop/web[Pod]", "shop/dns[Pod]")]
