"""Drift pages: the summary (counts, trend, groups, reachability, coverage), the page of
one difference (side-by-side diff, effect), history, exports and the source form."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from policies.models import DesiredSource, DriftReport, NetworkPolicy
from policies.services import drift

from .conftest import git_source, policy

pytestmark = pytest.mark.django_db


@pytest.fixture
def client_as(users):
    def make(role: str) -> Client:
        client = Client()
        client.force_login(users[role])
        return client

    return make


@pytest.fixture
def drifted(demo_cluster, demo_repo):
    git_source(demo_cluster, demo_repo)
    earlier = timezone.now() - timedelta(hours=2)
    drift.store_report(drift.run_drift(demo_cluster), now=earlier)  # in sync, two hours ago
    edited = NetworkPolicy.objects.get(cluster=demo_cluster, name="database-policy")
    edited.obj["spec"]["ingress"][0]["ports"][0]["port"] = 6432
    edited.save()
    NetworkPolicy.objects.filter(cluster=demo_cluster, name="allow-dns").delete()
    NetworkPolicy.objects.create(cluster=demo_cluster, uid="x", namespace="team-a", name="by-hand",
                                 obj=policy("team-a", "by-hand", {"podSelector": {}, "ingress": [{}]}))
    demo_cluster.bump_state_version()
    return demo_cluster, drift.compute_drift(demo_cluster)


def test_nav_bar_shows_drift(client_as, demo_cluster):
    html = client_as("viewer").get(reverse("cluster-overview", args=[demo_cluster.pk])).content.decode()
    assert f'href="/clusters/{demo_cluster.pk}/drift/"' in html


def test_summary_groups_the_differences(client_as, drifted):
    cluster, report = drifted
    response = client_as("viewer").get(reverse("drift-summary", args=[cluster.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    ctx = response.context
    assert [(g["kind"], [r["item"].key for r in g["items"]]) for g in ctx["groups"]] == [
        ("missing", ["shop/allow-dns"]),
        ("changed", ["shop/database-policy"]),
        ("extra", ["team-a/by-hand"]),
    ]
    assert "<strong>1</strong> missing in the cluster" in html
    assert 'data-policy="shop/database-policy"' in html
    assert reverse("drift-item", args=[cluster.pk, "shop", "database-policy"]) in html
    # Trend over both reports, oldest first.
    assert [b["report"].drift_count for b in ctx["trend"]["bars"]] == [0, 3]
    # Reachability and coverage.
    assert "Allowed live, not desired" in html
    assert ">team-a/web (Deployment)<" in html
    assert "Coverage of the desired state" in html
    # Viewers get no exports or checks.
    assert "Check now" not in html
    assert reverse("drift-export", args=[cluster.pk, "reconcile"]) not in html


def test_editors_see_checks_and_exports(client_as, drifted):
    cluster, _ = drifted
    html = client_as("editor").get(reverse("drift-summary", args=[cluster.pk])).content.decode()
    assert "Check now" in html
    assert reverse("drift-export", args=[cluster.pk, "reconcile"]) in html
    assert reverse("drift-export", args=[cluster.pk, "adopt"]) in html


def test_summary_without_source_invites_to_add_one(client_as, demo_cluster):
    html = client_as("editor").get(reverse("drift-summary", args=[demo_cluster.pk])).content.decode()
    assert "No desired state yet" in html
    assert reverse("drift-sources", args=[demo_cluster.pk]) in html


def test_source_errors_are_shown_in_words(client_as, demo_cluster, demo_repo):
    git_source(demo_cluster, demo_repo, branch="nope")
    drift.compute_drift(demo_cluster)
    html = client_as("viewer").get(reverse("drift-summary", args=[demo_cluster.pk])).content.decode()
    assert "The desired state has 1 problem" in html
    assert "(branch &#x27;nope&#x27;): the address, branch or credentials are wrong" in html
    assert "Not compared" in html


def test_item_page_shows_the_side_by_side_diff_and_effect(client_as, drifted):
    cluster, _ = drifted
    response = client_as("viewer").get(reverse("drift-item", args=[cluster.pk, "shop", "database-policy"]))
    assert response.status_code == 200
    rows = response.context["diff"]["rows"]
    assert [(r["left"].strip(), r["right"].strip()) for r in rows if r["tag"] == "replace"] == [("port: 5432", "port: 6432")]
    html = response.content.decode()
    assert '<tr class="d-replace">' in html
    assert ">shop/backend (Deployment)<" in html  # closed by the drift: backend -> database 5432
    assert response.context["effect"]["counts"] == {"live_only": 0, "desired_only": 1}
    normalized = client_as("viewer").get(
        reverse("drift-item", args=[cluster.pk, "shop", "database-policy"]), {"view": "normalized"}
    )
    assert normalized.context["normalized"] is True
    assert "netpolui.io/description" not in normalized.context["diff"]["desired_yaml"]


def test_item_page_of_an_extra_policy_gives_the_delete_command(client_as, drifted):
    cluster, _ = drifted
    html = client_as("viewer").get(reverse("drift-item", args=[cluster.pk, "team-a", "by-hand"])).content.decode()
    assert "kubectl delete networkpolicy -n team-a by-hand" in html


def test_item_page_of_an_older_report(client_as, drifted):
    cluster, report = drifted
    first = DriftReport.objects.filter(cluster=cluster).exclude(pk=report.pk).get()
    url = reverse("drift-item", args=[cluster.pk, "shop", "database-policy"])
    assert client_as("viewer").get(url, {"report": first.pk}).status_code == 404  # in sync then
    assert client_as("viewer").get(url, {"report": "x"}).status_code == 404


def test_history_page(client_as, drifted):
    cluster, report = drifted
    html = client_as("viewer").get(reverse("drift-history", args=[cluster.pk])).content.decode()
    assert reverse("drift-report", args=[cluster.pk, report.pk]) in html
    older = DriftReport.objects.filter(cluster=cluster).exclude(pk=report.pk).get()
    page = client_as("viewer").get(reverse("drift-report", args=[cluster.pk, older.pk]))
    assert page.context["report"].pk == older.pk
    assert "You are looking at an older report" in page.content.decode()


def test_exports_download_yaml_for_editors(client_as, drifted):
    cluster, report = drifted
    url = reverse("drift-export", args=[cluster.pk, "reconcile"])
    assert client_as("viewer").get(url).status_code == 403
    response = client_as("editor").get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith(f'attachment; filename="demo-drift-reconcile-{report.computed_at:%Y%m%d}')
    text = response.content.decode()
    assert "#   kubectl delete networkpolicy -n team-a by-hand" in text
    names = sorted(d["metadata"]["name"] for d in yaml.safe_load_all(text) if d)
    assert names == ["allow-dns", "database-policy"]
    assert client_as("editor").get(reverse("drift-export", args=[cluster.pk, "other"])).status_code == 404


def test_check_now_runs_the_comparison(client_as, demo_cluster, demo_repo, eager_celery, django_capture_on_commit_callbacks):
    git_source(demo_cluster, demo_repo)
    assert client_as("viewer").post(reverse("drift-check", args=[demo_cluster.pk])).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as("editor").post(reverse("drift-check", args=[demo_cluster.pk]))
    assert response.status_code == 302
    assert DriftReport.objects.filter(cluster=demo_cluster).count() == 1


def test_source_form_adds_a_git_source_and_checks(client_as, demo_cluster, demo_repo, eager_celery,
                                                 django_capture_on_commit_callbacks):
    url = reverse("drift-sources", args=[demo_cluster.pk])
    assert client_as("viewer").get(url).status_code == 403
    form = {"kind": "git", "location": str(demo_repo.path), "branch": "main", "subdirectory": "policies",
            "namespaces": "", "enabled": "on"}
    refused = client_as("editor").post(url, form)
    assert refused.status_code == 400
    assert "only an admin may read directories or repositories" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        added = client_as("admin").post(url, form)
    assert added.status_code == 302
    source = DesiredSource.objects.get()
    assert (source.kind, source.branch, source.subdirectory) == ("git", "main", "policies")
    assert DriftReport.objects.get(cluster=demo_cluster).status == "ok"


def test_source_form_reads_an_uploaded_file(client_as, demo_cluster, eager_celery, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile(
        "team-a.yaml",
        b"kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: deny, namespace: team-a}\nspec: {podSelector: {}}\n",
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as("editor").post(
            reverse("drift-sources", args=[demo_cluster.pk]),
            {"kind": "upload", "upload": upload, "namespaces": "team-a", "enabled": "on"},
        )
    assert response.status_code == 302
    source = DesiredSource.objects.get()
    assert source.file_name == "team-a.yaml"
    assert {(i.kind, i.key) for i in drift.latest_report(demo_cluster).items.all()} == {
        ("missing", "team-a/deny"), ("extra", "team-a/allow-specific-pods"),
    }


def test_source_form_shows_yaml_errors_with_their_line(client_as, demo_cluster):
    response = client_as("editor").post(
        reverse("drift-sources", args=[demo_cluster.pk]),
        {"kind": "upload", "yaml_text": "kind: NetworkPolicy\nmetadata:\n  name: [\n", "enabled": "on"},
    )
    assert response.status_code == 400
    assert "line 4: invalid YAML" in response.content.decode()
    assert not DesiredSource.objects.exists()


def test_source_can_be_edited_and_removed(client_as, demo_cluster, demo_repo, eager_celery,
                                          django_capture_on_commit_callbacks):
    source = git_source(demo_cluster, demo_repo)
    url = reverse("drift-source-edit", args=[demo_cluster.pk, source.pk])
    assert client_as("editor").get(url).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        client_as("admin").post(url, {"kind": "git", "location": str(demo_repo.path), "branch": "main",
                                      "subdirectory": "policies", "namespaces": "shop", "enabled": "on"})
    source.refresh_from_db()
    assert source.namespaces == "shop"
    response = client_as("editor").post(url, {"delete": "1"})
    assert response.status_code == 302
    assert not DesiredSource.objects.exists()


@pytest.mark.parametrize(
    ("name", "args", "role_needed"),
    [
        ("drift-summary", [], "viewer"),
        ("drift-history", [], "viewer"),
        ("drift-sources", [], "editor"),
        ("drift-export", ["adopt"], "editor"),
    ],
)
def test_pages_need_a_sign_in_and_a_role(client, client_as, demo_cluster, name, args, role_needed):
    url = reverse(name, args=[demo_cluster.pk, *args])
    anonymous = client.get(url)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith(reverse("login") + "?next=")
    assert client_as("nobody").get(url).status_code == 403
    if role_needed == "editor":
        assert client_as("viewer").get(url).status_code == 403


def test_the_source_form_hides_a_token_and_keeps_it(client_as, demo_cluster):
    source = DesiredSource.objects.create(cluster=demo_cluster, kind="git", location="https://bot:ghp_secret@git.example/p.git")
    url = reverse("drift-source-edit", args=[demo_cluster.pk, source.pk])
    html = client_as("editor").get(url).content.decode()
    assert "ghp_secret" not in html
    assert "https://***@git.example/p.git" in html
    client_as("editor").post(url, {"kind": "git", "location": "https://***@git.example/p.git", "branch": "dev",
                                   "subdirectory": "", "namespaces": "", "enabled": "on"})
    source.refresh_from_db()
    assert (source.location, source.branch) == ("https://bot:ghp_secret@git.example/p.git", "dev")


def test_a_stale_mirror_is_pointed_out(client_as, drifted):
    cluster, _ = drifted
    cluster.last_error = "cannot read the manifests"
    cluster.save()
    html = client_as("viewer").get(reverse("drift-summary", args=[cluster.pk])).content.decode()
    assert "which is <strong>failing</strong>" in html
