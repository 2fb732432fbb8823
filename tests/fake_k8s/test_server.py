"""The fake API server, driven through the official kubernetes client as product code drives it."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import kubernetes
import pytest
import urllib3
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from . import objects
from .fixtures import api_client_for
from .server import FakeKubeApiServer

pytestmark = pytest.mark.timeout(30)


def _stream(func: Any, *args: Any, **kwargs: Any) -> list[tuple[str, dict[str, Any]]]:
    """(type, raw object) for every event of one watch call."""
    return [(e["type"], e["raw_object"]) for e in watch.Watch().stream(func, *args, **kwargs)]


def _names(events: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, str]]:
    return [(t, o["metadata"].get("name", "")) for t, o in events]


def _body(exc: ApiException) -> dict[str, Any]:
    return json.loads(exc.body)


def _client_without_retries(fake: FakeKubeApiServer, tmp_path: Path) -> client.ApiClient:
    configuration = client.Configuration()
    kubernetes.config.load_kube_config(
        config_file=str(fake.write_kubeconfig(tmp_path / "kubeconfig-noretry")), context="fake",
        client_configuration=configuration)
    configuration.retries = False
    return client.ApiClient(configuration)


@pytest.fixture
def shop(fake_k8s: FakeKubeApiServer) -> FakeKubeApiServer:
    fake_k8s.put(objects.namespace("shop", {"team": "a"}))
    fake_k8s.put(objects.namespace("ops"))
    fake_k8s.put_all(objects.deployment_stack("shop", "web", {"app": "web", "tier": "frontend"},
                                              ports=[("http", 8080, "TCP")], replicas=2))
    fake_k8s.put_all(objects.deployment_stack("shop", "api", {"app": "api", "tier": "backend"},
                                              ports=[("grpc", 9090, "TCP")], replicas=1))
    fake_k8s.put(objects.pod("ops", "debug", {"app": "debug"}))
    return fake_k8s


# --- lists ------------------------------------------------------------------------------


def test_list_pages_share_the_first_page_resource_version(shop, kube_api_client):
    core = client.CoreV1Api(kube_api_client)
    first = core.list_pod_for_all_namespaces(limit=2)
    shop.put(objects.pod("shop", "late", {"app": "late"}))  # after the snapshot
    names = [p.metadata.name for p in first.items]
    token = first.metadata._continue
    assert first.metadata.remaining_item_count == 2
    while token:
        page = core.list_pod_for_all_namespaces(limit=2, _continue=token)
        assert page.metadata.resource_version == first.metadata.resource_version
        names += [p.metadata.name for p in page.items]
        token = page.metadata._continue
    assert len(names) == 4
    assert "late" not in names
    assert names[0] == "debug"  # ordered by namespace/name, like etcd keys
    assert [r.query["limit"] for r in shop.find_requests("GET", "/api/v1/pods")] == ["2"] * 2
    assert int(core.list_pod_for_all_namespaces().metadata.resource_version) == \
        int(first.metadata.resource_version) + 1


def test_expired_continue_token_answers_410_expired(shop, kube_api_client):
    core = client.CoreV1Api(kube_api_client)
    first = core.list_pod_for_all_namespaces(limit=1)
    shop.put(objects.pod("ops", "another"))
    shop.compact()
    with pytest.raises(ApiException) as caught:
        core.list_pod_for_all_namespaces(limit=1, _continue=first.metadata._continue)
    body = _body(caught.value)
    assert caught.value.status == 410
    assert body["reason"] == "Expired"
    assert body["message"].startswith("The provided continue parameter is too old")


def test_list_json_matches_the_real_shape(shop, kube_api_client):
    apps = client.AppsV1Api(kube_api_client)
    raw = json.loads(apps.list_namespaced_deployment("shop", _preload_content=False).data)
    assert raw["kind"] == "DeploymentList"
    assert raw["apiVersion"] == "apps/v1"
    assert "continue" not in raw["metadata"]
    item = raw["items"][0]
    assert "kind" not in item
    assert "apiVersion" not in item
    meta = item["metadata"]
    assert {"uid", "resourceVersion", "creationTimestamp", "generation"} <= meta.keys()
    assert item["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"] == "TCP"


def test_label_and_field_selectors_filter_lists(shop, kube_api_client):
    core = client.CoreV1Api(kube_api_client)

    def names(**kw: Any) -> list[str]:
        return sorted(p.metadata.name.split("-")[0]
                      for p in core.list_pod_for_all_namespaces(**kw).items)

    assert names(label_selector="app=web") == ["web", "web"]
    assert names(label_selector="app==api,tier=backend") == ["api"]
    assert names(label_selector="tier!=frontend") == ["api", "debug"]  # absent key matches !=
    assert names(label_selector="app in (api,debug)") == ["api", "debug"]
    assert names(label_selector="app notin (web)") == ["api", "debug"]
    assert names(label_selector="tier") == ["api", "web", "web"]
    assert names(label_selector="!tier") == ["debug"]
    assert names(field_selector="metadata.namespace=ops") == ["debug"]
    assert names(field_selector="metadata.name=debug,metadata.namespace!=shop") == ["debug"]
    with pytest.raises(ApiException) as caught:
        core.list_pod_for_all_namespaces(field_selector="spec.bogus=1")
    assert caught.value.status == 400


def test_get_missing_object_is_404_not_found(kube_api_client):
    with pytest.raises(ApiException) as caught:
        client.NetworkingV1Api(kube_api_client).read_namespaced_network_policy("nope", "shop")
    body = _body(caught.value)
    assert caught.value.status == 404
    assert body["message"] == 'networkpolicies.networking.k8s.io "nope" not found'
    assert body["details"] == {"name": "nope", "group": "networking.k8s.io",
                               "kind": "networkpolicies"}


def test_discovery_and_version_answer(kube_api_client):
    assert client.VersionApi(kube_api_client).get_code().git_version == "v1.33.0"
    assert "networking.k8s.io" in [g.name for g in client.ApisApi(kube_api_client).get_api_versions().groups]
    resources = client.CoreV1Api(kube_api_client).get_api_resources().resources
    assert {"namespaces", "pods"} <= {r.name for r in resources}


# --- watches ----------------------------------------------------------------------------


def test_watch_from_list_version_sees_added_modified_deleted_in_order(fake_k8s, kube_api_client):
    net = client.NetworkingV1Api(kube_api_client)
    fake_k8s.put(objects.namespace("shop"))
    listed = net.list_network_policy_for_all_namespaces()
    policy = objects.default_deny("shop")
    fake_k8s.put(policy)
    policy["spec"]["policyTypes"] = ["Ingress"]
    fake_k8s.put(policy)
    fake_k8s.delete("NetworkPolicy", "shop", "default-deny")
    events = _stream(net.list_network_policy_for_all_namespaces,
                     resource_version=listed.metadata.resource_version, timeout_seconds=1)
    assert _names(events) == [("ADDED", "default-deny"), ("MODIFIED", "default-deny"),
                              ("DELETED", "default-deny")]
    versions = [int(o["metadata"]["resourceVersion"]) for _, o in events]
    assert versions == sorted(versions)
    assert versions[-1] == int(fake_k8s.resource_version)
    assert events[0][1]["kind"] == "NetworkPolicy"  # watch objects carry their type


def test_live_watch_sees_changes_made_while_it_is_open(fake_k8s, kube_api_client):
    core = client.CoreV1Api(kube_api_client)
    rv = core.list_namespace().metadata.resource_version

    def change() -> None:
        fake_k8s.wait_for_watches(1)
        fake_k8s.put(objects.namespace("late"))

    threading.Thread(target=change).start()
    stream = watch.Watch()
    for event in stream.stream(core.list_namespace, resource_version=rv, timeout_seconds=5):
        assert (event["type"], event["object"].metadata.name) == ("ADDED", "late")
        stream.stop()
    fake_k8s.wait_for(lambda: fake_k8s.watch_count() == 0, message="the watch to close")


def test_watch_without_resource_version_starts_with_synthetic_adds(shop, kube_api_client):
    events = _stream(client.CoreV1Api(kube_api_client).list_namespaced_pod, "ops",
                     timeout_seconds=1)
    assert _names(events) == [("ADDED", "debug")]


def test_namespaced_watch_with_selector_sees_objects_enter_and_leave(shop, kube_api_client):
    core = client.CoreV1Api(kube_api_client)
    rv = shop.resource_version
    pod = shop.get("pods", "ops", "debug")
    pod["metadata"]["labels"]["tier"] = "tools"
    shop.put(pod)  # starts matching: ADDED
    pod["metadata"]["labels"]["tier"] = "other"
    shop.put(pod)  # stops matching: DELETED
    shop.put(objects.pod("shop", "elsewhere", {"tier": "tools"}))  # other namespace
    events = _stream(core.list_namespaced_pod, "ops", label_selector="tier=tools",
                     resource_version=rv, timeout_seconds=1)
    assert _names(events) == [("ADDED", "debug"), ("DELETED", "debug")]
    assert events[1][1]["metadata"]["labels"]["tier"] == "tools"  # previous content


def test_bookmarks_arrive_only_when_allowed(fake_k8s, kube_api_client):
    fake_k8s.bookmark_interval = 0.2
    core = client.CoreV1Api(kube_api_client)
    rv = core.list_namespace().metadata.resource_version
    events = _stream(core.list_namespace, resource_version=rv, allow_watch_bookmarks=True,
                     timeout_seconds=1)
    assert len(events) >= 3
    assert {t for t, _ in events} == {"BOOKMARK"}
    assert events[0][1] == {"kind": "Namespace", "apiVersion": "v1",
                            "metadata": {"resourceVersion": rv}}
    assert fake_k8s.find_requests(watch=True)[0].query["allowWatchBookmarks"] == "true"
    assert _stream(core.list_namespace, resource_version=rv, timeout_seconds=1) == []


def test_send_initial_events_ends_with_an_annotated_bookmark(shop, kube_api_client):
    events = _stream(client.CoreV1Api(kube_api_client).list_namespace,
                     send_initial_events=True, resource_version_match="NotOlderThan",
                     allow_watch_bookmarks=True, timeout_seconds=1)
    assert _names(events)[:2] == [("ADDED", "ops"), ("ADDED", "shop")]
    kind, end = events[2]
    assert kind == "BOOKMARK"
    assert end["metadata"]["annotations"] == {"k8s.io/initial-events-end": "true"}
    assert end["metadata"]["resourceVersion"] == shop.resource_version


def test_timeout_seconds_ends_the_stream(fake_k8s, kube_api_client):
    started = time.monotonic()
    assert _stream(client.CoreV1Api(kube_api_client).list_namespace,
                   resource_version=fake_k8s.resource_version, timeout_seconds=1) == []
    assert 0.9 <= time.monotonic() - started < 3


def test_compaction_makes_a_watch_fail_with_410(fake_k8s, kube_api_client):
    core = client.CoreV1Api(kube_api_client)
    old = core.list_namespace().metadata.resource_version
    fake_k8s.put(objects.namespace("a"))
    compacted = fake_k8s.compact()
    with pytest.raises(ApiException) as caught:
        _stream(core.list_namespace, resource_version=old, timeout_seconds=1)
    assert caught.value.status == 410
    assert caught.value.reason == f"Expired: too old resource version: {old} ({compacted})"
    # Without timeout_seconds the client retries the same version once before raising.
    fake_k8s.clear_requests()
    with pytest.raises(ApiException):
        _stream(core.list_namespace, resource_version=old)
    assert len(fake_k8s.find_requests(watch=True)) == 2


def test_expire_watches_sends_410_mid_stream(fake_k8s, kube_api_client):
    def expire_soon() -> None:
        fake_k8s.wait_for_watches(1)
        fake_k8s.put(objects.namespace("seen"))
        fake_k8s.wait_for(lambda: fake_k8s.watch_count() == 1)
        time.sleep(0.2)
        fake_k8s.expire_watches()

    threading.Thread(target=expire_soon).start()
    seen = []

    def consume() -> None:
        for event in watch.Watch().stream(client.CoreV1Api(kube_api_client).list_namespace,
                                          resource_version=fake_k8s.resource_version,
                                          timeout_seconds=5):
            seen.append(event["raw_object"]["metadata"]["name"])

    with pytest.raises(ApiException) as caught:
        consume()
    assert seen == ["seen"]
    assert caught.value.status == 410


def test_raw_expired_watch_is_a_200_stream_with_one_error_event(fake_k8s, kube_api_client):
    fake_k8s.put(objects.namespace("a"))
    fake_k8s.compact()
    response = client.CoreV1Api(kube_api_client).list_namespace(
        watch=True, resource_version="1000", _preload_content=False)
    lines = response.data.decode().splitlines()
    assert response.status == 200
    assert len(lines) == 1
    event = json.loads(lines[0])
    assert event["type"] == "ERROR"
    assert event["object"] == {"kind": "Status", "apiVersion": "v1", "metadata": {},
                               "status": "Failure",
                               "message": "too old resource version: 1000 (1001)",
                               "reason": "Expired", "code": 410}


# --- authentication and authorization ---------------------------------------------------


def test_missing_or_wrong_token_is_401(tmp_path):
    with FakeKubeApiServer(token="s3cret") as fake:
        for token in ("", "wrong"):
            api = api_client_for(fake, tmp_path, token=token)
            with pytest.raises(ApiException) as caught:
                client.CoreV1Api(api).list_namespace()
            assert caught.value.status == 401
            assert _body(caught.value)["reason"] == "Unauthorized"
        assert client.CoreV1Api(api_client_for(fake, tmp_path)).list_namespace().items == []


def test_denied_rbac_rule_is_403_with_the_real_message(fake_k8s, kube_api_client):
    fake_k8s.deny("list", "namespaces")
    fake_k8s.deny("watch", "networkpolicies", namespace="locked")
    with pytest.raises(ApiException) as caught:
        client.CoreV1Api(kube_api_client).list_namespace()
    body = _body(caught.value)
    assert caught.value.status == 403
    assert body["reason"] == "Forbidden"
    assert body["message"] == (
        'namespaces is forbidden: User "system:serviceaccount:netpolui:netpolui" cannot list '
        'resource "namespaces" in API group "" at the cluster scope')
    assert body["details"] == {"kind": "namespaces"}
    net = client.NetworkingV1Api(kube_api_client)
    with pytest.raises(ApiException) as caught:
        net.list_namespaced_network_policy("locked", watch=True, _preload_content=False)
    assert _body(caught.value)["message"] == (
        'networkpolicies.networking.k8s.io is forbidden: User '
        '"system:serviceaccount:netpolui:netpolui" cannot watch resource "networkpolicies" in '
        'API group "networking.k8s.io" in the namespace "locked"')
    assert _body(caught.value)["details"] == {"group": "networking.k8s.io",
                                              "kind": "networkpolicies"}
    assert net.list_namespaced_network_policy("open").items == []
    fake_k8s.allow_all()
    assert client.CoreV1Api(kube_api_client).list_namespace().items == []


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_tls_needs_the_cluster_ca(tmp_path):
    with FakeKubeApiServer(tls=True, token="t") as fake:
        assert fake.url.startswith("https://")
        trusted = api_client_for(fake, tmp_path)
        assert client.CoreV1Api(trusted).list_namespace().items == []
        untrusted = api_client_for(fake, tmp_path, ca_file="")
        with pytest.raises(urllib3.exceptions.MaxRetryError) as caught:
            client.CoreV1Api(untrusted).list_namespace()
        assert "CERTIFICATE_VERIFY_FAILED" in str(caught.value)
        insecure = api_client_for(fake, tmp_path, insecure=True)
        assert client.CoreV1Api(insecure).list_namespace().items == []


# --- writes -----------------------------------------------------------------------------


def test_create_twice_is_409_already_exists(fake_k8s, kube_api_client):
    fake_k8s.put(objects.namespace("shop"))
    net = client.NetworkingV1Api(kube_api_client)
    created = net.create_namespaced_network_policy("shop", objects.default_deny("shop"))
    assert created.metadata.generation == 1
    assert created.metadata.uid
    with pytest.raises(ApiException) as caught:
        net.create_namespaced_network_policy("shop", objects.default_deny("shop"))
    body = _body(caught.value)
    assert caught.value.status == 409
    assert body["reason"] == "AlreadyExists"
    assert body["message"] == 'networkpolicies.networking.k8s.io "default-deny" already exists'


def test_create_in_a_missing_namespace_is_404(kube_api_client):
    with pytest.raises(ApiException) as caught:
        client.NetworkingV1Api(kube_api_client).create_namespaced_network_policy(
            "ghost", objects.default_deny("ghost"))
    assert _body(caught.value)["message"] == 'namespaces "ghost" not found'


def test_replace_with_a_stale_resource_version_is_409_conflict(fake_k8s, kube_api_client):
    fake_k8s.put(objects.namespace("shop"))
    stored = fake_k8s.put(objects.default_deny("shop"))
    fake_k8s.put({**stored, "spec": {"podSelector": {}, "policyTypes": ["Ingress"]}})
    with pytest.raises(ApiException) as caught:
        client.NetworkingV1Api(kube_api_client).replace_namespaced_network_policy(
            "default-deny", "shop", stored)
    body = _body(caught.value)
    assert caught.value.status == 409
    assert body["reason"] == "Conflict"
    assert "the object has been modified" in body["message"]


def test_generation_moves_with_the_spec_and_noop_writes_keep_the_version(fake_k8s,
                                                                         kube_api_client):
    fake_k8s.put(objects.namespace("shop"))
    net = client.NetworkingV1Api(kube_api_client)
    created = net.create_namespaced_network_policy("shop", objects.default_deny("shop"))
    labelled = net.patch_namespaced_network_policy("default-deny", "shop",
                                                   {"metadata": {"labels": {"a": "b"}}})
    assert labelled.metadata.generation == 1
    respec = net.patch_namespaced_network_policy("default-deny", "shop",
                                                 {"spec": {"policyTypes": ["Ingress"]}})
    assert respec.metadata.generation == 2
    again = net.patch_namespaced_network_policy("default-deny", "shop",
                                                {"spec": {"policyTypes": ["Ingress"]}})
    assert again.metadata.resource_version == respec.metadata.resource_version
    assert int(respec.metadata.resource_version) > int(created.metadata.resource_version)


def test_patch_types(fake_k8s, kube_api_client):
    fake_k8s.put(objects.namespace("shop"))
    fake_k8s.put(objects.allow_from("shop", "web", {"app": "web"}, {"app": "lb"}, 8080))
    net = client.NetworkingV1Api(kube_api_client)
    new_rule = {"from": [{"namespaceSelector": {}}], "ports": [{"port": 443}]}
    strategic = net.patch_namespaced_network_policy(  # rule lists have no merge key: replaced
        "web", "shop", {"spec": {"ingress": [new_rule]}})
    assert len(strategic.spec.ingress) == 1
    assert strategic.spec.ingress[0].ports[0].protocol == "TCP"  # defaulted
    merged = net.patch_namespaced_network_policy(
        "web", "shop", {"metadata": {"labels": {"x": "1"}}},
        _content_type="application/merge-patch+json")
    assert merged.metadata.labels == {"x": "1"}
    patched = net.patch_namespaced_network_policy(
        "web", "shop", [{"op": "replace", "path": "/spec/ingress/0/ports/0/port", "value": 8443},
                        {"op": "remove", "path": "/metadata/labels/x"}],
        _content_type="application/json-patch+json")
    assert patched.spec.ingress[0].ports[0].port == 8443
    assert not patched.metadata.labels


def test_invalid_network_policy_is_422_with_causes(fake_k8s, kube_api_client):
    fake_k8s.put(objects.namespace("shop"))
    bad = objects.networkpolicy("shop", "bad", {
        "podSelector": {},
        "ingress": [{"from": [{"ipBlock": {"cidr": "10.0.0.0/33"}}],
                     "ports": [{"port": 70000, "protocol": "TCP"}]}],
    })
    with pytest.raises(ApiException) as caught:
        client.NetworkingV1Api(kube_api_client).create_namespaced_network_policy("shop", bad)
    body = _body(caught.value)
    assert caught.value.status == 422
    assert body["reason"] == "Invalid"
    assert body["message"].startswith('NetworkPolicy.networking.k8s.io "bad" is invalid: [')
    assert {(c["field"], c["reason"]) for c in body["details"]["causes"]} == {
        ("spec.ingress[0].ports[0].port", "FieldValueInvalid"),
        ("spec.ingress[0].from[0].ipBlock.cidr", "FieldValueInvalid"),
    }
    assert ('Invalid value: "10.0.0.0/33": must be a valid CIDR value, (e.g. 10.9.8.0/24 or '
            '2001:db8::/64)') in body["message"]
    assert fake_k8s.objects("networkpolicies") == []


def test_server_side_apply_creates_updates_and_tracks_ownership(fake_k8s, kube_api_client):
    fake_k8s.put(objects.namespace("shop"))
    net = client.NetworkingV1Api(kube_api_client)
    manifest = objects.allow_from("shop", "web", {"app": "web"}, {"app": "lb"}, 8080)
    manifest["metadata"]["labels"] = {"owner": "netpolui", "temp": "yes"}

    def apply(body: dict[str, Any], manager: str = "netpolui", **kw: Any) -> Any:
        return net.patch_namespaced_network_policy(
            "web", "shop", body, field_manager=manager,
            _content_type="application/apply-patch+yaml", **kw)

    created = apply(manifest)
    assert created.metadata.managed_fields[0].manager == "netpolui"
    assert created.metadata.managed_fields[0].operation == "Apply"
    assert fake_k8s.find_requests("PATCH")[0].status == 201

    del manifest["metadata"]["labels"]["temp"]  # a field the manager stops applying goes away
    assert apply(manifest).metadata.labels == {"owner": "netpolui"}

    rival = json.loads(json.dumps(manifest))
    rival["spec"]["ingress"][0]["ports"][0]["port"] = 9090
    with pytest.raises(ApiException) as caught:
        apply(rival, manager="kubectl")
    body = _body(caught.value)
    assert caught.value.status == 409
    assert body["message"] == ('Apply failed with 1 conflict: conflict with "netpolui" using '
                               'networking.k8s.io/v1: .spec.ingress')
    assert body["details"]["causes"][0]["reason"] == "FieldManagerConflict"
    forced = apply(rival, manager="kubectl", force=True)
    assert forced.spec.ingress[0].ports[0].port == 9090
    owners = {e.manager: e.fields_v1 for e in forced.metadata.managed_fields}
    assert "f:ingress" in owners["kubectl"]["f:spec"]
    assert "f:ingress" not in owners["netpolui"].get("f:spec", {})


def test_apply_without_field_manager_is_422(fake_k8s, kube_api_client):
    fake_k8s.put(objects.namespace("shop"))
    with pytest.raises(ApiException) as caught:
        client.NetworkingV1Api(kube_api_client).patch_namespaced_network_policy(
            "web", "shop", objects.default_deny("shop", "web"),
            _content_type="application/apply-patch+yaml")
    body = _body(caught.value)
    assert caught.value.status == 422
    assert body["message"] == ('PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required '
                               'value: is required for apply patch')


def test_dry_run_validates_and_answers_without_storing(fake_k8s, kube_api_client):
    fake_k8s.put(objects.namespace("shop"))
    existing = fake_k8s.put(objects.default_deny("shop"))
    before = fake_k8s.resource_version
    net = client.NetworkingV1Api(kube_api_client)
    created = net.create_namespaced_network_policy(
        "shop", objects.default_deny("shop", "other"), dry_run="All")
    assert created.metadata.uid
    assert created.spec.policy_types == ["Ingress", "Egress"]
    applied = net.patch_namespaced_network_policy(
        "default-deny", "shop", objects.networkpolicy("shop", "default-deny", {"podSelector": {}}),
        field_manager="netpolui", force=True, dry_run="All",
        _content_type="application/apply-patch+yaml")
    assert applied.metadata.resource_version == existing["metadata"]["resourceVersion"]
    net.delete_namespaced_network_policy("default-deny", "shop", dry_run="All")
    with pytest.raises(ApiException) as caught:
        net.create_namespaced_network_policy(
            "shop", objects.networkpolicy("shop", "x", {"podSelector": {}, "policyTypes": ["Up"]}),
            dry_run="All")
    assert caught.value.status == 422
    assert fake_k8s.resource_version == before
    assert fake_k8s.objects("NetworkPolicy") == [existing]


def test_delete_returns_status_and_cascades_to_owned_objects(shop, kube_api_client):
    rv = shop.resource_version
    status = client.AppsV1Api(kube_api_client).delete_namespaced_deployment("web", "shop")
    assert status["kind"] == "Status"
    assert status["status"] == "Success"
    assert status["details"]["kind"] == "deployments"
    assert status["details"]["group"] == "apps"
    assert [p["metadata"]["name"].split("-")[0] for p in shop.objects("pods", "shop")] == ["api"]
    assert len(shop.objects("replicasets")) == 1
    deleted = _stream(client.CoreV1Api(kube_api_client).list_pod_for_all_namespaces,
                      resource_version=rv, timeout_seconds=1)
    assert [t for t, _ in deleted] == ["DELETED", "DELETED"]


# --- faults -----------------------------------------------------------------------------


def test_fail_next_answers_500_then_recovers(shop, kube_api_client):
    core = client.CoreV1Api(kube_api_client)
    shop.fail_next(1, status=500, path_contains="/pods")
    assert core.list_namespace().items  # other paths are untouched
    with pytest.raises(ApiException) as caught:
        core.list_pod_for_all_namespaces()
    assert caught.value.status == 500
    assert _body(caught.value)["reason"] == "InternalError"
    assert core.list_pod_for_all_namespaces().items


def test_fail_next_can_target_watches_only(shop, kube_api_client):
    core = client.CoreV1Api(kube_api_client)
    shop.fail_next(1, status=503, watch=True)
    listed = core.list_namespace()
    with pytest.raises(ApiException) as caught:
        _stream(core.list_namespace, resource_version=listed.metadata.resource_version,
                timeout_seconds=1)
    assert caught.value.status == 503


def test_recreated_object_shows_as_delete_then_add(shop, kube_api_client):
    rv = shop.resource_version
    pod = shop.get("pods", "ops", "debug")
    pod["metadata"]["uid"] = "00000000-0000-4000-8000-000000000001"
    shop.put(pod)
    events = _stream(client.CoreV1Api(kube_api_client).list_namespaced_pod, "ops",
                     resource_version=rv, timeout_seconds=1)
    assert [t for t, _ in events] == ["DELETED", "ADDED"]
    assert events[1][1]["metadata"]["uid"] == pod["metadata"]["uid"]


def test_large_lists_page_through_thousands_of_objects(fake_k8s, kube_api_client):
    fake_k8s.put(objects.namespace("big"))
    for i in range(3000):
        fake_k8s.put(objects.pod("big", f"p-{i:05d}", {"app": "big"}))
    core = client.CoreV1Api(kube_api_client)
    seen, token = 0, None
    while True:
        page = core.list_pod_for_all_namespaces(limit=500, _continue=token)
        seen += len(page.items)
        token = page.metadata._continue
        if not token:
            break
    assert seen == 3000


def test_429_carries_retry_after_to_the_client(fake_k8s, tmp_path, kube_api_client):
    no_retries = client.CoreV1Api(_client_without_retries(fake_k8s, tmp_path))
    fake_k8s.fail_next(1, status=429, retry_after=7)
    with pytest.raises(ApiException) as caught:
        no_retries.list_namespace()
    assert caught.value.status == 429
    assert caught.value.headers["Retry-After"] == "7"
    assert _body(caught.value)["details"] == {"retryAfterSeconds": 7}
    # urllib3's default Retry honours Retry-After on 429: the stock client sleeps and retries.
    fake_k8s.fail_next(1, status=429, retry_after=1)
    started = time.monotonic()
    client.CoreV1Api(kube_api_client).list_namespace()
    assert time.monotonic() - started >= 0.9
    assert [r.status for r in fake_k8s.requests[-2:]] == [429, 200]


def test_cut_watch_stream_breaks_mid_event(shop, kube_api_client):
    shop.cut_next_watch(after_events=1)
    received = []

    def consume() -> None:
        for event in watch.Watch().stream(client.CoreV1Api(kube_api_client).list_namespace,
                                          timeout_seconds=2):
            received.append(event["raw_object"]["metadata"]["name"])

    with pytest.raises(urllib3.exceptions.ProtocolError):
        consume()
    assert received == ["ops"]
    assert len(_stream(client.CoreV1Api(kube_api_client).list_namespace, timeout_seconds=1)) == 2


def test_slow_server_trips_the_client_read_timeout(fake_k8s, tmp_path):
    core = client.CoreV1Api(_client_without_retries(fake_k8s, tmp_path))
    fake_k8s.slow(0.5, path_contains="/namespaces")
    with pytest.raises(urllib3.exceptions.ReadTimeoutError):
        core.list_namespace(_request_timeout=(1, 0.2))
    fake_k8s.slow(0, path_contains="/namespaces")
    assert core.list_namespace(_request_timeout=(1, 0.5)).items == []


def test_pause_refuses_connections_and_resume_keeps_port_and_history(shop, kube_api_client):
    core = client.CoreV1Api(kube_api_client)
    rv = core.list_pod_for_all_namespaces().metadata.resource_version
    url = shop.url
    shop.pause()
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        core.list_pod_for_all_namespaces()
    shop.delete("pods", "ops", "debug")  # deleted while the client cannot watch
    shop.resume()
    assert shop.url == url
    events = _stream(core.list_pod_for_all_namespaces, resource_version=rv, timeout_seconds=1)
    assert _names(events) == [("DELETED", "debug")]


def test_pause_cuts_open_watches(shop, kube_api_client):
    def pause_soon() -> None:
        shop.wait_for_watches(1)
        shop.pause()

    threading.Thread(target=pause_soon).start()
    with pytest.raises(urllib3.exceptions.ProtocolError):
        _stream(client.CoreV1Api(kube_api_client).list_namespace,
                resource_version=shop.resource_version, timeout_seconds=5)
    shop.resume()


# --- control API and builders -----------------------------------------------------------


def test_load_manifests_reads_multi_document_yaml_and_lists(fake_k8s, tmp_path):
    (tmp_path / "app.yaml").write_text(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n---\n"
        "apiVersion: v1\nkind: List\nitems:\n"
        "- apiVersion: networking.k8s.io/v1\n  kind: NetworkPolicy\n"
        "  metadata: {name: deny, namespace: web}\n  spec: {podSelector: {}}\n")
    loaded = fake_k8s.load_manifests([tmp_path, objects.namespace("db")])
    assert [o["kind"] for o in loaded] == ["Namespace", "Namespace", "NetworkPolicy"]
    policy = fake_k8s.get("netpol", "web", "deny")
    assert policy["spec"]["policyTypes"] == ["Ingress"]  # defaulted like a real server
    assert fake_k8s.get("Namespace", None, "web")["metadata"]["labels"] == {
        "kubernetes.io/metadata.name": "web"}


def test_builders_wire_owner_references_and_pod_ips():
    deploy, replica_set, *pods = objects.deployment_stack(
        "shop", "web", {"app": "web"}, ports=[("http", 8080, "TCP")], replicas=2)
    assert replica_set["metadata"]["ownerReferences"][0]["uid"] == deploy["metadata"]["uid"]
    assert replica_set["metadata"]["ownerReferences"][0]["controller"] is True
    assert len(pods) == 2
    assert len({p["status"]["podIP"] for p in pods}) == 2
    for pod in pods:
        assert pod["metadata"]["ownerReferences"][0]["kind"] == "ReplicaSet"
        assert pod["metadata"]["labels"]["pod-template-hash"]
        assert pod["spec"]["containers"][0]["ports"][0]["name"] == "http"
    cron, job, job_pod = objects.cronjob_stack("batch", "report")
    assert job["metadata"]["ownerReferences"][0]["kind"] == "CronJob"
    assert job_pod["metadata"]["ownerReferences"][0]["uid"] == job["metadata"]["uid"]
    assert cron["spec"]["schedule"]
