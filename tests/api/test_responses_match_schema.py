"""Live API answers hold to the OpenAPI schema drf-spectacular publishes: every documented
required field is there with its type, so clients generated from the schema can read them."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

pytestmark = pytest.mark.django_db


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0 schema objects -> JSON Schema: `nullable: true` becomes a null option."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@pytest.fixture
def openapi(api):
    response = api("viewer").get("/api/schema/?format=json")
    assert response.status_code == 200
    return response.json()


def check(openapi: dict[str, Any], path: str, answer: Any, status: str = "200", method: str = "get") -> None:
    operation = openapi["paths"][path][method]
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    document = {"components": _json_schema(openapi["components"]), **_json_schema(schema)}
    errors = sorted(Draft202012Validator(document).iter_errors(answer), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors[:10])


@pytest.mark.parametrize(
    "query",
    ["level=tier", "level=workload", "level=namespace&format=matrix", "level=pod&protocol=TCP&port=5432", "level=workload&limit=3"],
)
def test_reachability_answers_match_the_schema(api, openapi, demo_cluster, query):
    response = api("viewer").get(f"/api/clusters/{demo_cluster.pk}/reachability/?{query}")
    assert response.status_code == 200
    answer = response.json()
    assert answer["nodes"]
    check(openapi, "/api/clusters/{id}/reachability/", answer)


def test_reachability_nodes_carry_their_key_parts(api, demo_cluster):
    answer = api("viewer").get(f"/api/clusters/{demo_cluster.pk}/reachability/?level=workload").json()
    for node in answer["nodes"]:
        if node["external"]:
            assert node["object_kind"] == ""
            assert node["id"] == f"{node['name']}[External]"
        else:
            assert node["id"] == f"{node['namespace']}/{node['name']}[{node['object_kind']}]"


def test_findings_answer_matches_the_schema(api, openapi, demo_cluster):
    response = api("viewer").get(f"/api/clusters/{demo_cluster.pk}/findings/")
    assert response.status_code == 200
    assert response.json()["findings"]
    check(openapi, "/api/clusters/{id}/findings/", response.json())


def test_cluster_answers_match_the_schema(api, openapi, demo_cluster):
    listed = api("viewer").get("/api/clusters/")
    assert listed.status_code == 200
    check(openapi, "/api/clusters/", listed.json())
    one = api("viewer").get(f"/api/clusters/{demo_cluster.pk}/")
    assert one.status_code == 200
    check(openapi, "/api/clusters/{id}/", one.json())


def test_workload_connections_and_explain_match_the_schema(api, openapi, demo_cluster):
    from policies.models import Workload

    workload = Workload.objects.filter(cluster=demo_cluster, kind="Deployment").order_by("namespace", "name").first()
    assert workload is not None
    client = api("viewer")
    connections = client.get(f"/api/workloads/{workload.pk}/connections/")
    assert connections.status_code == 200
    check(openapi, "/api/workloads/{id}/connections/", connections.json())
    key = connections.json()["workload"]
    explained = client.get(f"/api/clusters/{demo_cluster.pk}/explain/", {"src": key, "dst": key, "port": "80"})
    assert explained.status_code == 200
    check(openapi, "/api/clusters/{id}/explain/", explained.json())


def test_the_check_can_fail(openapi):
    with pytest.raises(AssertionError, match="nodes"):
        check(openapi, "/api/clusters/{id}/reachability/", {"cluster": 1, "state_version": 1, "level": "tier"})
