"""Fixtures of the dashboard browser tests: clean caches and a signed-in page on the demo."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.core.cache import cache

from policies.services import analysis

# Playwright's sync API runs an event loop in the test thread; Django's database calls from
# that thread (fixtures, live server setup) are still synchronous and safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fresh_caches():
    # Each test flushes the database, so cluster ids and state versions repeat.
    cache.clear()
    analysis.clear_process_caches()
    yield
    cache.clear()
    analysis.clear_process_caches()


@pytest.fixture
def demo_page(demo_cluster, users, sign_in) -> Any:
    """A page signed in as the viewer, with the demo cluster loaded."""
    page = sign_in("viewer", "pw-viewer")
    page.demo = demo_cluster
    return page
