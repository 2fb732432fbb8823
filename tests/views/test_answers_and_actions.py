"""Ask-the-cluster answers first and in plain words at a shareable address; the editor's
extra warnings; "Download selected" with nothing selected; "Sync now" / "Load now"."""

from __future__ import annotations

import pytest
from django.utils import timezone

from policies.models import Cluster, PolicyDraft
from policies.services import drafts

pytestmark = pytest.mark.django_db

BACKEND = "shop/backend[Deployment]"
DATABASE = "shop/database[StatefulSet]"


def _explain(client, cluster, **params):
    return client.get(f"/clusters/{cluster.pk}/explain/", params)


def test_explain_answers_in_one_sentence_naming_the_rules(demo_cluster, client_for):
    response = _explain(client_for("viewer"), demo_cluster, src=BACKEND, dst=DATABASE, port="5432", protocol="TCP")
    html = response.content.decode()
    assert response.status_code == 200
    sentence = (
        "shop/backend → shop/database: TCP 5432, allowed by shop/database-policy ingress rule #0 and "
        "shop/backend-egress egress rule #"
    )
    assert sentence in html.replace("&gt;", ">")
    # the answer comes before the details and before the form to ask again
    assert html.index('data-testid="answer"') < html.index("Egress from") < html.index("Ask another question")
    assert "(TCP 5432)" not in html  # the question is not repeated after the verdict


def test_explain_denial_names_the_isolating_policy(demo_cluster, client_for):
    response = _explain(client_for("viewer"), demo_cluster, src="shop/frontend[Deployment]", dst=DATABASE, port="5432")
    text = response.content.decode()
    assert "shop/frontend → shop/database: TCP 5432, denied:" in text.replace("&gt;", ">")
    assert "ingress to shop/database is isolated by shop/database-policy" in text


def test_overview_questions_go_to_shareable_pages(demo_cluster, client_for):
    html = client_for("viewer").get(f"/clusters/{demo_cluster.pk}/").content.decode()
    assert f'<form class="ask" method="get" action="/clusters/{demo_cluster.pk}/node/">' in html
    assert f'<form class="ask" method="get" action="/clusters/{demo_cluster.pk}/explain/">' in html
    assert "hx-target=\"#answer\"" not in html


def test_node_page_puts_who_can_reach_it_first(demo_cluster, client_for):
    html = client_for("viewer").get(
        f"/clusters/{demo_cluster.pk}/node/", {"id": "shop/tier=database", "level": "tier"}
    ).content.decode()
    assert html.index("Who can reach it") < html.index("Workloads in it") < html.index("Policies that select")
    assert '<p class="answer-line" data-testid="answer">1 source may connect: shop: tier=backend on TCP 5432.</p>' in html


# --- warnings ---------------------------------------------------------------------------------


def _policy(namespace="shop", **spec):
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "p", "namespace": namespace},
        "spec": {"podSelector": {"matchLabels": {"tier": "backend"}}, **spec},
    }


def _warnings(cluster, obj):
    out = drafts.preview(cluster, policy=obj)
    assert out["valid"], out["errors"]
    return {w["path"]: w["message"] for w in out["warnings"] if w["level"] == "warning"}


def test_empty_pod_selector_in_a_peer_warns(demo_cluster):
    warned = _warnings(demo_cluster, _policy(ingress=[{"from": [{"podSelector": {}}]}]))
    assert "podSelector {} selects every pod of namespace shop" in warned["spec.ingress[0].from[0].podSelector"]


def test_empty_label_value_warns(demo_cluster):
    warned = _warnings(demo_cluster, _policy(ingress=[{"from": [{"podSelector": {"matchLabels": {"app": ""}}}]}]))
    assert "Label app has an empty value" in warned["spec.ingress[0].from[0].podSelector.matchLabels"]


def test_host_bits_in_a_cidr_warn_with_the_network_meant(demo_cluster):
    obj = _policy(
        policyTypes=["Egress"],
        egress=[{"to": [{"ipBlock": {"cidr": "10.0.0.5/8", "except": ["10.1.0.0/16"]}}]}],
    )
    warned = _warnings(demo_cluster, obj)
    assert warned["spec.egress[0].to[0].ipBlock.cidr"].startswith("10.0.0.5/8 has host bits set: it means 10.0.0.0/8")
    assert "spec.egress[0].to[0].ipBlock.except[0]" not in warned


def test_unknown_namespace_warns_in_the_problems_not_only_in_the_what_if(demo_cluster):
    warned = _warnings(demo_cluster, _policy(namespace="shpo"))
    assert "Namespace shpo does not exist in cluster demo" in warned["metadata.namespace"]
    assert "metadata.namespace" not in _warnings(demo_cluster, _policy())


# --- draft list, sync now ---------------------------------------------------------------------


def test_download_selected_with_nothing_selected_says_so(demo_cluster, client_for, users):
    drafts.create_draft(demo_cluster, _policy(), actor=users["editor"])
    client = client_for("editor")
    response = client.get(f"/clusters/{demo_cluster.pk}/drafts/export/", {"from": "selection"}, follow=True)
    assert "No draft is selected: tick the drafts to download." in response.content.decode()
    assert response.redirect_chain[-1][0] == f"/clusters/{demo_cluster.pk}/drafts/"
    what_if = client.get(f"/clusters/{demo_cluster.pk}/drafts/what-if/", {"from": "selection"}, follow=True)
    assert "No draft is selected" in what_if.content.decode()
    one = PolicyDraft.objects.get()
    download = client.get(f"/clusters/{demo_cluster.pk}/drafts/export/", {"from": "selection", "ids": one.pk})
    assert download.status_code == 200
    assert b"name: p" in download.content


def test_load_now_reloads_a_manifests_cluster_for_admins_only(demo_cluster, client_for, django_capture_on_commit_callbacks):
    Cluster.objects.filter(pk=demo_cluster.pk).update(last_list_at=None)
    url = f"/clusters/{demo_cluster.pk}/sync-now/"
    assert client_for("editor").post(url).status_code == 403
    assert Cluster.objects.get(pk=demo_cluster.pk).last_list_at is None
    admin = client_for("admin")
    assert "Load now" in admin.get(f"/clusters/{demo_cluster.pk}/").content.decode()
    assert "Load now" not in client_for("editor").get(f"/clusters/{demo_cluster.pk}/").content.decode()
    started = timezone.now()
    with django_capture_on_commit_callbacks(execute=True):
        response = admin.post(url, {"next": "/"}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "loading its manifests again was requested" in response.content.decode()
    assert Cluster.objects.get(pk=demo_cluster.pk).last_list_at >= started


def test_sync_now_refuses_to_redirect_off_site(demo_cluster, client_for):
    response = client_for("admin").post(f"/clusters/{demo_cluster.pk}/sync-now/", {"next": "https://evil.example/"})
    assert response["Location"] == f"/clusters/{demo_cluster.pk}/"


# --- per-port truth table ---------------------------------------------------------------------


def test_truth_table_answers_per_port_and_direction(demo_cluster, client_for):
    client = client_for("viewer")
    url = f"/clusters/{demo_cluster.pk}/truth-table/"
    response = client.get(url, {"ports": "TCP/5432,UDP/53", "namespace": "shop", "direction": "combined"})
    assert response.status_code == 200
    table = response.context["table"]
    endpoints = table["endpoints"]
    pg = {t["port"]: t for t in table["tables"]}["TCP 5432"]

    def cell(t, src, dst):
        row = next(r for r in t["rows"] if r["src"] == src)
        return row["cells"][endpoints.index(dst)]

    assert cell(pg, BACKEND, DATABASE) is True
    assert cell(pg, "shop/frontend[Deployment]", DATABASE) is False
    assert cell(pg, DATABASE, DATABASE) is None
    # ingress only: the database admits the backend whatever the backend's egress says
    ingress = client.get(url, {"ports": "TCP/5432", "namespace": "shop", "direction": "ingress"}).context["table"]
    assert cell(ingress["tables"][0], BACKEND, DATABASE) is True


def test_truth_table_exports_csv_and_markdown(demo_cluster, client_for):
    client = client_for("viewer")
    url = f"/clusters/{demo_cluster.pk}/truth-table/"
    params = {"ports": "TCP/5432", "namespace": "shop", "level": "workload"}
    csv_text = client.get(url, {**params, "format": "csv"}).content.decode()
    lines = csv_text.splitlines()
    header = lines[0].split(",")
    assert header[:2] == ["port", "source \\ destination (combined)"]
    backend = next(line.split(",") for line in lines if line.startswith(f"TCP 5432,{BACKEND}"))
    assert backend[header.index(DATABASE)] == "allowed"
    md = client.get(url, {**params, "format": "md"}).content.decode()
    assert md.startswith("### TCP 5432 (combined)")
    row = next(line for line in md.splitlines() if line.startswith(f"| {BACKEND} |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    md_header = next(line for line in md.splitlines() if line.startswith("| source"))
    columns = [c.strip() for c in md_header.strip("|").split("|")]
    assert cells[columns.index(DATABASE)] == "✔"


@pytest.mark.parametrize(
    ("params", "sentence"),
    [
        ({"ports": "TCP/99999"}, "is not a port"),
        ({"ports": "TCP/80", "namespace": "shpo"}, 'Did you mean &quot;shop&quot;?'),
    ],
)
def test_truth_table_bad_input_is_a_sentence(demo_cluster, client_for, params, sentence):
    response = client_for("viewer").get(f"/clusters/{demo_cluster.pk}/truth-table/", params)
    assert response.status_code == 400
    assert sentence in response.content.decode()


# --- bad filters, the same everywhere ---------------------------------------------------------


def test_policy_list_with_an_unknown_namespace_says_so_and_keeps_it_selected(demo_cluster, client_for):
    html = client_for("viewer").get(f"/clusters/{demo_cluster.pk}/policies/", {"namespace": "shpo"}).content.decode()
    assert "The cluster has no namespace &quot;shpo&quot;. Did you mean &quot;shop&quot;?" in html
    assert '<option value="shpo" selected>shpo (not in the cluster)</option>' in html


@pytest.mark.parametrize(
    ("pod", "sentence"),
    [
        ("shop/database", "shop/database is a StatefulSet, not a pod. Did you mean &quot;shop/database-0&quot;?"),
        ("shop/databse-0", "No pod &quot;shop/databse-0&quot; in cluster demo. Did you mean &quot;shop/database-0&quot;?"),
    ],
)
def test_selects_pod_with_a_workload_or_unknown_pod_suggests_the_pod(demo_cluster, client_for, pod, sentence):
    html = client_for("viewer").get(f"/clusters/{demo_cluster.pk}/policies/", {"pod": pod}).content.decode()
    assert sentence in html


def test_selects_pod_with_a_real_pod_has_no_complaint(demo_cluster, client_for):
    response = client_for("viewer").get(f"/clusters/{demo_cluster.pk}/policies/", {"pod": "shop/database-0"})
    assert response.context["filter_problems"] == []


def test_unknown_group_by_key_and_namespace_are_named_on_graph_and_matrix(demo_cluster, client_for):
    client = client_for("viewer")
    for page in ("graph", "matrix"):
        html = client.get(f"/clusters/{demo_cluster.pk}/{page}/", {"group_by": "teir", "namespace": "shpo"}).content.decode()
        assert "No pod in the cluster has the label key &quot;teir&quot;" in html, page
        assert "Did you mean &quot;tier&quot;?" in html, page
        assert "The cluster has no namespace &quot;shpo&quot;." in html, page


def test_a_reachability_filter_matching_nothing_shows_an_empty_state(demo_cluster, client_for):
    html = client_for("viewer").get(
        f"/clusters/{demo_cluster.pk}/matrix/", {"namespace": "shop", "protocol": "SCTP", "port": "9"}
    ).content.decode()
    assert "Nothing matches these filters" in html


def test_non_isolated_workload_page_summarises_instead_of_listing_every_source(demo_cluster, client_for):
    from policies.models import Workload

    prometheus = Workload.objects.get(cluster=demo_cluster, namespace="monitoring", name="prometheus", kind="Deployment")
    html = client_for("viewer").get(f"/workloads/{prometheus.pk}/").content.decode()
    inbound = html[html.index("Who can reach it"):html.index("What it can reach")]
    assert "Not isolated: everything may reach it" in inbound
    assert "with all connections, not listed one by one" in inbound
    assert 'class="conns conns-all"' not in inbound
