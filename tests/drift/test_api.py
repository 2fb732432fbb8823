"""Drift in the REST API: reports (latest, history, one), items with diffs and effects,
exports, checks, and the desired-source CRUD with its roles."""

from __future__ import annotations

import io

import pytest
import yaml

from policies.models import AuditEvent, DesiredSource, DriftReport, NetworkPolicy
from policies.services import drift
from tests.builders import demo_counts

from .conftest import git_source, policy

pytestmark = pytest.mark.django_db



@pytest.fixture
def drifted(demo_cluster, demo_repo):
    """The demo with allow-dns deleted and a policy added by hand; one stored report."""
    git_source(demo_cluster, demo_repo)
    NetworkPolicy.objects.filter(cluster=demo_cluster, name="allow-dns").delete()
    NetworkPolicy.objects.create(cluster=demo_cluster, uid="x", namespace="team-a", name="by-hand",
                                 obj=policy("team-a", "by-hand", {"podSelector": {}, "ingress": [{}]}))
    demo_cluster.bump_state_version()
    return demo_cluster, drift.compute_drift(demo_cluster)


def base(cluster) -> str:
    return f"/api/clusters/{cluster.pk}/drift/"


def test_latest_report_with_its_differences(api, drifted):
    cluster, report = drifted
    data = api("viewer").get(base(cluster) + "latest/").json()
    assert data["id"] == report.pk
    assert data["status"] == "ok"
    total = demo_counts()["policies"]
    assert data["counts"] == {"missing": 1, "changed": 0, "extra": 1, "in_sync": total - 1, "desired": total, "live": total}
    assert {(i["kind"], i["key"]) for i in data["items"]} == {("missing", "shop/allow-dns"), ("extra", "team-a/by-hand")}
    assert data["delete_commands"] == ["kubectl delete networkpolicy -n team-a by-hand"]
    assert data["reachability"]["counts"]["desired_only"] > 0
    assert data["sources"][0]["kind"] == "git"


def test_no_report_yet_is_404(api, demo_cluster):
    response = api("viewer").get(base(demo_cluster) + "latest/")
    assert response.status_code == 404
    assert "no drift report yet" in response.json()["detail"]


def test_history_lists_reports_newest_first(api, drifted):
    cluster, first = drifted
    NetworkPolicy.objects.filter(cluster=cluster, name="by-hand").delete()
    cluster.bump_state_version()
    second = drift.compute_drift(cluster)
    data = api("viewer").get(base(cluster)).json()
    assert [r["id"] for r in data["results"]] == [second.pk, first.pk]
    assert data["results"][0]["counts"]["extra"] == 0
    one = api("viewer").get(base(cluster) + f"{first.pk}/").json()
    assert one["counts"]["extra"] == 1


def test_a_report_of_another_cluster_is_404(api, drifted, db):
    _, report = drifted
    from policies.models import Cluster

    other = Cluster.objects.create(name="other", source="manifests", manifests_dir="/x")
    assert api("viewer").get(base(other) + f"{report.pk}/").status_code == 404


def test_items_filter_by_kind_and_carry_diff_and_effect(api, drifted):
    cluster, _ = drifted
    data = api("viewer").get(base(cluster) + "items/", {"kind": "missing"}).json()
    [item] = data["results"]
    assert item["key"] == "shop/allow-dns"
    assert item["live"] == {}
    assert item["desired"]["metadata"]["name"] == "allow-dns"
    assert item["diff"].startswith("--- desired/shop/allow-dns\n+++ live/shop/allow-dns\n")
    assert {"src": "shop/frontend[Deployment]", "dst": "kube-system/coredns[Deployment]",
            "conns": {"TCP": [[53, 53]], "UDP": [[53, 53]]}, "label": "TCP 53,UDP 53"} in item["effect"]["desired_only"]
    bad = api("viewer").get(base(cluster) + "items/", {"kind": "weird"})
    assert bad.status_code == 400


def test_one_item_by_namespace_and_name(api, drifted):
    cluster, _ = drifted
    response = api("viewer").get(base(cluster) + "items/team-a/by-hand/")
    assert response.status_code == 200
    assert response.json()["kind"] == "extra"
    assert api("viewer").get(base(cluster) + "items/shop/frontend-policy/").status_code == 404


def test_exports_are_yaml_for_editors(api, drifted):
    cluster, _ = drifted
    assert api("viewer").get(base(cluster) + "export/").status_code == 403
    response = api("editor").get(base(cluster) + "export/", {"which": "reconcile"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/yaml")
    text = response.content.decode()
    assert "#   kubectl delete networkpolicy -n team-a by-hand" in text
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert [(d["metadata"]["namespace"], d["metadata"]["name"]) for d in docs] == [("shop", "allow-dns")]
    adopt = api("editor").get(base(cluster) + "export/", {"which": "adopt"}).content.decode()
    assert [d["metadata"]["name"] for d in yaml.safe_load_all(adopt) if d] == ["by-hand"]
    assert api("editor").get(base(cluster) + "export/", {"which": "both"}).status_code == 400


def test_an_error_report_has_nothing_to_export(api, demo_cluster, demo_repo):
    git_source(demo_cluster, demo_repo, branch="nope")
    drift.compute_drift(demo_cluster)
    response = api("editor").get(base(demo_cluster) + "export/")
    assert response.status_code == 409


def test_check_needs_an_editor_and_runs_the_comparison(api, demo_cluster, demo_repo, eager_celery,
                                                       django_capture_on_commit_callbacks):
    git_source(demo_cluster, demo_repo)
    assert api("viewer").post(base(demo_cluster) + "check/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = api("editor").post(base(demo_cluster) + "check/")
    assert response.status_code == 202
    assert DriftReport.objects.filter(cluster=demo_cluster, status="ok").count() == 1


def test_anonymous_and_roleless_users_get_nothing(api, drifted):
    cluster, _ = drifted
    for client in (api(None), api("nobody")):
        assert client.get(base(cluster) + "latest/").status_code in (401, 403)
        assert client.get("/api/drift-sources/").status_code in (401, 403)


# --- sources ---------------------------------------------------------------------------------------


def test_viewers_read_sources_and_editors_write_them(api, demo_cluster, demo_repo, eager_celery,
                                                     django_capture_on_commit_callbacks):
    payload = {"cluster": demo_cluster.pk, "kind": "git", "location": "https://git.example/policies.git"}
    assert api("viewer").post("/api/drift-sources/", payload, format="json").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        created = api("editor").post("/api/drift-sources/", payload, format="json")
    assert created.status_code == 201, created.content
    source = DesiredSource.objects.get(pk=created.json()["id"])
    assert AuditEvent.objects.filter(action="drift_source.created", object_id=str(source.pk)).exists()
    # The check ran at once (eagerly here) and found the URL unreachable, in words.
    report = DriftReport.objects.get(cluster=demo_cluster)
    assert report.status == "error"
    assert report.errors[0]["message"].startswith("cannot fetch the Git repository https://git.example/policies.git")

    listed = api("viewer").get("/api/drift-sources/", {"cluster": demo_cluster.pk}).json()
    assert [s["id"] for s in listed["results"]] == [source.pk]
    assert listed["results"][0]["last_error"].startswith("cannot fetch the Git repository")

    changed = api("editor").patch(f"/api/drift-sources/{source.pk}/", {"branch": "release"}, format="json")
    assert changed.status_code == 200
    assert changed.json()["label"] == "https://git.example/policies.git@release"
    assert api("editor").delete(f"/api/drift-sources/{source.pk}/").status_code == 204
    assert not DesiredSource.objects.exists()


def test_server_paths_need_an_admin(api, demo_cluster, demo_repo):
    payload = {"cluster": demo_cluster.pk, "kind": "git", "location": str(demo_repo.path), "subdirectory": "policies"}
    refused = api("editor").post("/api/drift-sources/", payload, format="json")
    assert refused.status_code == 400
    assert refused.json() == {"location": ["only an admin may read directories or repositories on the netpolui server"]}
    assert api("admin").post("/api/drift-sources/", payload, format="json").status_code == 201


def test_source_errors_are_sentences_per_field(api, demo_cluster):
    response = api("editor").post(
        "/api/drift-sources/",
        {"cluster": demo_cluster.pk, "kind": "upload", "yaml_text": "kind: NetworkPolicy\n  bad: indent\n"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["yaml_text"][0].startswith("line 2: invalid YAML")


def test_an_upload_as_a_multipart_file(api, demo_cluster, eager_celery, django_capture_on_commit_callbacks):
    text = b"kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: deny, namespace: team-a}\nspec: {podSelector: {}}\n"
    upload = io.BytesIO(text)
    upload.name = "wanted.yaml"
    with django_capture_on_commit_callbacks(execute=True):
        response = api("editor").post(
            "/api/drift-sources/",
            {"cluster": demo_cluster.pk, "kind": "upload", "upload": upload, "namespaces": "team-a"},
            format="multipart",
        )
    assert response.status_code == 201, response.content
    assert response.json()["file_name"] == "wanted.yaml"
    report = DriftReport.objects.get(cluster=demo_cluster)
    assert {(i.kind, i.key) for i in report.items.all()} == {
        ("missing", "team-a/deny"), ("extra", "team-a/allow-specific-pods"),
    }


def test_tokens_in_urls_are_not_read_back(api, demo_cluster):
    created = api("editor").post(
        "/api/drift-sources/",
        {"cluster": demo_cluster.pk, "kind": "git", "location": "https://bot:ghp_secret@git.example/p.git"},
        format="json",
    ).json()
    assert "ghp_secret" not in str(created)
    assert DesiredSource.objects.get(pk=created["id"]).location == "https://bot:ghp_secret@git.example/p.git"
    assert "ghp_secret" not in str(api("viewer").get(f"/api/drift-sources/{created['id']}/").json())


def test_a_hidden_token_sent_back_unchanged_is_kept(api, demo_cluster):
    created = api("editor").post(
        "/api/drift-sources/",
        {"cluster": demo_cluster.pk, "kind": "git", "location": "https://bot:ghp_secret@git.example/p.git"},
        format="json",
    ).json()
    read_back = api("editor").get(f"/api/drift-sources/{created['id']}/").json()
    read_back.pop("upload", None)
    response = api("editor").put(f"/api/drift-sources/{created['id']}/", {**read_back, "branch": "main"}, format="json")
    assert response.status_code == 200, response.content
    source = DesiredSource.objects.get(pk=created["id"])
    assert source.location == "https://bot:ghp_secret@git.example/p.git"
    assert source.branch == "main"


def test_a_report_embeds_its_first_differences_and_counts_them_all(api, drifted, monkeypatch):
    from policies.api import drift as drift_api

    cluster, report = drifted
    monkeypatch.setattr(drift_api, "EMBEDDED_ITEMS", 1)
    client = api("viewer")
    data = client.get(base(cluster) + "latest/").json()
    assert data["items_total"] == 2
    paged = client.get(base(cluster) + "items/", {"report": report.pk, "page_size": 1}).json()
    assert [i["key"] for i in data["items"]] == [i["key"] for i in paged["results"]] == ["team-a/by-hand"]
    assert paged["count"] == data["items_total"]
    assert paged["next"]


def test_delete_commands_are_embedded_up_to_a_page_and_each_extra_item_carries_its_own(api, drifted, monkeypatch):
    """A report embeds its first delete commands and counts them all; items/?kind=extra
    pages through every one (each extra difference carries its `delete_command`)."""
    from policies.api import drift as drift_api

    cluster, _ = drifted
    for i in range(11):
        NetworkPolicy.objects.create(cluster=cluster, uid=f"extra-{i}", namespace="team-a", name=f"by-hand-{i:02d}",
                                     obj=policy("team-a", f"by-hand-{i:02d}", {"podSelector": {}}))
    cluster.bump_state_version()
    report = drift.compute_drift(cluster)
    every = drift.delete_commands(report)
    assert len(every) == 12
    monkeypatch.setattr(drift_api, "EMBEDDED_ITEMS", 5)
    client = api("viewer")
    data = client.get(base(cluster) + "latest/").json()
    assert data["delete_commands"] == every[:5]
    assert data["delete_commands_total"] == 12
    got: list[str] = []
    url = base(cluster) + f"items/?report={report.pk}&kind=extra&page_size=5"
    pages = 0
    while url:
        page = client.get(url).json()
        assert page["count"] == 12
        got += [item["delete_command"] for item in page["results"]]
        url = page["next"]
        pages += 1
    assert got == every
    assert pages == 3
    missing = client.get(base(cluster) + "items/", {"kind": "missing"}).json()["results"]
    assert [item["delete_command"] for item in missing] == [None]
    one = client.get(base(cluster) + "items/team-a/by-hand-03/").json()
    assert one["delete_command"] == "kubectl delete networkpolicy -n team-a by-hand-03"


def test_items_page_parameters_are_checked(api, drifted):
    cluster, _ = drifted
    client = api("viewer")
    response = client.get(base(cluster) + "items/", {"page": "abc"})
    assert response.status_code == 400
    assert "page" in response.json()
    assert client.get(base(cluster) + "items/", {"page": 99}).status_code == 404
