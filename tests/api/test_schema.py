"""The OpenAPI schema validates without warnings and documents every endpoint with its
parameters; the docs page is served from the sidecar's static files, not a CDN."""

from __future__ import annotations

import io

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

EXPECTED_PARAMETERS = {
    ("/api/clusters/", "get"): {"name", "source", "status", "page", "page_size"},
    ("/api/namespaces/", "get"): {"cluster", "name", "label", "page", "page_size"},
    ("/api/workloads/", "get"): {"cluster", "namespace", "kind", "name", "label", "top", "page", "page_size"},
    ("/api/pods/", "get"): {"cluster", "namespace", "name", "workload", "host_network", "label", "ip", "page", "page_size"},
    ("/api/policies/", "get"): {"cluster", "namespace", "name", "type", "label", "page", "page_size"},
    ("/api/clusters/{id}/reachability/", "get"): {"id", "level", "group_by", "namespace", "protocol", "port", "direction", "format"},
    ("/api/clusters/{id}/explain/", "get"): {"id", "src", "dst", "port", "protocol"},
    ("/api/clusters/{id}/explain-edge/", "get"): {"id", "src", "dst", "level", "group_by", "direction"},
    ("/api/clusters/{id}/export/", "get"): {"id", "namespace"},
    ("/api/clusters/{id}/findings/", "get"): {"id", "severity", "code", "namespace"},
    ("/api/pods/{id}/policies/", "get"): {"id"},
    ("/api/policies/{id}/selected/", "get"): {"id", "page", "page_size"},
    ("/api/workloads/{id}/policies/", "get"): {"id"},
    ("/api/workloads/{id}/connections/", "get"): {"id", "page", "page_size"},
    ("/api/clusters/{cluster_id}/drift/items/", "get"): {"cluster_id", "report", "kind", "namespace", "page", "page_size"},
    ("/api/clusters/{id}/", "delete"): {"id"},
    ("/api/clusters/", "post"): set(),
    ("/api/cni-policies/", "get"): {"cluster", "cni", "kind", "namespace", "name", "tier", "enforced", "label", "page", "page_size"},
    ("/api/cni-policies/{id}/", "get"): {"id"},
    ("/api/clusters/{id}/cni/", "get"): {"id"},
    ("/api/clusters/{id}/cni/", "post"): {"id"},
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    out = io.StringIO()
    with django_db_blocker.unblock():
        # --fail-on-warn: any warning of the generator (an undocumented field, a guessed
        # type, a path parameter it cannot resolve) fails the command.
        call_command("spectacular", "--validate", "--fail-on-warn", stdout=out)
    return yaml.safe_load(out.getvalue())


@pytest.mark.parametrize(("path", "method"), sorted(EXPECTED_PARAMETERS))
def test_every_endpoint_is_documented_with_its_parameters(schema, path, method):
    operation = schema["paths"][path][method]
    names = {p["name"] for p in operation.get("parameters", [])}
    assert EXPECTED_PARAMETERS[(path, method)] <= names
    assert operation.get("summary") or operation.get("description")
    assert all(p.get("schema") for p in operation.get("parameters", []))


def test_reachability_parameters_carry_their_choices(schema):
    params = {p["name"]: p for p in schema["paths"]["/api/clusters/{id}/reachability/"]["get"]["parameters"]}
    assert set(params["level"]["schema"]["enum"]) == {"workload", "pod", "tier", "namespace"}
    assert set(params["direction"]["schema"]["enum"]) == {"combined", "ingress", "egress"}
    assert set(params["format"]["schema"]["enum"]) == {"edges", "matrix"}
    assert set(params["protocol"]["schema"]["enum"]) == {"TCP", "UDP", "SCTP"}
    assert params["namespace"]["schema"]["type"] == "array"
    response = schema["paths"]["/api/clusters/{id}/reachability/"]["get"]["responses"]["200"]
    assert response["content"]["application/json"]["schema"]["$ref"].endswith("/Reachability")


def test_export_is_documented_as_yaml(schema):
    responses = schema["paths"]["/api/clusters/{id}/export/"]["get"]["responses"]
    assert "application/yaml" in responses["200"]["content"]


def test_cluster_schema_names_no_secret_field(schema):
    fields = set(schema["components"]["schemas"]["Cluster"]["properties"])
    assert not {f for f in fields if "token" in f and f != "token_file"}
    assert "kubeconfig" not in fields


def test_schema_and_docs_are_served_to_signed_in_users(api):
    client = api("viewer")
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    assert "/api/clusters/{id}/reachability/" in response.json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()
    # no inline script (the Content-Security-Policy forbids it): the start-up is a file
    assert "<script>" not in html
    assert "<style" not in html  # nor inline style: its rules are a file
    assert "/static/css/api_docs.css" in html
    script = client.get("/api/docs/?script")
    assert script.status_code == 200
    assert "/api/schema/" in script.content.decode()
    bundle = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200


def test_findings_document_their_fix(schema):
    finding = schema["components"]["schemas"]["Finding"]["properties"]
    assert "fix" in finding
    fix = schema["components"]["schemas"]["FindingFix"]["properties"]
    assert set(fix) == {"kind", "label", "url"}
    enum_ref = fix["kind"]["allOf"][0]["$ref"].rsplit("/", 1)[1]
    kinds = schema["components"]["schemas"][enum_ref]["enum"]
    assert set(kinds) == {
        "adopt-or-delete", "allow-dns", "default-deny", "isolate-egress", "isolate-ingress", "narrow-peer",
        "cluster-network-policy",  # a tier finding's fix: a ClusterNetworkPolicy draft
    }


def test_a_draft_history_is_documented_as_the_plain_list_it_is(schema, api, demo_cluster):
    operation = schema["paths"]["/api/drafts/{id}/history/"]["get"]
    assert {p["name"] for p in operation.get("parameters", [])} == {"id"}
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
