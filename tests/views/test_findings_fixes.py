"""Findings that lead to actions: every fixable finding of the demo opens the editor on a
valid policy that, applied, makes the finding go away; findings grouped, filtered in the
URL and shown on their objects' pages."""

from __future__ import annotations

import pytest

from policies import engine
from policies.models import NetworkPolicy, Workload
from policies.services import analysis, drafts, finding_groups, fixes

pytestmark = pytest.mark.django_db

# A fix that works removes its finding; an adoption only prepares the live policy.
REMOVES_ITS_FINDING = {
    "namespace-without-policy",
    "egress-without-dns",
    "ingress-not-isolated",
    "egress-not-isolated",
    "peer-allows-all-namespaces",
    "open-to-internet",
}


def _identity(f):
    return (f.code, f.namespace, f.object_kind, f.object_name)


def _findings_after(cluster, obj):
    changed = analysis.analyzer(cluster).with_policies_changed([obj]).cluster
    return {_identity(f) for f in engine.findings(changed)}


def test_demo_has_a_finding_of_every_fixable_code(demo_cluster):
    codes = {f.code for f in analysis.findings(demo_cluster)}
    assert set(fixes.FIX_ACTIONS) <= codes


def test_each_fix_is_a_valid_policy_that_removes_its_finding_and_nothing_else_breaks(demo_cluster):
    found = [f for f in analysis.findings(demo_cluster) if fixes.has_fix(f.code)]
    assert found
    before = {_identity(f) for f in analysis.findings(demo_cluster)}
    for f in found:
        proposal = fixes.propose(demo_cluster, *_identity(f))
        assert drafts.validate(proposal.obj) == [], (_identity(f), proposal.obj)
        after = _findings_after(demo_cluster, proposal.obj)
        if f.code in REMOVES_ITS_FINDING:
            assert _identity(f) not in after, (_identity(f), proposal.obj)
        # A fix never brings a high finding that was not there.
        new_high = {i for i in after - before if i[0] in ("egress-without-dns", "named-port-unresolved", "open-to-internet")}
        assert not new_high, (_identity(f), new_high)


def test_allow_dns_fix_for_payments_api_selects_only_its_pods_and_opens_udp_53(demo_cluster):
    proposal = fixes.propose(demo_cluster, "egress-without-dns", "payments", "Deployment", "payments-api")
    spec = proposal.obj["spec"]
    assert spec["podSelector"]["matchLabels"]["app"] == "payments-api"
    assert spec["policyTypes"] == ["Egress"]
    assert {"protocol": "UDP", "port": 53} in spec["egress"][0]["ports"]
    result = drafts.what_if(demo_cluster, [proposal.obj])
    # Only payments-api gains connections (to DNS); nobody loses any.
    assert result["counts"]["denied"] == 0
    assert result["allowed"]
    assert {e["src"] for e in result["allowed"]} == {"payments/payments-api[Deployment]"}
    assert all(e["dst"].startswith("kube-system/") for e in result["allowed"])


def test_namespace_without_policy_fix_is_a_default_deny_that_keeps_dns(demo_cluster):
    ns = next(f.namespace for f in analysis.findings(demo_cluster) if f.code == "namespace-without-policy")
    proposal = fixes.propose(demo_cluster, "namespace-without-policy", ns, "Namespace", ns)
    spec = proposal.obj["spec"]
    assert spec["podSelector"] == {}
    assert spec["policyTypes"] == ["Ingress", "Egress"]
    assert "ingress" not in spec
    assert _findings_after(demo_cluster, proposal.obj).isdisjoint(
        {("egress-without-dns", ns, w.kind, w.name) for w in Workload.objects.filter(cluster=demo_cluster, namespace=ns)}
    )


def test_policy_selecting_nothing_is_offered_for_adoption_or_deletion(demo_cluster):
    proposal = fixes.propose(demo_cluster, "policy-selects-nothing", "payments", "NetworkPolicy", "legacy-allow-batch")
    meta = proposal.obj["metadata"]
    assert (meta["namespace"], meta["name"]) == ("payments", "legacy-allow-batch")
    assert proposal.deletes == "payments/legacy-allow-batch"
    assert any("propose its deletion below" in n for n in proposal.notes)
    assert any("app=payments-api" in n for n in proposal.notes)


def test_a_fixed_or_unknown_finding_says_so_in_a_sentence(demo_cluster, client_for):
    with pytest.raises(fixes.FixUnavailable, match="no finding egress-without-dns on shop/frontend"):
        fixes.propose(demo_cluster, "egress-without-dns", "shop", "Deployment", "frontend")
    with pytest.raises(fixes.FixUnavailable, match="have no prepared fix"):
        fixes.propose(demo_cluster, "named-port-unresolved", "shop", "NetworkPolicy", "x")
    url = f"/clusters/{demo_cluster.pk}/drafts/new/?fix=egress-without-dns&namespace=shop&kind=Deployment&name=nope"
    response = client_for("editor").get(url)
    assert response.status_code == 404
    assert "There is no finding egress-without-dns on shop/nope (Deployment)" in response.content.decode()


def test_fix_link_opens_the_editor_prefilled_for_editors_only(demo_cluster, client_for):
    overview = f"/clusters/{demo_cluster.pk}/"
    query = fixes.fix_query("egress-without-dns", "payments", "Deployment", "payments-api")
    editor_page = client_for("editor").get(overview).content.decode()
    assert f"/clusters/{demo_cluster.pk}/drafts/new/?{query}".replace("&", "&amp;") in editor_page
    assert "Fix: allow DNS" in editor_page
    assert "Fix: allow DNS" not in client_for("viewer").get(overview).content.decode()
    response = client_for("editor").get(f"/clusters/{demo_cluster.pk}/drafts/new/?{query}")
    assert response.status_code == 200
    config = response.context["editor_config"]
    assert config["form"]["name"] == "allow-dns-payments-api"
    assert config["form"]["namespace"] == "payments"
    assert "Allows payments/payments-api (Deployment) to query DNS" in response.content.decode()


def test_fix_names_never_collide_with_a_live_policy(demo_cluster):
    NetworkPolicy.objects.create(
        cluster=demo_cluster, namespace="payments", name="allow-dns-payments-api", uid="u-x", obj={}
    )
    proposal = fixes.propose(demo_cluster, "egress-without-dns", "payments", "Deployment", "payments-api")
    assert proposal.obj["metadata"]["name"] == "allow-dns-payments-api-2"


# --- grouping and filters ---------------------------------------------------------------------


def test_overview_groups_findings_per_namespace_each_object_once(demo_cluster, client_for):
    response = client_for("viewer").get(f"/clusters/{demo_cluster.pk}/")
    groups = response.context["finding_groups"]
    all_findings = analysis.findings(demo_cluster)
    assert sum(g.total for g in groups) == len(all_findings)
    for g in groups:
        names = [(o.kind, o.name) for o in g.objects if not o.summarised]
        assert len(names) == len(set(names)), g.namespace
        assert g.counts == finding_groups.count_by_severity(f for f in all_findings if f.namespace == g.namespace)
    # most severe namespace first
    ranks = [finding_groups.SEVERITIES.index(g.severity) for g in groups]
    assert ranks == sorted(ranks)


def test_many_alike_low_findings_of_a_namespace_become_one_row():
    items = [
        analysis.FindingView("egress-not-isolated", "low", "big", "Deployment", f"svc-{i}", "m") for i in range(6)
    ] + [analysis.FindingView("egress-without-dns", "high", "big", "Deployment", "svc-0", "dns")]
    (group,) = finding_groups.group(items)
    summaries = [o for o in group.objects if o.summarised]
    assert len(summaries) == 1
    assert len(summaries[0].members) == 6
    singles = [o for o in group.objects if not o.summarised]
    assert [(o.name, [f.code for f in o.findings]) for o in singles] == [("svc-0", ["egress-without-dns"])]
    assert group.counts == {"high": 1, "low": 6}


def test_filters_in_the_url_narrow_the_findings(demo_cluster, client_for):
    client = client_for("viewer")
    response = client.get(f"/clusters/{demo_cluster.pk}/?severity=high&namespace=payments")
    shown = [f for g in response.context["finding_groups"] for o in g.objects for f in (o.members or o.findings)]
    assert shown
    assert {(f.severity, f.namespace) for f in shown} == {("high", "payments")}
    assert 'value="payments" selected' in response.content.decode()


@pytest.mark.parametrize(
    ("query", "sentence"),
    [
        ("namespace=paymnts", 'The cluster has no namespace "paymnts". Did you mean "payments"?'),
        ("severity=urgent", 'Severity "urgent" is not one of high, medium, low.'),
        ("code=egress-without-dn", 'Did you mean "egress-without-dns"?'),
    ],
)
def test_a_bad_filter_is_a_sentence_not_an_empty_list(demo_cluster, client_for, query, sentence):
    response = client_for("viewer").get(f"/clusters/{demo_cluster.pk}/?{query}")
    assert response.status_code == 200
    assert sentence.replace('"', "&quot;") in response.content.decode()
    assert response.context["finding_groups"] == []


def test_a_filter_matching_nothing_says_so(demo_cluster, client_for):
    response = client_for("viewer").get(f"/clusters/{demo_cluster.pk}/?namespace=kube-system&severity=high")
    assert "No finding matches these filters." in response.content.decode()


def test_workload_page_shows_its_own_findings(demo_cluster, client_for):
    workload = Workload.objects.get(cluster=demo_cluster, namespace="payments", name="payments-api", kind="Deployment")
    page = client_for("viewer").get(f"/workloads/{workload.pk}/")
    codes = [f.code for f in page.context["object_findings"]]
    assert "egress-without-dns" in codes
    assert all(f.object_name == "payments-api" for f in page.context["object_findings"])
    assert "DNS lookups will fail" in page.content.decode()


def test_policy_page_shows_its_own_findings(demo_cluster, client_for):
    policy = NetworkPolicy.objects.get(cluster=demo_cluster, namespace="payments", name="legacy-allow-batch")
    page = client_for("editor").get(f"/policies/{policy.pk}/")
    assert [f.code for f in page.context["object_findings"]] == ["policy-selects-nothing"]
    assert "Fix: adopt or delete" in page.content.decode()


def test_open_to_internet_fix_narrows_the_rule_without_peers_to_the_namespace(demo_cluster):
    proposal = fixes.propose(demo_cluster, "open-to-internet", "shop", "Deployment", "frontend")
    assert proposal.obj["metadata"]["name"] == "frontend-policy"
    assert proposal.obj["spec"]["ingress"][0]["from"] == [{"podSelector": {}}]
    assert proposal.notes[0].startswith(
        "Narrowed shop/frontend-policy: spec.ingress[0] had no peers (every source, outside addresses included)"
    )
    result = drafts.what_if(demo_cluster, [proposal.obj])
    assert any(e["src_external"] and e["dst"] == "shop/frontend[Deployment]" for e in result["denied"])
