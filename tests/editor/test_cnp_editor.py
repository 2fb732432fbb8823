"""The ClusterNetworkPolicy (v1alpha2) editor on the demo cluster: start points
(templates, a copy, a v1alpha1 policy converted), the check endpoint (problems with field
paths, YAML, what-if through the engine), saving drafts with revisions, export, delete."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from django.urls import reverse

from policies.models import ClusterPolicy, ClusterPolicyDraft
from policies.services import analysis, cnp_drafts

pytestmark = pytest.mark.django_db


def cnp(name: str = "deny-metadata", **spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"tier": "Admin", "priority": 50, "subject": {"namespaces": {}}}
    body.update(spec)
    return {
        "apiVersion": "policy.networking.k8s.io/v1alpha2",
        "kind": "ClusterNetworkPolicy",
        "metadata": {"name": name},
        "spec": body,
    }


def initial_of(html: str) -> dict[str, Any]:
    match = re.search(r'<script id="cnp-initial" type="application/json">(.*?)</script>', html, re.S)
    assert match, "no initial policy in the page"
    return json.loads(match.group(1))


def check(client, cluster, obj: Any):
    return client.post(
        reverse("cnp-check", args=[cluster.pk]), data=json.dumps(obj), content_type="application/json"
    )


@pytest.mark.parametrize("key", sorted(cnp_drafts.TEMPLATES))
def test_every_template_is_a_valid_policy(key):
    obj = cnp_drafts.TEMPLATES[key].build()
    assert cnp_drafts.validate(obj) == []


def test_templates_are_offered_and_open_in_the_form(client_for, demo_cluster):
    editor = client_for("editor")
    html = editor.get(reverse("cnp-new", args=[demo_cluster.pk])).content.decode()
    for key in cnp_drafts.TEMPLATES:
        assert f'data-template="{key}"' in html
    html = editor.get(reverse("cnp-new", args=[demo_cluster.pk]), {"template": "deny-cloud-metadata"}).content.decode()
    obj = initial_of(html)
    assert obj["spec"]["egress"][0]["to"] == [{"networks": ["169.254.169.254/32"]}]
    assert obj["spec"]["egress"][0]["action"] == "Deny"


def test_an_unknown_template_says_so(client_for, demo_cluster):
    response = client_for("editor").get(reverse("cnp-new", args=[demo_cluster.pk]), {"template": "nope"})
    assert response.status_code == 400
    assert "no template named" in response.content.decode()


def test_always_allow_dns_gives_dns_back_to_the_workload_that_forgot_it(demo_cluster):
    # payments-egress isolates payments-api for egress without DNS; the Admin tier Accept
    # comes before the NetworkPolicy.
    out = cnp_drafts.check(demo_cluster, cnp_drafts.TEMPLATES["always-allow-dns"].build())
    assert out["valid"]
    allowed = {(c["src"], c["dst"]): c["ports"] for c in out["what_if"]["allowed"]}
    assert "UDP 53" in allowed[("payments/payments-api[Deployment]", "kube-system/coredns[Deployment]")]
    assert out["what_if"]["denied"] == []


def test_what_if_of_a_deny_lists_what_it_closes(demo_cluster):
    # default/toolbox is isolated by nothing and monitoring's Prometheus accepts anything:
    # deny the toolbox's egress to the monitoring namespace.
    obj = cnp(
        subject={"pods": {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "default"}}, "podSelector": {}}},
        egress=[{"name": "no-monitoring", "action": "Deny", "to": [{"namespaces": {"matchLabels": {"team": "platform"}}}]}],
    )
    out = cnp_drafts.check(demo_cluster, obj)
    assert out["valid"], out["errors"]
    denied = {(c["src"], c["dst"]) for c in out["what_if"]["denied"]}
    model = analysis.engine_cluster(demo_cluster)
    monitoring = {p.workload_key for p in model.pods if p.namespace == "monitoring"}
    reachable_before = {
        c.dst.key
        for c in analysis.base_reachability(demo_cluster, "workload", "combined").connections
        if c.src.key == "default/toolbox[Pod]"
    }
    assert denied == {("default/toolbox[Pod]", w) for w in monitoring & reachable_before}
    assert ("default/toolbox[Pod]", "monitoring/prometheus[Deployment]") in denied
    assert out["what_if"]["selects"] == ["default/toolbox[Pod]"]
    assert out["what_if"]["replaces_live"] is False


def test_what_if_replaces_the_live_policy_of_the_same_name(demo_cluster):
    live = ClusterPolicy.objects.get(cluster=demo_cluster, name="team-a-guardrails")
    obj = json.loads(json.dumps(live.obj))
    obj["spec"]["ingress"] = obj["spec"]["ingress"][1:]  # drop the Deny from default
    out = cnp_drafts.check(demo_cluster, obj)
    assert out["what_if"]["replaces_live"] is True
    assert ("default/toolbox[Pod]", "team-a/web[Deployment]") in {(c["src"], c["dst"]) for c in out["what_if"]["allowed"]}


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"priority": 5000}, "spec.priority"),
        ({"tier": "Platform"}, "spec.tier"),
        ({"ingress": [{"action": "Allow", "from": [{"namespaces": {}}]}]}, "spec.ingress[0].action"),
        ({"egress": [{"action": "Deny", "to": [{"networks": ["10.0.0/8"]}]}]}, "spec.egress[0].to[0].networks[0]"),
        ({"egress": [{"action": "Deny", "to": [{"serviceAccounts": {}}]}]}, "spec.egress[0].to[0].serviceAccounts"),
        (
            {"ingress": [{"action": "Deny", "from": [{"namespaces": {}}], "protocols": [{"tcp": {"destinationPort": {"range": {"start": 90, "end": 80}}}}]}]},
            "spec.ingress[0].protocols[0].tcp.destinationPort.range",
        ),
    ],
)
def test_check_names_the_field_of_each_problem(client_for, demo_cluster, change, path):
    response = check(client_for("viewer"), demo_cluster, cnp(**change))
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert body["what_if"] is None
    assert any(e["path"].startswith(path) for e in body["errors"]), body["errors"]


def test_check_returns_the_yaml_of_the_form(client_for, demo_cluster):
    obj = cnp(egress=[{"action": "Deny", "to": [{"networks": ["169.254.169.254/32"]}]}])
    body = check(client_for("viewer"), demo_cluster, obj).json()
    assert body["valid"] is True
    assert yaml.safe_load(body["yaml"]) == obj


def test_check_refuses_what_is_not_json(client_for, demo_cluster):
    response = client_for("viewer").post(
        reverse("cnp-check", args=[demo_cluster.pk]), data="{nope", content_type="application/json"
    )
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
    body = check(client_for("viewer"), demo_cluster, ["a list"]).json()
    assert body["errors"] == [{"path": "", "message": "is not an object"}]


def test_clone_of_a_v1alpha1_policy_opens_its_v1alpha2_conversion(client_for, demo_cluster):
    anp = ClusterPolicy.objects.get(cluster=demo_cluster, kind="AdminNetworkPolicy")
    page = client_for("editor").get(reverse("cluster-policy-detail", args=[anp.pk])).content.decode()
    link = f'{reverse("cnp-new", args=[demo_cluster.pk])}?clone={anp.pk}'
    assert link in page
    assert "Clone into a v1alpha2 draft" in page
    html = client_for("editor").get(link).content.decode()
    obj = initial_of(html)
    assert obj["kind"] == "ClusterNetworkPolicy"
    assert obj["spec"]["tier"] == "Admin"
    assert obj["spec"]["priority"] == anp.priority
    assert [r["action"] for r in obj["spec"]["ingress"]] == ["Accept"]
    assert obj["spec"]["ingress"][0]["protocols"] == [{"destinationNamedPort": "http"}]
    assert f"converted from AdminNetworkPolicy/{anp.name}" in html
    # the conversion means the same: replacing nothing, its what-if is empty apart from the name
    out = cnp_drafts.check(demo_cluster, obj)
    assert out["valid"]
    assert out["what_if"]["is_empty"]


def test_clone_of_an_unknown_policy_says_so(client_for, demo_cluster):
    for value in ("999999", "abc"):
        response = client_for("editor").get(reverse("cnp-new", args=[demo_cluster.pk]), {"clone": value})
        assert response.status_code == 400


def test_viewers_may_not_save(client_for, demo_cluster):
    response = client_for("viewer").post(reverse("cnp-new", args=[demo_cluster.pk]), {"obj": json.dumps(cnp())})
    assert response.status_code == 403
    assert not ClusterPolicyDraft.objects.exists()


def test_save_edit_export_and_delete_a_draft(client_for, demo_cluster):
    editor = client_for("editor")
    obj = cnp(egress=[{"name": "metadata", "action": "Deny", "to": [{"networks": ["169.254.169.254/32"]}]}])
    response = editor.post(reverse("cnp-new", args=[demo_cluster.pk]), {"obj": json.dumps(obj), "origin": "template deny-cloud-metadata"})
    assert response.status_code == 302
    draft = ClusterPolicyDraft.objects.get(cluster=demo_cluster)
    assert response["Location"] == reverse("cnp-edit", args=[demo_cluster.pk, draft.pk])
    assert draft.obj == obj
    assert draft.revision == 1
    assert draft.origin == "template deny-cloud-metadata"
    assert initial_of(editor.get(response["Location"]).content.decode()) == obj
    listing = editor.get(reverse("draft-list", args=[demo_cluster.pk])).content.decode()
    assert f'data-cnp-draft="{draft.name}"' in listing

    obj["spec"]["priority"] = 60
    response = editor.post(response["Location"], {"obj": json.dumps(obj), "revision": "1"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.revision == 2
    assert draft.obj["spec"]["priority"] == 60

    stale = editor.post(reverse("cnp-edit", args=[demo_cluster.pk, draft.pk]), {"obj": json.dumps(obj), "revision": "1"})
    assert stale.status_code == 409
    assert "changed since you opened it" in stale.content.decode()

    exported = editor.get(reverse("cnp-export", args=[demo_cluster.pk, draft.pk]))
    assert yaml.safe_load(exported.content) == draft.obj
    assert exported["Content-Disposition"] == 'attachment; filename="clusternetworkpolicy-deny-metadata.yaml"'

    assert editor.post(reverse("cnp-delete", args=[demo_cluster.pk, draft.pk])).status_code == 302
    assert not ClusterPolicyDraft.objects.exists()


def test_an_invalid_save_is_refused_with_field_paths(client_for, demo_cluster):
    response = client_for("editor").post(reverse("cnp-new", args=[demo_cluster.pk]), {"obj": json.dumps(cnp(priority=-1))})
    assert response.status_code == 400
    assert "<code>spec.priority</code>" in response.content.decode()
    assert not ClusterPolicyDraft.objects.exists()


def test_two_drafts_cannot_share_a_name(client_for, demo_cluster):
    editor = client_for("editor")
    url = reverse("cnp-new", args=[demo_cluster.pk])
    assert editor.post(url, {"obj": json.dumps(cnp())}).status_code == 302
    response = editor.post(url, {"obj": json.dumps(cnp())})
    assert response.status_code == 409
    assert "another ClusterNetworkPolicy draft is named" in response.content.decode()
    assert ClusterPolicyDraft.objects.count() == 1


def test_a_garbled_save_is_a_clear_error(client_for, demo_cluster):
    response = client_for("editor").post(reverse("cnp-new", args=[demo_cluster.pk]), {"obj": "{garbled"})
    assert response.status_code == 400
    assert "not valid JSON" in response.content.decode()


def test_a_policy_whose_subject_selects_nothing_changes_nothing(demo_cluster):
    # the template's subject is the namespace "my-namespace", which the demo does not have
    out = cnp_drafts.check(demo_cluster, cnp_drafts.TEMPLATES["deny-other-namespaces"].build())
    assert out["valid"]
    assert out["what_if"]["is_empty"] is True
    assert out["what_if"]["selects"] == []
    # named after a live policy it replaces it, so the answer is computed
    live = ClusterPolicy.objects.get(cluster=demo_cluster, name="team-a-guardrails")
    obj = cnp_drafts.TEMPLATES["deny-other-namespaces"].build()
    obj["metadata"]["name"] = live.name
    out = cnp_drafts.check(demo_cluster, obj)
    assert out["what_if"]["replaces_live"] is True
    assert ("default/toolbox[Pod]", "team-a/web[Deployment]") in {(c["src"], c["dst"]) for c in out["what_if"]["allowed"]}


@pytest.mark.parametrize(
    "obj",
    [
        {},
        {"metadata": "x", "spec": []},
        {"metadata": {"name": 5}, "spec": {"tier": None, "priority": "high", "subject": [], "ingress": {"a": 1}}},
        {"metadata": {"name": "a"}, "spec": {"tier": "Admin", "priority": 1, "subject": {"namespaces": {}}, "egress": [None, 3, {"action": "Deny", "to": "x"}]}},
        {"metadata": {"name": "a"}, "spec": {"tier": "Admin", "priority": 1, "subject": {"pods": {"podSelector": {"matchExpressions": [{"key": "k", "operator": "In"}]}}}}},
        {"metadata": {"name": "a"}, "spec": {"tier": "Admin", "priority": 1, "subject": {"namespaces": {}}, "ingress": [{"action": "Deny", "from": [{"namespaces": {}}], "protocols": [{"tcp": {"destinationPort": {"number": "80"}}}, {"udp": None}, "x"]}]}},
    ],
)
def test_hostile_forms_get_field_problems_never_a_500(client_for, demo_cluster, obj):
    response = check(client_for("viewer"), demo_cluster, obj)
    assert response.status_code == 200
    body = response.json()
    assert body["valid"] is False
    assert body["errors"]
    assert all(isinstance(e["path"], str) and e["message"] for e in body["errors"])
