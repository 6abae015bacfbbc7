"""Test settings: the embedded default with fast hashing, quiet logs and eager-free Celery."""

import os
import tempfile

os.environ.setdefault("CUBE_VAR_DIR", tempfile.mkdtemp(prefix="cube-test-var-"))

from cube.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file with the production options, not :memory:: the race tests' concurrent requests
    # must meet SQLite's real locking (an in-memory database shares one cache and fails
    # a second writer at once instead of waiting).
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "test.sqlite3")}  # noqa: F405
CELERY_TASK_ALWAYS_EAGER = False
# Static files are only collected for a served stack.
WHITENOISE_AUTOREFRESH = True
PFCON_RETRY_BACKOFF = 0.01
