"""What the Django-backed benchmarks share: a throwaway database created and dropped
around a run (a new PostgreSQL database on the server of DATABASE_URL when it is set,
else an SQLite file), and the child-process protocol that keeps each part's settings
its own (the child prints one `FIGURES <json>` line)."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from bench import Figure

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def throwaway_database() -> Iterator[str]:
    """Yields the DATABASE_URL of a fresh, empty database; drops it afterwards."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"netpolui_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        parts = urlsplit(url)
        admin_url = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        print(f"throwaway PostgreSQL database {name} on {parts.hostname}")
        try:
            yield urlunsplit(parts._replace(path=f"/{name}"))
        finally:
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    else:
        with tempfile.TemporaryDirectory(prefix="netpolui-bench-") as tmp:
            print("throwaway SQLite database (set DATABASE_URL=postgres://... for PostgreSQL)")
            yield f"sqlite:///{tmp}/bench.sqlite3"


def run_child(module: str, args: list[str], env: Mapping[str, str]) -> list[Figure]:
    """Run `python -m module --child ARGS` and return the figures it printed."""
    proc = subprocess.run(
        [sys.executable, "-m", module, "--child", *args],
        cwd=ROOT, env=dict(env), stdout=subprocess.PIPE, text=True, check=False,
    )
    lines = proc.stdout.splitlines()
    for line in lines:
        if not line.startswith("FIGURES "):
            print(line)
    if proc.returncode != 0:
        raise RuntimeError(f"{module} failed (exit {proc.returncode})")
    raw = json.loads(next(line for line in lines if line.startswith("FIGURES "))[len("FIGURES "):])
    return [Figure(**item) for item in raw]


def print_figures(figures: list[Figure]) -> None:
    print("FIGURES " + json.dumps([f.__dict__ for f in figures]))


def django_setup() -> None:
    """In a child: Django on the throwaway database, migrated."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
