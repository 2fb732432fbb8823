"""Makes the fake's fixtures available to its own tests, whatever tests/conftest.py does."""

from .fixtures import fake_k8s, kube_api_client  # noqa: F401
