"""Nothing anonymous; session and token authentication; roles; throttling;
`manage.py create_token`."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from policies.models import AuditEvent
from policies.roles import role_of

pytestmark = pytest.mark.django_db

READS = [
    "/api/",
    "/api/clusters/",
    "/api/clusters/{c}/",
    "/api/namespaces/",
    "/api/workloads/",
    "/api/pods/",
    "/api/policies/",
    "/api/clusters/{c}/reachability/",
    "/api/clusters/{c}/explain/?src=shop/backend&dst=shop/database",
    "/api/clusters/{c}/explain-edge/?src=shop&dst=shop&level=namespace",
    "/api/clusters/{c}/findings/",
    "/api/clusters/{c}/export/",
    "/api/schema/",
    "/api/docs/",
]


@pytest.mark.parametrize("path", READS)
def test_anonymous_gets_nothing(demo_cluster, path):
    response = APIClient().get(path.format(c=demo_cluster.pk))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert b"shop" not in response.content


@pytest.mark.parametrize("path", READS)
def test_a_user_without_a_role_gets_nothing(api, demo_cluster, path):
    response = api("nobody").get(path.format(c=demo_cluster.pk))
    assert response.status_code == 403
    if path != "/api/docs/":  # an HTML page
        assert b"Your role does not allow this." in response.content
    assert b"shop" not in response.content


def test_session_authentication_needs_csrf_for_writes(users, tmp_path):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username="admin", password="pw-admin")
    response = client.post("/api/clusters/", {"name": "x", "source": "manifests", "manifests_dir": str(tmp_path)}, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


def create_token(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("create_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_create_token_makes_a_script_user_whose_token_reads_the_api(demo_cluster):
    key, note = create_token("ci-bot")
    assert "shown once" in note
    user = User.objects.get(username="ci-bot")
    assert role_of(user) == "viewer"
    assert not user.has_usable_password()
    assert Token.objects.get(user=user).key == key
    assert AuditEvent.objects.filter(action="token.created", object_id=str(user.pk)).exists()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert client.get(f"/api/clusters/{demo_cluster.pk}/reachability/").status_code == 200
    assert client.get(f"/api/clusters/{demo_cluster.pk}/export/").status_code == 403  # viewer


def test_create_token_again_replaces_the_old_token_and_sets_the_role(demo_cluster):
    old, _ = create_token("ci-bot")
    new, _ = create_token("ci-bot", "--role", "editor")
    assert new != old
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {old}")
    assert client.get("/api/clusters/").status_code == 401
    client.credentials(HTTP_AUTHORIZATION=f"Token {new}")
    assert client.get(f"/api/clusters/{demo_cluster.pk}/export/").status_code == 200
    assert role_of(User.objects.get(username="ci-bot")) == "editor"


def test_create_token_keeps_an_existing_users_role(users):
    key, note = create_token("admin")
    assert role_of(User.objects.get(username="admin")) == "admin"
    _, warning = create_token("nobody")
    assert "no role" in warning
    with pytest.raises(CommandError):
        call_command("create_token", "x", "--role", "root", stdout=io.StringIO(), stderr=io.StringIO())


def test_a_bad_token_is_401_with_a_challenge(demo_cluster):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = client.get("/api/clusters/")
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}


def test_roles_viewer_reads_editor_exports_admin_writes(api, demo_cluster, tmp_path):
    export = f"/api/clusters/{demo_cluster.pk}/export/"
    expected = {"viewer": (200, 403, 403), "editor": (200, 200, 403), "admin": (200, 200, 201)}
    for role, (read, exp, write) in expected.items():
        client = api(role)
        created = client.post("/api/clusters/", {"name": f"c-{role}", "source": "manifests", "manifests_dir": str(tmp_path)}, format="json")
        assert (client.get("/api/clusters/").status_code, client.get(export).status_code, created.status_code) == (read, exp, write)


def test_throttle_answers_429_past_the_configured_rate(api, demo_cluster, settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "3/min"}}
    client = api("viewer")
    codes = [client.get("/api/clusters/").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    response = client.get(f"/api/clusters/{demo_cluster.pk}/reachability/")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    # The rate is per user: another user is not held back.
    assert api("editor").get("/api/clusters/").status_code == 200
