"""/api/cni-policies/ and /api/clusters/{id}/cni/: the CNI objects in their own shape
with the engine's reading, filters, the enforcing CNI and its setting (admins only), and
the CNI objects in the export and the answers."""

from __future__ import annotations

import yaml

from policies.models import AuditEvent, Cluster

URL = "/api/cni-policies/"


def keys(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["key"] for row in response.json()["results"]]


def test_list_filters_and_enforced_flags(calico_cluster, api):
    client = api("viewer")
    every = keys(client.get(URL, {"cluster": calico_cluster.pk}))
    assert sorted(every) == [
        "calico:GlobalNetworkPolicy:deny-db-from-web",
        "calico:NetworkPolicy:db/allow-front",
        "calico:Tier:security",
        "cilium:CiliumNetworkPolicy:db/pg-deny-web",
    ]
    assert keys(client.get(URL, {"cluster": calico_cluster.pk, "cni": "cilium"})) == ["cilium:CiliumNetworkPolicy:db/pg-deny-web"]
    assert keys(client.get(URL, {"cluster": calico_cluster.pk, "kind": "GlobalNetworkPolicy"})) == [
        "calico:GlobalNetworkPolicy:deny-db-from-web"
    ]
    assert sorted(keys(client.get(URL, {"cluster": calico_cluster.pk, "namespace": "db"}))) == [
        "calico:NetworkPolicy:db/allow-front",
        "cilium:CiliumNetworkPolicy:db/pg-deny-web",
    ]
    # Calico runs here (its agent pod): its policies are enforced, Cilium's listed only.
    assert sorted(keys(client.get(URL, {"cluster": calico_cluster.pk, "enforced": "true"}))) == [
        "calico:GlobalNetworkPolicy:deny-db-from-web",
        "calico:NetworkPolicy:db/allow-front",
    ]
    # Tiers are neither enforced nor not: they hold no rules.
    assert keys(client.get(URL, {"cluster": calico_cluster.pk, "enforced": "false"})) == ["cilium:CiliumNetworkPolicy:db/pg-deny-web"]
    not_enforced = client.get(URL, {"cluster": calico_cluster.pk, "enforced": "false", "cni": "cilium"}).json()["results"]
    assert [r["key"] for r in not_enforced] == ["cilium:CiliumNetworkPolicy:db/pg-deny-web"]
    assert not_enforced[0]["enforced"] is False
    assert not_enforced[0]["reading"]["not_enforced_reason"]
    assert client.get(URL, {"cni": "weave"}).status_code == 400


def test_detail_has_the_reading_and_yaml_in_the_objects_own_shape(calico_cluster, api):
    client = api("viewer")
    row = client.get(URL, {"cluster": calico_cluster.pk, "kind": "GlobalNetworkPolicy"}).json()["results"][0]
    detail = client.get(f"{URL}{row['id']}/").json()
    assert detail["enforced"] is True
    reading = detail["reading"]
    assert (reading["tier"], reading["order"]) == ("default", 10)
    assert [r["action"] for r in reading["rules"]] == ["Deny", "Pass"]
    assert [r["direction"] for r in reading["rules"]] == ["ingress", "ingress"]
    doc = yaml.safe_load(detail["yaml"])
    assert doc["apiVersion"] == "projectcalico.org/v3"
    assert doc["kind"] == "GlobalNetworkPolicy"
    assert doc["spec"]["ingress"][0]["action"] == "Deny"
    assert set(doc["metadata"]) == {"name"}  # no uid, resourceVersion, managedFields


def test_the_enforcing_cni_and_its_setting(calico_cluster, api):
    url = f"/api/clusters/{calico_cluster.pk}/cni/"
    state = api("viewer").get(url).json()
    assert (state["setting"], state["cni"]) == ("auto", "calico")
    assert "agent" in state["detected_by"]
    assert state["served"] == ["calico", "cilium"]
    assert api("editor").post(url, {"cni": "cilium"}, format="json").status_code == 403
    bad = api("admin").post(url, {"cni": "weave"}, format="json")
    assert bad.status_code == 400
    assert "cni" in bad.json()
    version = calico_cluster.state_version
    changed = api("admin").post(url, {"cni": "cilium"}, format="json")
    assert changed.status_code == 200, changed.content
    assert (changed.json()["cni"], changed.json()["detected_by"]) == ("cilium", "set on the cluster")
    calico_cluster.refresh_from_db()
    assert calico_cluster.cni == Cluster.Cni.CILIUM
    assert calico_cluster.state_version > version
    assert AuditEvent.objects.filter(summary__contains="enforcing CNI auto -> cilium").exists()
    # Now Calico's objects are the ones listed only.
    listed = keys(api("viewer").get(URL, {"cluster": calico_cluster.pk, "enforced": "false", "cni": "calico"}))
    assert "calico:GlobalNetworkPolicy:deny-db-from-web" in listed
    assert "calico:NetworkPolicy:db/allow-front" in listed


def test_reachability_and_explain_follow_the_enforcing_cnis_policies(calico_cluster, api):
    client = api("viewer")
    explain = f"/api/clusters/{calico_cluster.pk}/explain/"
    answer = client.get(explain, {"src": "web/front", "dst": "db/pg", "port": 5432, "protocol": "TCP"}).json()
    assert answer["allowed"] is False, answer
    assert "calico:GlobalNetworkPolicy:deny-db-from-web" in str(answer)
    # With the setting at none, no CNI policy applies: nothing isolates pg.
    api("admin").post(f"/api/clusters/{calico_cluster.pk}/cni/", {"cni": "none"}, format="json")
    answer = client.get(explain, {"src": "web/front", "dst": "db/pg", "port": 5432, "protocol": "TCP"}).json()
    assert answer["allowed"] is True, answer


def test_export_appends_the_cni_objects_in_their_own_shape(calico_cluster, api):
    response = api("editor").get(f"/api/clusters/{calico_cluster.pk}/export/", HTTP_ACCEPT="application/yaml")
    assert response.status_code == 200
    docs = list(yaml.safe_load_all(response.content))
    found = [(d["apiVersion"], d["kind"], d["metadata"]["name"]) for d in docs]
    assert ("projectcalico.org/v3", "GlobalNetworkPolicy", "deny-db-from-web") in found
    assert ("projectcalico.org/v3", "Tier", "security") in found
    assert ("cilium.io/v2", "CiliumNetworkPolicy", "pg-deny-web") in found
    # Tiers before the policies that refer to them.
    assert found.index(("projectcalico.org/v3", "Tier", "security")) < found.index(
        ("projectcalico.org/v3", "GlobalNetworkPolicy", "deny-db-from-web")
    )
    db_only = api("editor").get(f"/api/clusters/{calico_cluster.pk}/export/", {"namespace": "db"}, HTTP_ACCEPT="application/yaml")
    names = [d["metadata"]["name"] for d in yaml.safe_load_all(db_only.content)]
    assert "deny-db-from-web" not in names
    assert "pg-deny-web" in names


def test_pod_and_workload_policies_list_the_cni_policies_that_select_them(calico_cluster, api):
    from policies.models import Pod, Workload

    client = api("viewer")
    pg = Workload.objects.get(cluster=calico_cluster, name="pg")
    body = client.get(f"/api/workloads/{pg.pk}/policies/").json()
    assert [(p["key"], p["directions"]) for p in body["cni_policies"]] == [
        ("calico:GlobalNetworkPolicy:deny-db-from-web", ["ingress"]),
        ("calico:NetworkPolicy:db/allow-front", ["ingress"]),
    ]
    assert all(p["id"] for p in body["cni_policies"])
    pod = Pod.objects.get(cluster=calico_cluster, name="pg-0")
    assert [p["key"] for p in client.get(f"/api/pods/{pod.pk}/policies/").json()["cni_policies"]] == [
        "calico:GlobalNetworkPolicy:deny-db-from-web",
        "calico:NetworkPolicy:db/allow-front",
    ]
    front = Workload.objects.get(cluster=calico_cluster, name="front")
    assert client.get(f"/api/workloads/{front.pk}/policies/").json()["cni_policies"] == []


def test_findings_about_cni_objects_carry_their_key_and_row(calico_cluster, api):
    from policies.models import CniObject

    body = api("viewer").get(f"/api/clusters/{calico_cluster.pk}/findings/").json()
    rows = {o.key: o.pk for o in CniObject.objects.filter(cluster=calico_cluster)}
    about_cni = [f for f in body["findings"] if f["code"].startswith("cni-")]
    assert {f["object_key"] for f in about_cni} >= {
        "calico:NetworkPolicy:db/allow-front",
        "cilium:CiliumNetworkPolicy:db/pg-deny-web",
    }
    assert all(f["object_id"] == rows[f["object_key"]] for f in about_cni)
    assert {f["object_key"] for f in body["findings"] if not f["code"].startswith("cni-")} <= {""}
