"""Fixtures of the dashboard browser tests: clean caches and a signed-in page on the demo."""

from __future__ import annotations

import os
from typing import Any

import pytest
from django.core.cache import cache

from policies.services import analysis


@pytest.fixture(scope="session", autouse=True)
def _sync_database_calls_beside_playwright():
    # Playwright's sync API leaves an event loop running in the test thread for as long as
    # the session's browser lives; Django's database calls from that thread (fixtures, the
    # live server, later tests) are still synchronous and safe. Set from the first browser
    # test of the session to its end, then restored.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


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
