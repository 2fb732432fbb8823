"""GET /api/clusters/{id}/findings/: every kind of finding the issue lists shows up on a
small manifest set built to contain each, loaded as a manifests cluster."""

from __future__ import annotations

import pytest

from policies.models import NetworkPolicy, Workload
from policies.services.sync import ClusterSpec, load_manifests, register_cluster

pytestmark = pytest.mark.django_db

MANIFESTS = """\
apiVersion: v1
kind: Namespace
metadata: {name: open}
---
apiVersion: v1
kind: Namespace
metadata: {name: locked}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: wide, namespace: open}
spec:
  selector: {matchLabels: {app: wide}}
  template:
    metadata: {labels: {app: wide}}
    spec:
      containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: locked}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: agent, namespace: locked, labels: {app: agent}}
spec:
  hostNetwork: true
  containers: [{name: c, image: x}]
status: {podIP: 192.168.0.5}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny-egress, namespace: locked}
spec:
  podSelector: {}
  policyTypes: [Egress]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: ghost, namespace: locked}
spec:
  podSelector: {matchLabels: {app: ghost}}
  ingress: [{}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-ingress, namespace: locked}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from:
    - podSelector: {matchLabels: {app: nobody}}
    ports:
    - port: metrics
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: partial}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api-ingress, namespace: partial}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress: [{ports: [{port: 8080}]}]
"""


@pytest.fixture
def findings_cluster(tmp_path):
    (tmp_path / "all.yaml").write_text(MANIFESTS)
    cluster = register_cluster(ClusterSpec(name="findings", source="manifests", manifests_dir=str(tmp_path)))
    load_manifests(cluster)
    cluster.refresh_from_db()
    return cluster


def by_code(body: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for item in body["findings"]:
        out.setdefault(item["code"], []).append(item)
    return out


def test_every_kind_of_finding_is_reported(api, findings_cluster):
    response = api("viewer").get(f"/api/clusters/{findings_cluster.pk}/findings/")
    assert response.status_code == 200
    found = by_code(response.json())
    subjects = {code: {(f["namespace"], f["object_name"]) for f in items} for code, items in found.items()}
    # the six the issue names ...
    assert subjects["namespace-without-policy"] == {("open", "open")}
    assert ("locked", "agent") in subjects["ingress-not-isolated"]
    assert subjects["egress-not-isolated"] == {("partial", "api")}
    assert subjects["policy-selects-nothing"] == {("locked", "ghost")}
    assert subjects["peer-matches-nothing"] == {("locked", "web-ingress")}
    assert subjects["named-port-unresolved"] == {("locked", "web-ingress")}
    assert subjects["egress-without-dns"] == {("locked", "web"), ("locked", "agent")}
    # ... and hostNetwork pods under a policy
    assert subjects["host-network-selected"] == {("locked", "agent")}
    assert "metrics" in found["named-port-unresolved"][0]["message"]


def test_findings_are_ranked_and_point_at_their_rows(api, findings_cluster):
    body = api("viewer").get(f"/api/clusters/{findings_cluster.pk}/findings/").json()
    severities = [f["severity"] for f in body["findings"]]
    rank = {"high": 0, "medium": 1, "low": 2}
    assert severities == sorted(severities, key=rank.__getitem__)
    ghost = next(f for f in body["findings"] if f["code"] == "policy-selects-nothing")
    assert ghost["object_id"] == NetworkPolicy.objects.get(cluster=findings_cluster, name="ghost").pk
    web = next(f for f in body["findings"] if f["code"] == "egress-without-dns" and f["object_name"] == "web")
    assert web["object_id"] == Workload.objects.get(cluster=findings_cluster, name="web").pk
    assert body["counts"]["egress-without-dns"] == 2
    assert sum(body["counts"].values()) == len(body["findings"])


def test_findings_filters(api, findings_cluster):
    client = api("viewer")
    base = f"/api/clusters/{findings_cluster.pk}/findings/"
    high = client.get(base + "?severity=high").json()["findings"]
    assert high
    assert {f["severity"] for f in high} == {"high"}
    code = client.get(base + "?code=policy-selects-nothing").json()["findings"]
    assert [f["object_name"] for f in code] == ["ghost"]
    ns = client.get(base + "?namespace=open,partial").json()["findings"]
    assert {f["namespace"] for f in ns} == {"open", "partial"}


def test_findings_come_in_pages_that_add_up_to_all_of_them(api, demo_cluster):
    client = api("viewer")
    base = f"/api/clusters/{demo_cluster.pk}/findings/"
    everything = client.get(base).json()
    assert everything["page"]["next_offset"] is None
    total = everything["page"]["total"]
    assert total == len(everything["findings"]) > 3
    seen: list[dict] = []
    offset = 0
    while offset is not None:
        body = client.get(base, {"offset": offset, "limit": 3}).json()
        assert len(body["findings"]) <= 3
        assert body["counts"] == everything["counts"]
        seen += body["findings"]
        offset = body["page"]["next_offset"]
    assert seen == everything["findings"]
    assert client.get(base, {"limit": 100_000}).status_code == 400


def test_every_code_the_demo_emits_is_a_valid_filter(api, demo_cluster):
    """The filter knows the engine's codes, not a copy of them (the demo emits
    open-to-internet and peer-allows-all-namespaces)."""
    client = api("viewer")
    base = f"/api/clusters/{demo_cluster.pk}/findings/"
    emitted = {f["code"] for f in client.get(base).json()["findings"]}
    assert {"open-to-internet", "peer-allows-all-namespaces"} <= emitted
    for code in sorted(emitted):
        response = client.get(f"{base}?code={code}")
        assert response.status_code == 200, (code, response.content)
        found = response.json()["findings"]
        assert found
        assert {f["code"] for f in found} == {code}


@pytest.mark.parametrize(
    ("query", "field"),
    [("severity=urgent", "severity"), ("code=everything-fine", "code"), ("namespace=elsewhere", "namespace")],
)
def test_bad_finding_filters_are_400(api, findings_cluster, query, field):
    response = api("viewer").get(f"/api/clusters/{findings_cluster.pk}/findings/?{query}")
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize(("role", "status"), [(None, 401), ("nobody", 403), ("viewer", 200)])
def test_findings_need_the_viewer_role(api, findings_cluster, role, status):
    assert api(role).get(f"/api/clusters/{findings_cluster.pk}/findings/").status_code == status


def test_findings_of_unknown_cluster_is_404(api, findings_cluster):
    assert api("viewer").get("/api/clusters/999999/findings/").status_code == 404


def test_each_finding_carries_its_fix(api, findings_cluster):
    """A finding with a prepared fix names its kind, its label and the editor URL that
    opens it; the others say null."""
    body = api("viewer").get(f"/api/clusters/{findings_cluster.pk}/findings/").json()
    found = by_code(body)
    ghost = found["policy-selects-nothing"][0]
    assert ghost["fix"]["kind"] == "adopt-or-delete"
    assert ghost["fix"]["label"] == "Fix: adopt or delete"
    path, _, query = ghost["fix"]["url"].partition("?")
    assert path == f"/clusters/{findings_cluster.pk}/drafts/new/"
    assert dict(pair.split("=") for pair in query.split("&")) == {
        "fix": "policy-selects-nothing",
        "namespace": "locked",
        "kind": "NetworkPolicy",
        "name": "ghost",
    }
    assert found["namespace-without-policy"][0]["fix"]["kind"] == "default-deny"
    assert {f["fix"]["kind"] for f in found["egress-without-dns"]} == {"allow-dns"}
    assert found["egress-not-isolated"][0]["fix"]["kind"] == "isolate-egress"
    for code in ("peer-matches-nothing", "named-port-unresolved", "host-network-selected"):
        assert all(f["fix"] is None for f in found[code]), code


def test_every_fix_url_opens_the_editor_on_its_prepared_policy(api, client_for, findings_cluster):
    body = api("viewer").get(f"/api/clusters/{findings_cluster.pk}/findings/").json()
    editor = client_for("editor")
    fixable = [f for f in body["findings"] if f["fix"]]
    assert len(fixable) >= 5
    for finding in fixable:
        response = editor.get(finding["fix"]["url"])
        assert response.status_code == 200, (finding, response.content[:300])
        assert finding["namespace"].encode() in response.content


def test_a_fixed_finding_loses_its_fix_url(api, client_for, findings_cluster):
    """The URL asks for the finding by name: once it is gone, the editor says so (404)
    instead of opening a stale proposal."""
    body = api("viewer").get(f"/api/clusters/{findings_cluster.pk}/findings/").json()
    ghost = by_code(body)["policy-selects-nothing"][0]
    NetworkPolicy.objects.filter(cluster=findings_cluster, name="ghost").delete()
    findings_cluster.state_version += 1
    findings_cluster.save(update_fields=["state_version"])
    response = client_for("editor").get(ghost["fix"]["url"])
    assert response.status_code == 404
    assert b"may have been fixed already" in response.content
