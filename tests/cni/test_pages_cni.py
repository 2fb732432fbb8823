"""The CNI policy pages: the list with the enforcing CNI and the admin's setting, one
object's page (rules with actions, the "not enforced here" badge, YAML, clone or why
not), the CNI policies on workload and pod pages, and the demo-cilium cluster."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from policies.models import CniObject, NetworkPolicy, Pod, Workload

pytestmark = pytest.mark.django_db


def row(cluster, key: str) -> CniObject:
    return next(o for o in CniObject.objects.filter(cluster=cluster) if o.key == key)


def text(response) -> str:
    assert response.status_code == 200, response.content[:500]
    return re.sub(r"\s+", " ", response.content.decode())


def test_list_shows_the_enforcing_cni_and_flags_the_others(calico_cluster, client_for):
    page = text(client_for("viewer").get(reverse("cni-policy-list", args=[calico_cluster.pk])))
    assert "<strong>Calico</strong>" in page
    assert "calico agent pods" in page
    assert 'data-cni-policy="calico:GlobalNetworkPolicy:deny-db-from-web"' in page
    cilium = page[page.index('data-cni-policy="cilium:CiliumNetworkPolicy:db/pg-deny-web"'):]
    assert "not enforced here" in cilium[: cilium.index("</tr>")]
    assert 'name="cni"' in page
    assert "Save" not in page
    filtered = text(client_for("viewer").get(reverse("cni-policy-list", args=[calico_cluster.pk]), {"enforced": "false"}))
    assert "deny-db-from-web" not in filtered
    assert "pg-deny-web" in filtered


def test_admin_changes_the_setting_on_the_page(calico_cluster, client_for):
    url = reverse("cni-setting", args=[calico_cluster.pk])
    assert client_for("editor").post(url, {"cni": "cilium"}).status_code == 403
    response = client_for("admin").post(url, {"cni": "cilium"}, follow=True)
    page = text(response)
    assert "Enforcing CNI of calico: Cilium." in page
    calico_cluster.refresh_from_db()
    assert calico_cluster.cni == "cilium"
    bad = text(client_for("admin").post(url, {"cni": "weave"}, follow=True))
    assert "cni &#x27;weave&#x27; is not one of auto, none, calico, cilium, antrea" in bad


def test_object_page_lists_rules_with_actions_and_the_yaml(calico_cluster, client_for):
    gnp = row(calico_cluster, "calico:GlobalNetworkPolicy:deny-db-from-web")
    page = text(client_for("viewer").get(reverse("cni-policy-detail", args=[gnp.pk])))
    assert 'data-testid="enforced"' in page
    assert re.search(r'class="tag action-deny">Deny</span> <span class="muted small">ingress\[0\]', page)
    assert 'class="tag action-pass">Pass</span>' in page
    assert "apiVersion: projectcalico.org/v3" in page
    assert "ordered within tiers" in page  # why it cannot become a v1 NetworkPolicy
    download = client_for("viewer").get(reverse("cni-policy-yaml", args=[gnp.pk]))
    assert download["Content-Disposition"] == 'attachment; filename="calico-globalnetworkpolicy-deny-db-from-web.yaml"'
    cnp = row(calico_cluster, "cilium:CiliumNetworkPolicy:db/pg-deny-web")
    page = text(client_for("viewer").get(reverse("cni-policy-detail", args=[cnp.pk])))
    assert 'data-testid="not-enforced"' in page
    assert 'data-testid="not-enforced-reason"' in page


def test_workload_and_pod_pages_list_the_cni_policies_that_select_them(calico_cluster, client_for):
    pg = Workload.objects.get(cluster=calico_cluster, name="pg")
    page = text(client_for("viewer").get(reverse("workload-detail", args=[pg.pk])))
    section = page[page.index('data-testid="cni-applying"'):]
    section = section[: section.index("</section>")]
    assert "calico:GlobalNetworkPolicy:deny-db-from-web" in section
    assert "calico:NetworkPolicy:db/allow-front" in section
    assert "pg-deny-web" not in section  # Cilium's is not enforced here
    assert section.index("deny-db-from-web") < section.index("allow-front")  # order 10 before 100
    pod = Pod.objects.get(cluster=calico_cluster, namespace="db", name="pg-0")
    assert "deny-db-from-web" in text(client_for("viewer").get(reverse("pod-detail", args=[pod.pk])))
    front = Workload.objects.get(cluster=calico_cluster, name="front")
    assert 'data-testid="cni-applying"' not in text(client_for("viewer").get(reverse("workload-detail", args=[front.pk])))


def test_clone_opens_the_editor_on_the_v1_translation_or_says_why_not(cilium_demo, calico_cluster, client_for):
    editor = client_for("editor")
    allow = row(cilium_demo, "cilium:CiliumNetworkPolicy:team-a/api-from-prometheus")
    page = text(editor.get(reverse("cni-policy-detail", args=[allow.pk])))
    assert f"?clone_cni={allow.pk}" in page
    opened = text(editor.get(reverse("draft-new", args=[cilium_demo.pk]), {"clone_cni": allow.pk}))
    assert "Translated from cilium:CiliumNetworkPolicy:team-a/api-from-prometheus" in opened
    assert "prometheus" in opened
    assert "monitoring" in opened
    deny = row(cilium_demo, "cilium:CiliumNetworkPolicy:shop/no-scrape-of-backend")
    assert "?clone_cni=" not in text(editor.get(reverse("cni-policy-detail", args=[deny.pk])))
    refused = editor.get(reverse("draft-new", args=[cilium_demo.pk]), {"clone_cni": deny.pk})
    assert refused.status_code == 400
    assert "spec.ingressDeny has no v1 NetworkPolicy equivalent" in refused.content.decode()
    # An object of another cluster is not found through this one.
    other = row(calico_cluster, "calico:NetworkPolicy:db/allow-front")
    assert editor.get(reverse("draft-new", args=[cilium_demo.pk]), {"clone_cni": other.pk}).status_code == 404


def test_the_demo_cilium_cluster_runs_cilium_and_flags_the_calico_leftover(cilium_demo, client_for):
    page = text(client_for("viewer").get(reverse("cni-policy-list", args=[cilium_demo.pk])))
    assert "<strong>Cilium</strong>" in page
    assert "cilium agent pods" in page
    leftover = page[page.index('data-cni-policy="calico:GlobalNetworkPolicy:legacy-deny-payments"'):]
    assert "not enforced here" in leftover[: leftover.index("</tr>")]


def test_clusters_page_links_each_clusters_cni_setting(calico_cluster, client_for):
    calico_cluster.cni = "antrea"
    calico_cluster.save()
    page = text(client_for("viewer").get(reverse("clusters")))
    link = reverse("cni-policy-list", args=[calico_cluster.pk])
    assert f'CNI: <a href="{link}">Antrea</a>' in page


@pytest.mark.parametrize("name", ["cluster-overview", "graph", "matrix", "policy-list", "cluster-policy-list"])
def test_every_cluster_page_renders_with_cni_objects(cilium_demo, calico_cluster, client_for, name):
    viewer = client_for("viewer")
    for cluster in (cilium_demo, calico_cluster):
        response = viewer.get(reverse(name, args=[cluster.pk]))
        assert response.status_code == 200, (cluster.name, name)


def test_findings_about_cni_objects_link_to_their_page(calico_cluster, client_for):
    from policies.services import analysis

    found = [f for f in analysis.findings(calico_cluster) if f.object_kind in ("CiliumNetworkPolicy", "GlobalNetworkPolicy", "NetworkPolicy")]
    cilium = [f for f in found if f.object_kind == "CiliumNetworkPolicy"]
    assert cilium, [f.to_dict() for f in found]  # the engine reports the one not enforced here
    page = text(client_for("viewer").get(reverse("cluster-overview", args=[calico_cluster.pk])))
    cnp = row(calico_cluster, "cilium:CiliumNetworkPolicy:db/pg-deny-web")
    assert reverse("cni-policy-detail", args=[cnp.pk]) in page
    # The shadowed Calico NetworkPolicy links to its own page, never to a v1 policy's.
    calico_np = row(calico_cluster, "calico:NetworkPolicy:db/allow-front")
    assert reverse("cni-policy-detail", args=[calico_np.pk]) in page
    views = {f.object_key for f in analysis.findings(calico_cluster) if f.code.startswith("cni-")}
    assert "calico:NetworkPolicy:db/allow-front" in views


@pytest.fixture
def calico_cluster_with_v1_namesake(db, tmp_path):
    from policies.mirror import load_snapshot
    from policies.models import Cluster

    from .manifests import V1_SAME_NAME, calico_cluster_objects

    selects_nothing = {**V1_SAME_NAME, "spec": {"podSelector": {"matchLabels": {"app": "nobody"}}, "policyTypes": ["Ingress"]}}
    cluster = Cluster.objects.create(name="namesake", source=Cluster.Source.MANIFESTS, manifests_dir=str(tmp_path))
    load_snapshot(cluster, [*calico_cluster_objects(), selects_nothing])
    cluster.refresh_from_db()
    return cluster


def findings_section(page: str) -> str:
    section = page[page.index('id="object-findings-title"'):]
    return section[: section.index("</section>")]


def test_a_cni_policys_findings_show_on_its_page_never_on_its_v1_namesakes(calico_cluster_with_v1_namesake, client_for):
    cluster = calico_cluster_with_v1_namesake
    viewer = client_for("viewer")
    calico_np = row(cluster, "calico:NetworkPolicy:db/allow-front")
    on_cni_page = findings_section(text(viewer.get(reverse("cni-policy-detail", args=[calico_np.pk]))))
    assert "calico:NetworkPolicy:db/allow-front: ingress rule" in on_cni_page
    v1 = NetworkPolicy.objects.get(cluster=cluster, namespace="db", name="allow-front")
    on_v1_page = findings_section(text(viewer.get(reverse("policy-detail", args=[v1.pk]))))
    assert "podSelector [app=nobody] matches no pod" in on_v1_page
    assert "calico:" not in on_v1_page


def test_the_overview_keeps_a_cni_policy_apart_from_its_v1_namesake(calico_cluster_with_v1_namesake, client_for):
    from policies.services import analysis, finding_groups

    cluster = calico_cluster_with_v1_namesake
    db = next(g for g in finding_groups.group(analysis.findings(cluster)) if g.namespace == "db")
    allow_front = [o for o in db.objects if o.name == "allow-front"]
    keys_per_row = sorted(sorted({f.object_key for f in o.findings}) for o in allow_front)
    assert keys_per_row == [[""], ["calico:NetworkPolicy:db/allow-front"]]
    page = text(client_for("viewer").get(reverse("cluster-overview", args=[cluster.pk])))
    assert "db/allow-front (Calico NetworkPolicy)" in page
    assert "db/allow-front (NetworkPolicy)" in page
    assert "db/pg-deny-web (CiliumNetworkPolicy)" in page


def test_the_explanation_names_and_links_the_deciding_cni_rule(calico_cluster, client_for):
    page = text(
        client_for("viewer").get(
            reverse("explain", args=[calico_cluster.pk]),
            {"src": "web/front", "dst": "db/pg", "port": "5432", "protocol": "TCP"},
        )
    )
    gnp = row(calico_cluster, "calico:GlobalNetworkPolicy:deny-db-from-web")
    assert f'<a class="policy-name" href="{reverse("cni-policy-detail", args=[gnp.pk])}">deny-db-from-web <span class="kind">GlobalNetworkPolicy</span></a>' in page


def test_object_page_lists_what_an_enforced_policy_selects(calico_cluster, client_for):
    gnp = row(calico_cluster, "calico:GlobalNetworkPolicy:deny-db-from-web")
    page = text(client_for("viewer").get(reverse("cni-policy-detail", args=[gnp.pk])))
    section = page[page.index('data-testid="cni-selected"'):]
    section = section[: section.index("</section>")]
    pg = Workload.objects.get(cluster=calico_cluster, name="pg")
    assert reverse("workload-detail", args=[pg.pk]) in section
    assert "front" not in section
    cnp = row(calico_cluster, "cilium:CiliumNetworkPolicy:db/pg-deny-web")  # not enforced: no such section
    assert 'data-testid="cni-selected"' not in text(client_for("viewer").get(reverse("cni-policy-detail", args=[cnp.pk])))


def test_the_list_flags_a_policy_with_notes(cilium_demo, client_for):
    page = text(client_for("viewer").get(reverse("cni-policy-list", args=[cilium_demo.pk])))
    host = page[page.index('data-cni-policy="cilium:CiliumClusterwideNetworkPolicy:nodes-ssh-from-bastion"'):]
    host = host[: host.index("</tr>")]
    assert 'title="spec: a host policy (nodeSelector): listed, not evaluated">1 note</span>' in host


def test_a_host_policy_shows_its_node_selector_as_a_selector_not_a_python_dict(cilium_demo, client_for):
    page = text(client_for("viewer").get(reverse("cni-policy-list", args=[cilium_demo.pk])))
    host = page[page.index('data-cni-policy="cilium:CiliumClusterwideNetworkPolicy:nodes-ssh-from-bastion"'):]
    host = host[: host.index("</tr>")]
    assert "<code>nodes [node-role.kubernetes.io/worker=]</code>" in host
    assert "matchLabels" not in host


def test_a_cluster_group_antrea_would_refuse_says_why_on_its_page(db, tmp_path, client_for):
    from policies.mirror import load_snapshot
    from policies.models import Cluster
    from tests.fake_k8s import objects

    def group(name: str, **spec) -> dict:
        return {"apiVersion": "crd.antrea.io/v1beta1", "kind": "ClusterGroup", "metadata": {"name": name}, "spec": spec}

    cluster = Cluster.objects.create(name="antrea", source=Cluster.Source.MANIFESTS, manifests_dir=str(tmp_path), cni="antrea")
    load_snapshot(cluster, [objects.namespace("db"), group("leaf", podSelector={}), group("middle", childGroups=["leaf"]),
                            group("top", childGroups=["middle"])])
    top = row(cluster, "antrea:ClusterGroup:top")
    page = text(client_for("viewer").get(reverse("cni-policy-detail", args=[top.pk])))
    assert "<code>spec.childGroups</code>: child group &#x27;middle&#x27; has childGroups itself" in page
    assert "antrea:ClusterGroup:top: invalid, left out of every answer" in findings_section(page)
    middle = row(cluster, "antrea:ClusterGroup:middle")
    assert "No findings about it." in findings_section(text(client_for("viewer").get(reverse("cni-policy-detail", args=[middle.pk]))))
