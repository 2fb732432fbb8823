"""This wave's pages and endpoints under hostile requests: ids that are huge, negative,
of another cluster; NUL characters, long and repeated parameters, junk `expand=` and
`?fix=`; wrong JSON types and missing fields; wrong roles; names carrying markup. The
answers are 4xx with words (or the value is ignored), never a 500; markup is shown as
text."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.urls import reverse

from policies.models import Cluster, ClusterPolicy, ClusterPolicyDraft, CniObject
from policies.services import cnp_drafts

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"
JUNK = ["", "-1", HUGE, "a\x00b", "é☃", "x" * 5000, "1,2,abc", "<script>alert(1)</script>"]


def _no_5xx(response: Any, what: str) -> None:
    assert response.status_code < 500, f"{what} -> {response.status_code}"


@pytest.fixture
def other(db):
    return Cluster.objects.create(name="other", source=Cluster.Source.MANIFESTS, manifests_dir="/nonexistent")


@pytest.fixture
def cnp_draft(demo_cluster, users):
    obj = cnp_drafts.TEMPLATES[sorted(cnp_drafts.TEMPLATES)[0]].build()
    return cnp_drafts.save(demo_cluster, obj, actor=users["editor"])


def test_deletion_drafts_with_nul_long_and_missing_fields_answer_with_words(demo_cluster, client_for, api):
    client = client_for("editor")
    url = reverse("draft-new-deletion", args=[demo_cluster.pk])
    for ns, name in (("pay\x00ments", "x"), ("payments", "legacy\x00"), ("", ""), ("x" * 5000, "y" * 5000)):
        r = client.post(url, {"namespace": ns, "name": name})
        _no_5xx(r, f"page deletion {ns[:10]!r}/{name[:10]!r}")
        assert r.status_code in (302, 400)
    a = api("editor")
    for body in (
        {"cluster": demo_cluster.pk, "namespace": "pay\x00ments", "name": "x"},
        {"cluster": HUGE, "namespace": "payments", "name": "x"},
        {"cluster": -1, "namespace": "payments", "name": "x"},
        {"cluster": [1], "namespace": {"a": 1}, "name": 5},
        {"cluster": demo_cluster.pk, "namespace": "payments", "name": "no-such-policy"},
    ):
        r = a.post("/api/drafts/deletions/", body, format="json")
        _no_5xx(r, f"api deletion {body!r:.80}")
        assert r.status_code == 400, (body, r.content[:200])
        assert r.json()
    for raw in (b"[]", b"null", b"123", b'"x"', b"{", b"\xff\xfe"):
        r = a.post("/api/drafts/deletions/", raw, content_type="application/json")
        _no_5xx(r, f"api deletion raw {raw!r}")
        assert r.status_code == 400
    assert api("viewer").post("/api/drafts/deletions/", {"cluster": demo_cluster.pk, "namespace": "payments",
                                                         "name": "legacy-allow-batch"}, format="json").status_code == 403
    assert client_for("viewer").post(url, {"namespace": "payments", "name": "legacy-allow-batch"}).status_code == 403


def test_the_cni_setting_refuses_junk_and_non_admins(demo_cluster, client_for, api):
    url = reverse("cni-setting", args=[demo_cluster.pk])
    for role in ("viewer", "editor"):
        assert client_for(role).post(url, {"cni": "calico"}).status_code == 403
        assert api(role).post(f"/api/clusters/{demo_cluster.pk}/cni/", {"cni": "calico"}, format="json").status_code == 403
    admin = client_for("admin")
    for value in [*JUNK, "CALICO", "auto "]:
        r = admin.post(url, {"cni": value})
        _no_5xx(r, f"cni setting {value[:20]!r}")
        r = api("admin").post(f"/api/clusters/{demo_cluster.pk}/cni/", {"cni": value}, format="json")
        _no_5xx(r, f"api cni {value[:20]!r}")
        assert r.status_code == 400
    for body in ({"cni": ["calico"]}, {"cni": None}, {}, {"cni": {"a": 1}}):
        r = api("admin").post(f"/api/clusters/{demo_cluster.pk}/cni/", body, format="json")
        assert r.status_code == 400, body
    demo_cluster.refresh_from_db()
    assert demo_cluster.cni == Cluster.objects.get(pk=demo_cluster.pk).cni
    for bad in (HUGE, "-1"):
        r = api("admin").post(f"/api/clusters/{bad}/cni/", {"cni": "calico"}, format="json")
        _no_5xx(r, f"api cni cluster {bad}")
        assert r.status_code == 404


def test_pages_with_bad_ids_are_404(demo_cluster, other, cnp_draft, client_for):
    viewer, editor = client_for("viewer"), client_for("editor")
    for name in ("cluster-policy-detail", "cluster-policy-yaml", "cni-policy-detail", "cni-policy-yaml"):
        for pk in (HUGE, "0"):
            r = viewer.get(reverse(name, args=[1]).replace("/1/", f"/{pk}/"))
            assert r.status_code == 404, (name, pk)
    for name in ("cnp-edit", "cnp-export"):
        # a draft of the demo cluster named under another cluster's URL
        assert editor.get(reverse(name, args=[other.pk, cnp_draft.pk])).status_code == 404
        r = editor.get(reverse(name, args=[demo_cluster.pk, 1]).replace(f"/{1}/", f"/{HUGE}/"))
        assert r.status_code == 404, name
    assert editor.post(reverse("cnp-delete", args=[other.pk, cnp_draft.pk])).status_code == 404
    assert ClusterPolicyDraft.objects.filter(pk=cnp_draft.pk).exists()
    for name in ("cluster-policy-list", "cni-policy-list", "graph", "matrix", "cluster-overview"):
        r = viewer.get(reverse(name, args=[1]).replace("/1/", f"/{HUGE}/"))
        assert r.status_code == 404, name


def test_the_cluster_policy_editor_refuses_wrong_json_and_roles(demo_cluster, cnp_draft, client_for):
    viewer, editor = client_for("viewer"), client_for("editor")
    new = reverse("cnp-new", args=[demo_cluster.pk])
    edit = reverse("cnp-edit", args=[demo_cluster.pk, cnp_draft.pk])
    check = reverse("cnp-check", args=[demo_cluster.pk])
    good = json.dumps(cnp_draft.obj)
    assert viewer.post(new, {"obj": good}).status_code == 403
    assert viewer.post(edit, {"obj": good, "revision": cnp_draft.revision}).status_code == 403
    assert viewer.post(reverse("cnp-delete", args=[demo_cluster.pk, cnp_draft.pk])).status_code == 403
    assert viewer.get(reverse("cnp-export", args=[demo_cluster.pk, cnp_draft.pk])).status_code == 403
    bodies = ["", "{", "[]", "null", "5", '"x"', "[" * 100_000 + "]" * 100_000, json.dumps({"spec": []}),
              json.dumps({"metadata": {"name": ["x"]}, "spec": {"priority": "NaN"}}),
              json.dumps({"metadata": {"name": "a\x00b"}, "spec": {"tier": "Admin", "priority": 10**30}}),
              json.dumps({"metadata": {"name": "x" * 5000}}), "NaN", '{"spec": {"priority": Infinity}}']
    for body in bodies:
        r = editor.post(new, {"obj": body})
        _no_5xx(r, f"cnp new {body[:30]!r}")
        assert r.status_code in (400, 409), body[:40]
        r = editor.post(edit, {"obj": body, "revision": "abc"})
        _no_5xx(r, f"cnp edit {body[:30]!r}")
        r = editor.post(check, data=body, content_type="application/json")
        _no_5xx(r, f"cnp check {body[:30]!r}")
    for params in ({"clone": HUGE}, {"clone": "-1"}, {"clone": "a\x00"}, {"template": "x" * 5000},
                   {"template": "<script>"}, {"fix": "junk"}, {"fix": "junk", "clone": "1"},
                   {"fix": "\x00", "clone": HUGE}):
        r = editor.get(new, params)
        _no_5xx(r, f"cnp new {params!r:.60}")
        assert r.status_code in (200, 400), params
        assert b"<script>alert" not in r.content


def test_graph_expand_and_fix_junk(demo_cluster, client_for):
    viewer, editor = client_for("viewer"), client_for("editor")
    graph = reverse("graph", args=[demo_cluster.pk])
    for expand in [JUNK, ["payments"] * 500, [f"ns{i}" for i in range(5000)], ["payments,shop," * 300]]:
        r = viewer.get(graph, {"level": "namespace", "expand": expand})
        _no_5xx(r, f"graph expand {expand[:2]!r}")
    picture = reverse("graph-picture", kwargs={"cluster_id": demo_cluster.pk, "fmt": "svg"})
    r = viewer.get(picture, {"level": "namespace", "expand": [f"ns{i}" for i in range(2000)]})
    _no_5xx(r, "graph.svg expand")
    explain = reverse("explain", args=[demo_cluster.pk])
    for expand in [*JUNK, ",".join(f"ns{i}" for i in range(700)), ",".join(f"ns{i}" for i in range(20000))]:
        for src, dst in (("payments", "shop"), ("\x00", HUGE), ("<script>alert(1)</script>", "shop")):
            r = viewer.get(explain, {"src": src, "dst": dst, "level": "namespace", "expand": expand})
            _no_5xx(r, f"explain expand {expand[:20]!r}")
            assert b"<script>alert" not in r.content
    new = reverse("draft-new", args=[demo_cluster.pk])
    for fix in JUNK:
        for extra in ({}, {"namespace": fix, "kind": fix, "name": fix}):
            r = editor.get(new, {"fix": fix, **extra})
            _no_5xx(r, f"fix {fix[:20]!r}")
            assert b"<script>alert" not in r.content


def test_list_filters_with_junk_values_never_fail(demo_cluster, client_for, api):
    viewer = client_for("viewer")
    a = api("viewer")
    for value in JUNK:
        for name in ("cni-policy-list", "cluster-policy-list"):
            for key in ("cni", "kind", "tier", "namespace", "q", "enforced", "page", "pod"):
                r = viewer.get(reverse(name, args=[demo_cluster.pk]), {key: [value, value]})
                _no_5xx(r, f"{name} {key}={value[:20]!r}")
        for key in ("cluster", "cni", "kind", "tier", "namespace", "enforced", "search", "ordering"):
            r = a.get("/api/cni-policies/", {key: value})
            _no_5xx(r, f"api cni {key}={value[:20]!r}")
            r = a.get("/api/cluster-policies/", {key: value})
            _no_5xx(r, f"api cluster-policies {key}={value[:20]!r}")
    for pk in (HUGE, "-1", "abc"):
        assert a.get(f"/api/cni-policies/{pk}/").status_code == 404
        assert a.get(f"/api/cluster-policies/{pk}/").status_code == 404


XSS = "<script>alert(1)</script>"
QUOTE = "a\"'><img src=x onerror=alert(2)>"


@pytest.fixture
def marked_up(db, tmp_path):
    """A manifests cluster whose CNI and cluster-wide policies carry markup in names,
    labels, selectors and rule texts."""
    from policies.mirror import load_snapshot

    cluster = Cluster.objects.create(name="m", source=Cluster.Source.MANIFESTS, manifests_dir=str(tmp_path),
                                     cni="calico")
    load_snapshot(cluster, [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web", "labels": {"team": QUOTE}}},
        {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "web", "labels": {"app": XSS}},
         "spec": {"containers": [{"name": "c"}]}, "status": {"podIP": "10.0.0.1"}},
        {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", "metadata": {"name": XSS},
         "spec": {"order": 1, "selector": f"app == '{XSS}'", "types": ["Ingress"],
                  "ingress": [{"action": "Allow", "source": {"selector": f"team == \"{XSS}\""}}]}},
        {"apiVersion": "projectcalico.org/v3", "kind": "NetworkPolicy",
         "metadata": {"name": QUOTE, "namespace": "web"},
         "spec": {"selector": f"app == '{QUOTE}", "tier": XSS}},
        {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy",
         "metadata": {"name": XSS, "labels": {"x": QUOTE}},
         "spec": {"tier": "Admin", "priority": 3, "subject": {"pods": {"namespaceSelector": {},
                  "podSelector": {"matchLabels": {"app": XSS}}}},
                  "ingress": [{"name": QUOTE, "action": "Deny", "from": [{"namespaces": {"matchLabels": {"t": XSS}}}]}]}},
    ])
    return cluster


def _escaped(response: Any, what: str) -> str:
    assert response.status_code == 200, (what, response.status_code)
    html = response.content.decode()
    assert "<script>alert" not in html, what
    assert "<img src=x" not in html, what
    return html


def test_markup_in_cni_and_cluster_wide_policies_is_shown_as_text(marked_up, client_for, api):
    viewer, editor = client_for("viewer"), client_for("editor")
    pk = marked_up.pk
    html = _escaped(viewer.get(reverse("cni-policy-list", args=[pk])), "cni list")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for row in CniObject.objects.filter(cluster=marked_up):
        _escaped(viewer.get(reverse("cni-policy-detail", args=[row.pk])), f"cni detail {row.name}")
    _escaped(viewer.get(reverse("cluster-policy-list", args=[pk])), "cluster policy list")
    policy = ClusterPolicy.objects.get(cluster=marked_up)
    _escaped(viewer.get(reverse("cluster-policy-detail", args=[policy.pk])), "cluster policy detail")
    _escaped(editor.get(reverse("cnp-new", args=[pk]), {"clone": policy.pk}), "cnp clone")
    for name in ("cluster-overview", "graph", "matrix", "policy-list"):
        _escaped(viewer.get(reverse(name, args=[pk])), name)
    r = viewer.get(reverse("graph", args=[pk]), {"level": "namespace", "expand": ["web", XSS]})
    _escaped(r, "graph expand")
    r = editor.post(reverse("cnp-check", args=[pk]), data=json.dumps(policy.obj), content_type="application/json")
    assert r.status_code == 200
    assert r.json()
    for url in ("/api/cni-policies/", "/api/cluster-policies/"):
        assert api("viewer").get(url, {"cluster": pk}).status_code == 200


def test_posts_without_csrf_token_are_refused_and_change_nothing(demo_cluster, cnp_draft, users):
    from django.test import Client

    admin, editor = Client(enforce_csrf_checks=True), Client(enforce_csrf_checks=True)
    admin.force_login(users["admin"])
    editor.force_login(users["editor"])
    before = Cluster.objects.get(pk=demo_cluster.pk).cni
    assert admin.post(reverse("cni-setting", args=[demo_cluster.pk]), {"cni": "antrea"}).status_code == 403
    assert admin.post(f"/api/clusters/{demo_cluster.pk}/cni/", {"cni": "antrea"},
                      content_type="application/json").status_code == 403
    assert Cluster.objects.get(pk=demo_cluster.pk).cni == before
    assert editor.post(reverse("cnp-delete", args=[demo_cluster.pk, cnp_draft.pk])).status_code == 403
    assert editor.post(reverse("cnp-new", args=[demo_cluster.pk]), {"obj": json.dumps(cnp_draft.obj)}).status_code == 403
    assert editor.post("/api/drafts/deletions/", {"cluster": demo_cluster.pk, "namespace": "payments",
                                                  "name": "legacy-allow-batch"},
                       content_type="application/json").status_code == 403
    assert ClusterPolicyDraft.objects.filter(pk=cnp_draft.pk).exists()
    from policies.models import PolicyDraft

    assert not PolicyDraft.objects.exists()


def test_oversized_bodies_are_refused_with_words(demo_cluster, client_for, api, settings):
    big = json.dumps({"metadata": {"name": "x"}, "spec": {"egress": ["x" * 1000] * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE // 1000 + 10)}})
    editor = client_for("editor")
    r = editor.post(reverse("cnp-check", args=[demo_cluster.pk]), data=big, content_type="application/json")
    assert r.status_code in (400, 413), r.status_code
    r = editor.post(reverse("cnp-new", args=[demo_cluster.pk]), {"obj": big})
    assert r.status_code in (400, 413), r.status_code
    r = api("editor").post("/api/drafts/deletions/", data=big, content_type="application/json")
    assert r.status_code in (400, 413), r.status_code
    assert r.content


def test_malformed_cni_objects_from_a_watch_are_listed_as_invalid_on_every_page(db, tmp_path, client_for, api):
    """The API server keeps whatever a CRD without validation lets through: the mirror
    stores it, the pages list it as invalid with its problems, nothing fails."""
    from policies.mirror import load_snapshot

    cluster = Cluster.objects.create(name="w", source=Cluster.Source.MANIFESTS, manifests_dir=str(tmp_path), cni="antrea")
    acnp = {"apiVersion": "crd.antrea.io/v1beta1", "kind": "ClusterNetworkPolicy"}
    load_snapshot(cluster, [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}},
        {**acnp, "metadata": {"name": "list-spec"}, "spec": [1, 2]},
        {**acnp, "metadata": {"name": "str-spec"}, "spec": "x"},
        {**acnp, "metadata": {"name": "bad-ports"}, "spec": {"priority": 1, "appliedTo": "x", "ingress": [
            {"action": "Allow", "ports": [{"port": 100, "endPort": 1}, {"port": 2**62}]}]}},
        {"apiVersion": "crd.antrea.io/v1beta1", "kind": "ClusterGroup", "metadata": {"name": "g"},
         "spec": {"childGroups": 5, "ipBlocks": "x"}},
        {"apiVersion": "crd.antrea.io/v1beta1", "kind": "Tier", "metadata": {"name": "t"}, "spec": {"priority": [1]}},
        {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "c", "namespace": "web"},
         "specs": "abc"},
    ])
    viewer = client_for("viewer")
    html = viewer.get(reverse("cni-policy-list", args=[cluster.pk])).content.decode()
    for name in ("list-spec", "str-spec", "bad-ports"):
        assert name in html
    for row in CniObject.objects.filter(cluster=cluster):
        r = viewer.get(reverse("cni-policy-detail", args=[row.pk]))
        assert r.status_code == 200, row.name
        if row.name in ("list-spec", "str-spec"):
            assert "must be a mapping" in r.content.decode(), row.name
    for name in ("cluster-overview", "graph", "matrix"):
        assert viewer.get(reverse(name, args=[cluster.pk])).status_code == 200, name
    data = api("viewer").get("/api/cni-policies/", {"cluster": cluster.pk}).json()
    rows = data.get("results", data)
    assert rows
    assert not any(r.get("enforced") for r in rows if r.get("name") in ("list-spec", "str-spec"))


def test_malformed_cluster_wide_policies_from_a_watch_never_fail_a_page(db, tmp_path, client_for, api):
    from policies.mirror import load_snapshot

    cluster = Cluster.objects.create(name="w", source=Cluster.Source.MANIFESTS, manifests_dir=str(tmp_path))
    cnp = {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy"}
    load_snapshot(cluster, [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}},
        {**cnp, "metadata": {"name": "list-spec", "labels": ["x"]}, "spec": [1, 2]},
        {**cnp, "metadata": {"name": "str-spec", "annotations": "x"}, "spec": "x"},
        {**cnp, "metadata": {"name": "wrong-types"}, "spec": {"tier": ["Admin"], "priority": "high", "subject": 5,
                                                               "ingress": {"a": 1}, "egress": [None, 5, "x"]}},
        {"apiVersion": "policy.networking.k8s.io/v1alpha1", "kind": "AdminNetworkPolicy",
         "metadata": {"name": "anp"}, "spec": {"priority": -1, "subject": {"pods": "x"}, "ingress": [{"action": 5}]}},
    ])
    viewer, editor = client_for("viewer"), client_for("editor")
    assert viewer.get(reverse("cluster-policy-list", args=[cluster.pk])).status_code == 200
    for policy in ClusterPolicy.objects.filter(cluster=cluster):
        for name in ("cluster-policy-detail", "cluster-policy-yaml"):
            r = viewer.get(reverse(name, args=[policy.pk]))
            assert r.status_code == 200, (name, policy.name)
        r = editor.get(reverse("cnp-new", args=[cluster.pk]), {"clone": policy.pk})
        assert r.status_code in (200, 400), policy.name
    for name in ("cluster-overview", "graph", "matrix"):
        assert viewer.get(reverse(name, args=[cluster.pk])).status_code == 200, name
    assert api("viewer").get("/api/cluster-policies/", {"cluster": cluster.pk}).status_code == 200


def _json_valid_values() -> Any:
    from hypothesis import strategies as st

    return st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(-(2**63), 2**63 - 1), st.floats(allow_nan=False, allow_infinity=False),
                  st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12),
                  st.sampled_from(["<script>", "all()", "10.0.0.0/8", "Allow", "Admin", "80"])),
        lambda inner: st.one_of(st.lists(inner, max_size=3),
                                st.dictionaries(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", max_size=8), inner, max_size=3)),
        max_leaves=8,
    )


def test_random_cni_and_cluster_wide_objects_from_a_watch_never_fail_a_page(db, tmp_path, client_for):
    """Any JSON the API server could hold for a CRD without validation (metadata it
    validates itself), one field of the spec spoiled at any depth: stored, listed, shown."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from policies.mirror import load_snapshot
    from tests.engine.test_cni_hostile import GOOD_SPECS, _paths, _with

    cnp = {"apiVersion": "policy.networking.k8s.io/v1alpha2", "kind": "ClusterNetworkPolicy", "metadata": {"name": "c"},
           "spec": {"tier": "Admin", "priority": 5, "subject": {"namespaces": {}},
                    "ingress": [{"name": "r", "action": "Deny", "from": [{"namespaces": {}}],
                                 "ports": [{"portNumber": {"protocol": "TCP", "port": 80}}]}]}}
    bases = [
        cnp,
        {"apiVersion": "projectcalico.org/v3", "kind": "GlobalNetworkPolicy", "metadata": {"name": "g"}, "spec": GOOD_SPECS["calico"]},
        {"apiVersion": "cilium.io/v2", "kind": "CiliumNetworkPolicy", "metadata": {"name": "k", "namespace": "web"},
         "spec": GOOD_SPECS["cilium"]},
        {"apiVersion": "crd.antrea.io/v1beta1", "kind": "ClusterNetworkPolicy", "metadata": {"name": "a"}, "spec": GOOD_SPECS["antrea"]},
    ]
    viewer = client_for("viewer")
    cluster = Cluster.objects.create(name="w", source=Cluster.Source.MANIFESTS, manifests_dir=str(tmp_path))

    @settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.sampled_from(bases).flatmap(lambda base: st.tuples(
        st.just(base), st.sampled_from([p for p in _paths(base) if p[0] == "spec"]), _json_valid_values())),
           st.sampled_from(["auto", "calico", "cilium", "antrea"]))
    def run(case: Any, cni: str) -> None:
        base, path, value = case
        Cluster.objects.filter(pk=cluster.pk).update(cni=cni)
        load_snapshot(cluster, [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "web"}},
                                {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "namespace": "web"},
                                 "spec": {"containers": [{"name": "c"}]}, "status": {"podIP": "10.0.0.1"}},
                                _with(base, path, value)])
        for url in (reverse("cni-policy-list", args=[cluster.pk]), reverse("cluster-policy-list", args=[cluster.pk]),
                    reverse("cluster-overview", args=[cluster.pk])):
            assert viewer.get(url).status_code == 200, url
        for row in CniObject.objects.filter(cluster=cluster):
            assert viewer.get(reverse("cni-policy-detail", args=[row.pk])).status_code == 200
        for policy in ClusterPolicy.objects.filter(cluster=cluster):
            assert viewer.get(reverse("cluster-policy-detail", args=[policy.pk])).status_code == 200

    run()
