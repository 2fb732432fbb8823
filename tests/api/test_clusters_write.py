"""Registering and removing clusters through the API: admins only, checked as
`manage.py add_cluster` checks, and no secret in any answer."""

from __future__ import annotations

import json

import pytest

from policies.models import AuditEvent, Cluster, NetworkPolicy, Pod

pytestmark = pytest.mark.django_db

POLICY = """\
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: web}
spec: {podSelector: {}}
---
apiVersion: v1
kind: Pod
metadata: {name: web-1, namespace: web, labels: {app: web}}
spec: {containers: [{name: c, image: x}]}
status: {podIP: 10.0.0.9}
"""

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters:
- name: prod
  cluster: {server: "https://127.0.0.1:6443", insecure-skip-tls-verify: true}
users:
- name: admin
  user: {token: kubeconfig-secret-token-value}
contexts:
- name: prod
  context: {cluster: prod, user: admin}
current-context: prod
"""


def test_admin_registers_a_manifests_cluster_and_it_is_loaded(api, users, tmp_path):
    (tmp_path / "all.yaml").write_text(POLICY)
    response = api("admin").post(
        "/api/clusters/", {"name": "staging", "source": "manifests", "manifests_dir": str(tmp_path)}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    cluster = Cluster.objects.get(name="staging")
    assert body["id"] == cluster.pk
    assert body["sync_status"] == "snapshot"
    assert body["counts"]["policies"] == 1
    assert body["counts"]["pods"] == 1
    assert NetworkPolicy.objects.filter(cluster=cluster, name="deny").exists()
    event = AuditEvent.objects.get(action="cluster.registered", object_id=str(cluster.pk))
    assert event.actor == users["admin"]


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"name": "Bad Name!", "source": "manifests", "manifests_dir": "{tmp}"}, "name", "letters, digits"),
        ({"name": "x", "source": "ftp"}, "source", "not a valid choice"),
        ({"source": "manifests", "manifests_dir": "{tmp}"}, "name", "required"),
        ({"name": "x", "source": "manifests", "manifests_dir": "/does/not/exist"}, "manifests_dir", "does not exist"),
        ({"name": "x", "source": "kubeconfig", "kubeconfig_path": "/does/not/exist"}, "kubeconfig_path", "does not exist"),
        ({"name": "x", "source": "token", "server_url": "ftp://x", "token_file": "{tmp}/token"}, "server_url", "server_url must be a URL"),
        ({"name": "x", "source": "token", "server_url": "https://10.0.0.1:6443", "token_file": "/nope"}, "token_file", "does not exist"),
        ({"name": "x", "source": "token", "server_url": "https://10.0.0.1:6443", "token_file": "{tmp}/token", "ca_file": "/nope"}, "ca_file", "does not exist"),
    ],
)
def test_bad_registrations_are_400_with_the_field(api, tmp_path, payload, field, words):
    (tmp_path / "token").write_text("t")
    data = {k: v.replace("{tmp}", str(tmp_path)) for k, v in payload.items()}
    response = api("admin").post("/api/clusters/", data, format="json")
    assert response.status_code == 400
    body = response.json()
    assert field in body, body
    assert words in body[field][0]
    assert not Cluster.objects.filter(name=data.get("name", "")).exists()


def test_a_second_cluster_of_the_same_name_is_refused(api, demo_cluster, tmp_path):
    response = api("admin").post("/api/clusters/", {"name": "demo", "source": "manifests", "manifests_dir": str(tmp_path)}, format="json")
    assert response.status_code == 400
    assert response.json() == {"name": ["a cluster named 'demo' exists already"]}


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("nobody", 403), ("viewer", 403), ("editor", 403)])
def test_only_admins_register_clusters(api, tmp_path, role, status):
    response = api(role).post("/api/clusters/", {"name": "x", "source": "manifests", "manifests_dir": str(tmp_path)}, format="json")
    assert response.status_code == status
    assert not Cluster.objects.filter(name="x").exists()


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("nobody", 403), ("viewer", 403), ("editor", 403)])
def test_only_admins_delete_clusters(api, demo_cluster, role, status):
    assert api(role).delete(f"/api/clusters/{demo_cluster.pk}/").status_code == status
    assert Cluster.objects.filter(pk=demo_cluster.pk).exists()


def test_admin_deletes_a_cluster_and_its_mirror(api, users, demo_cluster):
    pk = demo_cluster.pk
    assert api("admin").delete(f"/api/clusters/{pk}/").status_code == 204
    assert not Cluster.objects.filter(pk=pk).exists()
    assert not Pod.objects.filter(cluster_id=pk).exists()
    assert AuditEvent.objects.get(action="cluster.deleted", object_id=str(pk)).actor == users["admin"]
    assert api("admin").delete(f"/api/clusters/{pk}/").status_code == 404


def test_clusters_cannot_be_edited_in_place(api, demo_cluster):
    response = api("admin").patch(f"/api/clusters/{demo_cluster.pk}/", {"description": "x"}, format="json")
    assert response.status_code == 405


def test_no_secret_is_ever_returned(api, tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text("s3cr3t-bearer-token-value")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    admin = api("admin")
    made = [
        admin.post("/api/clusters/", {"name": "edge", "source": "token", "server_url": "https://10.0.0.1:6443",
                                       "token_file": str(token_file), "insecure_skip_tls_verify": True}, format="json"),
        admin.post("/api/clusters/", {"name": "prod", "source": "kubeconfig", "kubeconfig_path": str(kubeconfig),
                                       "context": "prod"}, format="json"),
    ]
    assert [r.status_code for r in made] == [201, 201], [r.content for r in made]
    answers = [r.content for r in made]
    for role in ("admin", "viewer"):
        client = api(role)
        answers.append(client.get("/api/clusters/").content)
        for cluster in Cluster.objects.all():
            answers.append(client.get(f"/api/clusters/{cluster.pk}/").content)
    for content in answers:
        assert b"s3cr3t-bearer-token-value" not in content
        assert b"kubeconfig-secret-token-value" not in content
    # Admins see where the credentials live; others do not even see the paths.
    admin_view = {c["name"]: c for c in admin.get("/api/clusters/").json()["results"]}
    assert admin_view["edge"]["token_file"] == str(token_file)
    assert admin_view["prod"]["kubeconfig_path"] == str(kubeconfig)
    viewer_view = api("viewer").get("/api/clusters/").content.decode()
    assert str(tmp_path) not in viewer_view
    assert "token_file" not in json.loads(viewer_view)["results"][0]
