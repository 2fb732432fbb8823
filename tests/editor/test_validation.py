"""The API server's rules, as the editor applies them: each rule through the service
(what the page shows next to the field) and through the API (400 with the problems)."""

from __future__ import annotations

from typing import Any

import pytest

from policies.models import PolicyDraft
from policies.services import drafts

from .conftest import netpol

pytestmark = pytest.mark.django_db


def ingress_peer(peer: dict[str, Any], **rule: Any) -> dict[str, Any]:
    return netpol(policyTypes=["Ingress"], ingress=[{"from": [peer], **rule}])


def ingress_port(**port: Any) -> dict[str, Any]:
    return netpol(policyTypes=["Ingress"], ingress=[{"ports": [port]}])


def named(name: str) -> dict[str, Any]:
    obj = netpol()
    obj["metadata"]["name"] = name
    return obj


def in_namespace(namespace: str) -> dict[str, Any]:
    obj = netpol()
    obj["metadata"]["namespace"] = namespace
    return obj


CASES = [
    # (id, policy, path, words in the message)
    ("name-not-dns-1123", named("Web_Policy"), "metadata.name", "must consist of lower case alphanumeric"),
    ("name-too-long", named("a" * 254), "metadata.name", "no more than 253 characters"),
    ("name-missing", named(""), "metadata.name", "is required"),
    ("namespace-not-dns-label", in_namespace("Shop.Prod"), "metadata.namespace", "must consist of lower case"),
    ("namespace-missing", in_namespace(""), "metadata.namespace", "is required"),
    (
        "label-key-bad-name",
        netpol(podSelector={"matchLabels": {"-app": "web"}}),
        "spec.podSelector.matchLabels",
        'key "-app" name part must consist of alphanumeric',
    ),
    (
        "label-key-bad-prefix",
        netpol(podSelector={"matchLabels": {"Example.COM/app": "web"}}),
        "spec.podSelector.matchLabels",
        "prefix 'Example.COM'",
    ),
    (
        "label-value-bad-characters",
        netpol(podSelector={"matchLabels": {"app": "my app"}}),
        "spec.podSelector.matchLabels.app",
        'value "my app" must be empty or consist of alphanumeric',
    ),
    (
        "label-value-too-long",
        netpol(podSelector={"matchLabels": {"app": "a" * 64}}),
        "spec.podSelector.matchLabels.app",
        "no more than 63 characters",
    ),
    (
        "operator-unknown",
        netpol(podSelector={"matchExpressions": [{"key": "app", "operator": "Equals", "values": ["x"]}]}),
        "spec.podSelector.matchExpressions[0].operator",
        "not a valid operator: use In, NotIn, Exists or DoesNotExist",
    ),
    (
        "in-without-values",
        netpol(podSelector={"matchExpressions": [{"key": "app", "operator": "In", "values": []}]}),
        "spec.podSelector.matchExpressions[0].values",
        "must be non-empty when operator is In",
    ),
    (
        "exists-with-values",
        netpol(podSelector={"matchExpressions": [{"key": "app", "operator": "Exists", "values": ["x"]}]}),
        "spec.podSelector.matchExpressions[0].values",
        "must be empty when operator is Exists",
    ),
    (
        "cidr-invalid",
        ingress_peer({"ipBlock": {"cidr": "10.0.0.0/33"}}),
        "spec.ingress[0].from[0].ipBlock.cidr",
        'is not a valid CIDR',
    ),
    (
        "except-invalid",
        ingress_peer({"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.300.0/24"]}}),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        "is not a valid CIDR",
    ),
    (
        "except-outside-cidr",
        ingress_peer({"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.1.0.0/24"]}}),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        'must be strictly inside cidr "10.0.0.0/16"',
    ),
    (
        "except-equal-to-cidr",
        ingress_peer({"ipBlock": {"cidr": "10.0.0.0/16", "except": ["10.0.0.0/16"]}}),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        "must be strictly inside cidr",
    ),
    (
        "except-other-family",
        ingress_peer({"ipBlock": {"cidr": "10.0.0.0/8", "except": ["2001:db8::/64"]}}),
        "spec.ingress[0].from[0].ipBlock.except[0]",
        "is IPv6 but cidr",
    ),
    (
        "ipblock-with-selector",
        ingress_peer({"ipBlock": {"cidr": "10.0.0.0/8"}, "podSelector": {}}),
        "spec.ingress[0].from[0]",
        "may not combine ipBlock with podSelector or namespaceSelector",
    ),
    ("port-zero", ingress_port(port=0), "spec.ingress[0].ports[0].port", "must be between 1 and 65535"),
    ("port-too-big", ingress_port(port=70000), "spec.ingress[0].ports[0].port", "must be between 1 and 65535"),
    ("port-name-bad", ingress_port(port="http_alt"), "spec.ingress[0].ports[0].port", "is not a valid port name"),
    ("port-name-too-long", ingress_port(port="metrics-exporter"), "spec.ingress[0].ports[0].port", "1 to 15 characters"),
    ("port-name-ends-with-dash", ingress_port(port="web-"), "spec.ingress[0].ports[0].port", "must not begin or end with '-'"),
    (
        "endport-without-port",
        ingress_port(endPort=90),
        "spec.ingress[0].ports[0].endPort",
        "may not be set when port is not set",
    ),
    (
        "endport-with-named-port",
        ingress_port(port="http", endPort=90),
        "spec.ingress[0].ports[0].endPort",
        'may not be set when port is the named port "http"',
    ),
    ("endport-below-port", ingress_port(port=80, endPort=70), "spec.ingress[0].ports[0].endPort", "70 is below port 80"),
    (
        "endport-too-big",
        ingress_port(port=80, endPort=70000),
        "spec.ingress[0].ports[0].endPort",
        "must be between 1 and 65535",
    ),
    (
        "protocol-unknown",
        ingress_port(protocol="ICMP", port=80),
        "spec.ingress[0].ports[0].protocol",
        '"ICMP" is not supported: use TCP, UDP or SCTP',
    ),
    (
        "protocol-lower-case",
        ingress_port(protocol="tcp", port=80),
        "spec.ingress[0].ports[0].protocol",
        "is not supported",
    ),
    ("policy-type-unknown", netpol(policyTypes=["Ingres"]), "spec.policyTypes[0]", "is not a policy type"),
    (
        "policy-type-twice",
        netpol(policyTypes=["Ingress", "Ingress"]),
        "spec.policyTypes[1]",
        "is listed twice",
    ),
    ("spec-field-unknown", netpol(ingres=[{}]), "spec.ingres", "is not a field of a NetworkPolicy spec"),
    (
        "egress-rule-with-from",
        netpol(policyTypes=["Egress"], egress=[{"from": [{"podSelector": {}}]}]),
        "spec.egress[0].from",
        "an egress rule uses 'to'",
    ),
]


def _without_pod_selector() -> dict[str, Any]:
    obj = netpol()
    del obj["spec"]["podSelector"]
    return obj


CASES.append(("pod-selector-missing", _without_pod_selector(), "spec.podSelector", "is required"))


@pytest.mark.parametrize(("policy", "path", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_service_reports_the_rule_at_the_field_path(policy, path, words):
    errors = drafts.validate(drafts.stored_form(policy))
    found = [e for e in errors if e.path == path]
    assert found, f"no error at {path}: {[str(e) for e in errors]}"
    assert any(words in e.message for e in found), [e.message for e in found]


@pytest.mark.parametrize(("policy", "path", "words"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_api_answers_400_with_path_and_message(api, policy, path, words):
    response = api("viewer").post("/api/drafts/validate/", {"policy": policy}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert isinstance(body, list)
    assert any(e["path"] == path and words in e["message"] for e in body), body
    assert all(set(e) == {"path", "message", "text"} for e in body)


def test_a_valid_policy_validates_with_its_canonical_yaml(api):
    response = api("viewer").post(
        "/api/drafts/validate/", {"policy": netpol(policyTypes=["Ingress"])}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["valid"] is True
    assert response.json()["yaml"].startswith("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n")


def test_the_full_sentence_names_the_policy_and_the_field(api):
    body = api("viewer").post("/api/drafts/validate/", {"policy": ingress_port(port=80, endPort=70)}, format="json").json()
    assert body[0]["text"] == "NetworkPolicy shop/web: spec.ingress[0].ports[0].endPort 70 is below port 80"


def test_a_label_key_given_twice_in_the_form_is_reported_at_the_selector(api):
    form = drafts.policy_to_form(netpol(podSelector={"matchLabels": {"app": "web"}}))
    form["pod_selector"]["match_labels"].append({"key": "app", "value": "api"})
    body = api("viewer").post("/api/drafts/validate/", {"form": form}, format="json").json()
    assert {"path": "spec.podSelector.matchLabels", "message": 'key "app" is listed twice'}.items() <= body[0].items()


def test_form_errors_keep_the_index_of_the_row_they_are_about(api):
    # Blank rows the user added but did not fill in are skipped without shifting paths
    # of the rows that count: port rows are never skipped, so the second row is ports[1].
    form = drafts.policy_to_form(ingress_port(port=80))
    form["ingress"][0]["ports"].append({"protocol": "TCP", "port": "99999", "end_port": ""})
    body = api("viewer").post("/api/drafts/preview/", {"form": form}, format="json").json()
    assert body["valid"] is False
    assert [e["path"] for e in body["errors"]] == ["spec.ingress[0].ports[1].port"]


def test_an_invalid_policy_is_never_stored(api, demo_cluster):
    response = api("editor").post(
        "/api/drafts/", {"cluster": demo_cluster.pk, "policy": ingress_port(port=80, endPort=70)}, format="json"
    )
    assert response.status_code == 400
    assert response.json()[0]["path"] == "spec.ingress[0].ports[0].endPort"
    assert not PolicyDraft.objects.exists()


def test_an_invalid_policy_gets_no_what_if(api, demo_cluster):
    response = api("viewer").post(
        "/api/drafts/what-if/", {"cluster": demo_cluster.pk, "policy": named("Bad")}, format="json"
    )
    assert response.status_code == 400
    assert response.json()[0]["path"] == "metadata.name"
