"""Browser fixtures: Playwright driving Debian's Chromium against pytest-django's live
server. Never a browser download: the executable is /usr/bin/chromium.

Use from a test module with `pytestmark = pytest.mark.e2e` and the fixtures below (they
are registered from tests/conftest.py). Every page fails its test if it logs a
JavaScript error or a console error.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

CHROMIUM = os.environ.get("NETPOLUI_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"]


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM):
        if os.environ.get("NETPOLUI_REQUIRE_SERVICES"):
            pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is missing: run `make browser`")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in the test thread while the
    # browser lives; Django's database calls from that thread (fixtures, the live server)
    # stay synchronous and safe, so its async guard is lifted for exactly that long.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            instance = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True)
            yield instance
            instance.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


class PageErrors(list[str]):
    """JavaScript errors and console errors a page logged."""


@pytest.fixture
def page(browser: Any, live_server: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    context.set_default_timeout(15_000)
    tab = context.new_page()
    errors = PageErrors()
    tab.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))
    tab.on("console", lambda msg: errors.append(f"console.{msg.type}: {msg.text}") if msg.type == "error" else None)
    tab.base_url = live_server.url
    tab.js_errors = errors
    yield tab
    context.close()
    assert not errors, "the page logged JavaScript errors:\n" + "\n".join(errors)


@pytest.fixture
def sign_in(page: Any, live_server: Any) -> Callable[[str, str], Any]:
    """sign_in(username, password) through the real sign-in form; returns the page."""

    def do(username: str, password: str) -> Any:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("User name").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("networkidle")
        return page

    return do
