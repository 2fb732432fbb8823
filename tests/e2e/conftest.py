"""Fixtures of the dashboard browser tests: a signed-in page on the demo."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def demo_page(demo_cluster, users, sign_in) -> Any:
    """A page signed in as the viewer, with the demo cluster loaded."""
    page = sign_in("viewer", "pw-viewer")
    page.demo = demo_cluster
    return page
