"""The "delete" side of a finding's fix: a policy that selects nothing may be deleted
instead of adopted. The fix page shows the what-if of deleting it before anything is
saved; the deletion is a draft, reviewed and approved like any other, exported as the
`kubectl delete` command and read by drift as "this policy is not wanted"."""

from __future__ import annotations

import pytest

from policies import engine
from policies.models import AuditEvent, DesiredSource, NetworkPolicy, PolicyDraft
from policies.services import analysis, deletions, drafts, drift, fixes

pytestmark = pytest.mark.django_db

LEGACY = ("payments", "legacy-allow-batch")


def fix_url(cluster) -> str:
    return fixes.fix_url(cluster.pk, "policy-selects-nothing", *LEGACY[:1], "NetworkPolicy", LEGACY[1])


def test_the_fix_page_shows_what_deleting_the_policy_changes_before_anything_is_saved(demo_cluster, client_for):
    response = client_for("editor").get(fix_url(demo_cluster))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Or delete payments/legacy-allow-batch" in html
    offer = response.context["deletion"]
    assert offer["what_if"]["is_empty"]  # it selects nothing: deleting it changes no connection
    assert offer["what_if"]["removals"] == [{"key": "payments/legacy-allow-batch", "selects": []}]
    assert "payments/legacy-allow-batch</strong> is deleted." in html
    assert "It selects no workload now." in html
    assert 'id="propose-deletion"' in html
    assert not PolicyDraft.objects.exists()
    # viewers see the what-if but no button
    viewer = client_for("viewer").get(fix_url(demo_cluster)).content.decode()
    assert "Or delete payments/legacy-allow-batch" in viewer
    assert 'id="propose-deletion"' not in viewer


def test_the_removal_what_if_is_the_engines_what_if_of_the_removal(demo_cluster):
    """Deleting a policy that does select pods: the what-if lists exactly what the
    engine's removal changes (here the database loses its ingress isolation rule)."""
    result = deletions.removal_what_if(demo_cluster, "shop", "database-policy")
    base = analysis.analyzer(demo_cluster)
    expected = engine.diff_reachability(
        base.analyze(level="workload", direction="combined"),
        base.remove_policy("shop", "database-policy").analyze(level="workload", direction="combined"),
    )
    assert not expected.is_empty
    assert result["counts"]["added_pairs"] == len(expected.added)
    assert result["counts"]["removed_pairs"] == len(expected.removed)
    assert result["counts"]["changed_pairs"] == len(expected.changed)
    assert result["removals"][0]["key"] == "shop/database-policy"
    assert result["removals"][0]["selects"] == ["shop/database[StatefulSet]"]
    with pytest.raises(drafts.DraftError, match="no live policy shop/nope"):
        deletions.removal_what_if(demo_cluster, "shop", "nope")


def test_propose_approve_and_export_a_deletion(demo_cluster, client_for, users):
    client = client_for("editor")
    response = client.post(
        f"/clusters/{demo_cluster.pk}/drafts/new/deletion/",
        {"namespace": "payments", "name": "legacy-allow-batch", "origin": "fix for policy-selects-nothing"},
    )
    draft = PolicyDraft.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}/"
    live = NetworkPolicy.objects.get(cluster=demo_cluster, namespace="payments", name="legacy-allow-batch")
    assert (draft.action, draft.status, draft.revision) == ("delete", "draft", 1)
    assert draft.obj == drafts.clone_live(live)
    assert draft.created_by == users["editor"]

    page = client.get(response["Location"])
    html = page.content.decode()
    assert "Delete payments/legacy-allow-batch" in html
    assert "No change:" in html
    assert "Approve revision 1" in html
    # the normal review flow: approve through the status form
    client.post(f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}/status/", {"status": "approved", "revision": 1})
    draft.refresh_from_db()
    assert draft.status == "approved"
    export = client.get(f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}/export/").content.decode()
    assert export == (
        "# deletion draft (revision 2, approved): kubectl delete networkpolicy -n payments legacy-allow-batch\n"
    )
    actions = list(AuditEvent.objects.filter(object_type="draft").order_by("id").values_list("action", flat=True))
    assert actions == ["draft.created", "draft.approved", "drafts.exported"]
    # the live policy is untouched: netpolui proposes, people delete
    assert NetworkPolicy.objects.filter(pk=live.pk).exists()


def test_a_deletion_draft_is_never_edited_and_not_twice(demo_cluster, client_for, users, api):
    draft = deletions.create_deletion_draft(demo_cluster, *LEGACY, actor=users["editor"])
    client = client_for("editor")
    edit = client.post(f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}/", {"form_json": "{}", "revision": 1})
    assert edit.status_code == 400
    assert "has no content to edit" in edit.content.decode()
    with pytest.raises(drafts.DraftError, match="deletes the live policy"):
        drafts.update_draft(draft, draft.obj, actor=users["editor"])
    again = client.post(
        f"/clusters/{demo_cluster.pk}/drafts/new/deletion/", {"namespace": "payments", "name": "legacy-allow-batch"}
    )
    assert again["Location"] == f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}/"
    assert PolicyDraft.objects.count() == 1
    missing = client.post(f"/clusters/{demo_cluster.pk}/drafts/new/deletion/", {"namespace": "shop", "name": "nope"})
    assert missing.status_code == 302
    assert PolicyDraft.objects.count() == 1
    # the API shows the action and refuses to change the content
    body = api("editor").get(f"/api/drafts/{draft.pk}/").json()
    assert body["action"] == "delete"
    put = api("editor").patch(f"/api/drafts/{draft.pk}/", {"policy": draft.obj}, format="json")
    assert put.status_code == 409
    assert "no content to edit" in put.json()["detail"]
    assert api("editor").get(f"/api/drafts/{draft.pk}/what-if/").json()["removals"][0]["key"] == "payments/legacy-allow-batch"


def test_viewers_cannot_propose_a_deletion(demo_cluster, client_for):
    response = client_for("viewer").post(
        f"/clusters/{demo_cluster.pk}/drafts/new/deletion/", {"namespace": "payments", "name": "legacy-allow-batch"}
    )
    assert response.status_code == 403
    assert not PolicyDraft.objects.exists()


def test_drift_reads_an_approved_deletion_as_the_policy_not_wanted(demo_cluster, users):
    kept = drafts.set_status(
        drafts.create_draft(demo_cluster, drafts.clone_live(NetworkPolicy.objects.get(cluster=demo_cluster, name="payments-egress")), actor=users["editor"]),
        "approved",
        actor=users["editor"],
    )
    gone = drafts.set_status(deletions.create_deletion_draft(demo_cluster, *LEGACY, actor=users["editor"]), "approved", actor=users["editor"])
    source = DesiredSource.objects.create(cluster=demo_cluster, kind=DesiredSource.Kind.DRAFTS)
    read = drift.read_drafts(source)
    keys = {f"{p.obj['metadata']['namespace']}/{p.obj['metadata']['name']}" for p in read.policies}
    assert keys == {f"{kept.namespace}/{kept.name}"}
    assert f"{gone.namespace}/{gone.name}" not in keys


def test_the_what_if_of_selected_drafts_deletes_what_deletion_drafts_delete(demo_cluster, client_for, users):
    gone = deletions.create_deletion_draft(demo_cluster, "shop", "database-policy", actor=users["editor"])
    html = client_for("viewer").get(f"/clusters/{demo_cluster.pk}/drafts/what-if/?ids={gone.pk}").content.decode()
    assert "shop/database-policy</strong> is deleted." in html
    assert "No change:" not in html


def test_the_api_proposes_a_deletion_and_asks_what_deleting_changes(demo_cluster, api):
    client = api("editor")
    created = client.post(
        "/api/drafts/deletions/",
        {"cluster": demo_cluster.pk, "namespace": "shop", "name": "database-policy", "note": "replaced"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["namespace"], body["name"], body["action"], body["status"]) == (
        "shop", "database-policy", "delete", "draft"
    )
    assert client.post(
        "/api/drafts/deletions/", {"cluster": demo_cluster.pk, "namespace": "shop", "name": "database-policy"}, format="json"
    ).status_code == 409
    missing = client.post(
        "/api/drafts/deletions/", {"cluster": demo_cluster.pk, "namespace": "shop", "name": "nope"}, format="json"
    )
    assert missing.status_code == 400
    assert "not in cluster demo" in missing.json()["name"][0]
    assert api("viewer").post(
        "/api/drafts/deletions/", {"cluster": demo_cluster.pk, "namespace": "shop", "name": "frontend-policy"}, format="json"
    ).status_code == 403
    # the what-if of the deletion draft, of a named removal and of both with a policy
    by_draft = client.post("/api/drafts/what-if/", {"cluster": demo_cluster.pk, "drafts": [body["id"]]}, format="json").json()
    by_key = client.post(
        "/api/drafts/what-if/", {"cluster": demo_cluster.pk, "removals": ["shop/database-policy"]}, format="json"
    ).json()
    direct = deletions.removal_what_if(demo_cluster, "shop", "database-policy")
    assert by_draft["counts"] == by_key["counts"] == direct["counts"]
    assert not by_key["is_empty"]
    assert by_key["removals"] == direct["removals"]
    bad = client.post("/api/drafts/what-if/", {"cluster": demo_cluster.pk, "removals": ["shop/nope"]}, format="json")
    assert bad.status_code == 400
    assert "no live policy shop/nope" in bad.json()["removals"][0]
