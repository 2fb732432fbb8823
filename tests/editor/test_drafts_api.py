"""The drafts API: CRUD with history and audit, roles, preview, what-if, parse, import,
export."""

from __future__ import annotations

import pytest

from policies import engine
from policies.models import AuditEvent, DraftRevision, PolicyDraft
from policies.services import drafts

from .conftest import BACKEND_POLICY, netpol

pytestmark = pytest.mark.django_db


def create(api, cluster, policy, role="editor"):
    return api(role).post("/api/drafts/", {"cluster": cluster.pk, "policy": policy}, format="json")


# --- CRUD, history, audit -------------------------------------------------------------------------


def test_create_stores_the_policy_with_a_first_revision_and_an_audit_event(api, demo_cluster, users):
    response = create(api, demo_cluster, {**BACKEND_POLICY, "status": {}, "metadata": {**BACKEND_POLICY["metadata"], "uid": "x"}})
    assert response.status_code == 201
    body = response.json()
    assert (body["namespace"], body["name"], body["status"], body["revision"]) == ("shop", "backend-policy", "draft", 1)
    assert body["policy"] == BACKEND_POLICY  # server-managed fields and status dropped
    assert body["yaml"] == engine.dump_yaml([BACKEND_POLICY])
    assert body["created_by"] == "editor"
    draft = PolicyDraft.objects.get(pk=body["id"])
    assert list(draft.revisions.values_list("number", "author__username", "summary")) == [(1, "editor", "created from the API")]
    event = AuditEvent.objects.get(action="draft.created")
    assert (event.actor, event.cluster, event.object_id) == (users["editor"], demo_cluster, str(draft.pk))


def test_create_accepts_yaml_and_form_data(api, demo_cluster):
    by_yaml = api("editor").post(
        "/api/drafts/", {"cluster": demo_cluster.pk, "yaml": engine.dump_yaml([BACKEND_POLICY])}, format="json"
    )
    assert by_yaml.status_code == 201
    form = drafts.policy_to_form(netpol("other"))
    by_form = api("editor").post("/api/drafts/", {"cluster": demo_cluster.pk, "form": form}, format="json")
    assert by_form.status_code == 201
    assert by_form.json()["policy"] == netpol("other")


def test_a_second_draft_of_the_same_policy_is_a_conflict(api, demo_cluster):
    assert create(api, demo_cluster, BACKEND_POLICY).status_code == 201
    response = create(api, demo_cluster, BACKEND_POLICY)
    assert response.status_code == 409
    assert "already has a draft shop/backend-policy" in response.json()["detail"]


def test_update_records_who_changed_what(api, demo_cluster):
    draft_id = create(api, demo_cluster, BACKEND_POLICY).json()["id"]
    changed = {**BACKEND_POLICY, "spec": {**BACKEND_POLICY["spec"], "ingress": [
        {"from": [{"podSelector": {"matchLabels": {"tier": "frontend"}}}], "ports": [{"protocol": "TCP", "port": 8081}]}
    ]}}
    response = api("admin").put(
        f"/api/drafts/{draft_id}/", {"policy": changed, "revision": 1, "note": "new port"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["revision"] == 2
    assert response.json()["updated_by"] == "admin"
    history = api("viewer").get(f"/api/drafts/{draft_id}/history/").json()
    assert [(h["number"], h["author"]) for h in history] == [(2, "admin"), (1, "editor")]
    assert history[0]["summary"] == "new port (spec.ingress[0].ports[0].port: 8080 → 8081)"
    assert history[0]["policy"] == changed
    assert AuditEvent.objects.filter(action="draft.updated", object_id=str(draft_id)).count() == 1


def test_a_save_based_on_an_old_revision_is_refused(api, demo_cluster):
    draft_id = create(api, demo_cluster, BACKEND_POLICY).json()["id"]
    first = api("editor").patch(f"/api/drafts/{draft_id}/", {"policy": netpol("backend-policy"), "revision": 1}, format="json")
    assert first.status_code == 200
    stale = api("admin").patch(
        f"/api/drafts/{draft_id}/", {"policy": BACKEND_POLICY, "revision": 1}, format="json"
    )
    assert stale.status_code == 409
    assert "now revision 2, you edited revision 1" in stale.json()["detail"]
    assert PolicyDraft.objects.get(pk=draft_id).obj == netpol("backend-policy")


def test_approving_is_a_revision_and_changing_the_policy_withdraws_it(api, demo_cluster):
    draft_id = create(api, demo_cluster, BACKEND_POLICY).json()["id"]
    approved = api("editor").patch(f"/api/drafts/{draft_id}/", {"status": "approved"}, format="json")
    assert approved.json()["status"] == "approved"
    assert approved.json()["revision"] == 2
    changed = api("editor").patch(f"/api/drafts/{draft_id}/", {"policy": netpol("backend-policy")}, format="json")
    assert changed.json()["status"] == "draft"
    summaries = list(DraftRevision.objects.filter(draft_id=draft_id).order_by("number").values_list("summary", flat=True))
    assert summaries[1] == "status draft → approved"
    assert summaries[2].endswith("approval withdrawn: the policy changed")
    assert list(AuditEvent.objects.filter(object_type="draft", object_id=str(draft_id)).order_by("id").values_list("action", flat=True)) == [
        "draft.created", "draft.approved", "draft.updated"
    ]


def test_saving_the_same_policy_again_makes_no_revision(api, demo_cluster):
    draft_id = create(api, demo_cluster, BACKEND_POLICY).json()["id"]
    response = api("editor").put(f"/api/drafts/{draft_id}/", {"policy": BACKEND_POLICY}, format="json")
    assert response.json()["revision"] == 1
    assert DraftRevision.objects.filter(draft_id=draft_id).count() == 1


def test_delete_is_audited_with_the_policy(api, demo_cluster):
    draft_id = create(api, demo_cluster, BACKEND_POLICY).json()["id"]
    assert api("editor").delete(f"/api/drafts/{draft_id}/").status_code == 204
    assert not PolicyDraft.objects.exists()
    event = AuditEvent.objects.get(action="draft.deleted")
    assert event.details["policy"] == BACKEND_POLICY


def test_list_filters_by_cluster_namespace_and_status(api, demo_cluster, three_tier, users):
    drafts.create_draft(demo_cluster, BACKEND_POLICY, actor=users["editor"])
    other = drafts.create_draft(demo_cluster, netpol("web", "team-a"), actor=users["editor"])
    drafts.set_status(other, "approved", actor=users["editor"])
    drafts.create_draft(three_tier, BACKEND_POLICY, actor=users["editor"])
    client = api("viewer")

    def names(query):
        return [(r["namespace"], r["name"]) for r in client.get(f"/api/drafts/?{query}").json()["results"]]

    assert names(f"cluster={demo_cluster.pk}") == [("shop", "backend-policy"), ("team-a", "web")]
    assert names(f"cluster={demo_cluster.pk}&status=approved") == [("team-a", "web")]
    assert names(f"cluster={three_tier.pk}&namespace=shop") == [("shop", "backend-policy")]


# --- roles -------------------------------------------------------------------------------------------


def test_viewers_read_but_do_not_write(api, demo_cluster, users):
    draft = drafts.create_draft(demo_cluster, BACKEND_POLICY, actor=users["editor"])
    viewer = api("viewer")
    assert viewer.get(f"/api/drafts/{draft.pk}/").status_code == 200
    assert viewer.get(f"/api/drafts/{draft.pk}/history/").status_code == 200
    assert create(api, demo_cluster, netpol("x"), role="viewer").status_code == 403
    assert viewer.patch(f"/api/drafts/{draft.pk}/", {"status": "approved"}, format="json").status_code == 403
    assert viewer.delete(f"/api/drafts/{draft.pk}/").status_code == 403
    assert viewer.get(f"/api/drafts/export/?cluster={demo_cluster.pk}").status_code == 403
    # Asking questions changes nothing: viewers may.
    assert viewer.post("/api/drafts/preview/", {"policy": BACKEND_POLICY}, format="json").status_code == 200
    assert viewer.get(f"/api/drafts/{draft.pk}/what-if/").status_code == 200
    assert PolicyDraft.objects.get().status == "draft"


def test_no_role_and_anonymous_get_nothing(api, demo_cluster, users):
    drafts.create_draft(demo_cluster, BACKEND_POLICY, actor=users["editor"])
    assert api(None).get("/api/drafts/").status_code == 401
    assert api("nobody").get("/api/drafts/").status_code == 403
    assert api("nobody").post("/api/drafts/preview/", {"policy": BACKEND_POLICY}, format="json").status_code == 403


# --- preview, parse ------------------------------------------------------------------------------------


def test_preview_gives_canonical_yaml_warnings_and_the_three_zones(api, demo_cluster):
    policy = netpol(
        "split", "shop",
        policyTypes=["Ingress"],
        ingress=[{"from": [
            {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}},
            {"podSelector": {"matchLabels": {"app": "prometheus"}}},
        ]}],
    )
    body = api("viewer").post("/api/drafts/preview/", {"policy": policy, "cluster": demo_cluster.pk}, format="json").json()
    assert body["valid"] is True
    assert body["yaml"] == engine.dump_yaml([policy])
    warning = [w for w in body["warnings"] if w["level"] == "warning"]
    assert warning[0]["path"] == "spec.ingress[0].from"
    assert "alternatives (OR)" in warning[0]["message"]
    zones = body["zones"]
    assert zones["selected"]["all"] is True
    assert "shop/backend[Deployment]" in zones["selected"]["workloads"]
    assert [i["text"] for i in zones["ingress"]["cluster"]] == [
        "all pods in namespaces [kubernetes.io/metadata.name=monitoring]"
    ]
    assert zones["ingress"]["cluster"][0]["namespaces"] == ["monitoring"]
    assert zones["ingress"]["namespace"][0]["text"] == "pods [app=prometheus] in shop"
    assert zones["ingress"]["namespace"][0]["workloads"] == []  # prometheus lives in monitoring
    assert zones["egress"]["affected"] is False


def test_preview_of_an_invalid_form_is_200_with_the_errors(api):
    form = drafts.policy_to_form(netpol("Bad Name"))
    body = api("viewer").post("/api/drafts/preview/", {"form": form}, format="json").json()
    assert body["valid"] is False
    assert body["errors"][0]["path"] == "metadata.name"
    assert body["zones"] is None


def test_parse_reads_many_documents_into_form_data(api):
    text = engine.dump_yaml([BACKEND_POLICY, netpol("deny", "shop", policyTypes=["Ingress", "Egress"])])
    body = api("viewer").post("/api/drafts/parse/", {"yaml": text}, format="json").json()
    assert [d["policy"]["metadata"]["name"] for d in body["documents"]] == ["backend-policy", "deny"]
    first = body["documents"][0]
    assert drafts.form_to_policy(first["form"])[0] == BACKEND_POLICY
    assert first["errors"] == []
    assert first["losses"] == []


def test_parse_refuses_other_kinds_and_broken_yaml_with_the_line(api):
    broken = api("viewer").post("/api/drafts/parse/", {"yaml": "kind: NetworkPolicy\nspec: [\n"}, format="json")
    assert broken.status_code == 400
    assert broken.json()[0]["message"].startswith("pasted YAML:")
    other = api("viewer").post(
        "/api/drafts/parse/", {"yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n"}, format="json"
    )
    assert other.status_code == 400
    assert other.json()[0]["message"] == "pasted YAML: document 1 is a Pod, not a NetworkPolicy"


# --- what-if -------------------------------------------------------------------------------------------


def test_what_if_names_newly_denied_pairs_with_ports(api, three_tier):
    body = api("viewer").post("/api/drafts/what-if/", {"cluster": three_tier.pk, "policy": BACKEND_POLICY}, format="json").json()
    denied = {(c["src"], c["dst"]): c for c in body["denied"]}
    assert denied[("shop/database[StatefulSet]", "shop/backend[Deployment]")]["ports"] == "All Connections"
    frontend = denied[("shop/frontend[Deployment]", "shop/backend[Deployment]")]
    assert frontend["change"] == "fewer ports"
    assert frontend["conns"] == {"SCTP": [[1, 65535]], "TCP": [[1, 8079], [8081, 65535]], "UDP": [[1, 65535]]}
    assert body["allowed"] == []
    assert body["policies"] == [{"key": "shop/backend-policy", "replaces_live": False, "same_as_live": False,
                                 "selects": ["shop/backend[Deployment]"]}]
    assert body["isolation"] == [{"workload": "shop/backend[Deployment]", "ingress": [False, True],
                                  "egress": [False, False], "host_network": False}]


def test_what_if_of_several_policies_combines_them(api, three_tier):
    deny_all = netpol("deny", "shop", policyTypes=["Ingress", "Egress"])
    allow_dns = templates_allow_dns()
    alone = api("viewer").post("/api/drafts/what-if/", {"cluster": three_tier.pk, "policy": deny_all}, format="json").json()
    assert "shop/frontend[Deployment]" in alone["dns"]
    both = api("viewer").post(
        "/api/drafts/what-if/", {"cluster": three_tier.pk, "policies": [deny_all, allow_dns]}, format="json"
    ).json()
    assert both["dns"] == []
    lines = set(both["text"].splitlines())
    assert (
        "diff-type: removed, source: shop/frontend[Deployment], destination: shop/backend[Deployment], "
        "ref1: All Connections, ref2: No Connections" in lines
    )


def templates_allow_dns():
    from policies.services import starter_policies

    return starter_policies.render("allow-dns-egress", "shop")[0]


def test_what_if_of_a_live_policy_unchanged_is_empty(api, demo_cluster):
    from policies.models import NetworkPolicy

    live = NetworkPolicy.objects.get(cluster=demo_cluster, namespace="shop", name="backend-policy")
    body = api("viewer").post(
        "/api/drafts/what-if/", {"cluster": demo_cluster.pk, "policy": drafts.clone_live(live)}, format="json"
    ).json()
    assert body["is_empty"] is True
    assert body["policies"][0]["same_as_live"] is True


def test_what_if_of_stored_drafts_by_id(api, three_tier, users):
    draft = drafts.create_draft(three_tier, BACKEND_POLICY, actor=users["editor"])
    by_id = api("viewer").post("/api/drafts/what-if/", {"cluster": three_tier.pk, "drafts": [draft.pk]}, format="json")
    assert by_id.json()["counts"] == api("viewer").get(f"/api/drafts/{draft.pk}/what-if/").json()["counts"]
    assert by_id.json()["counts"]["denied"] == 4


# --- import, export ----------------------------------------------------------------------------------


def test_import_makes_one_draft_per_document_all_or_none(api, three_tier):
    text = engine.dump_yaml([BACKEND_POLICY, netpol("deny", None)])
    body = api("editor").post(
        "/api/drafts/import/", {"cluster": three_tier.pk, "yaml": text, "namespace": "shop"}, format="json"
    )
    assert body.status_code == 201
    assert [(d["namespace"], d["name"]) for d in body.json()] == [("shop", "backend-policy"), ("shop", "deny")]
    again = api("editor").post(
        "/api/drafts/import/", {"cluster": three_tier.pk, "yaml": engine.dump_yaml([netpol("new"), BACKEND_POLICY])},
        format="json",
    )
    assert again.status_code == 409
    assert not PolicyDraft.objects.filter(name="new").exists()


def test_import_of_the_three_tier_template(api, three_tier):
    body = api("editor").post(
        "/api/drafts/import/", {"cluster": three_tier.pk, "template": "three-tier", "namespace": "shop"}, format="json"
    )
    assert body.status_code == 201
    assert sorted(d["name"] for d in body.json()) == ["backend-policy", "database-policy", "frontend-policy"]
    assert PolicyDraft.objects.get(name="backend-policy").obj == BACKEND_POLICY


def test_template_parameters_cannot_change_the_yaml_structure(api, three_tier):
    body = api("editor").post(
        "/api/drafts/import/",
        {"cluster": three_tier.pk, "template": "allow-from-tier", "namespace": "shop",
         "params": {"tier": "web\n  evil: true"}},
        format="json",
    )
    assert body.status_code == 400
    assert "Tier (the pods this policy protects) must be a label value" in body.json()["params"][0]


def test_export_of_selected_drafts_is_one_multi_document_file(api, three_tier, users):
    a = drafts.create_draft(three_tier, BACKEND_POLICY, actor=users["editor"])
    b = drafts.create_draft(three_tier, netpol("aaa-first", "shop"), actor=users["editor"])
    drafts.create_draft(three_tier, netpol("not-me", "shop"), actor=users["editor"])
    response = api("editor").get(f"/api/drafts/export/?cluster={three_tier.pk}&ids={a.pk},{b.pk}")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/yaml; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="three-tier-networkpolicies.yaml"'
    text = response.content.decode()
    assert text == engine.dump_yaml([netpol("aaa-first", "shop"), BACKEND_POLICY])
    assert [o["metadata"]["name"] for o in engine.load_yaml_text(text)] == ["aaa-first", "backend-policy"]
    event = AuditEvent.objects.get(action="drafts.exported")
    assert event.details["drafts"] == [b.pk, a.pk]


def test_export_of_everything_approved_in_a_namespace(api, three_tier, users):
    approved = drafts.create_draft(three_tier, BACKEND_POLICY, actor=users["editor"])
    drafts.set_status(approved, "approved", actor=users["editor"])
    drafts.create_draft(three_tier, netpol("still-draft", "shop"), actor=users["editor"])
    elsewhere = drafts.create_draft(three_tier, netpol("other-ns", "kube-system"), actor=users["editor"])
    drafts.set_status(elsewhere, "approved", actor=users["editor"])
    response = api("editor").get(f"/api/drafts/export/?cluster={three_tier.pk}&namespace=shop&status=approved")
    assert response["Content-Disposition"] == 'attachment; filename="three-tier-shop-approved-networkpolicies.yaml"'
    assert response.content.decode() == engine.dump_yaml([BACKEND_POLICY])


def test_export_of_one_draft(api, three_tier, users):
    draft = drafts.create_draft(three_tier, BACKEND_POLICY, actor=users["editor"])
    response = api("editor").get(f"/api/drafts/{draft.pk}/export/")
    assert response["Content-Disposition"] == 'attachment; filename="shop-backend-policy.yaml"'
    assert response.content.decode() == engine.dump_yaml([BACKEND_POLICY])


def test_export_with_nothing_to_export_or_bad_ids_is_400(api, three_tier):
    assert api("editor").get(f"/api/drafts/export/?cluster={three_tier.pk}").status_code == 400
    assert api("editor").get(f"/api/drafts/export/?cluster={three_tier.pk}&ids=x").status_code == 400
    assert api("editor").get(f"/api/drafts/export/?cluster={three_tier.pk}&ids=999").status_code == 400
    assert api("editor").get("/api/drafts/export/").status_code == 400


# --- what-if on one common refinement of address ranges -------------------------------------------

BACKEND_FROM_10 = {
    "apiVersion": "networking.k8s.io/v1",
    "kind": "NetworkPolicy",
    "metadata": {"name": "backend-from-10", "namespace": "shop"},
    "spec": {
        "podSelector": {"matchLabels": {"tier": "backend"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/8"}}], "ports": [{"protocol": "TCP", "port": 8080}]}],
    },
}


def test_what_if_of_an_ipblock_draft_reports_exactly_the_one_change(api, demo_cluster):
    body = api("viewer").post(
        "/api/drafts/what-if/", {"cluster": demo_cluster.pk, "policy": BACKEND_FROM_10}, format="json"
    ).json()
    assert [(c["src"], c["dst"], c["ports"], c["change"]) for c in body["allowed"]] == [
        ("10.0.0.0-10.255.255.255[External]", "shop/backend[Deployment]", "TCP 8080", "new pair")
    ]
    assert body["allowed"][0]["src_external"] is True
    assert body["denied"] == []
    assert body["dns"] == []
    assert body["counts"] == {"allowed": 1, "denied": 0, "added_pairs": 1, "removed_pairs": 0, "changed_pairs": 0}
    assert body["text"] == (
        "Connectivity diff:\n"
        "diff-type: added, source: 10.0.0.0-10.255.255.255[External], destination: shop/backend[Deployment], "
        "ref1: No Connections, ref2: TCP 8080\n"
    )


def test_what_if_of_a_first_ipv6_block_selecting_nothing_is_empty(api, demo_cluster):
    nobody = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "nobody", "namespace": "shop"},
        "spec": {
            "podSelector": {"matchLabels": {"tier": "nobody"}},
            "policyTypes": ["Ingress", "Egress"],
            "ingress": [{"from": [{"ipBlock": {"cidr": "2001:db8::/32"}}]}],
            "egress": [{"to": [{"ipBlock": {"cidr": "192.0.2.0/24"}}]}],
        },
    }
    body = api("viewer").post("/api/drafts/what-if/", {"cluster": demo_cluster.pk, "policy": nobody}, format="json").json()
    assert (body["is_empty"], body["allowed"], body["denied"], body["dns"], body["text"]) == (True, [], [], [], "")


def test_what_if_text_is_cut_at_the_limit_like_the_connection_lists(three_tier):
    """The text of a what-if lists at most `limit` differences (as allowed and denied
    do), then says how many more there are: a deny-all over a big namespace would
    otherwise send one line per workload pair of the cluster."""
    deny_all = netpol("deny", "shop", policyTypes=["Ingress", "Egress"])
    whole = drafts.what_if(three_tier, [deny_all])
    lines = whole["text"].splitlines()
    assert len(lines) > 3
    assert not whole["truncated"]
    cut = drafts.what_if(three_tier, [deny_all], limit=2)
    assert cut["truncated"]
    assert cut["text"].splitlines() == [
        *lines[:3],
        f"... and {len(lines) - 3} more differences (the first 2 are shown)",
    ]
