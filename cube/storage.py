"""The storage backend CUBE is configured with (``settings.STORAGE_BACKEND``)."""

from functools import cache

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from storage import Storage
from storage.filesystem import FilesystemStorage
from storage.swift import SwiftStorage


@cache
def get_storage() -> Storage:
    """The process-wide backend chosen by ``settings.STORAGE_BACKEND``.

    Settings are read on the first call, not at import. Tests reset the choice with
    ``get_storage.cache_clear()``.
    """
    backend = settings.STORAGE_BACKEND
    if backend == "filesystem":
        return FilesystemStorage(settings.STORAGE_ROOT)
    if backend == "swift":
        return SwiftStorage(
            settings.SWIFT_AUTH_URL,
            settings.SWIFT_USERNAME,
            settings.SWIFT_KEY,
            settings.SWIFT_CONTAINER_NAME,
            segment_size=settings.SWIFT_SEGMENT_SIZE,
        )
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be 'filesystem' or 'swift', not {backend!r}")
