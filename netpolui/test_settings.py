"""Settings for the test suite: the test profile unless the environment says otherwise."""

import os

os.environ.setdefault("NETPOLUI_ENV", "test")

from .settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# One test database per test run (xdist workers add their own suffix), so two runs on
# one PostgreSQL server never drop each other's database.
os.environ.setdefault("NETPOLUI_TEST_RUN", str(os.getpid()))
_run = os.environ["NETPOLUI_TEST_RUN"]

if DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": f"test_{DATABASES['default']['NAME']}_{_run}"}  # noqa: F405
else:
    # A file, as the embedded default uses, not the shared in-memory database: the
    # sync's threads read and write it concurrently, as they do under `make run`.
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{_run}.sqlite3")}  # noqa: F405
