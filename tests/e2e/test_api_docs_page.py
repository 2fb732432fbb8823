"""The API docs (Swagger UI) run under the dashboard's CSP: no inline script or style,
so the page logs no violation while it draws the operations."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e


def test_the_api_docs_draw_the_operations_without_a_csp_violation(users, sign_in, live_server):
    page = sign_in("viewer", "pw-viewer")
    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".opblock").first).to_be_visible()
    expect(page.locator("body")).to_have_css("background-color", "rgb(250, 250, 250)")
