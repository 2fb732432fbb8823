"""Production settings are safe by default and refuse to start half-configured."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    # Only what a deployment would set: nothing from the test run (browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly warns about).
    prefixes = ("NETPOLUI_", "DATABASE_URL", "CELERY_", "REDIS_", "SECRET_KEY", "DEBUG", "DJANGO_")
    clean = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=120
    )


PRODUCTION = {
    "NETPOLUI_ENV": "production",
    "SECRET_KEY": "k" * 20 + "-a-long-random-production-secret-0123456789",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/9",
    "ALLOWED_HOSTS": "netpolui.example.com",
}


def test_production_settings_pass_check_deploy_without_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_secret_key_can_come_from_a_file(tmp_path):
    secret = tmp_path / "secret"
    secret.write_text("f" * 60 + "\n")
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", SECRET_KEY_FILE=str(secret), **env)
    assert result.returncode == 0, result.stderr


def test_production_refuses_to_run_tasks_in_process_without_a_broker():
    env = {k: v for k, v in PRODUCTION.items() if k != "CELERY_BROKER_URL"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "CELERY_BROKER_URL" in result.stderr


def test_bad_boolean_is_reported_by_name():
    result = manage("check", NETPOLUI_ENV="development", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_compose_file_describes_the_production_shape():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "web", "worker", "sync", "beat"} <= set(services)
    sync = services["sync"]["command"].split()
    assert sync[sync.index("-Q") + 1] == "sync"
    assert sync[sync.index("--pool") + 1] == "threads"
    for name in ("web", "worker", "sync", "beat"):
        env = services[name]["environment"]
        assert env["NETPOLUI_ENV"] == "production"
        assert env["CELERY_BROKER_URL"].startswith("redis://")


def _readme_section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_every_setting_and_flag_the_security_section_names_exists():
    section = _readme_section("Security")
    settings_source = (ROOT / "netpolui" / "settings.py").read_text()
    names = set(re.findall(r"\bNETPOLUI_[A-Z_]+\b", section))
    assert {"NETPOLUI_GIT_TIMEOUT", "NETPOLUI_MAX_FORM_MB", "NETPOLUI_SOURCE_FILE_MB"} <= names
    assert [n for n in sorted(names) if f'env("{n}"' not in settings_source and f'("{n}",' not in settings_source] == []
    cli_help = subprocess.run([sys.executable, "-m", "policies.engine.cli", "analyze", "--help"], cwd=ROOT,
                              capture_output=True, text=True, check=True).stdout
    flags = set(re.findall(r"`(--[a-z-]+)`", section))
    assert flags
    assert [f for f in sorted(flags) if f not in cli_help] == []


def test_the_git_timeout_and_the_form_cap_are_read_from_the_environment():
    shown = manage("shell", "-c", "from django.conf import settings as s; print(s.NETPOLUI_GIT_TIMEOUT, s.NETPOLUI_MAX_FORM_BYTES)",
                   NETPOLUI_ENV="development", NETPOLUI_GIT_TIMEOUT="7", NETPOLUI_MAX_FORM_MB="2")
    assert shown.stdout.split()[-2:] == ["7", str(2 * 1024 * 1024)], shown.stderr
