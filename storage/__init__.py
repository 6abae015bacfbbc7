"""File storage for CUBE: one interface, a filesystem and a Swift backend.

The package imports no Django, so localcompute uses it as well; CUBE's apps get the
configured backend from ``cube.storage.get_storage()``.
"""

from storage.base import ObjectExists, ObjectNotFound, Storage, StorageError

__all__ = ["ObjectExists", "ObjectNotFound", "Storage", "StorageError"]
