"""The in-cluster deployment under deploy/, rendered by the real `kubectl kustomize` (base and
every overlay): least-privilege RBAC that matches what the sync lists and watches, apply
only in its overlay, images and replicas set by the overlays, secrets by reference, the
production settings, and netpolui's own NetworkPolicies."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path

import pytest
import yaml

from policies.engine import analyze, build_cluster, load_documents, load_paths
from policies.engine.cni.kinds import CNI_KINDS
from policies.k8s.client import ALL_RESOURCES, SERVICE_ACCOUNTS

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
OVERLAYS = sorted(p.parent.name for p in (DEPLOY / "overlays").glob("*/kustomization.yaml"))
APP = ("web", "sync-worker", "compute-worker", "beat")
READER_RULES = {
    (r.group, r.plural, verb)
    for r in (*ALL_RESOURCES, SERVICE_ACCOUNTS, *CNI_KINDS)
    for verb in ("get", "list", "watch")
}


@cache
def render(target: str) -> tuple[dict, ...]:
    """`kubectl kustomize deploy/<target>`, parsed."""
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.fail("kubectl is missing: `make test` installs Debian's kubernetes-client")
    result = subprocess.run(
        [kubectl, "kustomize", str(DEPLOY / target)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return tuple(d for d in yaml.safe_load_all(result.stdout) if d)


def kinds(docs, kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def rules(role: dict) -> set[tuple[str, str, str]]:
    return {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def bound_to_netpolui(docs, role_name: str) -> bool:
    return any(
        b["roleRef"]["name"] == role_name
        and {"kind": "ServiceAccount", "name": "netpolui", "namespace": "netpolui"} in b["subjects"]
        for b in kinds(docs, "ClusterRoleBinding").values()
    )


def test_there_are_the_read_only_and_apply_overlays():
    assert OVERLAYS == ["apply", "read-only"]


@pytest.mark.parametrize("target", [".", "overlays/read-only", "overlays/apply"])
def test_reader_role_is_exactly_read_only_on_the_mirrored_resources(target):
    docs = render(target)
    assert rules(kinds(docs, "ClusterRole")["netpolui-reader"]) == READER_RULES
    assert bound_to_netpolui(docs, "netpolui-reader")


@pytest.mark.parametrize("target", [".", "overlays/read-only"])
def test_read_only_grants_no_write_and_leaves_apply_off(target):
    docs = render(target)
    granted = {r for role in kinds(docs, "ClusterRole").values() for r in rules(role)}
    assert granted == READER_RULES
    assert "NETPOLUI_ALLOW_APPLY" not in kinds(docs, "ConfigMap")["netpolui"]["data"]


def test_apply_overlay_adds_patch_on_network_policies_and_turns_apply_on():
    docs = render("overlays/apply")
    roles = kinds(docs, "ClusterRole")
    assert set(roles) == {"netpolui-reader", "netpolui-apply"}
    assert rules(roles["netpolui-apply"]) == {
        ("networking.k8s.io", "networkpolicies", "get"),
        ("networking.k8s.io", "networkpolicies", "patch"),
    }
    assert bound_to_netpolui(docs, "netpolui-apply")
    data = kinds(docs, "ConfigMap")["netpolui"]["data"]
    assert data["NETPOLUI_ALLOW_APPLY"] == "1"
    assert data["NETPOLUI_ENV"] == "production"  # the patch merges, it does not replace


@pytest.mark.parametrize("overlay", ["overlays/read-only", "overlays/apply"])
def test_overlays_set_the_image_and_the_replicas_of_each_pool(overlay):
    deployments = kinds(render(overlay), "Deployment")
    for name in APP:
        spec = deployments[name]["spec"]["template"]["spec"]
        images = {c["image"] for c in spec.get("initContainers", []) + spec["containers"]}
        assert images == {"registry.example.com/netpolui:0.1.0"}, name
    replicas = {name: d["spec"]["replicas"] for name, d in deployments.items()}
    assert replicas == {"web": 2, "compute-worker": 2, "sync-worker": 1, "beat": 1, "redis": 1}


@pytest.mark.parametrize("overlay", ["overlays/read-only", "overlays/apply"])
def test_an_overlays_image_and_replicas_are_what_it_says(overlay, tmp_path):
    """Edited as a user would (their registry, their tag, their counts), the overlay renders
    exactly those: each pool's replicas come from its own patch."""
    copy = tmp_path / "deploy"
    shutil.copytree(DEPLOY, copy)
    target = copy / overlay
    kustomization = (target / "kustomization.yaml").read_text()
    (target / "kustomization.yaml").write_text(
        kustomization.replace("registry.example.com/netpolui", "quay.example.org/team/netpolui").replace('"0.1.0"', '"2.3.4"')
    )
    wanted = {"web": 3, "compute-worker": 4, "sync-worker": 5}
    for name, count in wanted.items():
        (target / f"replicas-{name}.jsonpatch").write_text(f"- {{op: replace, path: /spec/replicas, value: {count}}}\n")
    result = subprocess.run(
        [shutil.which("kubectl") or "kubectl", "kustomize", str(target)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    deployments = kinds([d for d in yaml.safe_load_all(result.stdout) if d], "Deployment")
    assert {name: deployments[name]["spec"]["replicas"] for name in wanted} == wanted
    assert deployments["beat"]["spec"]["replicas"] == 1
    for name in APP:
        spec = deployments[name]["spec"]["template"]["spec"]
        assert {c["image"] for c in spec.get("initContainers", []) + spec["containers"]} == {
            "quay.example.org/team/netpolui:2.3.4"
        }


SECRET_WORDS = ("SECRET", "PASSWORD", "TOKEN", "DATABASE_URL")


@pytest.mark.parametrize("target", [".", "overlays/read-only", "overlays/apply"])
def test_no_secret_value_is_written_in_the_repository(target):
    """Secrets reach the pods by reference only: no setting named like a secret in the
    ConfigMap, no inline `env` value for one, no password in a URL."""
    docs = render(target)
    config = kinds(docs, "ConfigMap")["netpolui"]["data"]
    assert not [k for k in config if any(word in k.upper() for word in SECRET_WORDS)]
    assert not [v for v in config.values() if "@" in v]  # user:password@host
    for deployment in kinds(docs, "Deployment").values():
        spec = deployment["spec"]["template"]["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            for env in container.get("env", []):
                if any(word in env["name"].upper() for word in SECRET_WORDS):
                    assert "secretKeyRef" in env.get("valueFrom", {}), env


@pytest.mark.parametrize("target", [".", "overlays/read-only", "overlays/apply"])
def test_secrets_are_referenced_never_rendered(target):
    docs = render(target)
    assert not [d for d in docs if d["kind"] == "Secret"]
    for name in APP:
        spec = kinds(docs, "Deployment")[name]["spec"]["template"]["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            assert {"secretRef": {"name": "netpolui"}} in container["envFrom"]
            assert {"configMapRef": {"name": "netpolui"}} in container["envFrom"]


@pytest.mark.parametrize("target", [".", "overlays/read-only", "overlays/apply"])
def test_only_pods_that_talk_to_the_api_server_get_the_service_account(target):
    specs = {n: d["spec"]["template"]["spec"] for n, d in kinds(render(target), "Deployment").items()}
    assert specs["web"]["serviceAccountName"] == "netpolui"  # registers the cluster, applies drafts
    assert specs["sync-worker"]["serviceAccountName"] == "netpolui"
    for name in ("compute-worker", "beat", "redis"):
        assert specs[name]["automountServiceAccountToken"] is False, name
        assert "serviceAccountName" not in specs[name], name


def test_sync_workers_consume_the_sync_queue_and_compute_workers_the_default():
    docs = render(".")
    config = kinds(docs, "ConfigMap")["netpolui"]["data"]
    assert config["NETPOLUI_ENV"] == "production"
    assert config["CELERY_BROKER_URL"].startswith("redis://")
    deployments = kinds(docs, "Deployment")
    sync_cmd = " ".join(deployments["sync-worker"]["spec"]["template"]["spec"]["containers"][0]["command"])
    compute_cmd = " ".join(deployments["compute-worker"]["spec"]["template"]["spec"]["containers"][0]["command"])
    assert '-Q "$NETPOLUI_SYNC_QUEUE"' in sync_cmd
    assert '-Q "${CELERY_QUEUE:-netpolui}"' in compute_cmd
    assert config["NETPOLUI_SYNC_QUEUE"] == "netpolui-sync"


def test_the_sync_queue_setting_routes_only_the_sync_task():
    code = (
        "import django, json; django.setup(); from netpolui.celery import app; "
        "print(json.dumps({t: app.amqp.router.route({}, t)['queue'].name for t in "
        "('policies.tasks.sync_cluster', 'policies.tasks.compute_drift')}))"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NETPOLUI_", "CELERY_"))}
    env.update(DJANGO_SETTINGS_MODULE="netpolui.settings", NETPOLUI_ENV="development",
               CELERY_BROKER_URL="redis://127.0.0.1:6379/9")
    routed = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env={**env, "NETPOLUI_SYNC_QUEUE": "netpolui-sync"})
    assert routed.returncode == 0, routed.stderr
    assert json.loads(routed.stdout) == {"policies.tasks.sync_cluster": "netpolui-sync",
                                         "policies.tasks.compute_drift": "netpolui"}
    shared = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, env=env)
    assert shared.returncode == 0, shared.stderr
    assert set(json.loads(shared.stdout).values()) == {"netpolui"}


@pytest.mark.parametrize("target", [".", "overlays/read-only", "overlays/apply"])
def test_own_policies_keep_the_web_closed_and_only_sync_workers_reach_the_api_server(target):
    reach = analyze(build_cluster(load_documents(list(render(target)), source=target).objects))
    inbound_to_web = [c for c in reach.connections if c.dst.key == "netpolui/web[Deployment]"]
    # No ingress controller pods in these files: nothing inside them reaches the web.
    assert inbound_to_web == []
    redis_in = {c.src.key for c in reach.connections if c.dst.key == "netpolui/redis[Deployment]"}
    assert redis_in == {f"netpolui/{n}[Deployment]" for n in APP}
    api_server = {c.src.key for c in reach.connections if c.dst.key == "10.96.0.1-10.96.0.1[External]"}
    assert api_server == {"netpolui/web[Deployment]", "netpolui/sync-worker[Deployment]"}
    beat_out = {str(c.conns) for c in reach.connections if c.src.key == "netpolui/beat[Deployment]"}
    assert beat_out == {"TCP 6379", "TCP 5432"}


def test_cli_accepts_the_deploy_directory_overlays_included():
    result = subprocess.run(
        [sys.executable, "-m", "policies.cli", "analyze", str(DEPLOY)],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr
    assert "netpolui/sync-worker[Deployment] => 10.96.0.1-10.96.0.1[External] : TCP 443,6443" in result.stdout
    # The overlays' patches are JSON patches, not partial Deployments: no phantom workloads.
    assert result.stdout == subprocess.run(
        [sys.executable, "-m", "policies.cli", "analyze", *map(str, sorted((DEPLOY / "base").glob("*.yaml")))],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    ).stdout
    assert load_paths([DEPLOY]).objects
