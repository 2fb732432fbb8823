"""API errors are JSON always (500, 404, oversized bodies, CSRF); pages keep HTML; every
answer carries a strict Content-Security-Policy."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import path

from netpolui.urls import urlpatterns as project_urls
from policies.middleware import CONTENT_SECURITY_POLICY

pytestmark = pytest.mark.django_db


def boom(request):
    raise RuntimeError("secret detail /srv/netpolui/token")


urlpatterns = [path("api/boom/", boom), path("boom/", boom), *project_urls]
handler500 = "policies.errors.server_error"
handler404 = "policies.errors.page_not_found"


@pytest.mark.urls("tests.test_error_answers")
def test_an_api_500_is_json_without_the_exception(users):
    client = Client(raise_request_exception=False)
    client.force_login(users["viewer"])
    response = client.get("/api/boom/")
    assert response.status_code == 500
    assert response.json() == {"detail": "internal error; the details are in the server log"}
    page = client.get("/boom/")
    assert page.status_code == 500
    assert page["Content-Type"].startswith("text/html")
    assert b"secret detail" not in page.content


def test_an_unknown_api_path_is_a_json_404(api):
    response = api("viewer").get("/api/no-such-thing/")
    assert response.status_code == 404
    assert response.json() == {"detail": "not found"}


def test_an_oversized_body_is_413_json_under_api_and_html_elsewhere(api, client_for, settings):
    settings.NETPOLUI_MAX_REQUEST_BYTES = 1000
    response = api("viewer").post("/api/drafts/parse/", {"yaml": "x" * 2000}, format="json")
    assert response.status_code == 413
    assert response.json() == {"detail": "the request body is larger than the 1000 bytes limit"}
    page = client_for("editor").post("/accounts/login/", {"username": "x" * 2000})
    assert page.status_code == 413
    assert page["Content-Type"].startswith("text/html")


def test_api_csrf_failures_are_json(users):
    from rest_framework.test import APIClient

    client = APIClient(enforce_csrf_checks=True)
    client.force_login(users["viewer"])
    response = client.post("/api/drafts/parse/", {"yaml": "a: 1"}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.mark.parametrize("url", ["/accounts/login/", "/api/schema/", "/static/js/netpolui.js"])
def test_every_answer_has_a_strict_content_security_policy(client_for, url):
    response = client_for("viewer").get(url)
    csp = response["Content-Security-Policy"]
    assert csp == CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in csp
    script_src = csp.split("script-src", 1)[1].split(";", 1)[0]
    assert "unsafe-inline" not in script_src
    assert "unsafe-eval" not in script_src
    assert "frame-ancestors 'none'" in csp


def test_styles_come_from_our_stylesheets_only():
    style_src = CONTENT_SECURITY_POLICY.split("style-src", 1)[1].split(";", 1)[0]
    assert style_src.split() == ["'self'"]
    templates = Path(__file__).resolve().parents[1] / "frontend" / "templates"
    inline = [
        f"{path.relative_to(templates)}: {match.group(0)}"
        for path in sorted(templates.rglob("*.html"))
        for match in re.finditer(r"\sstyle\s*=|<style\b", path.read_text(encoding="utf-8"), re.IGNORECASE)
    ]
    assert inline == []


@pytest.mark.django_db
def test_a_nul_character_in_a_query_parameter_is_a_400_naming_it(client_for, demo_cluster):
    api = client_for("viewer").get("/api/policies/", {"namespace": "a\x00b"})
    assert api.status_code == 400
    assert api.json() == {"namespace": ["must not contain a NUL character"]}
    page = client_for("viewer").get(f"/clusters/{demo_cluster.pk}/policies/", {"namespace": "a\x00b"})
    assert page.status_code == 400
    assert "namespace: must not contain a NUL character" in page.content.decode()


@pytest.mark.parametrize("url", ["/api/schema/", "/api/docs/"])
def test_errors_of_the_schema_and_its_docs_are_json(api, url):
    """They render YAML and HTML when they answer; their refusals are JSON like the rest."""
    assert api("admin").get(url).status_code == 200
    refused = api("admin").post(url)
    assert refused.status_code == 405
    assert refused.json() == {"detail": 'Method "POST" not allowed.'}
    forbidden = api("nobody").get(url)
    assert forbidden.status_code == 403
    assert forbidden.json() == {"detail": "Your role does not allow this."}


def test_a_browser_asking_the_api_for_html_gets_json(api):
    # DRF's browsable pages carry inline styles the CSP refuses; the API answers JSON
    response = api("viewer").get("/api/clusters/", HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert "results" in response.json()
