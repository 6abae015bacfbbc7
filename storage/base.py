"""The storage interface every backend implements.

Keys are relative, slash-separated object names such as ``chris/uploads/a.dcm``: no leading
slash, no empty or ``..`` segments. A "folder" is only a key prefix; folder-wide operations
always act on ``prefix + '/'`` so that ``feed_1`` never matches ``feed_10``.
"""

from collections.abc import Iterable, Iterator
from typing import BinaryIO, Protocol


class StorageError(Exception):
    """A storage backend failed (unreachable, refused, missing object...)."""


class ObjectNotFound(StorageError):
    """The named object does not exist."""


class ObjectExists(StorageError):
    """A put that may not replace found an object under the key already."""


class StoredObject(Protocol):
    """An object being read: its chunks, and its size when it was opened."""

    size: int

    def __iter__(self) -> Iterator[bytes]: ...

    def __next__(self) -> bytes: ...

    def close(self) -> None: ...


class Storage(Protocol):
    def put(
        self, key: str, stream: BinaryIO, *, length: int | None = None, replace: bool = True
    ) -> int:
        """Store the stream under ``key`` and return the number of bytes written.

        With ``replace=False`` an existing object is kept and ObjectExists raised instead; the
        check and the write are one atomic step, so two writers never both win.

        The stream is read in chunks; nothing is read whole into memory. With ``length``,
        exactly that many bytes are stored (a shorter stream raises StorageError); without it,
        the stream is read to its end. A put that fails, or whose stream raises, leaves the
        previous object (or nothing) under ``key``.
        """

    def open(self, key: str) -> StoredObject:
        """The object's bytes in chunks, and its size. Raises ObjectNotFound.

        ``size`` belongs to the version being read, so a download's Content-Length always
        matches its body even if the object is replaced meanwhile.
        """

    def ls(self, prefix: str) -> list[str]:
        """Every key equal to ``prefix`` or under ``prefix + '/'``, sorted."""

    def ls_with_sizes(self, prefix: str) -> list[tuple[str, int]]:
        """Like ``ls``, with each object's size, in one listing pass."""

    def exists(self, key: str) -> bool:
        """True if ``key`` is an object or a non-empty folder."""

    def size(self, key: str) -> int:
        """The object's size in bytes. Raises ObjectNotFound."""

    def delete(self, key: str) -> None:
        """Delete one object; a missing object is not an error."""

    def delete_folder(self, prefix: str) -> None:
        """Delete every object under ``prefix + '/'``."""

    def copy(self, source: str, destination: str) -> None:
        """Server-side copy (a hard link where the backend can). Raises ObjectNotFound."""

    def move(self, source: str, destination: str) -> None:
        """Rename an object. Raises ObjectNotFound."""

    def copy_many(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Copy many (source, destination) pairs, as fast as the backend allows."""

    def remove_partial_writes(self, older_than_seconds: float) -> int:
        """Remove what puts cut short by a crash left behind, if older; returns the count."""
