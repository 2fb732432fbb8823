"""The editor's pages without a browser: roles, start points, saving, history, export."""

from __future__ import annotations

import json

import pytest

from policies import engine
from policies.models import AuditEvent, NetworkPolicy, PolicyDraft
from policies.services import drafts

from .conftest import BACKEND_POLICY, netpol

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_role(client, users):
    def login(role):
        client.force_login(users[role])
        return client

    return login


def editor_config(response):
    html = response.content.decode()
    start = html.index('<script id="editor-config" type="application/json">') + len(
        '<script id="editor-config" type="application/json">'
    )
    return json.loads(html[start : html.index("</script>", start)])


def save_form(client, url, form, **extra):
    return client.post(url, {"form_json": json.dumps(form), **extra})


def test_the_nav_bar_shows_the_editor(as_role, demo_cluster):
    page = as_role("viewer").get(f"/clusters/{demo_cluster.pk}/drafts/")
    assert page.status_code == 200
    assert f'href="/clusters/{demo_cluster.pk}/drafts/" aria-current="page">Editor</a>' in page.content.decode()


def test_signed_out_users_go_to_sign_in_and_no_role_is_forbidden(client, users, demo_cluster):
    assert client.get(f"/clusters/{demo_cluster.pk}/drafts/")["Location"].startswith("/accounts/login/")
    client.force_login(users["nobody"])
    assert client.get(f"/clusters/{demo_cluster.pk}/drafts/").status_code == 403


def test_start_page_offers_every_start_point(as_role, demo_cluster):
    html = as_role("editor").get(f"/clusters/{demo_cluster.pk}/drafts/new/").content.decode()
    for words in ("Blank policy", "Default deny all", "Default deny ingress", "Allow DNS egress to kube-system",
                  "Allow from a namespace", "Allow from a tier", "3-tier set: frontend, backend, database",
                  "Clone a live policy", "shop/backend-policy", "Paste or upload YAML"):
        assert words in html


def test_a_blank_policy_opens_the_editor_with_label_suggestions_from_the_cluster(as_role, demo_cluster):
    response = as_role("editor").get(f"/clusters/{demo_cluster.pk}/drafts/new/?start=blank&namespace=shop")
    config = editor_config(response)
    assert config["form"] == drafts.blank_form("shop")
    assert "backend" in config["labels"]["pod"]["tier"]
    assert "monitoring" in config["labels"]["namespace"]["kubernetes.io/metadata.name"]
    assert "shop" in config["namespaces"]
    assert config["readOnly"] is False


def test_a_cloned_live_policy_fills_the_form_without_server_fields(as_role, demo_cluster):
    live = NetworkPolicy.objects.get(cluster=demo_cluster, namespace="shop", name="allow-prometheus-scrape")
    config = editor_config(as_role("editor").get(f"/clusters/{demo_cluster.pk}/drafts/new/?clone={live.pk}"))
    back, _ = drafts.form_to_policy(config["form"])
    assert back == engine.clean_policy(live.obj)
    assert "uid" not in back["metadata"]


def test_a_one_policy_template_opens_in_the_editor(as_role, demo_cluster):
    response = as_role("editor").get(
        f"/clusters/{demo_cluster.pk}/drafts/new/?template=allow-from-tier&namespace=payments&tier=ledger&from_tier=api&port=5432"
    )
    back, _ = drafts.form_to_policy(editor_config(response)["form"])
    assert back["metadata"] == {"name": "allow-api-to-ledger", "namespace": "payments"}
    assert back["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 5432}]


def test_the_three_tier_template_shows_a_preview_then_makes_three_drafts(as_role, three_tier):
    client = as_role("editor")
    preview = client.get(f"/clusters/{three_tier.pk}/drafts/new/?template=three-tier&namespace=shop")
    html = preview.content.decode()
    assert "3 policies to import" in html
    assert "What-if: all 3 applied together" in html
    assert "shop/frontend[Deployment]" in html
    assert not PolicyDraft.objects.exists()
    text = preview.context["text"]
    done = client.post(
        f"/clusters/{three_tier.pk}/drafts/import/confirm/", {"yaml": text, "namespace": "", "origin": "template three-tier"},
        follow=True,
    )
    # Named in the order of the documents the user saw.
    assert "3 drafts created: shop/frontend-policy, shop/backend-policy, shop/database-policy." in done.content.decode()
    assert PolicyDraft.objects.get(name="backend-policy").revisions.get().summary == "created from template three-tier"


def test_bad_template_parameters_are_shown_on_the_start_page(as_role, demo_cluster):
    response = as_role("editor").get(f"/clusters/{demo_cluster.pk}/drafts/new/?template=allow-from-tier&namespace=shop&port=99999")
    assert response.status_code == 400
    assert "TCP port must be a port number between 1 and 65535" in response.content.decode()


def test_pasted_yaml_with_one_document_opens_in_the_form_with_its_problems(as_role, demo_cluster):
    text = "kind: NetworkPolicy\napiVersion: networking.k8s.io/v1\nmetadata: {name: web}\nspec:\n  podSelector: {}\n  ingress:\n  - ports: [{port: 80, endPort: 70}]\n"
    response = as_role("editor").post(f"/clusters/{demo_cluster.pk}/drafts/import/", {"yaml": text, "namespace": "team-a"})
    config = editor_config(response)
    assert config["form"]["namespace"] == "team-a"
    assert [e["path"] for e in config["errors"]] == ["spec.ingress[0].ports[0].endPort"]
    assert "The document had no namespace: it goes to team-a." in response.content.decode()


def test_an_uploaded_file_with_several_documents_goes_to_the_import_preview(as_role, demo_cluster):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("policies.yaml", engine.dump_yaml([netpol("a", "shop"), netpol("b", "shop")]).encode())
    response = as_role("editor").post(f"/clusters/{demo_cluster.pk}/drafts/import/", {"file": upload})
    html = response.content.decode()
    assert "2 policies to import" in html
    assert "From policies.yaml." in html


def test_unreadable_yaml_stays_on_the_start_page_with_the_line(as_role, demo_cluster):
    response = as_role("editor").post(f"/clusters/{demo_cluster.pk}/drafts/import/", {"yaml": "spec: [\n"})
    assert response.status_code == 400
    assert "pasted YAML:2: invalid YAML" in response.content.decode()


def test_saving_a_new_draft_redirects_to_it_and_records_the_origin(as_role, demo_cluster, users):
    response = save_form(
        as_role("editor"), f"/clusters/{demo_cluster.pk}/drafts/new/", drafts.policy_to_form(netpol("new-one")),
        origin="template default-deny-all", note="first try",
    )
    draft = PolicyDraft.objects.get()
    assert response["Location"] == f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}/"
    assert draft.created_by == users["editor"]
    assert draft.revisions.get().summary == "created from template default-deny-all: first try"


def test_an_invalid_form_is_not_saved_and_comes_back_with_errors(as_role, demo_cluster):
    form = drafts.policy_to_form(netpol("Bad_Name"))
    response = save_form(as_role("editor"), f"/clusters/{demo_cluster.pk}/drafts/new/", form)
    assert response.status_code == 400
    assert editor_config(response)["form"] == json.loads(json.dumps(form))
    assert editor_config(response)["errors"][0]["path"] == "metadata.name"
    assert not PolicyDraft.objects.exists()


def test_viewers_see_the_editor_read_only_and_cannot_post(as_role, demo_cluster, users):
    draft = drafts.create_draft(demo_cluster, BACKEND_POLICY, actor=users["editor"])
    client = as_role("viewer")
    page = client.get(f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}/")
    assert editor_config(page)["readOnly"] is True
    assert '<fieldset class="ed-fields" disabled>' in page.content.decode()
    form = drafts.policy_to_form(netpol("backend-policy"))
    assert save_form(client, f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}/", form).status_code == 403
    assert client.post(f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}/status/", {"status": "approved"}).status_code == 403
    assert client.post(f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}/delete/").status_code == 403
    assert client.get(f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}/export/").status_code == 403
    assert PolicyDraft.objects.get().revision == 1


def test_editing_saves_a_revision_and_a_stale_form_is_refused(as_role, demo_cluster, users):
    draft = drafts.create_draft(demo_cluster, BACKEND_POLICY, actor=users["editor"])
    client = as_role("editor")
    url = f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}/"
    form = drafts.policy_to_form(BACKEND_POLICY)
    form["ingress"][0]["ports"][0]["port"] = "9090"
    assert save_form(client, url, form, revision=1)["Location"] == url
    stale = save_form(client, url, drafts.policy_to_form(BACKEND_POLICY), revision=1)
    assert stale.status_code == 409
    assert "now revision 2, you edited revision 1" in stale.content.decode()
    history = client.get(url).content.decode()
    assert "spec.ingress[0].ports[0].port: 8080 → 9090" in history


def test_approve_export_and_delete_from_the_draft_page(as_role, demo_cluster, users):
    draft = drafts.create_draft(demo_cluster, BACKEND_POLICY, actor=users["editor"])
    client = as_role("editor")
    base = f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}"
    client.post(f"{base}/status/", {"status": "approved", "revision": 1})
    assert PolicyDraft.objects.get().status == "approved"
    export = client.get(f"{base}/export/")
    assert export["Content-Disposition"] == 'attachment; filename="shop-backend-policy.yaml"'
    assert export.content.decode() == engine.dump_yaml([BACKEND_POLICY])
    assert client.post(f"{base}/delete/")["Location"] == f"/clusters/{demo_cluster.pk}/drafts/"
    assert not PolicyDraft.objects.exists()
    assert list(AuditEvent.objects.filter(action__contains="draft").order_by("id").values_list("action", flat=True)) == [
        "draft.created", "draft.approved", "drafts.exported", "draft.deleted"
    ]


def test_list_filters_and_exports_what_is_approved_in_a_namespace(as_role, demo_cluster, users):
    a = drafts.set_status(drafts.create_draft(demo_cluster, BACKEND_POLICY, actor=users["editor"]), "approved", actor=users["editor"])
    drafts.create_draft(demo_cluster, netpol("draft-only", "shop"), actor=users["editor"])
    client = as_role("editor")
    listing = client.get(f"/clusters/{demo_cluster.pk}/drafts/?status=approved").content.decode()
    assert "backend-policy" in listing
    assert "draft-only" not in listing
    assert 'Everything approved in namespace' in listing
    export = client.get(f"/clusters/{demo_cluster.pk}/drafts/export/?namespace=shop&status=approved")
    assert export.content.decode() == engine.dump_yaml([a.obj])
    assert export["Content-Disposition"] == 'attachment; filename="demo-shop-approved-networkpolicies.yaml"'


def test_what_if_page_for_selected_drafts(as_role, three_tier, users):
    a = drafts.create_draft(three_tier, BACKEND_POLICY, actor=users["editor"])
    html = as_role("viewer").get(f"/clusters/{three_tier.pk}/drafts/what-if/?ids={a.pk}").content.decode()
    assert "If these 1 draft were applied together" in html
    assert "shop/database[StatefulSet]" in html
    assert "4</strong> newly denied" in html


def test_a_revision_can_be_read_and_restored(as_role, demo_cluster, users):
    draft = drafts.create_draft(demo_cluster, BACKEND_POLICY, actor=users["editor"])
    drafts.update_draft(draft, netpol("backend-policy"), actor=users["editor"])
    client = as_role("editor")
    page = client.get(f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}/revisions/1/").content.decode()
    assert "port: 8080" in page
    client.post(f"/clusters/{demo_cluster.pk}/drafts/{draft.pk}/revisions/1/restore/")
    restored = PolicyDraft.objects.get()
    assert restored.obj == BACKEND_POLICY
    assert restored.revision == 3
    assert restored.revisions.get(number=3).summary.startswith("restored revision 1 (")
