"""Django for the benchmarks: settings, and a throwaway database created and dropped
around a run (PostgreSQL when DATABASE_URL is set, else an SQLite file)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator


def setup() -> None:
    os.environ.setdefault("NETPOLUI_ENV", "test")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "netpolui.test_settings")
    import django

    django.setup()


@contextlib.contextmanager
def throwaway_database() -> Iterator[str]:
    """Create a fresh database for the run and drop it after; yields its name."""
    setup()
    from django.db import connection

    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        yield name
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


def database_url(name: str) -> str:
    """A DATABASE_URL another process can use to reach the throwaway database."""
    from django.db import connection

    s = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{name}"
    auth = s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"
