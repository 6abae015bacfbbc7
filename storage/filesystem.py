"""Storage as plain files under one root folder (development, tests, shared volumes)."""

import errno
import os
import secrets
import shutil
import stat
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO

from storage.base import ObjectExists, ObjectNotFound, StorageError
from storage.keys import TEMP_PREFIX, check_key

CHUNK_SIZE = 1 << 20

# errnos meaning "this filesystem can't hard-link here", where copy falls back to copying bytes.
_NO_HARD_LINK = {errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP}


class FilesystemStorage:
    """Each object is a file at ``root/<key>``; folders are directories.

    Writes never modify a file in place: they go to a temporary file in the same directory that
    is then renamed over the key. Readers therefore never see half-written objects, and copies
    can be hard links. Anything else that writes in place under ``root`` would change every
    hard-linked copy too, so only this class should write there.
    """

    def __init__(self, root: str | Path) -> None:
        # Resolved once so that a symlinked root (e.g. a mounted volume) is walked like a folder.
        self.root = os.path.realpath(root)

    def put(
        self, key: str, stream: BinaryIO, *, length: int | None = None, replace: bool = True
    ) -> int:
        path = self._path(key)
        directory = os.path.dirname(path)
        temp = os.path.join(directory, f"{TEMP_PREFIX}{secrets.token_hex(8)}")
        with _writing(key):
            try:
                os.makedirs(directory, exist_ok=True)
            except (FileExistsError, NotADirectoryError) as error:
                # An object holds the name of one of the key's folders.
                raise ObjectExists(key) from error
            # os.open with 0o666 honours the umask; tempfile.mkstemp would force 0o600.
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        try:
            with _writing(key):
                with os.fdopen(fd, "wb") as out:
                    written = _copy_stream(stream, out, length)
                if replace:
                    os.replace(temp, path)
                else:
                    _link_new(key, temp, path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temp)
            raise
        return written

    def open(self, key: str) -> "_StoredFile":
        path = self._path(key)
        with _reading(key):
            # Closed by the generator, which also reports read errors.
            file = open(path, "rb")
        return _StoredFile(key, file)

    def ls(self, prefix: str) -> list[str]:
        return sorted(key for key, _path in self._files(prefix))

    def ls_with_sizes(self, prefix: str) -> list[tuple[str, int]]:
        found = []
        for key, path in self._files(prefix):
            try:
                found.append((key, os.stat(path, follow_symlinks=False).st_size))
            except FileNotFoundError:
                continue  # deleted while listing
            except OSError as error:
                raise StorageError(f"{key}: {error.strerror}") from error
        return sorted(found)

    def exists(self, key: str) -> bool:
        mode = self._mode(key)
        if mode is None:
            return False
        if stat.S_ISREG(mode):
            return True
        # Failed puts and deletes leave empty directories behind; those are not folders.
        return stat.S_ISDIR(mode) and next(self._files(key), None) is not None

    def size(self, key: str) -> int:
        path = self._path(key)
        with _reading(key):
            info = os.stat(path, follow_symlinks=False)
        if not stat.S_ISREG(info.st_mode):
            raise ObjectNotFound(key)
        return info.st_size

    def delete(self, key: str) -> None:
        path = self._path(key)
        try:
            os.unlink(path)
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return  # nothing there, or a folder: either way no object to delete
        except OSError as error:
            raise StorageError(f"{key}: {error.strerror}") from error

    def delete_folder(self, prefix: str) -> None:
        mode = self._mode(prefix)
        if mode is None or not stat.S_ISDIR(mode):
            return
        with _writing(prefix):
            shutil.rmtree(self._path(prefix))

    def copy(self, source: str, destination: str) -> None:
        destination_path = self._path(destination)
        source_path = self._require_file(source)
        if source == destination:
            return
        directory = os.path.dirname(destination_path)
        temp = os.path.join(directory, f"{TEMP_PREFIX}{secrets.token_hex(8)}")
        try:
            with _writing(destination):
                os.makedirs(directory, exist_ok=True)
                try:
                    os.link(source_path, temp)
                except FileNotFoundError as error:
                    raise ObjectNotFound(source) from error
                except OSError as error:
                    if error.errno not in _NO_HARD_LINK:
                        raise
                    shutil.copyfile(source_path, temp)
                os.replace(temp, destination_path)
        except BaseException:
            with suppress(FileNotFoundError):
                os.unlink(temp)
            raise

    def move(self, source: str, destination: str) -> None:
        destination_path = self._path(destination)
        source_path = self._require_file(source)
        if source == destination:
            return
        with _writing(destination):
            try:
                os.makedirs(os.path.dirname(destination_path), exist_ok=True)
            except (FileExistsError, NotADirectoryError) as error:
                raise ObjectExists(destination) from error
            try:
                os.replace(source_path, destination_path)
            except FileNotFoundError as error:
                raise ObjectNotFound(source) from error

    def copy_many(self, pairs: Iterable[tuple[str, str]]) -> None:
        # Hard links are metadata-only operations; threads would not make this faster.
        for source, destination in pairs:
            self.copy(source, destination)

    def remove_partial_writes(self, older_than_seconds: float) -> int:
        """Delete ``.storage-put-*`` files of puts whose process died before renaming them.

        A put in progress keeps writing its file, so only files untouched for longer than
        any put takes are removed.
        """
        cutoff = time.time() - older_than_seconds
        removed = 0
        for directory, _folders, files in os.walk(self.root):
            for name in files:
                if not name.startswith(TEMP_PREFIX):
                    continue
                path = os.path.join(directory, name)
                with suppress(FileNotFoundError):
                    if os.lstat(path).st_mtime < cutoff:
                        os.unlink(path)
                        removed += 1
        return removed

    def _path(self, key: str) -> str:
        return os.path.join(self.root, *check_key(key).split("/"))

    def _mode(self, key: str) -> int | None:
        """The st_mode of the key's path (not following a final symlink), or None if absent."""
        try:
            return os.stat(self._path(key), follow_symlinks=False).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return None
        except OSError as error:
            if error.errno == errno.ENAMETOOLONG:
                return None  # no file can have such a name here
            raise StorageError(f"{key}: {error.strerror}") from error

    def _require_file(self, key: str) -> str:
        mode = self._mode(key)
        if mode is None or not stat.S_ISREG(mode):
            raise ObjectNotFound(key)
        return self._path(key)

    def _files(self, prefix: str) -> Iterator[tuple[str, str]]:
        """Yield (key, path) for the file at ``prefix`` or every file under it, unsorted."""
        if prefix:
            top, mode = self._path(prefix), self._mode(prefix)
        else:
            top, mode = self.root, _root_mode(self.root)
        if mode is None:
            return
        if stat.S_ISREG(mode):
            yield prefix, top
            return
        if not stat.S_ISDIR(mode):
            return
        pending = [(top, prefix)]
        while pending:
            directory, directory_key = pending.pop()
            try:
                entries = list(os.scandir(directory))
            except (FileNotFoundError, NotADirectoryError):
                continue  # removed while walking
            except OSError as error:
                raise StorageError(f"{directory_key or '/'}: {error.strerror}") from error
            for entry in entries:
                if entry.name.startswith(TEMP_PREFIX):
                    continue  # an unfinished put
                key = f"{directory_key}/{entry.name}" if directory_key else entry.name
                # Symlinks are never followed, so a walk can't leave the root or loop.
                if entry.is_dir(follow_symlinks=False):
                    pending.append((entry.path, key))
                elif entry.is_file(follow_symlinks=False):
                    yield key, entry.path


def _root_mode(root: str) -> int | None:
    try:
        return os.stat(root).st_mode
    except FileNotFoundError:
        return None  # nothing stored yet
    except OSError as error:
        raise StorageError(f"storage root {root}: {error.strerror}") from error


def _copy_stream(stream: BinaryIO, out: BinaryIO, length: int | None) -> int:
    """Copy ``length`` bytes (or everything, if None) in chunks; return the count."""
    written = 0
    while length is None or written < length:
        want = CHUNK_SIZE if length is None else min(CHUNK_SIZE, length - written)
        chunk = stream.read(want)
        if not chunk:
            if length is not None:
                raise StorageError(f"stream ended after {written} of {length} bytes")
            break
        out.write(chunk)
        written += len(chunk)
    return written


def _link_new(key: str, temp: str, path: str) -> None:
    """Give the written temp file its name only if nothing has it (link fails otherwise)."""
    try:
        os.link(temp, path)
    except FileExistsError as error:
        raise ObjectExists(key) from error
    os.unlink(temp)


class _StoredFile:
    """Chunks of an open file when iterated; also the file itself, for ``sendfile``.

    A WSGI server can hand a file object with ``fileno()`` to the kernel instead of copying
    it through Python, which is how downloads reach disk speed.
    """

    def __init__(self, key: str, file: BinaryIO):
        self.key, self.file = key, file
        # Puts replace files by renaming, so the open file keeps this size while it is read.
        self.size = os.fstat(file.fileno()).st_size

    def __iter__(self) -> "_StoredFile":
        return self

    def __next__(self) -> bytes:
        if self.file.closed:
            raise StopIteration
        chunk = self.read(CHUNK_SIZE)
        if not chunk:
            self.file.close()
            raise StopIteration
        return chunk

    def read(self, size: int = -1) -> bytes:
        with _reading(self.key):
            return self.file.read(size)

    def fileno(self) -> int:
        return self.file.fileno()

    def close(self) -> None:
        self.file.close()


@contextmanager
def _reading(key: str) -> Iterator[None]:
    """Turn OS errors into storage errors; anything absent becomes ObjectNotFound."""
    try:
        yield
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError) as error:
        raise ObjectNotFound(key) from error
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            raise ObjectNotFound(key) from error
        raise StorageError(f"{key}: {error.strerror}") from error


@contextmanager
def _writing(key: str) -> Iterator[None]:
    """Turn OS errors into StorageError (for writes, a missing path is a failure too)."""
    try:
        yield
    except OSError as error:
        raise StorageError(f"{key}: {error.strerror or error}") from error
