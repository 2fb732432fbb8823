"""Settings for the test suite: the test profile unless the environment says otherwise."""

import os

os.environ.setdefault("NETPOLUI_ENV", "test")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    # A file, as the embedded default uses, not the shared in-memory database: the
    # sync's threads read and write it concurrently, as they do under `make run`.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / "test.sqlite3")}  # noqa: F405
