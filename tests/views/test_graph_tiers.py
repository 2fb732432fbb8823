"""The graph page's second drill-down level: a tier of an opened namespace opened into its
workloads (expand_tier=ns/key=value), with the edges aggregated between what is drawn."""

from __future__ import annotations

import html as html_lib
from urllib.parse import parse_qs

import pytest
from django.urls import reverse

from policies.models import Cluster
from policies.services import analysis
from tests.views.test_pages import json_script


@pytest.fixture
def viewer(client_for):
    return client_for("viewer")


@pytest.fixture
def large(db):
    from bench.generate import generate_cluster
    from policies import mirror

    cluster = Cluster.objects.create(name="g", source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")
    mirror.load_snapshot(cluster, generate_cluster(pods=240, workloads=80, namespaces=4, policies=120, seed=4))
    cluster.refresh_from_db()
    return cluster


def _pick(cluster):
    """(namespace, tier id, another namespace) where a workload of a tier with more than one
    member reaches a workload of the other namespace."""
    workload = analysis.reachability(cluster, analysis.ReachabilityQuery(level="workload"))
    ns_of = {n["id"]: n["namespace"] for n in workload["nodes"] if not n["external"]}
    tiers = [t for t in analysis.level_nodes(cluster, "tier") if not t["external"] and len(t.get("members") or []) > 1]
    tier_of = {m: t["id"] for t in tiers for m in t["members"]}
    for e in sorted(workload["edges"], key=lambda e: (e["source"], e["target"])):
        src, dst = e["source"], e["target"]
        if src in tier_of and dst in ns_of and ns_of[dst] != ns_of[src]:
            return ns_of[src], tier_of[src], ns_of[dst], workload, ns_of, tiers
    raise AssertionError("the generated cluster has no crossing edge from a tier of several workloads")


def test_an_opened_tier_shows_its_workloads_with_edges_aggregated(viewer, large):
    ns, tier, other, workload, ns_of, tiers = _pick(large)
    members = next(t["members"] for t in tiers if t["id"] == tier)
    url = reverse("graph", args=[large.pk])
    page = viewer.get(url, {"level": "namespace", "expand": ns, "expand_tier": tier}).content.decode()
    data = json_script(page, "graph-data")
    assert data["expanded_tiers"] == [tier]
    nodes = {n["id"]: n for n in data["nodes"]}
    # the tier is replaced by its workloads, drawn inside it; its sibling tiers stay closed
    assert tier not in nodes
    assert set(members) <= set(nodes)
    assert all(nodes[m]["level"] == "workload" and nodes[m]["tier"] == tier for m in members)
    siblings = {t["id"] for t in analysis.level_nodes(large, "tier") if t["namespace"] == ns and t["id"] != tier}
    assert siblings <= set(nodes)
    assert all(nodes[s]["level"] == "tier" for s in siblings)
    assert other in nodes
    assert nodes[other]["level"] == "namespace"
    # workload -> collapsed namespace edges: the union of the workload pairs
    expected = {(e["source"], other) for e in workload["edges"] if e["source"] in members and ns_of.get(e["target"]) == other}
    assert expected
    got = {(e["source"], e["target"]) for e in data["edges"] if e["source"] in members and e["target"] == other}
    left_to_badges = {k for k in expected if nodes[k[0]]["open_egress"] and nodes[k[1]]["open_ingress"]}
    assert got == expected - left_to_badges
    assert got  # this cluster has some drawn, so the explanation below runs
    # the breadcrumb names the tier, and its ✕ closes the tier alone
    assert 'class="crumb crumb-tier"' in page
    close = page.split(f'data-close-tier="{tier}"')[0].rsplit('href="', 1)[1].split('"', 1)[0]
    query = parse_qs(html_lib.unescape(close).lstrip("?"))
    assert query["expand"] == [ns]
    assert "expand_tier" not in query
    # closing the namespace closes its tiers too
    ns_close = page.split(f'data-close-namespace="{ns}"')[0].rsplit('href="', 1)[1].split('"', 1)[0]
    assert "expand_tier" not in parse_qs(html_lib.unescape(ns_close).lstrip("?"))
    # a workload -> namespace edge is explained by its workload pairs
    src, dst = sorted(got)[0]
    panel = viewer.get(
        reverse("explain", args=[large.pk]),
        {"src": src, "dst": dst, "level": "namespace", "expand": ns, "expand_tier": tier},
        HTTP_HX_REQUEST="true",
    )
    assert panel.status_code == 200
    text = panel.content.decode()
    assert f"{other}/" in text
    assert "allowed" in text


def test_a_tier_opens_only_inside_an_opened_namespace_and_unknown_tiers_are_ignored(viewer, large):
    ns, tier, other, *_ = _pick(large)
    url = reverse("graph", args=[large.pk])
    # the namespace is not open: the tier cannot be
    data = json_script(viewer.get(url, {"level": "namespace", "expand_tier": tier}).content.decode(), "graph-data")
    assert data["expanded_tiers"] == []
    assert ns in {n["id"] for n in data["nodes"]}
    # a tier the cluster does not have changes nothing and is not in the breadcrumb
    response = viewer.get(url, {"level": "namespace", "expand": ns, "expand_tier": f"{ns}/nope=<b>x</b>"})
    assert response.status_code == 200
    page = response.content.decode()
    assert json_script(page, "graph-data")["expanded_tiers"] == []
    assert "crumb-tier" not in page
    assert "<b>x</b>" not in page
