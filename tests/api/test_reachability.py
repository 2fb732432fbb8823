"""GET /api/clusters/{id}/reachability/: levels, filters, formats, validation, caching."""

from __future__ import annotations

import gzip
import json

import pytest

from policies import engine
from policies.mirror import load_snapshot
from policies.models import Cluster, NetworkPolicy
from policies.services import analysis

pytestmark = pytest.mark.django_db


def url(cluster: Cluster, query: str = "") -> str:
    return f"/api/clusters/{cluster.pk}/reachability/" + (f"?{query}" if query else "")


def edges_by_pair(body: dict) -> dict[tuple[str, str], dict]:
    return {(e["source"], e["target"]): e for e in body["edges"]}


def test_workload_level_edges_carry_structured_port_sets(api, demo_cluster):
    response = api("viewer").get(url(demo_cluster))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    edges = edges_by_pair(body)
    tcp5432 = edges[("shop/backend[Deployment]", "shop/database[StatefulSet]")]
    assert tcp5432["conns"] == {"TCP": [[5432, 5432]]}
    assert tcp5432["label"] == "TCP 5432"
    assert edges[("shop/frontend[Deployment]", "kube-system/coredns[Deployment]")]["label"] == "TCP 53,UDP 53"
    # default deny: the frontend cannot reach the database directly
    assert ("shop/frontend[Deployment]", "shop/database[StatefulSet]") not in edges
    nodes = {n["id"]: n for n in body["nodes"]}
    assert nodes["shop/database[StatefulSet]"]["ingress_isolated"] is True
    assert nodes["shop/database[StatefulSet]"]["egress_isolated"] is True
    assert nodes["team-a/web[Deployment]"]["ingress_isolated"] is False
    externals = [n for n in body["nodes"] if n["external"]]
    assert externals
    assert all(n["ip_range"] for n in externals)
    assert body["counts"] == {"nodes": len(body["nodes"]), "edges": len(body["edges"])}
    assert body["state_version"] == demo_cluster.state_version


def test_api_payload_is_the_service_payload(api, demo_cluster):
    body = api("viewer").get(url(demo_cluster, "level=tier&group_by=tier&namespace=shop")).json()
    expected = analysis.reachability(demo_cluster, analysis.ReachabilityQuery(level="tier", group_by="tier", namespaces=("shop",)))
    assert body == json.loads(json.dumps(expected))


def test_tier_level_groups_members_by_label(api, demo_cluster):
    body = api("viewer").get(url(demo_cluster, "level=tier&group_by=tier")).json()
    nodes = {n["id"]: n for n in body["nodes"]}
    backend = nodes["shop/tier=backend"]
    assert backend["label"] == "backend"
    assert backend["members"] == ["shop/backend[Deployment]"]
    assert body["group_by"] == "tier"
    assert ("shop/tier=backend", "shop/tier=database") in edges_by_pair(body)


def test_namespace_level(api, demo_cluster):
    body = api("viewer").get(url(demo_cluster, "level=namespace")).json()
    ids = {n["id"] for n in body["nodes"] if not n["external"]}
    assert {"shop", "payments", "monitoring", "kube-system"} <= ids
    assert edges_by_pair(body)[("monitoring", "shop")]["conns"] == {"TCP": [[80, 80], [9090, 9090]]}


def test_protocol_and_port_filters(api, demo_cluster):
    client = api("viewer")
    udp = client.get(url(demo_cluster, "protocol=udp")).json()
    assert udp["edges"]
    assert all(set(e["conns"]) == {"UDP"} for e in udp["edges"])
    port = client.get(url(demo_cluster, "protocol=TCP&port=5432")).json()
    pairs = edges_by_pair(port)
    assert pairs[("shop/backend[Deployment]", "shop/database[StatefulSet]")]["conns"] == {"TCP": [[5432, 5432]]}
    assert ("shop/frontend[Deployment]", "shop/backend[Deployment]") not in pairs  # TCP 8080 only


def test_namespace_filter_repeatable_or_comma_separated(api, demo_cluster):
    client = api("viewer")
    comma = client.get(url(demo_cluster, "namespace=shop,payments")).json()
    repeated = client.get(url(demo_cluster, "namespace=shop&namespace=payments")).json()
    assert comma == repeated
    for edge in comma["edges"]:
        assert edge["source"].split("/")[0] in ("shop", "payments") or edge["target"].split("/")[0] in ("shop", "payments")
    only_shop = client.get(url(demo_cluster, "namespace=shop")).json()
    assert len(only_shop["edges"]) < len(comma["edges"])


def test_matrix_format_is_row_major_in_node_order(api, demo_cluster):
    body = api("viewer").get(url(demo_cluster, "format=matrix")).json()
    assert "edges" not in body
    index = {n["id"]: i for i, n in enumerate(body["nodes"])}
    matrix = body["matrix"]
    assert len(matrix) == len(body["nodes"])
    assert all(len(row) == len(body["nodes"]) for row in matrix)
    assert matrix[index["shop/backend[Deployment]"]][index["shop/database[StatefulSet]"]] == {"TCP": [[5432, 5432]]}
    assert matrix[index["shop/frontend[Deployment]"]][index["shop/database[StatefulSet]"]] is None
    assert sum(cell is not None for row in matrix for cell in row) == body["counts"]["edges"]


def test_direction_ingress_ignores_egress_policies(api, demo_cluster):
    client = api("viewer")
    combined = edges_by_pair(client.get(url(demo_cluster)).json())
    ingress = edges_by_pair(client.get(url(demo_cluster, "direction=ingress")).json())
    # frontend's egress policy forbids it, ingress alone would let it reach prometheus's open side
    pair = ("shop/frontend[Deployment]", "monitoring/prometheus[Deployment]")
    assert pair not in combined
    assert ingress[pair]["label"] == "All Connections"


@pytest.mark.parametrize(
    ("query", "field", "words"),
    [
        ("level=planet", "level", "not a valid choice"),
        ("direction=up", "direction", "not a valid choice"),
        ("format=xml", "format", "not a valid choice"),
        ("protocol=ICMP", "protocol", "not a valid choice"),
        ("port=0", "port", "greater than or equal to 1"),
        ("port=70000", "port", "less than or equal to 65535"),
        ("port=http", "port", "valid integer"),
        ("namespace=shop,nope", "namespace", "no namespace 'nope' in cluster demo"),
        ("level=tier&group_by=bad key!", "group_by", "is not a label key"),
    ],
)
def test_bad_parameters_are_400_with_a_field_error(api, demo_cluster, query, field, words):
    response = api("viewer").get(url(demo_cluster, query))
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert words in body[field][0]


def test_unknown_cluster_is_404(api, demo_cluster):
    assert api("viewer").get("/api/clusters/424242/reachability/").status_code == 404


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("nobody", 403), ("viewer", 200), ("editor", 200), ("admin", 200)])
def test_reachability_needs_the_viewer_role(api, demo_cluster, role, status):
    assert api(role).get(url(demo_cluster)).status_code == status


@pytest.fixture
def engine_spy(monkeypatch):
    """Counts calls into the engine's entry points that the analysis services use; the
    real functions still run."""
    calls = {"build_cluster": 0, "analyze": 0, "group": 0}
    real_build, real_analyze, real_group = engine.build_cluster, engine.Analyzer.analyze, engine.PairTable.group

    def build_cluster(*args, **kwargs):
        calls["build_cluster"] += 1
        return real_build(*args, **kwargs)

    def analyze(self, *args, **kwargs):
        calls["analyze"] += 1
        return real_analyze(self, *args, **kwargs)

    def group(self, *args, **kwargs):
        calls["group"] += 1
        return real_group(self, *args, **kwargs)

    monkeypatch.setattr(engine, "build_cluster", build_cluster)
    monkeypatch.setattr(engine.Analyzer, "analyze", analyze)
    monkeypatch.setattr(engine.PairTable, "group", group)
    return calls


def test_repeated_request_does_no_engine_work(api, demo_cluster, engine_spy):
    client = api("viewer")
    first = client.get(url(demo_cluster, "level=tier"))
    assert engine_spy["build_cluster"] == 1
    assert engine_spy["analyze"] == 1
    assert engine_spy["group"] == 1
    before = dict(engine_spy)

    again = client.get(url(demo_cluster, "level=tier"))
    # Another process (a gunicorn worker) has only the shared cache: still no engine work.
    analysis.clear_process_caches()
    elsewhere = client.get(url(demo_cluster, "level=tier"))
    assert engine_spy == before
    assert again.content == first.content == elsewhere.content


def test_a_change_to_the_mirror_is_a_new_answer(api, demo_cluster, engine_spy):
    client = api("viewer")
    before = client.get(url(demo_cluster)).json()
    pair = ("shop/frontend[Deployment]", "shop/database[StatefulSet]")
    assert pair not in edges_by_pair(before)
    objects = [row.obj for row in NetworkPolicy.objects.filter(cluster=demo_cluster)]
    from policies.models import Namespace, Pod, Workload

    for model in (Namespace, Workload, Pod):
        objects += [row.obj for row in model.objects.filter(cluster=demo_cluster)]
    objects = [o for o in objects if not (o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == "shop")]
    load_snapshot(demo_cluster, objects)  # the shop namespace loses every policy
    demo_cluster.refresh_from_db()
    calls = engine_spy["analyze"]
    after = client.get(url(demo_cluster)).json()
    assert engine_spy["analyze"] == calls + 1
    assert after["state_version"] == demo_cluster.state_version > before["state_version"]
    assert edges_by_pair(after)[pair]["label"] == "All Connections"


def test_compressed_when_the_client_accepts_gzip(api, demo_cluster, engine_spy):
    client = api("viewer")
    plain = client.get(url(demo_cluster, "level=namespace"))
    packed = client.get(url(demo_cluster, "level=namespace"), HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    assert "Content-Encoding" not in plain
    assert gzip.decompress(packed.content) == plain.content
    assert len(packed.content) < len(plain.content)
    assert engine_spy["analyze"] == 1


def test_etag_answers_304_when_nothing_changed(api, demo_cluster):
    client = api("viewer")
    first = client.get(url(demo_cluster))
    etag = first["ETag"]
    assert str(demo_cluster.state_version) in etag
    second = client.get(url(demo_cluster), HTTP_IF_NONE_MATCH=etag)
    assert second.status_code == 304
    assert second.content == b""
    other_query = client.get(url(demo_cluster, "format=matrix"), HTTP_IF_NONE_MATCH=etag)
    assert other_query.status_code == 200


def test_an_empty_cluster_has_an_empty_answer(api, make_cluster):
    cluster = make_cluster("empty", rows=0)
    body = api("viewer").get(url(cluster, "format=matrix")).json()
    assert body["counts"]["edges"] == 0
    assert all(n["external"] for n in body["nodes"])
    findings = api("viewer").get(f"/api/clusters/{cluster.pk}/findings/").json()
    assert findings["findings"] == []
