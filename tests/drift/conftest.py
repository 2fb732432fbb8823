"""Fixtures of the drift tests: Git repositories made by the test, the demo policies as
documents, a cluster mirrored from the fake API server, Celery in-process."""

from __future__ import annotations

import copy
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from policies.models import Cluster, DesiredSource
from policies.services.sync import ClusterSpec, register_cluster, sync_cluster
from tests.fake_k8s.server import FakeKubeApiServer

ROOT = Path(__file__).resolve().parents[2]
DEMO_DIR = ROOT / "policies" / "demo"


@pytest.fixture(autouse=True)
def _own_git_checkouts(settings, tmp_path):
    settings.NETPOLUI_GIT_DIR = tmp_path / "checkouts"


@pytest.fixture
def eager_celery() -> Iterator[None]:
    """Tasks run in the calling process, as under `make run`, whatever broker is set."""
    from netpolui.celery import app

    saved = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


def demo_policies() -> list[dict[str, Any]]:
    """Every NetworkPolicy of the bundled demo, as documents."""
    return [
        d
        for path in sorted(DEMO_DIR.glob("*.yaml"))
        for d in yaml.safe_load_all(path.read_text())
        if d and d.get("kind") == "NetworkPolicy"
    ]


def policy(namespace: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": name, "namespace": namespace},
        "spec": spec,
    }


def by_name(docs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return next(d for d in docs if d["metadata"]["name"] == name)


class GitRepo:
    """A repository made by the test: write files, commit, branch."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.mkdir(parents=True)
        self.git("init", "--quiet", "--initial-branch=main")

    def git(self, *args: str) -> str:
        return subprocess.run(
            ["git", "-c", "user.name=test", "-c", "user.email=test@example.com", *args],
            cwd=self.path, check=True, capture_output=True, text=True,
        ).stdout

    def write(self, relative: str, text: str) -> None:
        target = self.path / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)

    def write_docs(self, relative: str, docs: list[dict[str, Any]]) -> None:
        self.write(relative, yaml.safe_dump_all(copy.deepcopy(docs), sort_keys=False))

    def remove(self, relative: str) -> None:
        (self.path / relative).unlink()

    def commit(self, message: str = "change") -> str:
        self.git("add", "-A")
        self.git("commit", "--quiet", "--allow-empty", "-m", message)
        return self.git("rev-parse", "HEAD").strip()

    def branch(self, name: str) -> None:
        self.git("checkout", "--quiet", "-b", name)

    def checkout(self, name: str) -> None:
        self.git("checkout", "--quiet", name)


@pytest.fixture
def git_repo(tmp_path) -> Callable[..., GitRepo]:
    made = iter(range(100))

    def make(name: str | None = None) -> GitRepo:
        return GitRepo(tmp_path / (name or f"repo-{next(made)}"))

    return make


@pytest.fixture
def demo_repo(git_repo) -> GitRepo:
    """A Git repository holding exactly the demo's policies under policies/."""
    repo = git_repo("demo-policies")
    repo.write_docs("policies/demo.yaml", demo_policies())
    repo.write("README.md", "intended NetworkPolicies of the demo cluster\n")
    repo.commit("the demo's policies")
    return repo


def git_source(cluster: Cluster, repo: GitRepo, **fields: Any) -> DesiredSource:
    fields.setdefault("branch", "main")
    fields.setdefault("subdirectory", "policies")
    return DesiredSource.objects.create(cluster=cluster, kind=DesiredSource.Kind.GIT, location=str(repo.path), **fields)


@pytest.fixture
def fake_k8s_policy_api() -> Iterator[FakeKubeApiServer]:
    """A fake API server that also serves the policy.networking.k8s.io kinds and Nodes
    (the demo has cluster-wide policies)."""
    with FakeKubeApiServer(bookmark_interval=1.0, policy_api=True) as server:
        yield server
    assert not server.errors, "the fake API server hit a bug:\n" + "\n".join(server.errors)


@pytest.fixture
def fake_demo(fake_k8s_policy_api, tmp_path, db):
    """The demo cluster served by the fake API server and mirrored by one list pass.
    Returns (cluster, fake API server, resync)."""
    fake_k8s = fake_k8s_policy_api
    fake_k8s.load_manifests(DEMO_DIR)
    kubeconfig = fake_k8s.write_kubeconfig(tmp_path / "kubeconfig")
    cluster = register_cluster(
        ClusterSpec(name="fake-demo", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake")
    )

    def resync() -> Cluster:
        assert sync_cluster(cluster, once=True) is True
        cluster.refresh_from_db()
        return cluster

    resync()
    return cluster, fake_k8s, resync
