from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser

from policies.roles import ensure_roles


class Command(BaseCommand):
    help = "Create the role groups and, when no user exists, an admin login (printed once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", default="admin")

    def handle(self, *args: Any, **opts: Any) -> None:
        ensure_roles()
        users = get_user_model().objects
        if users.exists():
            self.stdout.write("users exist already; sign in with yours (manage.py createsuperuser adds one)")
            return
        password = secrets.token_urlsafe(12)
        users.create_superuser(opts["username"], email="", password=password)
        self.stdout.write(
            "\n  netpolui admin login (shown once): "
            f"user {opts['username']}  password {password}\n"
        )
