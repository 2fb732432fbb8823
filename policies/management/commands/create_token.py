from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from rest_framework.authtoken.models import Token

from policies import audit
from policies.roles import ROLES, ensure_roles, role_of


class Command(BaseCommand):
    help = (
        "Create an API token for USERNAME (a new user is created without a password, for "
        "scripts) and print it once; an existing token is replaced. Use it as "
        "`Authorization: Token <token>`."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")
        parser.add_argument(
            "--role",
            choices=ROLES,
            help="give the user this role (and no other); a new user gets viewer by default",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        ensure_roles()
        users = get_user_model().objects
        with transaction.atomic():
            user = users.filter(username=opts["username"]).first()
            created = user is None
            if user is None:
                user = users.create_user(opts["username"])  # no password: token only
            role = opts["role"] or ("viewer" if created else None)
            if role:
                user.groups.remove(*Group.objects.filter(name__in=ROLES))
                user.groups.add(Group.objects.get(name=role))
            if not user.is_active:
                raise CommandError(f"user {user.username} is inactive; a token would not work")
            Token.objects.filter(user=user).delete()
            token = Token.objects.create(user=user)
            audit.record(
                audit.Action.TOKEN_CREATED,
                actor=user,
                object_type="user",
                object_id=user.pk,
                summary=f"API token for {user.username}" + (f" (role {role})" if role else ""),
            )
        user = users.get(pk=user.pk)  # the role as stored now
        held = role_of(user)
        self.stderr.write(
            f"{'created user' if created else 'user'} {user.username}, role {held or 'none'}; "
            "the token below is shown once (running this again replaces it):"
        )
        if held is None:
            self.stderr.write("warning: this user has no role, so the API will refuse the token (use --role)")
        self.stdout.write(token.key)
