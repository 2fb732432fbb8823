"""Token, CA and kubeconfig files: their contents never reach an error, a page or a
payload, and their paths reach admins only."""

from __future__ import annotations

import pytest
import urllib3

from policies.k8s.client import (
    ConnectionSettings,
    ConnectionSettingsError,
    build_api_client,
    describe_failure,
    read_token_file,
)
from policies.models import Cluster
from policies.services.sync import sync_cluster

SHADOW = "root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\nnetpolui:$6$salty$hash:19000:0:99999:7:::\n"


def test_a_token_file_of_several_lines_is_refused_without_quoting_it(tmp_path):
    token = tmp_path / "shadow"
    token.write_text(SHADOW)
    with pytest.raises(ConnectionSettingsError) as info:
        read_token_file(str(token))
    assert str(info.value) == f"token file {token} has 3 lines; it must hold the token alone"
    assert info.value.public == "the token file has 3 lines; it must hold the token alone"


def test_a_one_line_token_is_stripped(tmp_path):
    token = tmp_path / "token"
    token.write_text("  abc.def-ghi  \n")
    assert read_token_file(str(token)) == "abc.def-ghi"


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"", "is empty"), (b"to ken", "cannot have"), (b"\xff\xfe", "is not text"), (b"t\x00k", "cannot have")],
)
def test_odd_token_files_are_refused_in_words(tmp_path, content, words):
    token = tmp_path / "token"
    token.write_bytes(content)
    with pytest.raises(ConnectionSettingsError, match=words):
        read_token_file(str(token))


def test_a_device_as_token_file_is_refused_without_reading_it():
    with pytest.raises(ConnectionSettingsError, match="is not a regular file"):
        read_token_file("/dev/zero")


def test_client_exceptions_are_described_without_their_text():
    leaked = ValueError("Invalid header value b'Bearer root:*:19000:0:99999:7:::\\ndaemon'")
    failure = describe_failure(leaked, resource=None, server="https://api.example:6443")
    assert "root" not in failure.message
    assert "Bearer" not in failure.message
    assert failure.message == (
        "unexpected ValueError while talking to https://api.example:6443; the details are in the server log"
    )
    refused = urllib3.exceptions.NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")  # type: ignore[arg-type]
    assert describe_failure(refused, resource=None, server="https://x").message == "cannot reach https://x: connection refused"


def test_kubeconfig_that_is_not_one_is_a_sentence_not_a_crash():
    with pytest.raises(ConnectionSettingsError) as info:
        build_api_client(ConnectionSettings(source="kubeconfig", kubeconfig_path="/etc/passwd"))
    assert "root" not in str(info.value)
    assert "/etc/passwd" in str(info.value)
    assert "/etc/passwd" not in info.value.public


@pytest.mark.django_db
def test_admin_registering_etc_passwd_as_kubeconfig_gets_a_400(api):
    response = api("admin").post(
        "/api/clusters/", {"name": "x", "source": "kubeconfig", "kubeconfig_path": "/etc/passwd"}, format="json"
    )
    assert response.status_code == 400
    assert "is not a kubeconfig file" in response.json()["kubeconfig_path"][0]


@pytest.mark.django_db
def test_a_sync_stores_the_error_without_path_or_contents_and_viewers_see_no_paths(api, tmp_path):
    token = tmp_path / "shadow"
    token.write_text(SHADOW)
    # Registered when the file was fine; replaced by the wrong file since.
    cluster = Cluster.objects.create(
        name="edge", source="token", server_url="https://127.0.0.1:9", token_file=str(token), ca_file=str(tmp_path / "ca")
    )
    assert sync_cluster(cluster, once=True) is False
    cluster.refresh_from_db()
    assert cluster.last_error == "the token file has 3 lines; it must hold the token alone"
    for role in ("viewer", "editor"):
        body = api(role).get("/api/clusters/").content.decode()
        assert "has 3 lines" in body
        assert str(tmp_path) not in body
        assert "root:" not in body
        page = api(role).get("/").content.decode()
        assert str(tmp_path) not in page
        assert "root:" not in page
    admin = api("admin").get(f"/api/clusters/{cluster.pk}/").json()
    assert admin["token_file"] == str(token)
