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


@pytest.fixture
def demo_cluster(db):
    from django.core.management import call_command

    from policies.models import Cluster

    call_command("load_demo", stdout=io.StringIO())
    return Cluster.objects.get(name="demo")


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
