"""Reachability of large clusters in pieces: pages of sources (offset/limit), the edges of
one node, and the summary endpoint; each checked against the whole workload-level
payload of the same cluster."""

from __future__ import annotations

import gzip
import json
from collections import Counter

import pytest

from policies.models import Cluster

pytestmark = pytest.mark.django_db


def url(cluster: Cluster, action: str = "reachability", query: str = "") -> str:
    return f"/api/clusters/{cluster.pk}/{action}/" + (f"?{query}" if query else "")


def pairs(body: dict) -> list[tuple[str, str, str]]:
    return [(e["source"], e["target"], e["label"]) for e in body["edges"]]


def test_pages_of_sources_add_up_to_the_whole_list_in_order(api, demo_cluster):
    client = api("viewer")
    whole = client.get(url(demo_cluster)).json()
    got: list[tuple[str, str, str]] = []
    offset: int | None = 0
    pages = 0
    while offset is not None:
        body = client.get(url(demo_cluster, query=f"offset={offset}&limit=3")).json()
        page = body["page"]
        assert page["offset"] == offset
        assert page["limit"] == 3
        # Every edge's ends are among the page's nodes.
        ids = {n["id"] for n in body["nodes"]}
        assert all(e["source"] in ids and e["target"] in ids for e in body["edges"])
        assert body["counts"]["edges"] == len(body["edges"])
        got += pairs(body)
        offset = page["next_offset"]
        pages += 1
    assert got == pairs(whole)
    assert pages == -(-page["sources"] // 3)
    assert page["sources"] == len(whole["nodes"])


def test_a_page_keeps_its_protocol_filter_and_namespace_sources(api, demo_cluster):
    client = api("viewer")
    whole = client.get(url(demo_cluster, query="protocol=UDP")).json()
    body = client.get(url(demo_cluster, query="protocol=UDP&offset=0&limit=500")).json()
    assert pairs(body) == pairs(whole)
    assert all(set(e["conns"]) == {"UDP"} for e in body["edges"])
    shop = client.get(url(demo_cluster, query="namespace=shop&limit=500")).json()
    assert {e["source"].split("/")[0] for e in shop["edges"]} == {"shop"}
    whole = client.get(url(demo_cluster)).json()
    assert pairs(shop) == [p for p in pairs(whole) if p[0].startswith("shop/")]
    assert shop["page"]["sources"] == len([n for n in whole["nodes"] if n["namespace"] == "shop"])


def test_edges_of_one_node_are_its_row_and_column(api, demo_cluster):
    client = api("viewer")
    whole = client.get(url(demo_cluster)).json()
    node = "shop/backend[Deployment]"
    body = client.get(url(demo_cluster, query=f"node={node}")).json()
    want = [p for p in pairs(whole) if p[0] == node] + [p for p in pairs(whole) if p[1] == node]
    assert pairs(body) == want
    assert body["node"] == node
    assert {n["id"] for n in body["nodes"]} == {node} | {p[0] for p in want} | {p[1] for p in want}


def test_pieces_answer_bad_parameters_with_sentences(api, demo_cluster):
    client = api("viewer")
    unknown = client.get(url(demo_cluster, query="node=shop/nothing[Deployment]"))
    assert unknown.status_code == 400
    assert "shop/nothing[Deployment]" in unknown.json()["node"][0]
    grouped = client.get(url(demo_cluster, query="level=namespace&limit=10"))
    assert grouped.status_code == 400
    assert "workload and pod levels" in grouped.json()["limit"][0]
    assert client.get(url(demo_cluster, query="limit=0")).status_code == 400
    assert client.get(url(demo_cluster, query="limit=100000")).status_code == 400
    assert client.get(url(demo_cluster, query="offset=-1")).status_code == 400
    matrix = client.get(url(demo_cluster, query="limit=5&format=matrix"))
    assert matrix.status_code == 400
    assert "format" in matrix.json()


def test_a_page_carries_an_etag_and_comes_gzipped_when_asked(api, demo_cluster):
    client = api("viewer")
    path = url(demo_cluster, query="offset=0&limit=3")
    plain = client.get(path)
    packed = client.get(path, HTTP_ACCEPT_ENCODING="gzip")
    assert packed["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.content)) == plain.json()
    assert plain["ETag"] == packed["ETag"]
    assert client.get(path, HTTP_IF_NONE_MATCH=plain["ETag"]).status_code == 304
    following = client.get(url(demo_cluster, query="offset=3&limit=3"))
    assert following["ETag"] != plain["ETag"]


def test_a_level_with_more_sources_than_the_limit_answers_its_first_page(api, demo_cluster, settings):
    client = api("viewer")
    whole = client.get(url(demo_cluster)).json()
    assert "page" not in whole
    settings.NETPOLUI_API_WHOLE_SOURCES = 5
    first = client.get(url(demo_cluster)).json()
    assert first["page"]["offset"] == 0
    assert first["page"]["sources"] == len(whole["nodes"])
    assert first["page"]["next_offset"] == first["page"]["limit"]
    assert pairs(first) == pairs(client.get(url(demo_cluster, query=f"offset=0&limit={first['page']['limit']}")).json())
    # a namespace filter that leaves few sources still answers whole
    shop = client.get(url(demo_cluster, query="namespace=payments")).json()
    assert "page" not in shop
    # the matrix of that many nodes is refused with what to ask instead
    matrix = client.get(url(demo_cluster, query="format=matrix"))
    assert matrix.status_code == 400
    assert "level=tier" in matrix.json()["format"][0]
    # aggregated levels always come whole
    assert "page" not in client.get(url(demo_cluster, query="level=tier")).json()


def test_summary_counts_pairs_per_namespace_pair_and_tier_pair(api, demo_cluster):
    client = api("viewer")
    whole = client.get(url(demo_cluster)).json()
    namespace_of = {n["id"]: n["namespace"] if not n["external"] else n["id"] for n in whole["nodes"]}
    body = client.get(url(demo_cluster, "summary")).json()
    assert body["totals"]["pairs"] == len(whole["edges"])
    want = Counter((namespace_of[e["source"]], namespace_of[e["target"]]) for e in whole["edges"])
    got = {(r["source"], r["target"]): r["pairs"] for r in body["namespace_pairs"]}
    assert got == dict(want)
    namespaces = client.get(url(demo_cluster, query="level=namespace")).json()
    labels = {(e["source"], e["target"]): e["label"] for e in namespaces["edges"]}
    for row in body["namespace_pairs"]:
        assert row["label"] == labels[(row["source"], row["target"])]
    tiers = client.get(url(demo_cluster, query="level=tier")).json()
    assert {(r["source"], r["target"]) for r in body["tier_pairs"]} == {
        (e["source"], e["target"]) for e in tiers["edges"]
    }
    # The most reachable workloads: inbound peers counted, most first.
    inbound = Counter(e["target"] for e in whole["edges"])
    top = body["most_reachable"]
    assert top
    assert [t["peers"] for t in top] == sorted((t["peers"] for t in top), reverse=True)
    for t in top:
        assert t["peers"] == inbound[t["id"]]
    outbound = Counter(e["source"] for e in whole["edges"])
    assert all(t["peers"] == outbound[t["id"]] for t in body["most_reaching"])


def test_summary_needs_the_viewer_role(api, demo_cluster):
    assert api(None).get(url(demo_cluster, "summary")).status_code in (401, 403)
    assert api("viewer").get(url(demo_cluster, "summary", "direction=sideways")).status_code == 400


@pytest.mark.parametrize(("level", "group_by"), [("workload", ""), ("tier", ""), ("tier", "app"), ("namespace", "")])
def test_level_nodes_are_the_payload_nodes_without_computing_pairs(demo_cluster, level, group_by, monkeypatch):
    from policies import engine
    from policies.services import analysis

    whole = analysis.reachability(demo_cluster, analysis.ReachabilityQuery(level=level, group_by=group_by))
    analysis.clear_process_caches()

    def no_pairs(*args, **kwargs):
        raise AssertionError("listing nodes computed pairs")

    listed = engine.Reachability.connections

    def connections(self):
        if self._connections is None:  # the analysis would have to list its pairs
            no_pairs()
        return listed.fget(self)

    monkeypatch.setattr(engine.Reachability, "connections", property(connections))
    monkeypatch.setattr(engine.PairTable, "group", no_pairs)
    assert analysis.level_nodes(demo_cluster, level, group_by) == whole["nodes"]


def test_overview_lists_tiers_and_workloads_for_its_pickers(client, users, demo_cluster):
    client.force_login(users["viewer"])
    page = client.get(f"/clusters/{demo_cluster.pk}/")
    assert page.status_code == 200
    names = page.context["endpoint_names"]
    assert "shop/backend[Deployment]" in names
    assert any(t["id"] == "shop/tier=backend" for t in page.context["tier_nodes"])
