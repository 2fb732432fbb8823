"""Findings about cluster-wide policies that open a prepared ClusterNetworkPolicy draft:
an Admin deny that cuts DNS gets an Accept of DNS before it, two policies sharing a
priority get one of their own; the draft's what-if shows the change and the finding goes."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest
import yaml
from django.urls import reverse

from policies import engine
from policies.models import ClusterPolicy
from policies.services import cnp_drafts, payloads
from policies.services.sync import ClusterSpec, load_manifests, register_cluster

pytestmark = pytest.mark.django_db

MANIFESTS = """
apiVersion: v1
kind: Namespace
metadata: {name: kube-system}
---
apiVersion: v1
kind: Namespace
metadata: {name: app, labels: {team: app}}
---
apiVersion: v1
kind: Pod
metadata: {name: coredns, namespace: kube-system, labels: {k8s-app: kube-dns}}
spec: {containers: [{name: c, ports: [{containerPort: 53, protocol: UDP, name: dns}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app, labels: {app: web}}
spec: {containers: [{name: c}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: lockdown}
spec:
  tier: Admin
  priority: 20
  subject: {namespaces: {matchLabels: {team: app}}}
  egress:
  - {name: nothing-to-system, action: Deny, to: [{namespaces: {matchLabels: {kubernetes.io/metadata.name: kube-system}}}]}
---
apiVersion: policy.networking.k8s.io/v1alpha2
kind: ClusterNetworkPolicy
metadata: {name: audit}
spec:
  tier: Admin
  priority: 20
  subject: {namespaces: {}}
  ingress:
  - {name: pass-all, action: Pass, from: [{namespaces: {}}]}
"""


@pytest.fixture
def guarded(tmp_path):
    (tmp_path / "all.yaml").write_text(MANIFESTS)
    cluster = register_cluster(ClusterSpec(name="guarded", source="manifests", manifests_dir=str(tmp_path)))
    load_manifests(cluster)
    return cluster


def finding(cluster, code: str):
    return next(f for f in payloads.findings(cluster) if f.code == code)


def initial_of(html: str) -> dict:
    match = re.search(r'<script id="cnp-initial" type="application/json">(.*?)</script>', html, re.S)
    assert match
    return json.loads(match.group(1))


def fix_url(cluster, code: str, policy: ClusterPolicy) -> str:
    return f"{reverse('cnp-new', args=[cluster.pk])}?{urlencode({'clone': policy.pk, 'fix': code})}"


def test_findings_of_cluster_wide_policies_link_their_fix_for_editors(client_for, guarded):
    lockdown = ClusterPolicy.objects.get(cluster=guarded, name="lockdown")
    assert finding(guarded, "admin-deny-cuts-dns").object_id == lockdown.pk
    page = client_for("editor").get(reverse("cluster-policy-detail", args=[lockdown.pk])).content.decode()
    assert fix_url(guarded, "admin-deny-cuts-dns", lockdown).replace("&", "&amp;") in page
    assert "Fix: accept DNS first" in page
    viewer_page = client_for("viewer").get(reverse("cluster-policy-detail", args=[lockdown.pk])).content.decode()
    assert "Fix: accept DNS first" not in viewer_page


def test_the_dns_fix_accepts_dns_before_the_deny_and_gives_dns_back(client_for, guarded):
    lockdown = ClusterPolicy.objects.get(cluster=guarded, name="lockdown")
    html = client_for("editor").get(fix_url(guarded, "admin-deny-cuts-dns", lockdown)).content.decode()
    obj = initial_of(html)
    assert [r.get("name") for r in obj["spec"]["egress"]] == ["allow-dns", "nothing-to-system"]
    assert obj["spec"]["egress"][0]["action"] == "Accept"
    assert "accepts DNS" in html
    out = cnp_drafts.check(guarded, obj)
    assert out["valid"], out["errors"]
    allowed = {(c["src"], c["dst"]): c["ports"] for c in out["what_if"]["allowed"]}
    assert "UDP 53" in allowed[("app/web[Pod]", "kube-system/coredns[Pod]")]
    # and the finding is gone once it replaces the live policy
    objs = [d for d in yaml.safe_load_all(MANIFESTS) if d and d["metadata"]["name"] != "lockdown"] + [obj]
    assert "admin-deny-cuts-dns" not in {f.code for f in engine.findings(engine.build_cluster(objs))}


def test_the_priority_fix_picks_a_priority_no_other_policy_of_the_tier_has(client_for, guarded):
    f = finding(guarded, "tier-equal-priority")
    policy = ClusterPolicy.objects.get(pk=f.object_id)
    obj = initial_of(client_for("editor").get(fix_url(guarded, "tier-equal-priority", policy)).content.decode())
    taken = set(ClusterPolicy.objects.filter(cluster=guarded, tier="Admin").values_list("priority", flat=True))
    assert obj["spec"]["priority"] == 21
    assert obj["spec"]["priority"] not in taken
    objs = [d for d in yaml.safe_load_all(MANIFESTS) if d and d["metadata"]["name"] != policy.name] + [obj]
    assert "tier-equal-priority" not in {f.code for f in engine.findings(engine.build_cluster(objs))}


def test_a_fix_without_its_policy_or_of_another_kind_says_so(client_for, guarded):
    editor = client_for("editor")
    url = reverse("cnp-new", args=[guarded.pk])
    assert editor.get(url, {"fix": "admin-deny-cuts-dns"}).status_code == 400
    lockdown = ClusterPolicy.objects.get(cluster=guarded, name="lockdown")
    response = editor.get(url, {"fix": "egress-without-dns", "clone": lockdown.pk})
    assert response.status_code == 400
    assert "no prepared ClusterNetworkPolicy fix" in response.content.decode()


def test_the_findings_api_names_the_fix_of_a_tier_finding(api, guarded):
    lockdown = ClusterPolicy.objects.get(cluster=guarded, name="lockdown")
    body = api("viewer").get(f"/api/clusters/{guarded.pk}/findings/?code=admin-deny-cuts-dns").json()
    (item,) = body["findings"]
    assert item["fix"] == {
        "kind": "cluster-network-policy",
        "label": "Fix: accept DNS first",
        "url": fix_url(guarded, "admin-deny-cuts-dns", lockdown),
    }
