"""A faithful fake Kubernetes API server for tests: see server.py, objects.py, fixtures.py."""

from .server import DEFAULT_USER, FakeKubeApiServer, RequestRecord

__all__ = ["DEFAULT_USER", "FakeKubeApiServer", "RequestRecord"]
