"""Applying an approved draft to a cluster: server-side apply against the fake API
server, a dry run first, admins only, off unless NETPOLUI_ALLOW_APPLY."""

from __future__ import annotations

import pytest
from kubernetes import client as k8s

from policies.models import AuditEvent
from policies.services import drafts
from policies.services.sync import ClusterSpec, register_cluster
from tests.fake_k8s import objects

from .conftest import BACKEND_POLICY

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_cluster(fake_k8s, tmp_path):
    fake_k8s.put(objects.namespace("shop"))
    kubeconfig = fake_k8s.write_kubeconfig(tmp_path / "kubeconfig")
    return register_cluster(
        ClusterSpec(name="live", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake")
    )


@pytest.fixture
def approved(live_cluster, users):
    draft = drafts.create_draft(live_cluster, BACKEND_POLICY, actor=users["editor"])
    return drafts.set_status(draft, "approved", actor=users["editor"])


@pytest.fixture
def apply_on(settings):
    settings.NETPOLUI_ALLOW_APPLY = True


def apply(api, draft, role="admin", **body):
    return api(role).post(f"/api/drafts/{draft.pk}/apply/", body, format="json")


def stored(fake_k8s):
    return [o for o in fake_k8s.objects("networkpolicies") if o["metadata"]["name"] == "backend-policy"]


def test_apply_is_off_unless_the_setting_allows_it(api, approved, fake_k8s):
    response = apply(api, approved, dry_run=True)
    assert response.status_code == 403
    assert "set NETPOLUI_ALLOW_APPLY=true" in response.json()["detail"]
    assert fake_k8s.find_requests("PATCH") == []


def test_dry_run_shows_what_the_server_would_store_and_stores_nothing(api, approved, fake_k8s, apply_on):
    response = apply(api, approved, dry_run=True)
    assert response.status_code == 200
    body = response.json()
    assert body["verdict"] == "would be created"
    assert body["object"]["spec"]["podSelector"] == {"matchLabels": {"tier": "backend"}}
    assert "port: 8080" in body["yaml"]
    assert stored(fake_k8s) == []
    (patch,) = fake_k8s.find_requests("PATCH")
    assert patch.query["dryRun"] == "All"
    assert patch.query["fieldManager"] == "netpolui"
    assert patch.headers["Content-Type"].startswith("application/apply-patch+yaml")
    event = AuditEvent.objects.get(action="draft.apply_dry_run")
    assert event.details == {"revision": approved.revision, "ok": True, "verdict": "would be created", "force": False}


def test_the_real_apply_needs_a_dry_run_of_the_same_revision_first(api, approved, fake_k8s, apply_on):
    refused = apply(api, approved, dry_run=False)
    assert refused.status_code == 409
    assert f"run a dry run of draft shop/backend-policy revision {approved.revision} first" in refused.json()["detail"]
    assert apply(api, approved, dry_run=True).status_code == 200
    response = apply(api, approved, dry_run=False)
    assert response.status_code == 200
    assert response.json()["verdict"] == "created"
    (obj,) = stored(fake_k8s)
    assert obj["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 8080}]
    assert [m["manager"] for m in obj["metadata"]["managedFields"]] == ["netpolui"]
    assert AuditEvent.objects.filter(action="draft.applied", object_id=str(approved.pk)).count() == 1


def test_a_dry_run_of_an_older_revision_does_not_count(api, approved, fake_k8s, apply_on, users):
    assert apply(api, approved, dry_run=True).status_code == 200
    changed = drafts.update_draft(approved, {**BACKEND_POLICY, "metadata": {**BACKEND_POLICY["metadata"], "labels": {"team": "a"}}}, actor=users["editor"])
    changed = drafts.set_status(changed, "approved", actor=users["editor"])
    response = apply(api, changed, dry_run=False)
    assert response.status_code == 409
    assert stored(fake_k8s) == []


def test_applying_again_updates_and_an_unchanged_policy_says_so(api, approved, fake_k8s, apply_on):
    apply(api, approved, dry_run=True)
    apply(api, approved, dry_run=False)
    again = apply(api, approved, dry_run=True)
    assert again.json()["verdict"] == "unchanged"
    assert again.json()["before"]["metadata"]["name"] == "backend-policy"


def test_a_field_owned_by_another_manager_is_a_conflict_unless_forced(api, approved, fake_k8s, kube_api_client, apply_on):
    theirs = objects.allow_from("shop", "backend-policy", {"tier": "backend"}, {"tier": "frontend"}, 9090)
    k8s.NetworkingV1Api(kube_api_client).patch_namespaced_network_policy(
        "backend-policy", "shop", theirs, field_manager="kubectl", _content_type="application/apply-patch+yaml"
    )
    conflict = apply(api, approved, dry_run=True)
    assert conflict.status_code == 409
    assert 'conflict with "kubectl"' in conflict.json()["detail"]
    assert "apply with force to take them over" in conflict.json()["detail"]
    assert AuditEvent.objects.get(action="draft.apply_dry_run").details["ok"] is False

    assert apply(api, approved, dry_run=True, force=True).json()["verdict"] == "would be updated"
    assert apply(api, approved, dry_run=False, force=True).json()["verdict"] == "updated"
    (obj,) = stored(fake_k8s)
    assert obj["spec"]["ingress"][0]["ports"][0]["port"] == 8080


def test_only_admins_apply_and_only_approved_drafts(api, live_cluster, approved, users, apply_on):
    assert apply(api, approved, role="editor", dry_run=True).status_code == 403
    draft = drafts.create_draft(live_cluster, {**BACKEND_POLICY, "metadata": {"name": "other", "namespace": "shop"}}, actor=users["editor"])
    response = apply(api, draft, dry_run=True)
    assert response.status_code == 409
    assert "is not approved: approve it first" in response.json()["detail"]


def test_a_snapshot_cluster_has_nothing_to_apply_to(api, demo_cluster, users, apply_on):
    draft = drafts.set_status(drafts.create_draft(demo_cluster, {**BACKEND_POLICY, "metadata": {"name": "x", "namespace": "shop"}}, actor=users["editor"]), "approved", actor=users["editor"])
    response = apply(api, draft, dry_run=True)
    assert response.status_code == 409
    assert "snapshot read from files" in response.json()["detail"]


def test_an_unreachable_api_server_is_a_502_in_words(api, approved, fake_k8s, apply_on):
    fake_k8s.stop()
    response = apply(api, approved, dry_run=True)
    assert response.status_code == 502
    assert "cannot reach" in response.json()["detail"]


def test_the_page_shows_the_dry_run_then_applies(client, users, approved, fake_k8s, apply_on):
    client.force_login(users["admin"])
    url = f"/clusters/{approved.cluster_id}/drafts/{approved.pk}/apply/"
    page = client.post(url, {"step": "dry-run", "revision": approved.revision})
    assert page.status_code == 200
    text = page.content.decode()
    assert "would be created" in text
    assert f"Apply revision {approved.revision} to live" in text
    assert stored(fake_k8s) == []
    done = client.post(url, {"step": "apply", "revision": approved.revision}, follow=True)
    assert "shop/backend-policy created in cluster live." in done.content.decode()
    assert len(stored(fake_k8s)) == 1


def test_force_needs_a_dry_run_made_with_force(api, approved, fake_k8s, apply_on):
    assert apply(api, approved, dry_run=True).status_code == 200
    refused = apply(api, approved, dry_run=False, force=True)
    assert refused.status_code == 409
    assert (
        f"run a dry run of draft shop/backend-policy revision {approved.revision} with force first"
        in refused.json()["detail"]
    )
    assert stored(fake_k8s) == []
    assert apply(api, approved, dry_run=True, force=True).status_code == 200
    assert apply(api, approved, dry_run=False, force=True).status_code == 200
    assert len(stored(fake_k8s)) == 1
