"""pytest fixtures for the fake API server.

tests/conftest.py registers them with `pytest_plugins = ["tests.fake_k8s.fixtures"]`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import kubernetes
import pytest

from .server import FakeKubeApiServer


@pytest.fixture
def fake_k8s() -> Iterator[FakeKubeApiServer]:
    """A started fake API server (plain HTTP, no token, 1 s bookmarks), stopped afterwards."""
    with FakeKubeApiServer(bookmark_interval=1.0) as server:
        yield server
    assert not server.errors, "the fake API server hit a bug:\n" + "\n".join(server.errors)


def api_client_for(server: FakeKubeApiServer, directory: Path, **kubeconfig: object,
                   ) -> kubernetes.client.ApiClient:
    """An ApiClient built from a kubeconfig, the way the product loads one."""
    path = server.write_kubeconfig(directory / "kubeconfig", **kubeconfig)  # type: ignore[arg-type]
    return kubernetes.config.new_client_from_config(config_file=str(path), context="fake")


@pytest.fixture
def kube_api_client(fake_k8s: FakeKubeApiServer,
                    tmp_path: Path) -> Iterator[kubernetes.client.ApiClient]:
    """An official-client ApiClient configured (through a kubeconfig) for `fake_k8s`."""
    client = api_client_for(fake_k8s, tmp_path)
    yield client
    client.close()
