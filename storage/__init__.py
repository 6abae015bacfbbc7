"""File storage for CUBE: one interface, a filesystem and a Swift backend.

Django code gets the configured backend from ``get_storage()``. The backend modules import no
Django, so Django-free services can construct ``FilesystemStorage``/``SwiftStorage`` directly.
"""

from functools import cache

from storage.base import ObjectExists, ObjectNotFound, Storage, StorageError

__all__ = ["ObjectExists", "ObjectNotFound", "Storage", "StorageError", "get_storage"]


@cache
def get_storage() -> Storage:
    """The process-wide backend chosen by ``settings.STORAGE_BACKEND``.

    Settings are read on the first call, not at import. Tests reset the choice with
    ``get_storage.cache_clear()``.
    """
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    backend = settings.STORAGE_BACKEND
    if backend == "filesystem":
        from storage.filesystem import FilesystemStorage

        return FilesystemStorage(settings.STORAGE_ROOT)
    if backend == "swift":
        from storage.swift import SwiftStorage

        return SwiftStorage(
            settings.SWIFT_AUTH_URL,
            settings.SWIFT_USERNAME,
            settings.SWIFT_KEY,
            settings.SWIFT_CONTAINER_NAME,
            segment_size=settings.SWIFT_SEGMENT_SIZE,
        )
    raise ImproperlyConfigured(f"STORAGE_BACKEND must be 'filesystem' or 'swift', not {backend!r}")
