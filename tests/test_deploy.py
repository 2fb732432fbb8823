"""The in-cluster deployment under deploy/: least-privilege RBAC that matches what the sync
lists and watches, the production settings, and netpolui's own NetworkPolicies."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from policies.engine import analyze, build_cluster, load_paths
from policies.k8s.client import ALL_RESOURCES

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"


def documents(path: Path = DEPLOY) -> list[dict]:
    return [d for f in sorted(path.glob("*.yaml")) for d in yaml.safe_load_all(f.read_text()) if d]


def by_kind(kind: str) -> list[dict]:
    return [d for d in documents() if d["kind"] == kind]


def test_cluster_role_is_exactly_read_only_on_the_mirrored_resources():
    (role,) = [r for r in by_kind("ClusterRole") if r["metadata"]["name"] == "netpolui-reader"]
    granted = {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    needed = {(r.group, r.plural, verb) for r in ALL_RESOURCES for verb in ("get", "list", "watch")}
    assert granted == needed


def test_apply_permission_is_optional_and_limited_to_network_policies():
    optional = documents(DEPLOY / "optional")
    (role,) = [d for d in optional if d["kind"] == "ClusterRole"]
    assert role["rules"] == [
        {"apiGroups": ["networking.k8s.io"], "resources": ["networkpolicies"], "verbs": ["get", "patch"]}
    ]
    # `kubectl apply -f deploy/` does not recurse: apply stays off unless chosen.
    assert all(d["kind"] != "ClusterRole" or d["metadata"]["name"] != "netpolui-apply" for d in documents())


def test_only_pods_that_talk_to_the_api_server_get_the_service_account():
    deployments = {d["metadata"]["name"]: d["spec"]["template"]["spec"] for d in by_kind("Deployment")}
    assert deployments["worker"]["serviceAccountName"] == "netpolui"
    assert deployments["web"]["serviceAccountName"] == "netpolui"
    assert deployments["beat"]["automountServiceAccountToken"] is False
    assert deployments["redis"]["automountServiceAccountToken"] is False


def test_every_app_container_runs_the_production_profile():
    (config,) = by_kind("ConfigMap")
    assert config["data"]["NETPOLUI_ENV"] == "production"
    assert config["data"]["CELERY_BROKER_URL"].startswith("redis://")
    for d in by_kind("Deployment"):
        if d["metadata"]["name"] == "redis":
            continue
        spec = d["spec"]["template"]["spec"]
        for container in spec.get("initContainers", []) + spec["containers"]:
            refs = container["envFrom"]
            assert {"configMapRef": {"name": "netpolui"}} in refs
            assert {"secretRef": {"name": "netpolui"}} in refs


def test_own_policies_are_valid_and_keep_the_web_closed_but_for_its_port():
    cluster = build_cluster(load_paths([DEPLOY]).objects)
    reach = analyze(cluster)
    inbound_to_web = [c for c in reach.connections if c.dst.key == "netpolui/web[Deployment]"]
    # No ingress controller pods in these files: nothing inside them reaches the web.
    assert inbound_to_web == []
    redis_in = {c.src.key for c in reach.connections if c.dst.key == "netpolui/redis[Deployment]"}
    assert redis_in == {"netpolui/web[Deployment]", "netpolui/worker[Deployment]", "netpolui/beat[Deployment]"}
    beat_out = {str(c.conns) for c in reach.connections if c.src.key == "netpolui/beat[Deployment]"}
    assert beat_out == {"TCP 6379", "TCP 5432"}


def test_cli_accepts_the_deploy_directory():
    result = subprocess.run(
        [sys.executable, "-m", "policies.engine.cli", "analyze", str(DEPLOY)],
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "netpolui/worker[Deployment] => 10.96.0.1-10.96.0.1[External] : TCP 443,6443" in result.stdout
