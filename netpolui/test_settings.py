"""Settings for the test suite: the test profile unless the environment says otherwise."""

import os

os.environ.setdefault("NETPOLUI_ENV", "test")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
