"""Sign-in failures are limited per user name and per client address (10 in 15 minutes
by default), on the login page and the admin's, with a clear message."""

from __future__ import annotations

import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client

pytestmark = pytest.mark.django_db


def attempt(client: Client, username: str, password: str, *, url: str = "/accounts/login/", address: str = "10.0.0.1"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_ten_failures_lock_the_user_name_even_with_the_right_password(users, settings):
    client = Client()
    for _ in range(10):
        response = attempt(client, "viewer", "wrong")
        assert response.status_code == 200
        assert "Too many failed sign-ins" not in response.content.decode()
    blocked = attempt(client, "viewer", "pw-viewer", address="10.9.9.9")
    assert "Too many failed sign-ins for this user or from this address; try again in 15 minutes." in blocked.content.decode()
    assert "_auth_user_id" not in client.session
    # another user from another address is not affected
    assert attempt(Client(), "editor", "pw-editor", address="10.0.0.2").status_code == 302


def test_ten_failures_from_one_address_lock_that_address_for_every_name(users):
    client = Client()
    for i in range(10):
        attempt(client, f"guess-{i}", "wrong", address="192.0.2.7")
    blocked = attempt(client, "editor", "pw-editor", address="192.0.2.7")
    assert "Too many failed sign-ins" in blocked.content.decode()
    assert attempt(Client(), "editor", "pw-editor", address="192.0.2.8").status_code == 302


def test_the_limit_and_window_are_settings(users, settings):
    settings.NETPOLUI_LOGIN_FAILURES = 2
    settings.NETPOLUI_LOGIN_WINDOW_SECONDS = 60
    client = Client()
    attempt(client, "viewer", "wrong")
    attempt(client, "viewer", "wrong")
    blocked = attempt(client, "viewer", "pw-viewer")
    assert "try again in 1 minute." in blocked.content.decode()


def test_the_window_slides_so_no_burst_fits_across_its_end(users, settings):
    """One failure, then nine a moment later: when the first leaves the window, exactly one
    more is allowed, not a fresh ten (a window counted from the first attempt allowed 19
    within seconds)."""
    settings.NETPOLUI_LOGIN_WINDOW_SECONDS = 4
    client = Client()
    started = time.monotonic()
    attempt(client, "viewer", "wrong")
    time.sleep(2)
    for _ in range(9):
        assert "Too many failed sign-ins" not in attempt(client, "viewer", "wrong").content.decode()
    assert "Too many failed sign-ins" in attempt(client, "viewer", "wrong").content.decode()
    time.sleep(max(0.0, started + 4.3 - time.monotonic()))
    assert "did not match" in attempt(client, "viewer", "wrong").content.decode()
    blocked = attempt(client, "viewer", "pw-viewer")
    assert "Too many failed sign-ins" in blocked.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_successful_sign_in_gives_its_slot_back(users, settings):
    settings.NETPOLUI_LOGIN_FAILURES = 2
    client = Client()
    for _ in range(5):
        assert attempt(Client(), "viewer", "pw-viewer").status_code == 302
    attempt(client, "viewer", "wrong")
    attempt(client, "viewer", "wrong")
    assert "Too many failed sign-ins" in attempt(client, "viewer", "pw-viewer").content.decode()


def test_the_admin_sign_in_counts_too(users):
    client = Client()
    for _ in range(10):
        attempt(client, "admin", "wrong", url="/admin/login/")
    blocked = attempt(client, "admin", "pw-admin", url="/admin/login/")
    assert "Too many failed sign-ins" in blocked.content.decode()


def test_behind_a_trusted_proxy_the_forwarded_address_is_counted(users, settings):
    settings.NETPOLUI_TRUST_X_FORWARDED_FOR = True
    client = Client()
    for i in range(10):
        client.post("/accounts/login/", {"username": f"g{i}", "password": "x"}, REMOTE_ADDR="10.0.0.254",
                    HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.7")
    other = Client().post("/accounts/login/", {"username": "editor", "password": "pw-editor"}, REMOTE_ADDR="10.0.0.254",
                          HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert other.status_code == 302  # the proxy's address is not what is counted
    blocked = Client().post("/accounts/login/", {"username": "editor", "password": "pw-editor"}, REMOTE_ADDR="10.0.0.254",
                            HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert "Too many failed sign-ins" in blocked.content.decode()


@pytest.mark.django_db(transaction=True)
def test_parallel_wrong_passwords_reach_the_password_check_no_more_often_than_the_limit(settings):
    """Thirty wrong passwords at once, counted in Redis as in production, with a password
    hasher as slow as production's: only the limit's worth may have their password checked,
    the others get the limit's message."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("NETPOLUI_TEST_REDIS_URL", "redis://127.0.0.1:6379/12"),
            "KEY_PREFIX": f"signin-race-{uuid.uuid4().hex}",
        }
    }
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    settings.NETPOLUI_LOGIN_FAILURES = 5
    User.objects.create_user("target", password="right-password")
    start = threading.Barrier(30)

    def guess(i: int) -> str:
        try:
            start.wait()
            return attempt(Client(), "target", f"wrong-{i}", address=f"198.51.100.{i}").content.decode()
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=30) as pool:
        pages = list(pool.map(guess, range(30)))
    checked = [p for p in pages if "Your user name and password did not match" in p]
    limited = [p for p in pages if "Too many failed sign-ins for this user or from this address" in p]
    assert len(checked) == 5
    assert len(limited) == 25
    assert "Too many failed sign-ins" in attempt(Client(), "target", "right-password", address="192.0.2.200").content.decode()
