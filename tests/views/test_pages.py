"""What each page shows, read from the demo cluster: the answers come from the same
services as the API, and every policy and workload named links to its page."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from policies.choices import SEVERITY_RANK
from policies.models import Cluster, Namespace, NetworkPolicy, Pod, Workload
from policies.services import analysis
from tests.builders import demo_counts

pytestmark = pytest.mark.django_db


def json_script(html: str, element_id: str) -> dict:
    match = re.search(rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S)
    assert match, f"no #{element_id} in the page"
    return json.loads(match.group(1))


@pytest.fixture
def viewer(client_for):
    return client_for("viewer")


def policy(cluster: Cluster, key: str) -> NetworkPolicy:
    ns, name = key.split("/")
    return NetworkPolicy.objects.get(cluster=cluster, namespace=ns, name=name)


# --- clusters and overview ------------------------------------------------------------------


def test_clusters_page_says_a_failing_sync_in_words(viewer, demo_cluster):
    broken = Cluster.objects.create(
        name="prod", source=Cluster.Source.TOKEN, server_url="https://k8s.example:6443",
        status=Cluster.Status.FAILING, last_error="the API server refused the token (401 Unauthorized)",
    )
    html = viewer.get(reverse("clusters")).content.decode()
    row = html[html.index(f'data-cluster="{broken.name}"'):]
    assert "✖ failing" in row[:2000]
    assert "the API server refused the token (401 Unauthorized)" in row[:2000]
    demo_row = html[html.index('data-cluster="demo"'):]
    assert "static snapshot" in demo_row[:2000]
    demo = demo_counts()
    expected = [str(demo[k]) for k in ("namespaces", "workloads", "pods", "policies")]
    assert re.findall(r'<td class="num">(\d+)</td>', demo_row[:3000])[:4] == expected


def test_clusters_page_tells_live_from_lagging_by_the_heartbeat(viewer, db):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    Cluster.objects.create(name="fresh", source=Cluster.Source.KUBECONFIG, status=Cluster.Status.LIVE,
                           heartbeat_at=now - timedelta(seconds=20), last_event_at=now - timedelta(minutes=3))
    Cluster.objects.create(name="stale", source=Cluster.Source.KUBECONFIG, status=Cluster.Status.LIVE,
                           heartbeat_at=now - timedelta(minutes=10))
    html = viewer.get(reverse("clusters")).content.decode()
    fresh = html[html.index('data-cluster="fresh"'):html.index('data-cluster="stale"')]
    stale = html[html.index('data-cluster="stale"'):]
    assert "● live" in fresh
    assert "3\xa0minutes ago" in fresh  # the last event, in words
    assert "◐ lagging" in stale
    assert "no heartbeat for 10\xa0minutes" in stale
    assert "never" in stale  # no event seen yet


def test_overview_lists_findings_highest_risk_first_each_linked(viewer, demo_cluster):
    response = viewer.get(reverse("cluster-overview", args=[demo_cluster.pk]))
    groups = response.context["finding_groups"]
    severities = [g.severity for g in groups]
    assert severities == sorted(severities, key=lambda s: SEVERITY_RANK[s])
    assert severities[0] == "high"
    html = response.content.decode()
    demo = demo_counts()
    assert response.context["counts"] == {k: demo[k] for k in ("namespaces", "workloads", "pods", "policies")}
    payments_api = Workload.objects.get(cluster=demo_cluster, namespace="payments", name="payments-api")
    assert f'href="{reverse("workload-detail", args=[payments_api.pk])}"' in html
    batch = policy(demo_cluster, "payments/legacy-allow-batch")
    assert f'href="{reverse("policy-detail", args=[batch.pk])}"' in html
    default_ns = Namespace.objects.get(cluster=demo_cluster, name="default")
    assert f'href="{reverse("namespace-detail", args=[default_ns.pk])}"' in html
    assert html.index("egress-without-dns") < html.index("namespace-without-policy")


def test_overview_question_box_offers_the_tiers(viewer, demo_cluster):
    html = viewer.get(reverse("cluster-overview", args=[demo_cluster.pk])).content.decode()
    assert '<option value="shop/tier=database">shop: tier=database</option>' in html


# --- graph and matrix -------------------------------------------------------------------------


def as_drawn(api: dict, payload: dict) -> tuple[list[str], dict[tuple[str, str], list[dict]]]:
    """The API's node ids and edges as the graph page names them: address ranges under
    the ipBlock node that holds them."""
    to_page = {m: n["id"] for n in payload["nodes"] if n.get("ranges") for m in n["members"]}
    ids = list(dict.fromkeys(to_page.get(n["id"], n["id"]) for n in api["nodes"]))
    pairs: dict[tuple[str, str], list[dict]] = {}
    for e in api["edges"]:
        pairs.setdefault((to_page.get(e["source"], e["source"]), to_page.get(e["target"], e["target"])), []).append(e)
    return ids, pairs


def test_graph_page_embeds_the_tier_payload_of_the_services(viewer, demo_cluster):
    html = viewer.get(reverse("graph", args=[demo_cluster.pk])).content.decode()
    payload = json_script(html, "graph-data")
    api = analysis.reachability(demo_cluster, analysis.ReachabilityQuery(level="tier"))
    ids, pairs = as_drawn(api, payload)
    assert [n["id"] for n in payload["nodes"]] == ids
    # the page leaves out only the all-ports edges its badges imply
    drawn = {(e["source"], e["target"]) for e in payload["edges"]}
    assert drawn <= set(pairs)
    assert len(set(pairs) - drawn) == payload["implied_edges"]
    edges = {(e["source"], e["target"]): e["label"] for e in payload["edges"]}
    assert edges[("shop/tier=backend", "shop/tier=database")] == "TCP 5432"
    config = json_script(html, "graph-config")
    assert config["level"] == "tier"
    assert config["explain_url"] == reverse("explain", args=[demo_cluster.pk])


def test_edges_left_to_badges_join_nodes_open_in_every_member(viewer, demo_cluster):
    payload = json_script(viewer.get(reverse("graph", args=[demo_cluster.pk])).content.decode(), "graph-data")
    api = analysis.reachability(demo_cluster, analysis.ReachabilityQuery(level="tier"))
    workloads = {n["id"]: n for n in analysis.reachability(demo_cluster, analysis.ReachabilityQuery(level="workload"))["nodes"]}
    nodes = {n["id"]: n for n in api["nodes"]}

    def every(node_id: str, flag: str) -> bool:
        members = nodes[node_id].get("members") or [node_id]
        return not nodes[node_id]["external"] and all(not workloads[m][flag] for m in members)

    drawn = {(e["source"], e["target"]) for e in payload["edges"]}
    implied = [e for e in api["edges"] if (e["source"], e["target"]) not in drawn and not nodes[e["target"]]["external"] and not nodes[e["source"]]["external"]]
    assert implied  # the demo has open workloads (toolbox, the default namespace)
    for edge in implied:
        assert edge["conns"] == "all"
        assert every(edge["source"], "egress_isolated")
        assert every(edge["target"], "ingress_isolated")
    badged = {n["id"]: (n["open_egress"], n["open_ingress"]) for n in payload["nodes"]}
    for edge in api["edges"]:
        ends = (badged.get(edge["source"], (False, False)), badged.get(edge["target"], (False, False)))
        if edge["conns"] == "all" and ends[0][0] and ends[1][1]:
            assert edge in implied


def test_address_ranges_are_named_by_the_ipblocks_written_in_policies(viewer, demo_cluster):
    payload = json_script(viewer.get(reverse("graph", args=[demo_cluster.pk]) + "?level=workload").content.decode(), "graph-data")
    api = analysis.reachability(demo_cluster, analysis.ReachabilityQuery(level="workload"))
    ranges = {n["id"]: n for n in payload["nodes"] if n["external"]}
    # the demo's egress policy allows 203.0.113.0/24 except 203.0.113.128/25
    assert "203.0.113.0/24 except 203.0.113.128/25" in ranges
    assert "other IPv4 addresses" in ranges  # the rest of the address space
    assert not any("-" in name for name in ranges)  # never computed boundaries
    # every range of the engine is under exactly one named node
    members = [m for n in ranges.values() for m in n["members"]]
    assert sorted(members) == sorted(n["id"] for n in api["nodes"] if n["external"])
    # a named node's edge is the union of its ranges' edges, and it is explained per range
    named = ranges["203.0.113.0/24 except 203.0.113.128/25"]
    ids, pairs = as_drawn(api, payload)
    edge = next(e for e in payload["edges"] if e["target"] == named["id"])
    union = set()
    for e in pairs[(edge["source"], edge["target"])]:
        union |= {(p, tuple(r)) for p, rs in ({} if e["conns"] == "all" else e["conns"]).items() for r in rs}
    assert edge["conns"] == "all" or {(p, tuple(r)) for p, rs in edge["conns"].items() for r in rs} == union
    panel = viewer.get(
        reverse("explain", args=[demo_cluster.pk]),
        {"src": edge["source"], "dst": edge["target"], "level": "workload"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "allowed" in panel
    assert "203.0.113.0" in panel


def test_a_large_cluster_graph_starts_at_namespaces_and_opens_one_into_tiers(viewer, db):
    from bench.generate import generate_cluster
    from policies import mirror
    from policies.models import Cluster

    cluster = Cluster.objects.create(name="g", source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")
    mirror.load_snapshot(cluster, generate_cluster(pods=240, workloads=80, namespaces=16, policies=120, seed=4))
    cluster.refresh_from_db()
    url = reverse("graph", args=[cluster.pk])
    html = viewer.get(url).content.decode()
    payload = json_script(html, "graph-data")
    assert payload["level"] == "namespace"
    assert "Started at the namespace level" in html
    assert {n["id"] for n in payload["nodes"] if not n["external"]} == {
        n["namespace"] for n in analysis.level_nodes(cluster, "workload") if not n["external"]
    }
    # a namespace whose workloads reach another namespace's
    workload = analysis.reachability(cluster, analysis.ReachabilityQuery(level="workload"))
    ns_of = {n["id"]: n["namespace"] for n in workload["nodes"] if not n["external"]}
    crossing = sorted(
        (ns_of[e["source"]], ns_of[e["target"]])
        for e in workload["edges"]
        if e["source"] in ns_of and e["target"] in ns_of and ns_of[e["source"]] != ns_of[e["target"]]
    )
    opened_ns, other = crossing[0]
    # open it: its tiers replace it, the others stay whole, edges aggregate both
    html = viewer.get(url, {"level": "namespace", "expand": opened_ns}).content.decode()
    opened = json_script(html, "graph-data")
    assert opened["expanded"] == [opened_ns]
    ids = {n["id"] for n in opened["nodes"]}
    tier_nodes = analysis.level_nodes(cluster, "tier")
    tiers = {n["id"] for n in tier_nodes if n["namespace"] == opened_ns}
    assert tiers
    assert tiers <= ids
    assert opened_ns not in ids
    assert other in ids
    # a tier -> namespace edge stands for its workload pairs
    tier_of = {m: t["id"] for t in tier_nodes for m in t.get("members") or [t["id"]]}
    expected = {
        (tier_of[e["source"]], other)
        for e in workload["edges"]
        if tier_of.get(e["source"]) in tiers and ns_of.get(e["target"]) == other
    }
    assert expected
    got = {(e["source"], e["target"]) for e in opened["edges"] if e["target"] == other and e["source"] in tiers}
    badges = {n["id"]: (n["open_egress"], n["open_ingress"]) for n in opened["nodes"]}
    left_to_badges = {k for k in expected if badges[k[0]][0] and badges[k[1]][1]}
    assert got == expected - left_to_badges
    assert f'<span class="crumb">{opened_ns}' in html
    # the explanation of a tier-to-namespace edge lists its workload pairs
    if got:
        src, dst = sorted(got)[0]
        panel = viewer.get(
            reverse("explain", args=[cluster.pk]),
            {"src": src, "dst": dst, "level": "namespace", "expand": opened_ns},
            HTTP_HX_REQUEST="true",
        )
        assert panel.status_code == 200
        assert f"{other}/" in panel.content.decode()


def test_graph_filters_come_from_the_url(viewer, demo_cluster):
    url = reverse("graph", args=[demo_cluster.pk]) + "?level=workload&namespace=shop&protocol=TCP&port=5432"
    html = viewer.get(url).content.decode()
    payload = json_script(html, "graph-data")
    assert [(e["source"], e["target"], e["label"]) for e in payload["edges"]] == [
        ("shop/backend[Deployment]", "shop/database[StatefulSet]", "TCP 5432")
    ]
    # the controls show what is applied, so the link is the state
    assert '<input type="checkbox" name="namespace" value="shop" checked>' in html
    assert 'name="port" min="1" max="65535" value="5432"' in html


def test_graph_groups_by_the_label_key_chosen_on_the_page(viewer, demo_cluster):
    url = reverse("graph", args=[demo_cluster.pk]) + "?level=tier&group_by=app"
    payload = json_script(viewer.get(url).content.decode(), "graph-data")
    ids = {n["id"] for n in payload["nodes"]}
    assert "shop/app=shop" in ids  # the 3-tier app shares app=shop: one group
    assert "shop/tier=database" not in ids


def test_graph_shows_defaults_and_says_so_when_a_filter_is_invalid(viewer, demo_cluster):
    url = reverse("graph", args=[demo_cluster.pk]) + "?level=galaxy&port=70000"
    response = viewer.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "showing the defaults instead" in html
    assert json_script(html, "graph-data")["level"] == "tier"


def test_matrix_page_embeds_the_api_matrix_as_sparse_rows(viewer, demo_cluster):
    url = reverse("matrix", args=[demo_cluster.pk]) + "?direction=ingress&namespace=shop"
    html = viewer.get(url).content.decode()
    payload = json_script(html, "matrix-data")
    expected = analysis.reachability(
        demo_cluster, analysis.ReachabilityQuery(level="workload", direction="ingress", namespaces=("shop",), format="matrix")
    )
    assert [n["id"] for n in payload["nodes"]] == [n["id"] for n in expected["nodes"]]
    # every cell of the API's dense matrix, rebuilt from the page's (column, set) pairs
    dense = [[None] * len(payload["nodes"]) for _ in payload["nodes"]]
    for i, row in enumerate(payload["rows"]):
        for j, k in zip(row[::2], row[1::2], strict=True):
            dense[i][j] = payload["conns"][k]
    assert dense == expected["matrix"]
    assert payload["counts"] == expected["counts"]
    index = {n["id"]: i for i, n in enumerate(payload["nodes"])}
    cell = dense[index["shop/backend[Deployment]"]][index["shop/database[StatefulSet]"]]
    assert cell == {"TCP": [[5432, 5432]]}


def test_a_namespace_filtered_matrix_has_no_rows_or_columns_outside_the_filter(viewer, demo_cluster):
    unfiltered = analysis.reachability(demo_cluster, analysis.ReachabilityQuery(level="workload", format="matrix"))
    html = viewer.get(reverse("matrix", args=[demo_cluster.pk]) + "?namespace=shop").content.decode()
    payload = json_script(html, "matrix-data")
    outside = [n["id"] for n in payload["nodes"] if not n["external"] and n["namespace"] != "shop"]
    assert outside == []
    shop = [n["id"] for n in unfiltered["nodes"] if not n["external"] and n["namespace"] == "shop"]
    assert [n["id"] for n in payload["nodes"] if not n["external"]] == shop
    # address ranges stay when they talk with the namespace, with the same cells as unfiltered
    index = {n["id"]: i for i, n in enumerate(unfiltered["nodes"])}
    ids = [n["id"] for n in payload["nodes"]]
    for i, row in enumerate(payload["rows"]):
        for j, k in zip(row[::2], row[1::2], strict=True):
            assert unfiltered["matrix"][index[ids[i]]][index[ids[j]]] == payload["conns"][k]
    # and the API's matrix answers the same
    api = analysis.reachability(demo_cluster, analysis.ReachabilityQuery(level="workload", namespaces=("shop",), format="matrix"))
    assert [n["id"] for n in api["nodes"]] == ids


# --- explanations and node panels --------------------------------------------------------------


def test_edge_explanation_names_the_policies_and_rules_that_allow_it(viewer, demo_cluster):
    url = reverse("explain", args=[demo_cluster.pk]) + "?src=shop/tier%3Dbackend&dst=shop/tier%3Ddatabase&level=tier"
    response = viewer.get(url, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html  # a fragment
    assert response["Vary"]
    assert "HX-Request" in response["Vary"]
    database_policy = policy(demo_cluster, "shop/database-policy")
    backend_egress = policy(demo_cluster, "shop/backend-egress")
    assert f'<a class="policy-name" href="{reverse("policy-detail", args=[database_policy.pk])}">shop/database-policy</a>' in html
    assert "ingress rule #0</span>: from pods [tier=backend]; TCP 5432" in html
    assert f'href="{reverse("policy-detail", args=[backend_egress.pk])}"' in html
    assert "egress rule #0</span>: to pods [tier=database]; TCP 5432" in html


def test_explain_page_without_htmx_is_a_whole_page(viewer, demo_cluster):
    url = reverse("explain", args=[demo_cluster.pk]) + "?src=shop/frontend&dst=shop/database&port=5432"
    html = viewer.get(url).content.decode()
    assert "<html" in html
    assert "✖ denied" in html
    assert "None of the ingress rules of the policies isolating it match." in html


def test_explain_page_names_the_question_once_as_its_title(viewer, demo_cluster):
    url = reverse("explain", args=[demo_cluster.pk]) + "?src=shop/frontend&dst=shop/database&port=5432"
    html = viewer.get(url).content.decode()
    assert "<h1>shop/frontend → shop/database</h1>" in html
    assert "<h2" not in html[: html.index("<h2>Ask another question")]  # not a second title under the first
    # the side panel of the graph keeps its own title
    panel = viewer.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert '<h2 class="panel-title">shop/frontend → shop/database</h2>' in panel


def test_explain_page_asks_the_next_question_on_the_protocol_of_the_last(viewer, demo_cluster):
    base = reverse("explain", args=[demo_cluster.pk]) + "?src=shop/frontend&dst=shop/database&port=5432"
    select = re.search(r'<select name="protocol">.*?</select>', viewer.get(base).content.decode(), re.S).group(0)
    # no protocol asked: "any protocol" stays chosen (SCTP, first alphabetically, was chosen silently)
    assert re.findall(r'<option value="([A-Z]*)"\s*selected', select) == [""]
    assert select.index('value="TCP"') < select.index('value="SCTP"')
    select = re.search(r'<select name="protocol">.*?</select>', viewer.get(base + "&protocol=UDP").content.decode(), re.S).group(0)
    assert re.findall(r'<option value="([A-Z]*)"\s*selected', select) == ["UDP"]


def test_explain_unknown_endpoint_answers_with_the_engines_hint(viewer, demo_cluster):
    url = reverse("explain", args=[demo_cluster.pk]) + "?src=shop/backnd&dst=shop/database"
    response = viewer.get(url)
    assert response.status_code == 400
    assert "did you mean" in response.content.decode()


def test_node_panel_answers_who_reaches_the_database_tier_on_which_port_by_which_policy(viewer, demo_cluster):
    url = reverse("node", args=[demo_cluster.pk]) + "?id=shop/tier%3Ddatabase&level=tier"
    response = viewer.get(url, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    inbound = html[html.index("Who can reach it"):html.index("What it can reach")]
    assert 'data-peer="shop/tier=backend"' in inbound
    assert "TCP 5432" in inbound
    assert "shop/database-policy</a> <span class=\"muted\">ingress rule #0</span>" in inbound
    assert inbound.count('class="conn"') == 1
    database = Workload.objects.get(cluster=demo_cluster, namespace="shop", name="database")
    assert f'href="{reverse("workload-detail", args=[database.pk])}"' in html


def test_node_panel_says_nothing_may_connect_once(viewer, demo_cluster):
    nodes = [n["id"] for n in analysis.level_nodes(demo_cluster, "workload")]
    lonely = next(n for n in nodes if not analysis.node_details(demo_cluster, n, level="workload")["inbound"])
    url = reverse("node", args=[demo_cluster.pk]) + "?" + urlencode({"id": lonely, "level": "workload"})
    html = viewer.get(url, HTTP_HX_REQUEST="true").content.decode()
    inbound = html[html.index("Who can reach it"):html.index("What it can reach")]
    assert inbound.count("Nothing may connect to it.") == 1


def test_node_panel_of_an_unknown_node_is_not_found(viewer, demo_cluster):
    url = reverse("node", args=[demo_cluster.pk]) + "?id=shop/tier%3Dnothing&level=tier"
    assert viewer.get(url).status_code == 404


# --- policies ---------------------------------------------------------------------------------


def listed(response) -> list[str]:
    return re.findall(r'<tr data-policy="([^"]+)"', response.content.decode())


def test_policy_list_filters_by_namespace_type_and_selected_pod(viewer, demo_cluster):
    url = reverse("policy-list", args=[demo_cluster.pk])
    assert len(listed(viewer.get(url))) == demo_counts()["policies"]
    assert listed(viewer.get(url + "?namespace=payments")) == ["payments/legacy-allow-batch", "payments/payments-egress"]
    assert listed(viewer.get(url + "?namespace=shop&type=egress")) == [
        "shop/allow-dns", "shop/backend-egress", "shop/default-deny-all", "shop/frontend-policy",
    ]
    database_pod = Pod.objects.get(cluster=demo_cluster, namespace="shop", name="database-0")
    assert listed(viewer.get(url + f"?pod=shop/{database_pod.name}")) == [
        "shop/allow-dns", "shop/database-policy", "shop/default-deny-all",
    ]


def test_policy_list_marks_a_policy_that_selects_nothing(viewer, demo_cluster):
    html = viewer.get(reverse("policy-list", args=[demo_cluster.pk]) + "?namespace=payments").content.decode()
    row = html[html.index('data-policy="payments/legacy-allow-batch"'):]
    assert "0 ⚠" in row[:1500]


def test_policy_list_filter_returns_the_table_fragment_to_htmx(viewer, demo_cluster):
    response = viewer.get(reverse("policy-list", args=[demo_cluster.pk]) + "?type=ingress", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert "<html" not in html
    assert "<form" not in html
    assert "HX-Request" in response["Vary"]
    assert len(listed(response)) == NetworkPolicy.objects.filter(cluster=demo_cluster, affects_ingress=True).count()


def test_policy_detail_shows_yaml_rules_selection_and_who_may_reach(viewer, demo_cluster):
    database_policy = policy(demo_cluster, "shop/database-policy")
    response = viewer.get(reverse("policy-detail", args=[database_policy.pk]))
    html = response.content.decode()
    assert response.context["yaml"] == analysis.policy_yaml(database_policy)
    assert '<code class="language-yaml" data-highlight>' in html
    assert "from pods [tier=backend] on TCP 5432" in html
    assert [p.name for p in response.context["pods"]] == ["database-0"]
    reach = html[html.index("Who may reach them"):]
    assert "from <a" in reach
    assert "shop/backend (Deployment)" in reach
    assert 'class="rule highlight"' in reach  # this policy's own rule is marked
    assert f'href="{reverse("policy-yaml", args=[database_policy.pk])}" download' in html


def test_policy_detail_says_an_empty_pod_selector_selects_every_pod(viewer, demo_cluster):
    html = viewer.get(reverse("policy-detail", args=[policy(demo_cluster, "shop/default-deny-all").pk])).content.decode()
    assert "Selects <strong>every pod</strong> in namespace shop." in html
    assert "(all)" not in html


def test_policy_yaml_download_is_the_clean_yaml(viewer, demo_cluster):
    database_policy = policy(demo_cluster, "shop/database-policy")
    response = viewer.get(reverse("policy-yaml", args=[database_policy.pk]))
    assert response["Content-Type"].startswith("application/yaml")
    assert response["Content-Disposition"] == 'attachment; filename="shop-database-policy.yaml"'
    body = response.content.decode()
    assert body == analysis.policy_yaml(database_policy)
    assert "managedFields" not in body
    assert "resourceVersion" not in body


def test_policy_that_selects_nothing_says_so(viewer, demo_cluster):
    html = viewer.get(reverse("policy-detail", args=[policy(demo_cluster, "payments/legacy-allow-batch").pk])).content.decode()
    assert "It selects nothing" in html


# --- workloads, pods, namespaces --------------------------------------------------------------


def test_workload_page_shows_selecting_policies_and_connections_both_ways(viewer, demo_cluster):
    backend = Workload.objects.get(cluster=demo_cluster, namespace="shop", name="backend", kind="Deployment")
    response = viewer.get(reverse("workload-detail", args=[backend.pk]))
    html = response.content.decode()
    keys = [p["key"] for p in response.context["details"]["policies"]]
    assert keys == ["shop/allow-dns", "shop/allow-prometheus-scrape", "shop/backend-egress", "shop/backend-policy", "shop/default-deny-all"]
    inbound = html[html.index("Who can reach it"):html.index("What it can reach")]
    outbound = html[html.index("What it can reach"):]
    assert 'data-peer="shop/frontend[Deployment]"' in inbound
    assert "TCP 8080" in inbound
    assert 'data-peer="shop/database[StatefulSet]"' in outbound
    assert "TCP 5432" in outbound
    assert "ipBlock 203.0.113.0/24 except 203.0.113.128/25" in outbound


def test_replicaset_page_points_to_its_deployment(viewer, demo_cluster):
    rs = Workload.objects.get(cluster=demo_cluster, namespace="shop", kind="ReplicaSet", top_name="backend")
    backend = Workload.objects.get(cluster=demo_cluster, namespace="shop", name="backend", kind="Deployment")
    html = viewer.get(reverse("workload-detail", args=[rs.pk])).content.decode()
    assert f'Managed by Deployment <a href="{reverse("workload-detail", args=[backend.pk])}">backend</a>' in html


def test_pod_page_shows_isolation_policies_and_reachability(viewer, demo_cluster):
    pod = Pod.objects.get(cluster=demo_cluster, namespace="shop", name="database-0")
    response = viewer.get(reverse("pod-detail", args=[pod.pk]))
    html = response.content.decode()
    assert set(response.context["selection"]["policies"].values_list("name", flat=True)) == {
        "allow-dns", "database-policy", "default-deny-all",
    }
    assert "Ingress: <strong>isolated</strong>" in html
    inbound = html[html.index("Who can reach it"):html.index("What it can reach")]
    assert 'data-peer="shop/backend[Deployment]"' in inbound


def test_pod_without_policies_is_marked_not_isolated(viewer, demo_cluster):
    toolbox = Pod.objects.get(cluster=demo_cluster, namespace="default", name="toolbox")
    html = viewer.get(reverse("pod-detail", args=[toolbox.pk])).content.decode()
    assert "⚠ not isolated</strong>: no policy selects it for Ingress" in html


def test_namespace_page_lists_workloads_policies_and_findings(viewer, demo_cluster):
    ns = Namespace.objects.get(cluster=demo_cluster, name="monitoring")
    html = viewer.get(reverse("namespace-detail", args=[ns.pk])).content.decode()
    assert "prometheus" in html
    assert "No NetworkPolicy: every pod accepts and opens any connection." in html
    assert "namespace-without-policy" not in html  # codes stay internal; the message shows
    assert "no NetworkPolicy in this namespace" in html


def test_nav_points_at_the_cluster_of_the_object_shown(viewer, demo_cluster, make_cluster):
    other = make_cluster("aaa-first", rows=1)  # sorts before "demo"
    pod = Pod.objects.get(cluster=demo_cluster, namespace="shop", name="database-0")
    html = viewer.get(reverse("pod-detail", args=[pod.pk])).content.decode()
    assert f'<option value="{demo_cluster.pk}" selected>demo</option>' in html
    assert f'<option value="{other.pk}" >aaa-first</option>' in html
    assert f'href="{reverse("graph", args=[demo_cluster.pk])}"' in html


@pytest.mark.parametrize("port", ["70000", "Web_Port", "a-very-long-port-name"])
def test_explain_page_and_api_refuse_a_bad_port_with_the_same_words(viewer, api, demo_cluster, port):
    import html as html_module

    query = f"?src=shop/frontend&dst=shop/database&port={port}"
    page = viewer.get(reverse("explain", args=[demo_cluster.pk]) + query)
    answer = api("viewer").get(f"/api/clusters/{demo_cluster.pk}/explain/{query}")
    assert page.status_code == answer.status_code == 400
    message = answer.json()["port"][0]
    assert html_module.escape(message) in page.content.decode()
