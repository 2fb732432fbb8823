"""netpolui settings, read from environment variables.

NETPOLUI_ENV selects the profile: `production` (the default, safe), `development`
(`make run`: SQLite, Celery tasks in-process) or `test`. Every secret may also come from
a file named by `<NAME>_FILE`, as Docker and Kubernetes secrets mount them.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str | None = None) -> str | None:
    """A setting from the environment, or from the file named by NAME_FILE."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name} cannot be read: {exc}") from exc
    return os.environ.get(name, default)


def envbool(name: str, default: bool) -> bool:
    value = env(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false)")


def envint(name: str, default: int) -> int:
    value = env(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from exc


def envlist(name: str, default: str = "") -> list[str]:
    value = env(name, default) or ""
    return [item.strip() for item in value.split(",") if item.strip()]


NETPOLUI_ENV = (env("NETPOLUI_ENV", "production") or "production").lower()
if NETPOLUI_ENV not in {"production", "development", "test"}:
    raise ImproperlyConfigured(
        f"NETPOLUI_ENV={NETPOLUI_ENV!r}: use production, development or test"
    )
PRODUCTION = NETPOLUI_ENV == "production"

DEBUG = envbool("DEBUG", False)

_secret = env("SECRET_KEY")
if not _secret:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "SECRET_KEY (or SECRET_KEY_FILE) must be set when NETPOLUI_ENV=production; "
            "set NETPOLUI_ENV=development for a local run"
        )
    _secret = "development-only-insecure-key-" + "x" * 40
SECRET_KEY = _secret

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")

DATA_DIR = Path(env("NETPOLUI_DATA_DIR", str(BASE_DIR / "var")) or BASE_DIR / "var")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "policies",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "policies.middleware.SecurityHeadersMiddleware",
    "policies.middleware.RequestSizeLimitMiddleware",
    "policies.middleware.QueryStringGuardMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "netpolui.urls"
WSGI_APPLICATION = "netpolui.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "frontend" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "policies.context_processors.layout",
            ],
        },
    },
]

_database_url = env("DATABASE_URL")
if not _database_url:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        _database_url or f"sqlite:///{DATA_DIR / 'netpolui.sqlite3'}",
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60 if PRODUCTION else 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite serialises writers; a timeout lets the in-process sync and a page share it.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
# Database connections one process's sync threads share (see policies/mirror.py); with
# PostgreSQL also the size of each process's connection pool.
NETPOLUI_SYNC_DB_CONNECTIONS = envint("NETPOLUI_SYNC_DB_CONNECTIONS", 8)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and envbool("DATABASE_POOL", True):
    # A pool hands a thread a connection that is already open: a sync worker's many
    # threads take turns on NETPOLUI_SYNC_DB_CONNECTIONS of them instead of connecting
    # for every write. Django's pool and persistent connections exclude each other.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": min(envint("DATABASE_POOL_MIN_SIZE", 2), NETPOLUI_SYNC_DB_CONNECTIONS),
        "max_size": NETPOLUI_SYNC_DB_CONNECTIONS,
        "timeout": envint("DATABASE_POOL_TIMEOUT", 30),
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")) or BASE_DIR / "staticfiles")
STATICFILES_DIRS = [BASE_DIR / "frontend" / "static"]
# Outside production, WhiteNoise serves straight from frontend/static (no collectstatic).
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = not PRODUCTION

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "clusters"
LOGOUT_REDIRECT_URL = "login"

# --- Redis, Celery -----------------------------------------------------------------------
REDIS_URL = env("REDIS_URL")
CELERY_BROKER_URL = env("CELERY_BROKER_URL") or REDIS_URL
if PRODUCTION and not CELERY_BROKER_URL:
    raise ImproperlyConfigured(
        "CELERY_BROKER_URL (or REDIS_URL) must be set when NETPOLUI_ENV=production: "
        "tasks never run in-process in production"
    )
# In development without a broker, tasks run in the calling process (`make run`).
CELERY_TASK_ALWAYS_EAGER = not PRODUCTION and not CELERY_BROKER_URL and envbool(
    "CELERY_TASK_ALWAYS_EAGER", True
)
if CELERY_TASK_ALWAYS_EAGER:
    CELERY_BROKER_URL = "memory://"
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "netpolui") or "netpolui"
# Cluster syncs hold a watch open for minutes, mostly waiting on the network. Set
# NETPOLUI_SYNC_QUEUE to give them their own queue, served by a worker with a thread pool
# that holds many watches at once (`celery worker -Q sync --pool threads --concurrency 64`),
# so they never take the compute workers' prefork slots; unset, every task shares the
# default queue (make run). Compose and deploy/ set it.
NETPOLUI_SYNC_QUEUE = env("NETPOLUI_SYNC_QUEUE", "")
CELERY_TASK_ROUTES = (
    {"policies.tasks.sync_cluster": {"queue": NETPOLUI_SYNC_QUEUE}} if NETPOLUI_SYNC_QUEUE else {}
)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND")
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "UTC"
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Every cluster's sync is (re)started by beat; a sync that already runs keeps its lock.
SYNC_BEAT_SECONDS = envint("NETPOLUI_SYNC_BEAT_SECONDS", 60)
# How often beat recomputes drift (fetching Git sources) for every cluster with a source.
NETPOLUI_DRIFT_BEAT_SECONDS = envint("NETPOLUI_DRIFT_BEAT_SECONDS", 300)
CELERY_BEAT_SCHEDULE = {
    "ensure-cluster-syncs": {
        "task": "policies.tasks.ensure_syncs",
        "schedule": float(SYNC_BEAT_SECONDS),
        "options": {"expires": float(SYNC_BEAT_SECONDS)},
    },
    # Drift review: fetch each cluster's desired-state sources and store a drift report.
    "compute-drift": {
        "task": "policies.tasks.compute_all_drift",
        "schedule": float(NETPOLUI_DRIFT_BEAT_SECONDS),
        "options": {"expires": float(NETPOLUI_DRIFT_BEAT_SECONDS)},
    },
}

# --- Caches --------------------------------------------------------------------------------
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("NETPOLUI_CACHE_PREFIX", "netpolui") or "netpolui",
            "TIMEOUT": 3600,
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "netpolui",
            "TIMEOUT": 3600,
        }
    }

# --- REST framework ------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: a script without valid credentials gets 401 with a WWW-Authenticate
    # challenge (the first class decides); pages still sign in with their session.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["policies.api.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON with a nesting limit; forms and uploads as usual.
    "DEFAULT_PARSER_CLASSES": [
        "policies.api.parsers.DepthLimitedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # JSON only: DRF's browsable pages need inline styles the CSP refuses; /api/docs/
    # is the API's page for people.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PAGINATION_CLASS": "policies.api.pagination.StandardPagination",
    "PAGE_SIZE": envint("NETPOLUI_API_PAGE_SIZE", 100),
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # Per-user rate for API clients and pages alike, read on every request.
    "DEFAULT_THROTTLE_CLASSES": ["policies.api.throttling.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env("NETPOLUI_API_THROTTLE", "6000/min")},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "netpolui API",
    "DESCRIPTION": "Mirrored NetworkPolicies, reachability, explanations, drafts, drift and exports.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the sidecar package: no CDN at run time (many clusters are offline).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- netpolui ------------------------------------------------------------------------------
# Label keys tried in order to group workloads into tiers.
NETPOLUI_TIER_KEYS = envlist("NETPOLUI_TIER_KEYS", "tier,app.kubernetes.io/component,app")
# Above this many edges the graph page draws the nodes and the selected node's edges.
NETPOLUI_GRAPH_DRAW_LIMIT = envint("NETPOLUI_GRAPH_DRAW_LIMIT", 4000)
# Above this many rows the matrix page asks for a namespace filter instead of embedding
# every pair (1,729 x 1,729 is still drawn).
NETPOLUI_MATRIX_MAX_NODES = envint("NETPOLUI_MATRIX_MAX_NODES", 2000)
# Above this many source nodes, a workload- or pod-level reachability request without
# offset, limit or node gets the first page of sources (the whole workload level of a
# 1,000-workload cluster is 100,000 edges, 20 MB of JSON).
NETPOLUI_API_WHOLE_SOURCES = envint("NETPOLUI_API_WHOLE_SOURCES", 500)
# Server-side apply of drafts to a live cluster is off unless enabled.
NETPOLUI_ALLOW_APPLY = envbool("NETPOLUI_ALLOW_APPLY", False)
NETPOLUI_KUBECONFIG = env("KUBECONFIG")
NETPOLUI_KUBE_CONTEXT = env("NETPOLUI_KUBE_CONTEXT")
NETPOLUI_GIT_DIR = DATA_DIR / "git"
# Watch tuning: the server ends each watch after NETPOLUI_WATCH_TIMEOUT seconds; a stream
# silent for NETPOLUI_READ_TIMEOUT seconds (bookmarks included) is reconnected.
NETPOLUI_WATCH_TIMEOUT = envint("NETPOLUI_WATCH_TIMEOUT", 300)
NETPOLUI_READ_TIMEOUT = envint("NETPOLUI_READ_TIMEOUT", 60)
NETPOLUI_SYNC_RUN_SECONDS = envint("NETPOLUI_SYNC_RUN_SECONDS", 300)

# --- Security ------------------------------------------------------------------------------
CSRF_FAILURE_VIEW = "policies.errors.csrf_failure"
# Request bodies beyond this are refused (413) before anything reads them; one YAML
# file or paste is capped at NETPOLUI_SOURCE_FILE_MB.
NETPOLUI_MAX_REQUEST_BYTES = envint("NETPOLUI_MAX_REQUEST_MB", 8) * 1024 * 1024
# URL-encoded form bodies (the pages' small forms; pasted YAML goes as multipart).
NETPOLUI_MAX_FORM_BYTES = envint("NETPOLUI_MAX_FORM_MB", 1) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = NETPOLUI_MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = NETPOLUI_MAX_REQUEST_BYTES
# Caps on reading one directory or Git desired-state source.
NETPOLUI_SOURCE_FILE_MB = envint("NETPOLUI_SOURCE_FILE_MB", 5)
NETPOLUI_SOURCE_TOTAL_MB = envint("NETPOLUI_SOURCE_TOTAL_MB", 50)
NETPOLUI_SOURCE_READ_SECONDS = envint("NETPOLUI_SOURCE_READ_SECONDS", 60)
# One Git fetch (clone or update) of a desired-state source.
NETPOLUI_GIT_TIMEOUT = envint("NETPOLUI_GIT_TIMEOUT", 120)
# Git sources added by non-admins: https:// only (ssh:// and git@ too when the server
# has keys, NETPOLUI_GIT_SSH=true), to hosts that resolve to public addresses unless
# listed here (host names or CIDRs, comma-separated).
NETPOLUI_GIT_ALLOWED_HOSTS = envlist("NETPOLUI_GIT_ALLOWED_HOSTS", "")
NETPOLUI_GIT_SSH = envbool("NETPOLUI_GIT_SSH", False)
# Sign-in attempts: after this many failures in the window, per user name and per
# client address, sign-in is refused until the window has passed.
NETPOLUI_LOGIN_FAILURES = envint("NETPOLUI_LOGIN_FAILURES", 10)
NETPOLUI_LOGIN_WINDOW_SECONDS = envint("NETPOLUI_LOGIN_WINDOW_SECONDS", 15 * 60)
# Behind a reverse proxy: count failures per the address it appends to X-Forwarded-For.
NETPOLUI_TRUST_X_FORWARDED_FOR = envbool("NETPOLUI_TRUST_X_FORWARDED_FOR", False)
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = envbool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = envbool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", True)
    if envbool("USE_X_FORWARDED_PROTO", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO") or "INFO"},
    "loggers": {"kubernetes": {"level": "WARNING"}, "urllib3": {"level": "WARNING"}},
}
