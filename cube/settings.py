"""Settings for both profiles, driven by environment variables.

The embedded default (no env) uses SQLite, filesystem storage under ``var/`` and a broker that
needs no server. Production sets DATABASE_URL or POSTGRES_*, STORAGE_BACKEND=swift and
CELERY_BROKER_URL. Nothing here opens a connection.
"""

import os
import sys
from pathlib import Path
from urllib.parse import unquote, urlparse

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CUBE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


DEBUG = env_bool("DJANGO_DEBUG", False)
# The development key only ever signs sessions of a local, single-user stack.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "dev-only-insecure-key-change-me-in-production")
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

# CORS, as CUBE does it with django-cors-headers: web front ends (ChRIS_ui) are served from
# their own origin. All origins by default, which is safe because the API is authenticated
# by a token header and credentialed cross-origin requests are never allowed; a deployment
# restricts it with DJANGO_CORS_ALLOW_ALL_ORIGINS=false and DJANGO_CORS_ALLOWED_ORIGINS.
CORS_ALLOWED_ORIGINS = env_list("DJANGO_CORS_ALLOWED_ORIGINS")
CORS_ALLOW_ALL_ORIGINS = (
    env_bool("DJANGO_CORS_ALLOW_ALL_ORIGINS")
    if os.environ.get("DJANGO_CORS_ALLOW_ALL_ORIGINS", "").strip()
    else not CORS_ALLOWED_ORIGINS
)
CORS_EXPOSE_HEADERS = ["Allow", "Content-Type", "Content-Length"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "collectionjson",
    "users",
    "feeds",
    "plugins",
    "uploadedfiles",
    "pipelines",
    "chrisinstance",
    "pacsfiles",
    "servicefiles",
    "filebrowser",
    "adminapi",
]

MIDDLEWARE = [
    # First, so that preflights are answered before anything asks for authentication.
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "cube.urls"
WSGI_APPLICATION = "cube.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]


def database_from_env() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("postgres", "postgresql"):
            raise ValueError(f"Unsupported DATABASE_URL scheme: {parsed.scheme}")
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": parsed.path.lstrip("/"),
            "USER": unquote(parsed.username or ""),
            "PASSWORD": unquote(parsed.password or ""),
            "HOST": parsed.hostname or "",
            "PORT": str(parsed.port or ""),
            "CONN_MAX_AGE": 60,
        }
    if os.environ.get("POSTGRES_DB"):
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["POSTGRES_DB"],
            "USER": os.environ.get("POSTGRES_USER", "postgres"),
            "PASSWORD": os.environ.get("POSTGRES_PASSWORD", ""),
            "HOST": os.environ.get("POSTGRES_HOST", "127.0.0.1"),
            "PORT": os.environ.get("POSTGRES_PORT", "5432"),
            "CONN_MAX_AGE": 60,
        }
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "db.sqlite3")),
        # Kept open across requests: opening one and running the PRAGMAs costs more than
        # a small request's queries.
        "CONN_MAX_AGE": 60,
        # Web, worker and beat share the file: wait for a lock instead of failing at once.
        # WAL lets readers run beside the writer; with WAL, synchronous=NORMAL stays
        # crash-safe and saves an fsync per commit. Transactions take the write lock when
        # they begin (IMMEDIATE): a deferred one that read first and then writes can't wait
        # for the lock, SQLite fails it at once with "database is locked". A page cache of
        # up to 32 MiB (2 MiB by default) keeps the indexes a big list walks in memory.
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA cache_size=-32768;"
            ),
        },
    }


DATABASES = {"default": database_from_env()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "America/New_York"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = str(VAR_DIR / "static")

# The optional same-origin ChRIS_ui: CUBE_UI_DIR names a build, which the launcher copies to
# UI_ROOT with its backend URL pointed at this server (utils/scripts/prepare_ui.py). Its files
# are served at the site root and every other path outside the API gets its index.html.
CUBE_UI_DIR = os.environ.get("CUBE_UI_DIR", "")
UI_ROOT = str(VAR_DIR / "ui")
WHITENOISE_ROOT = UI_ROOT if CUBE_UI_DIR else None

# Files up to FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) stay in memory, larger ones stream to a
# spool file, so a request's memory stays bounded. The spool is a folder of the var dir (the
# uploadedfiles app creates it): the hourly sweep (uploadedfiles.services.remove_partial_writes)
# removes what a web worker killed mid-upload left there.
FILE_UPLOAD_TEMP_DIR = os.environ.get("FILE_UPLOAD_TEMP_DIR") or str(VAR_DIR / "upload-spool")
# Bodies that fit in memory are split at once; Django's own handlers stream the others.
FILE_UPLOAD_HANDLERS = [
    "cube.uploads.SmallBodyUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Storage
STORAGE_BACKEND = os.environ.get("STORAGE_BACKEND", "filesystem")
STORAGE_ROOT = os.environ.get("STORAGE_ROOT", str(VAR_DIR / "storage"))
SWIFT_AUTH_URL = os.environ.get("SWIFT_AUTH_URL", "http://127.0.0.1:8080/auth/v1.0")
SWIFT_USERNAME = os.environ.get("SWIFT_USERNAME", "chris:chris1234")
SWIFT_KEY = os.environ.get("SWIFT_KEY", "testing")
SWIFT_CONTAINER_NAME = os.environ.get("SWIFT_CONTAINER_NAME", "users")
SWIFT_SEGMENT_SIZE = env_int("SWIFT_SEGMENT_SIZE", 256 * 1024 * 1024)

# Compute
COMPUTE_RESOURCE_URL = os.environ.get("COMPUTE_RESOURCE_URL", "http://127.0.0.1:30005/api/v1/")
COMPUTE_USER = os.environ.get("COMPUTE_USER", "")  # no default: setup_compute refuses empty
COMPUTE_PASSWORD = os.environ.get("COMPUTE_PASSWORD", "")
CUBE_PLUGINS_DIR = os.environ.get("CUBE_PLUGINS_DIR", str(VAR_DIR / "plugins"))
# localcompute's plugin catalogue, which `manage.py install_plugin` adds to.
LOCALCOMPUTE_PLUGINS = os.environ.get(
    "LOCALCOMPUTE_PLUGINS", str(Path(CUBE_PLUGINS_DIR) / "catalogue.json")
)
# The interpreter whose installation the virtualenvs of installed plugins are made from.
PLUGIN_PYTHON = os.environ.get("CUBE_PLUGIN_PYTHON", sys.executable)
# Leading part of the job-id prefix; the installation's row adds random hex to it once.
JOB_ID_PREFIX = os.environ.get("CUBE_JOB_ID_PREFIX", "chris-jid-")
# How long a worker holds a plugin instance while it advances the job; the job of a worker
# that died is taken up by another one after this.
JOB_CLAIM_SECONDS = env_float("CUBE_JOB_CLAIM_SECONDS", 30.0)
# A job submission is sent once per try; the scheduler tries again SUBMIT_RETRIES times,
# 2 s, 4 s, 8 s ... later through the task queue. The pfcon client retries only reads and
# deletes, PFCON_RETRIES times, so at most 1 + SUBMIT_RETRIES submissions reach pfcon.
SUBMIT_RETRIES = env_int("CUBE_SUBMIT_RETRIES", 3)
PFCON_RETRIES = env_int("CUBE_PFCON_RETRIES", 3)
PFCON_RETRY_BACKOFF = env_float("CUBE_PFCON_RETRY_BACKOFF", 0.5)

# Celery. The embedded default uses kombu's filesystem transport, which needs no server.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_FOLDER = os.environ.get("CELERY_BROKER_FOLDER", str(VAR_DIR / "broker"))
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_TASK_IGNORE_RESULT = True
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT = "cube.broker:Transport"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": CELERY_BROKER_FOLDER,
        "data_folder_out": CELERY_BROKER_FOLDER,
        "control_folder": os.path.join(CELERY_BROKER_FOLDER, "control"),
        # The folder is scanned for messages; scan often so a submitted job starts at once.
        "polling_interval": 0.1,
    }
    # Remote control (broadcast) messages race on the shared folder and can crash the
    # worker reading a half-written file; the embedded stack does not need them.
    CELERY_WORKER_ENABLE_REMOTE_CONTROL = False
CELERY_POLL_INTERVAL = env_float("CUBE_CELERY_POLL_INTERVAL", 5.0)
# Follow-up checks are countdown tasks; by default their timer wakes only once a second.
CELERY_WORKER_TIMER_PRECISION = 0.05
# While a job runs, its status is re-checked this often so completion is noticed quickly.
ACTIVE_JOB_POLL_INTERVAL = env_float("CUBE_ACTIVE_JOB_POLL_INTERVAL", 0.1)
# A storage put or an upload spool file untouched for this long belongs to a process that
# died: the sweep removes it.
PARTIAL_WRITE_MAX_AGE_SECONDS = env_float("CUBE_PARTIAL_WRITE_MAX_AGE_SECONDS", 3600.0)
CELERY_BEAT_SCHEDULE = {
    "poll-plugin-instances": {
        "task": "plugins.tasks.poll_plugin_instances",
        "schedule": CELERY_POLL_INTERVAL,
    },
    "remove-partial-writes": {
        "task": "uploadedfiles.tasks.remove_partial_writes",
        "schedule": PARTIAL_WRITE_MAX_AGE_SECONDS,
    },
}

# Bootstrap superuser
CHRIS_SUPERUSER_PASSWORD = os.environ.get("CHRIS_SUPERUSER_PASSWORD", "chris1234")

REST_FRAMEWORK = {
    "DEFAULT_RENDERER_CLASSES": [
        "collectionjson.renderers.CollectionJsonRenderer",
        "collectionjson.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "collectionjson.parsers.CollectionJsonParser",
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "users.authentication.TokenAuthentication",
        "users.authentication.CachedBasicAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "collectionjson.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 10,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "cube.exceptions.exception_handler",
    "URL_FORMAT_OVERRIDE": "format",
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "collectionjson.negotiation.CachedContentNegotiation",
    "DEFAULT_SCHEMA_CLASS": "collectionjson.schema.AutoSchema",
}

# The OpenAPI document at /schema/ describes the plain-JSON shapes (Accept: application/json).
SPECTACULAR_SETTINGS = {
    "TITLE": "ChRIS Ultron BackEnd (CUBE) API",
    "DESCRIPTION": (
        "Plain-JSON shapes of the CUBE API. Every route also speaks Collection+JSON "
        "(application/vnd.collection+json), which wraps the same fields."
    ),
    "VERSION": "5.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
}

LOG_LEVEL = os.environ.get("CUBE_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    # python-swiftclient logs every failed request, including expected 404s, at INFO.
    "loggers": {"swiftclient": {"level": "WARNING"}},
}
