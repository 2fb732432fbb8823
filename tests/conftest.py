"""Shared fixtures. Builders for manifests live in tests/builders.py; the fake Kubernetes
API server in tests/fake_k8s/."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

pytest_plugins = ["tests.fake_k8s.fixtures", "tests.browser"]

ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = ROOT / "policies" / "demo"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Tests that spawn processes or browsers share a group so xdist keeps them on one worker.
    for item in items:
        if item.get_closest_marker("e2e"):
            item.add_marker(pytest.mark.xdist_group("browser"))


@pytest.fixture(autouse=True)
def _fresh_caches():
    # Engine models and answers are cached per (cluster id, state version); rolled-back and
    # flushed tests hand the next test the same ids and versions, so nothing may leak.
    from django.core.cache import cache

    from policies.services import analysis

    cache.clear()
    analysis.clear_process_caches()
    yield
    cache.clear()
    analysis.clear_process_caches()


@pytest.fixture
def client_for(users):
    """client_for("viewer") -> a page client signed in as that user; None -> anonymous."""
    from django.test import Client

    def make(username: str | None) -> Client:
        client = Client()
        if username is not None:
            client.force_login(users[username])
        return client

    return make


@pytest.fixture
def api(users):
    """api("viewer") -> an API client signed in (session) as that role; None -> anonymous."""
    from rest_framework.test import APIClient

    def make(role: str | None) -> APIClient:
        client = APIClient()
        if role is not None:
            client.force_login(users[role])
        return client

    return make


@pytest.fixture
def make_cluster(db):
    """make_cluster(name, rows=N): a cluster of N namespaces with a workload, pod and policy each."""
    from tests.builders import make_cluster as build

    return build


@pytest.fixture
def demo_cluster(db):
    from django.core.management import call_command

    from policies.models import Cluster

    call_command("load_demo", "--without-cilium", stdout=io.StringIO())
    return Cluster.objects.get(name="demo")


@pytest.fixture
def cilium_demo(db):
    """The demo-cilium cluster: the demo's workloads and policies plus Cilium's own."""
    from django.core.management import call_command

    from policies.models import Cluster

    call_command("load_demo", "--name", "demo", stdout=io.StringIO())
    return Cluster.objects.get(name="demo-cilium")


@pytest.fixture
def users(db):
    """One user per role, plus one with no role."""
    from django.contrib.auth.models import Group, User

    from policies.roles import ensure_roles

    ensure_roles()
    made = {}
    for role in ("viewer", "editor", "admin"):
        user = User.objects.create_user(role, password="pw-" + role)
        user.groups.add(Group.objects.get(name=role))
        made[role] = user
    made["nobody"] = User.objects.create_user("nobody", password="pw-nobody")
    return made
