"""GET /api/clusters/{id}/explain/ and /explain-edge/: verdicts per direction with the
policies and rules that decided them, in the CLI's terms."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def explain(client, cluster, query: str):
    return client.get(f"/api/clusters/{cluster.pk}/explain/?{query}")


def test_allowed_connection_names_the_rules_on_both_sides(api, demo_cluster):
    response = explain(api("viewer"), demo_cluster, "src=shop/backend&dst=shop/database&port=5432&protocol=TCP")
    assert response.status_code == 200
    body = response.json()
    assert body["allowed"] is True
    assert body["src"] == "shop/backend[Deployment]"
    assert body["dst"] == "shop/database[StatefulSet]"
    assert body["conns_text"] == "TCP 5432"
    assert body["egress"]["allowed"] is True
    assert {m["policy"] for m in body["egress"]["matches"]} == {"shop/backend-egress"}
    ingress = body["ingress"]["matches"]
    assert [(m["policy"], m["rule_index"]) for m in ingress] == [("shop/database-policy", 0)]
    assert body["text"].startswith("shop/backend[Deployment] => shop/database[StatefulSet] (TCP 5432): ALLOWED")


def test_denied_connection_names_the_isolating_policies(api, demo_cluster):
    body = explain(api("viewer"), demo_cluster, "src=shop/frontend&dst=shop/database&port=5432").json()
    assert body["allowed"] is False
    assert body["protocol"] == "TCP"  # a port without protocol means TCP
    assert body["egress"]["allowed"] is False
    assert "shop/default-deny-all" in body["egress"]["policies"]
    assert body["ingress"]["isolated"] is True
    assert "none of their ingress rules match" in body["ingress"]["summary"]


def test_named_port_and_any_port(api, demo_cluster):
    client = api("viewer")
    any_port = explain(client, demo_cluster, "src=shop/frontend&dst=shop/backend").json()
    assert any_port["port"] is None
    assert any_port["protocol"] is None
    assert any_port["conns_text"] == "TCP 8080"
    named = explain(client, demo_cluster, "src=monitoring/prometheus&dst=kube-system/coredns&port=metrics")
    assert named.status_code == 200
    assert named.json()["port"] == "metrics"


def test_unknown_endpoint_is_400_with_the_engines_hint(api, demo_cluster):
    response = explain(api("viewer"), demo_cluster, "src=shop/backnd&dst=shop/database")
    assert response.status_code == 400
    message = response.json()["src"][0]
    assert "no workload, pod or IP address 'shop/backnd'" in message
    assert "did you mean" in message
    assert "shop/backend" in message
    dst = explain(api("viewer"), demo_cluster, "src=shop/backend&dst=shop/nothing-here")
    assert dst.status_code == 400
    assert "shop/nothing-here" in dst.json()["dst"][0]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("dst=shop/database", "src"),
        ("src=shop/backend", "dst"),
        ("src=shop/backend&dst=shop/database&port=0", "port"),
        ("src=shop/backend&dst=shop/database&port=99999", "port"),
        ("src=shop/backend&dst=shop/database&port=Not_A_Name", "port"),
        ("src=shop/backend&dst=shop/database&protocol=ICMP", "protocol"),
    ],
)
def test_bad_explain_parameters_are_400(api, demo_cluster, query, field):
    response = explain(api("viewer"), demo_cluster, query)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("nobody", 403), ("viewer", 200)])
def test_explain_needs_the_viewer_role(api, demo_cluster, role, status):
    assert explain(api(role), demo_cluster, "src=shop/backend&dst=shop/database").status_code == status


def test_explain_of_unknown_cluster_is_404(api, demo_cluster):
    assert api("viewer").get("/api/clusters/999999/explain/?src=a&dst=b").status_code == 404


# --- explain-edge --------------------------------------------------------------------------


def edge(client, cluster, query: str):
    return client.get(f"/api/clusters/{cluster.pk}/explain-edge/?{query}")


def test_workload_edge_is_one_explanation(api, demo_cluster):
    body = edge(api("viewer"), demo_cluster, "src=shop/backend[Deployment]&dst=shop/database[StatefulSet]").json()
    assert body["truncated"] is False
    [pair] = body["pairs"]
    assert pair["allowed"] is True
    assert pair["conns_text"] == "TCP 5432"


def test_namespace_edge_explains_each_member_pair(api, demo_cluster):
    body = edge(api("viewer"), demo_cluster, "src=monitoring&dst=shop&level=namespace").json()
    pairs = {(p["src"], p["dst"]) for p in body["pairs"]}
    assert pairs == {
        ("monitoring/prometheus[Deployment]", "shop/backend[Deployment]"),
        ("monitoring/prometheus[Deployment]", "shop/frontend[Deployment]"),
    }
    assert body["total"] == 2
    assert all(p["allowed"] for p in body["pairs"])


def test_tier_edge_uses_the_group_by_key(api, demo_cluster):
    body = edge(api("viewer"), demo_cluster, "src=shop/tier=frontend&dst=shop/tier=backend&level=tier&group_by=tier").json()
    assert [(p["src"], p["dst"]) for p in body["pairs"]] == [("shop/frontend[Deployment]", "shop/backend[Deployment]")]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("src=shop/backend[Deployment]&dst=nowhere/x", "dst"),
        ("src=a&dst=b&level=galaxy", "level"),
        ("src=a&dst=b&direction=sideways", "direction"),
        ("src=a&dst=b&level=tier&group_by=no spaces", "group_by"),
        ("dst=b", "src"),
    ],
)
def test_bad_edge_parameters_are_400(api, demo_cluster, query, field):
    response = edge(api("viewer"), demo_cluster, query)
    assert response.status_code == 400
    assert field in response.json()


def test_explain_edge_needs_a_role(api, demo_cluster):
    assert edge(api("nobody"), demo_cluster, "src=shop&dst=shop&level=namespace").status_code == 403
    assert edge(api(None), demo_cluster, "src=shop&dst=shop&level=namespace").status_code == 401
