"""Hostile YAML (and JSON) sent to every endpoint that reads it: each ends in a 4xx
naming the problem, never a 500, and pages answer 400 with the words."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.hostile import HOSTILE_TEXT, NON_UTF8, many_excepts, within_seconds

pytestmark = pytest.mark.django_db

NAMES = [n for n in HOSTILE_TEXT if n != "50 MB"]


def api_posts(cluster_id: int, text: str) -> list[tuple[str, str, dict]]:
    """(role, url, JSON body) of every API endpoint that reads YAML text."""
    return [
        ("viewer", "/api/drafts/parse/", {"yaml": text}),
        ("viewer", "/api/drafts/validate/", {"yaml": text}),
        ("viewer", "/api/drafts/preview/", {"yaml": text}),
        ("viewer", "/api/drafts/what-if/", {"cluster": cluster_id, "yaml": text}),
        ("editor", "/api/drafts/import/", {"cluster": cluster_id, "namespace": "shop", "yaml": text}),
        ("editor", "/api/drafts/", {"cluster": cluster_id, "namespace": "shop", "yaml": text}),
        ("editor", "/api/drift-sources/", {"cluster": cluster_id, "kind": "upload", "yaml_text": text}),
    ]


@pytest.mark.parametrize("name", NAMES)
def test_api_endpoints_refuse_hostile_yaml_with_400(api, demo_cluster, name):
    text, words = HOSTILE_TEXT[name]
    for role, url, body in api_posts(demo_cluster.pk, text):
        response = api(role).post(url, body, format="json")
        assert response.status_code == 400, (url, response.status_code)
        assert response["Content-Type"].startswith("application/json")
        assert words in response.content.decode(), (url, response.content[:300])


def test_a_50_mb_body_is_refused_as_json_before_it_is_read(api, demo_cluster):
    text, _ = HOSTILE_TEXT["50 MB"]
    for role, url, body in api_posts(demo_cluster.pk, text):
        response = api(role).post(url, body, format="json")
        assert response.status_code == 413, url
        assert response.json() == {"detail": "the request body is larger than the 8 MB limit"}


def test_a_yaml_text_over_the_file_cap_is_a_400(api, demo_cluster):
    text = "kind: Pod\nmetadata: {name: " + "x" * (6 * 1024 * 1024) + "}\n"
    response = api("viewer").post("/api/drafts/parse/", {"yaml": text}, format="json")
    assert response.status_code == 400
    assert "larger than the 5 MB limit" in response.content.decode()


def test_uploads_refuse_hostile_and_non_utf8_files(api, demo_cluster):
    for text, words in [(HOSTILE_TEXT["alias bomb"][0].encode(), "alias or merge-key bomb"), (NON_UTF8, "not UTF-8")]:
        upload = SimpleUploadedFile("p.yaml", text, content_type="application/x-yaml")
        response = api("editor").post(
            "/api/drift-sources/", {"cluster": demo_cluster.pk, "kind": "upload", "upload": upload}, format="multipart"
        )
        assert response.status_code == 400
        assert words in response.content.decode()


@pytest.mark.parametrize("name", NAMES)
def test_pages_refuse_hostile_yaml_with_400(client_for, demo_cluster, name):
    text, words = HOSTILE_TEXT[name]
    editor = client_for("editor")
    for url in (f"/clusters/{demo_cluster.pk}/drafts/import/", f"/clusters/{demo_cluster.pk}/drafts/import/confirm/"):
        response = editor.post(url, {"yaml": text, "namespace": "shop"})
        assert response.status_code == 400, url
        assert words in response.content.decode(), url
    upload = SimpleUploadedFile("p.yaml", text.encode())
    response = editor.post(f"/clusters/{demo_cluster.pk}/drafts/import/", {"file": upload, "namespace": "shop"})
    assert response.status_code == 400
    assert words in response.content.decode()
    response = editor.post(
        f"/clusters/{demo_cluster.pk}/drift/sources/", {"kind": "upload", "yaml_text": text, "enabled": "on"}
    )
    assert response.status_code in (200, 400)  # the form again, with the error
    assert words in response.content.decode()


@pytest.mark.parametrize("depth", [900, 100_000])
def test_deeply_nested_json_bodies_are_a_400(api, demo_cluster, depth):
    body = '{"policy": ' + "[" * depth + "]" * depth + "}"
    for url in ("/api/drafts/validate/", "/api/drafts/what-if/"):
        response = api("viewer").post(url, body, content_type="application/json")
        assert response.status_code == 400, url
        assert "nested deeper than" in response.json()["detail"]


def test_json_within_the_nesting_limit_still_parses(api, demo_cluster):
    policy = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
              "metadata": {"name": "p", "namespace": "shop"}, "spec": {"podSelector": {}}}
    response = api("viewer").post("/api/drafts/validate/", json.dumps({"policy": policy}), content_type="application/json")
    assert response.status_code == 200


def test_a_draft_changed_through_the_api_refuses_hostile_yaml(api, users, demo_cluster):
    from policies.services import drafts

    draft = drafts.create_draft(demo_cluster, {
        "apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": "shop"}, "spec": {"podSelector": {}},
    }, actor=users["editor"])
    for name in NAMES:
        text, words = HOSTILE_TEXT[name]
        response = api("editor").patch(f"/api/drafts/{draft.pk}/", {"yaml": text}, format="json")
        assert response.status_code == 400, name
        assert words in response.content.decode(), name


DEEP_SPEC = (
    '{"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy", '
    '"metadata": {"name": "x"}, "spec": ' + '{"a": ' * 900 + "1" + "}" * 900 + "}"
)


@pytest.mark.parametrize("text", [DEEP_SPEC, "[" * 990 + "]" * 990, "[" * 100_000])
def test_page_json_deeper_than_the_limit_is_a_400(client_for, demo_cluster, text):
    """json.loads reads ~990 levels; the code after it recursed and ended in a 500."""
    editor = client_for("editor")
    check = editor.post(f"/clusters/{demo_cluster.pk}/cluster-drafts/check/", text, content_type="application/json")
    assert check.status_code == 400
    assert check.json()["detail"].startswith("The editor sent a policy")
    for url, field in ((f"/clusters/{demo_cluster.pk}/cluster-drafts/new/", "obj"),
                       (f"/clusters/{demo_cluster.pk}/drafts/new/", "form_json")):
        response = editor.post(url, {field: text})
        assert response.status_code in (302, 400), url
        assert editor.get(response["Location"]).status_code == 200 if response.status_code == 302 else True


def test_page_json_within_the_limit_is_read(client_for, demo_cluster):
    body = DEEP_SPEC.replace('{"a": ' * 900 + "1" + "}" * 900, '{"a": ' * 90 + "1" + "}" * 90)
    check = client_for("editor").post(f"/clusters/{demo_cluster.pk}/cluster-drafts/check/", body, content_type="application/json")
    assert check.status_code == 200
    assert check.json()["valid"] is False


def test_a_url_encoded_body_over_the_form_cap_is_refused_before_it_is_decoded(client, api, users):
    """Each %XX escape becomes one object while decoding: 8 MB of them grew a worker past
    600 MB, signed in or not. Multipart bodies keep the request cap."""
    body = "username=" + "%5B" * 700_000
    response = client.post("/accounts/login/", body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "larger than the 1 MB limit" in response.content.decode()
    response = api("viewer").post("/api/drafts/parse/", "yaml=" + "%5B" * 700_000, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert response.json() == {"detail": "the request body is larger than the 1 MB limit"}
    text = "# " + "x" * 2_000_000 + "\n" + HOSTILE_TEXT["alias bomb"][0]
    response = api("viewer").post("/api/drafts/parse/", {"yaml": text}, format="multipart")
    assert response.status_code == 400
    assert "alias or merge-key bomb" in response.content.decode()


def test_a_draft_with_ten_thousand_excepts_is_answered_without_delay(api, demo_cluster):
    """An ipBlock's excepts were cut out one by one from every range left (8 s for 10,000)."""
    lines = "".join(f"        - {cidr}\n" for cidr in many_excepts(10_000))
    text = (
        "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: p\n  namespace: shop\n"
        "spec:\n  podSelector: {}\n  ingress:\n  - from:\n    - ipBlock:\n        cidr: 10.0.0.0/8\n"
        "        except:\n" + lines
    )
    for role, url, body in api_posts(demo_cluster.pk, text)[:3]:  # parse, validate, preview
        with within_seconds(5, f"{url} with 10,000 excepts"):
            response = api(role).post(url, body, format="json")
        assert response.status_code < 500, (url, response.status_code)


def test_a_port_of_five_thousand_digits_is_a_400_not_a_500(api, demo_cluster):
    """int() refuses more than 4,300 digits; the ValueError reached the client as a 500."""
    digits = "1" * 5000
    for port, words in ((digits, "4300 digits"), ("0x" + "f" * 5000, "more than 4,000 digits")):
        text = (
            "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\n"
            f"spec:\n  podSelector: {{}}\n  ingress:\n  - ports:\n    - port: {port}\n"
        )
        for role, url, body in api_posts(demo_cluster.pk, text):
            response = api(role).post(url, body, format="json")
            assert response.status_code == 400, (url, response.status_code)
            assert words in response.content.decode(), url
    form = {"name": "p", "namespace": "shop", "ingress": [{"ports": [{"protocol": "TCP", "port": digits}]}]}
    for url in ("/api/drafts/validate/", "/api/drafts/what-if/"):
        response = api("viewer").post(url, {"cluster": demo_cluster.pk, "form": form}, format="json")
        assert response.status_code == 400, (url, response.status_code)
        assert "spec.ingress[0].ports[0].port" in response.content.decode(), url
    response = api("viewer").post("/api/drafts/preview/", {"form": form}, format="json")
    assert response.status_code == 200
    assert response.json()["valid"] is False
