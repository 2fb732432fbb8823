"""A live read that fails says what the dashboard says when the sync of the same cluster
fails the same way: the CLI's sentence is the sync's `last_error`, after the context."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from policies.models import Cluster
from policies.services.sync import ClusterSpec, register_cluster, sync_cluster
from tests.fake_k8s.server import FakeKubeApiServer

from .test_live_cli import run, seed
from .test_sync import FAST

pytestmark = pytest.mark.django_db(transaction=True)


def forbidden(fake: FakeKubeApiServer, tmp_path: Path) -> Path:
    fake.deny("list", "networkpolicies")
    return fake.write_kubeconfig(tmp_path / "kc", context="fake")


def unauthorized(fake: FakeKubeApiServer, tmp_path: Path) -> Path:
    return fake.write_kubeconfig(tmp_path / "kc", context="fake", token="wrong")


def untrusted(fake: FakeKubeApiServer, tmp_path: Path) -> Path:
    return fake.write_kubeconfig(tmp_path / "kc", context="fake", ca_file="")


@pytest.mark.parametrize(
    ("server", "kubeconfig_for"),
    [({}, forbidden), ({"token": "right"}, unauthorized), ({"tls": True}, untrusted)],
    ids=["403", "401", "tls"],
)
def test_the_cli_fails_in_the_syncs_words(server: dict, kubeconfig_for: Callable, tmp_path, capsys):
    with FakeKubeApiServer(**server) as fake:
        seed(fake)
        kubeconfig = kubeconfig_for(fake, tmp_path)
        code, out, err = run(capsys, "analyze", "--context", "fake", "--kubeconfig", str(kubeconfig))
        cluster = register_cluster(
            ClusterSpec(name="c", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake")
        )
        assert sync_cluster(cluster, once=True, options=FAST) is False
    last_error = Cluster.objects.get(pk=cluster.pk).last_error
    assert (code, out) == (2, "")
    assert err == f"netpolui: error: context fake: {last_error}\n"


def test_an_unreachable_cluster_fails_in_the_syncs_words(tmp_path, capsys):
    with FakeKubeApiServer() as fake:
        kubeconfig = fake.write_kubeconfig(tmp_path / "kc", context="fake")
    cluster = register_cluster(ClusterSpec(name="c", source="kubeconfig", kubeconfig_path=str(kubeconfig), context="fake"))
    assert sync_cluster(cluster, once=True, options=FAST) is False
    code, out, err = run(capsys, "analyze", "--context", "fake", "--kubeconfig", str(kubeconfig))
    assert (code, out) == (2, "")
    assert err == f"netpolui: error: context fake: {Cluster.objects.get(pk=cluster.pk).last_error}\n"
