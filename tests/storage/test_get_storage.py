"""get_storage() picks and caches the backend from Django settings."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from cube.storage import get_storage
from storage.filesystem import FilesystemStorage
from storage.swift import SwiftStorage

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fresh_cache():
    get_storage.cache_clear()
    yield
    get_storage.cache_clear()


def test_filesystem_backend_uses_storage_root(settings, tmp_path):
    settings.STORAGE_BACKEND = "filesystem"
    settings.STORAGE_ROOT = str(tmp_path)

    storage = get_storage()

    assert isinstance(storage, FilesystemStorage)
    assert storage.root == str(tmp_path.resolve())
    assert get_storage() is storage


def test_swift_backend_is_built_from_settings_without_connecting(settings):
    settings.STORAGE_BACKEND = "swift"
    settings.SWIFT_AUTH_URL = "http://127.0.0.1:9/auth/v1.0"
    settings.SWIFT_USERNAME = "chris:chris1234"
    settings.SWIFT_KEY = "testing"
    settings.SWIFT_CONTAINER_NAME = "users"
    settings.SWIFT_SEGMENT_SIZE = 5 << 20

    storage = get_storage()

    assert isinstance(storage, SwiftStorage)
    assert (storage.auth_url, storage.container, storage.segment_size) == (
        "http://127.0.0.1:9/auth/v1.0",
        "users",
        5 << 20,
    )


def test_unknown_backend_is_a_configuration_error(settings):
    settings.STORAGE_BACKEND = "s3"

    with pytest.raises(ImproperlyConfigured):
        get_storage()


def test_backends_import_without_django():
    code = (
        "import sys, storage.filesystem, storage.swift; "
        "sys.exit(any(name.split('.')[0] == 'django' for name in sys.modules))"
    )

    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0
