"""Storage in one OpenStack Swift container, through python-swiftclient.

Objects larger than ``segment_size`` are stored as Static Large Objects: the data goes into
segment objects in ``<container>_segments`` and the key holds a manifest listing them. Swift
refuses single objects over 5 GiB by default, so anything bigger must be segmented anyway.
"""

import json
import logging
import os
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Generator, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, BinaryIO, TypeVar

from swiftclient.client import ClientException, Connection

from storage.base import ObjectExists, ObjectNotFound, StorageError
from storage.keys import check_key, check_prefix

logger = logging.getLogger(__name__)

CHUNK_SIZE = 1 << 20
# Streams of unknown length are staged until it is known whether they exceed one segment;
# up to this many bytes in memory, the rest in a temporary file.
SPOOL_MEMORY = 8 << 20
# Threads for copy_many and delete_folder, each with its own connection.
PARALLELISM = 8
# Seconds to wait for a connect or for Swift to answer; None would hang forever.
TIMEOUT = 60.0

T = TypeVar("T")


class SwiftStorage:
    """Objects in one Swift container; folders are key prefixes.

    Nothing connects until the first operation. Each thread gets its own connection
    (python-swiftclient connections are not thread-safe), and the container is created on
    first use.
    """

    def __init__(
        self,
        auth_url: str,
        username: str,
        key: str,
        container: str,
        *,
        segment_size: int = 1 << 30,
        retries: int = 5,
    ) -> None:
        if segment_size < 1:
            raise ValueError("segment_size must be positive")
        self.auth_url = auth_url
        self.username = username
        self._key = key
        self.container = container
        self.segment_container = f"{container}_segments"
        self.segment_size = segment_size
        self.retries = retries
        self._local = threading.local()
        self._ready_containers: set[str] = set()

    def put(
        self, key: str, stream: BinaryIO, *, length: int | None = None, replace: bool = True
    ) -> int:
        check_key(key)
        # Swift refuses a conditional PUT atomically (412) when the object exists.
        headers = {} if replace else {"If-None-Match": "*"}
        with _swift_errors(key, missing=False):
            old_segments = self._segments_of(key) if replace else []
            large = length is None or length > self.segment_size
            if not replace and large and self._head(key) is not None:
                raise ObjectExists(key)  # checked first: a segmented upload may be huge
            if length is None:
                written = self._put_unknown_length(key, stream, headers)
            elif length <= self.segment_size:
                self._client().put_object(
                    self.container,
                    key,
                    _Limited(stream, length),
                    content_length=length,
                    chunk_size=CHUNK_SIZE,
                    headers=headers,
                )
                written = length
            else:
                written = self._put_segmented(key, stream, length)
            self._delete_segments(old_segments)
        return written

    def open(self, key: str) -> "_SwiftObject":
        check_key(key)
        with _swift_errors(key):
            headers, body = self._client().get_object(
                self.container, key, resp_chunk_size=CHUNK_SIZE
            )
        return _SwiftObject(_read_body(key, body), size=int(headers["content-length"]))

    def remove_partial_writes(self, older_than_seconds: float) -> int:
        """Delete the segments of large uploads whose process died before the manifest.

        A Swift object exists only once its PUT completes; a segmented upload writes
        ``<key>/<upload id>/<index>`` segments first. An upload's segments that no manifest
        names, and that nobody wrote to for ``older_than_seconds``, are leftovers.
        """
        cutoff = time.time() - older_than_seconds
        with _swift_errors(self.segment_container, missing=False):
            _headers, listing = self._client(self.segment_container).get_container(
                self.segment_container, full_listing=True
            )
            uploads: dict[str, list[str]] = defaultdict(list)
            newest: dict[str, float] = {}
            for entry in listing:
                upload = entry["name"].rpartition("/")[0]
                uploads[upload].append(f"/{self.segment_container}/{entry['name']}")
                modified = datetime.fromisoformat(entry["last_modified"]).replace(tzinfo=UTC)
                newest[upload] = max(newest.get(upload, 0.0), modified.timestamp())
            stale = []
            for upload, paths in uploads.items():
                key = upload.rpartition("/")[0]
                if newest[upload] < cutoff and not set(self._segments_of(key)) & set(paths):
                    stale.extend(paths)
            self._delete_segments(stale)
        return len(stale)

    def ls(self, prefix: str) -> list[str]:
        return [key for key, _size in self.ls_with_sizes(prefix)]

    def ls_with_sizes(self, prefix: str) -> list[tuple[str, int]]:
        check_prefix(prefix)
        with _swift_errors(prefix, missing=False):
            if not prefix:
                return sorted((entry["name"], entry["bytes"]) for entry in self._listing(""))
            found = [(entry["name"], entry["bytes"]) for entry in self._listing(prefix + "/")]
            headers = self._head(prefix)
        if headers is not None:
            found.append((prefix, int(headers["content-length"])))
        return sorted(found)

    def exists(self, key: str) -> bool:
        check_key(key)
        with _swift_errors(key, missing=False):
            if self._head(key) is not None:
                return True
            _headers, listing = self._client().get_container(
                self.container, prefix=key + "/", limit=1
            )
        return bool(listing)

    def size(self, key: str) -> int:
        check_key(key)
        with _swift_errors(key):
            headers = self._head(key)
        if headers is None:
            raise ObjectNotFound(key)
        return int(headers["content-length"])

    def delete(self, key: str) -> None:
        check_key(key)
        with _swift_errors(key, missing=False):
            headers = self._head(key)
            if headers is not None:
                self._delete_object(key, is_slo=_is_slo(headers))

    def delete_folder(self, prefix: str) -> None:
        check_key(prefix)
        with _swift_errors(prefix, missing=False):
            listing = self._listing(prefix + "/")
            # Listings flag manifests with slo_etag, which saves a HEAD per object.
            self._parallel(
                lambda entry: self._delete_object(entry["name"], is_slo="slo_etag" in entry),
                listing,
            )

    def copy(self, source: str, destination: str) -> None:
        check_key(source)
        check_key(destination)
        with _swift_errors(source):
            headers = self._head(source)
            if headers is None:
                raise ObjectNotFound(source)
            if source == destination:
                return
            old_segments = self._segments_of(destination)
            if _is_slo(headers):
                self._copy_segmented(source, destination)
            else:
                self._client().copy_object(
                    self.container, source, destination=f"/{self.container}/{destination}"
                )
            self._delete_segments(old_segments)

    def copy_if_match(self, source: str, destination: str, etag: str) -> bool:
        """Copy server-side only if the source's ETag is ``etag`` (the MD5 of a plain
        object's bytes); False, and nothing written, if it is not or the source is gone.

        Swift evaluates ``If-Match`` on a copy against the source. A large object's ETag is
        not the MD5 of its bytes, so it never matches.
        """
        check_key(source)
        check_key(destination)
        with _swift_errors(source, missing=False):
            old_segments = self._segments_of(destination)
            try:
                self._client().copy_object(
                    self.container,
                    source,
                    destination=f"/{self.container}/{destination}",
                    headers={"If-Match": etag},
                )
            except ClientException as error:
                if error.http_status in (404, 412):
                    return False
                raise
            self._delete_segments(old_segments)
        return True

    def move(self, source: str, destination: str) -> None:
        check_key(source)
        check_key(destination)
        with _swift_errors(source):
            headers = self._head(source)
            if headers is None:
                raise ObjectNotFound(source)
            if source == destination:
                return
            if not _is_slo(headers):
                self.copy(source, destination)
                self._delete_object(source, is_slo=False)
                return
            # A manifest moves without touching its data: the new manifest lists the same
            # segments, and deleting the old one without multipart-manifest=delete keeps them.
            old_segments = self._segments_of(destination)
            self._put_manifest(destination, self._manifest(source))
            self._delete_object(source, is_slo=False)
            self._delete_segments(old_segments)

    def copy_many(self, pairs: Iterable[tuple[str, str]]) -> None:
        """Copy server-side, with one listing per folder in place of two HEADs per object.

        Listings flag manifests (``slo_etag``), so a plain object onto a key that holds no
        manifest is one COPY request. A manifest, a destination holding one, and a source the
        listing does not show (listings may lag behind writes) take the path of ``copy``.
        """
        pairs = list(pairs)
        for source, destination in pairs:
            check_key(source)
            check_key(destination)
        if not pairs:
            return
        with _swift_errors(pairs[0][0], missing=False):
            entries = self._entries_near({key for pair in pairs for key in pair})

        def copy_one(pair: tuple[str, str]) -> None:
            source, destination = pair
            found, replaced = entries.get(source), entries.get(destination)
            if (
                found is None
                or "slo_etag" in found
                or (replaced is not None and "slo_etag" in replaced)
                or source == destination
            ):
                self.copy(source, destination)
                return
            with _swift_errors(source):
                self._client().copy_object(
                    self.container, source, destination=f"/{self.container}/{destination}"
                )

        self._parallel(copy_one, pairs)

    # Connections

    def _connection(self) -> Connection:
        local = self._local
        # A forked child (Celery, gunicorn workers) inherits its parent's thread-local
        # connection and socket; sharing that socket would interleave both processes' requests.
        if getattr(local, "pid", None) != os.getpid():
            local.connection = Connection(
                authurl=self.auth_url,
                user=self.username,
                key=self._key,
                retries=self.retries,
                starting_backoff=1,
                max_backoff=16,
                timeout=TIMEOUT,
            )
            local.pid = os.getpid()
        return local.connection

    def _client(self, container: str | None = None) -> Connection:
        """This thread's connection, after making sure ``container`` (default: ours) exists."""
        container = container or self.container
        connection = self._connection()
        if container not in self._ready_containers:
            # PUT on an existing container is a harmless no-op, so threads may race here.
            connection.put_container(container)
            self._ready_containers.add(container)
        return connection

    def _parallel(self, function: Callable[[T], Any], items: Iterable[T]) -> None:
        items = list(items)
        if len(items) <= 1:
            for item in items:
                function(item)
            return
        with ThreadPoolExecutor(min(PARALLELISM, len(items)), "swift-storage") as pool:
            for _ in pool.map(function, items):
                pass

    # Objects

    def _head(self, key: str) -> dict[str, str] | None:
        try:
            return self._client().head_object(self.container, key)
        except ClientException as error:
            if error.http_status == 404:
                return None
            raise

    def _listing(self, prefix: str, *, delimiter: str | None = None) -> list[dict[str, Any]]:
        _headers, listing = self._client().get_container(
            self.container, prefix=prefix or None, delimiter=delimiter, full_listing=True
        )
        return listing

    def _entries_near(self, keys: set[str]) -> dict[str, dict[str, Any]]:
        """Listing entries of the objects in the folders holding ``keys``, by name."""
        folders = {key.rpartition("/")[0] for key in keys}
        entries: dict[str, dict[str, Any]] = {}

        def list_folder(folder: str) -> None:
            listing = self._listing(f"{folder}/" if folder else "", delimiter="/")
            entries.update((entry["name"], entry) for entry in listing if "name" in entry)

        self._parallel(list_folder, folders)
        return entries

    def _delete_object(self, key: str, *, is_slo: bool) -> None:
        query = "multipart-manifest=delete" if is_slo else None
        try:
            self._client().delete_object(self.container, key, query_string=query)
        except ClientException as error:
            if error.http_status != 404:
                raise

    # Static Large Objects

    def _put_unknown_length(self, key: str, stream: BinaryIO, headers: dict[str, str]) -> int:
        source = _Lookahead(stream)
        spool_limit = min(self.segment_size, SPOOL_MEMORY)
        with tempfile.SpooledTemporaryFile(max_size=spool_limit) as spool:
            size = _fill(spool, source, self.segment_size)
            spool.seek(0)
            if not source.at_eof():
                return self._put_segmented(key, source, None, first=(spool, size))
            # The spool is seekable, so swiftclient can rewind it to retry.
            self._client().put_object(
                self.container,
                key,
                spool,
                content_length=size,
                chunk_size=CHUNK_SIZE,
                headers=headers,
            )
            return size

    def _put_segmented(
        self,
        key: str,
        stream: "BinaryIO | _Lookahead",
        length: int | None,
        *,
        first: tuple[BinaryIO, int] | None = None,
    ) -> int:
        """Upload segments, then the manifest; with ``length`` None, read until EOF."""
        connection = self._client(self.segment_container)
        # A fresh id per upload, so a new upload never overwrites segments still in use.
        segment_prefix = f"{key}/{uuid.uuid4().hex}/"
        manifest: list[dict[str, Any]] = []
        total = 0

        def upload(reader: _Limited, size: int | None) -> None:
            nonlocal total
            name = f"{segment_prefix}{len(manifest):08d}"
            etag = connection.put_object(
                self.segment_container, name, reader, content_length=size, chunk_size=CHUNK_SIZE
            )
            manifest.append(
                {
                    "path": f"/{self.segment_container}/{name}",
                    "etag": etag,
                    "size_bytes": reader.count,
                }
            )
            total += reader.count

        try:
            if first is not None:
                spool, size = first
                upload(_Limited(spool, size), size)
            while True:
                if length is not None:
                    size = min(self.segment_size, length - total)
                    if size == 0:
                        break
                    upload(_Limited(stream, size), size)
                elif isinstance(stream, _Lookahead) and stream.at_eof():
                    break
                else:
                    upload(_Limited(stream, self.segment_size, exact=False), None)
            self._put_manifest(key, manifest)
        except BaseException:
            self._discard_segments([entry["path"] for entry in manifest])
            raise
        return total

    def _copy_segmented(self, source: str, destination: str) -> None:
        """Copy each segment server-side, then write a manifest for the copies.

        Copying the manifest object itself would either join all segments into one object
        (failing beyond 5 GiB) or share segments between two manifests, so that deleting one
        would break the other.
        """
        connection = self._client(self.segment_container)
        segment_prefix = f"{destination}/{uuid.uuid4().hex}/"
        copies: list[dict[str, Any]] = []
        try:
            for index, entry in enumerate(self._manifest(source)):
                segment_container, segment = _split_path(entry["path"])
                name = f"{segment_prefix}{index:08d}"
                connection.copy_object(
                    segment_container, segment, destination=f"/{self.segment_container}/{name}"
                )
                copies.append({**entry, "path": f"/{self.segment_container}/{name}"})
            self._put_manifest(destination, copies)
        except BaseException:
            self._discard_segments([entry["path"] for entry in copies])
            raise

    def _manifest(self, key: str) -> list[dict[str, Any]]:
        """The manifest of SLO ``key``, in the format a manifest PUT takes."""
        _headers, body = self._client().get_object(
            self.container, key, query_string="multipart-manifest=get"
        )
        manifest = []
        for entry in json.loads(body):
            item = {"path": entry["name"], "etag": entry["hash"], "size_bytes": entry["bytes"]}
            if "range" in entry:
                item["range"] = entry["range"]
            manifest.append(item)
        return manifest

    def _put_manifest(self, key: str, manifest: list[dict[str, Any]]) -> None:
        self._client().put_object(
            self.container,
            key,
            json.dumps(manifest),
            query_string="multipart-manifest=put",
        )

    def _segments_of(self, key: str) -> list[str]:
        """Segment paths of ``key`` if it is an SLO, to delete once it has been replaced."""
        headers = self._head(key)
        if headers is None or not _is_slo(headers):
            return []
        return [entry["path"] for entry in self._manifest(key)]

    def _delete_segments(self, paths: list[str]) -> None:
        def delete(path: str) -> None:
            container, name = _split_path(path)
            try:
                self._connection().delete_object(container, name)
            except ClientException as error:
                if error.http_status != 404:
                    raise

        self._parallel(delete, paths)

    def _discard_segments(self, paths: list[str]) -> None:
        """Best-effort cleanup after a failed upload; the upload's own error matters more."""
        try:
            self._delete_segments(paths)
        except (ClientException, OSError):
            logger.warning("could not delete %d orphaned segments", len(paths), exc_info=True)


class _Limited:
    """Reads at most ``limit`` bytes of a stream and counts them.

    With ``exact``, a stream that ends early raises StorageError: Swift would otherwise wait
    for the promised Content-Length until it times out. ``reset`` lets swiftclient rewind for
    a retry when the stream is seekable.
    """

    def __init__(self, stream: "BinaryIO | _Lookahead", limit: int, *, exact: bool = True):
        self._stream = stream
        self._limit = limit
        self._exact = exact
        self.count = 0
        self._start: int | None = None
        seekable = getattr(stream, "seekable", None)
        if seekable is not None and seekable():
            self._start = stream.tell()

    def read(self, size: int = -1) -> bytes:
        remaining = self._limit - self.count
        if remaining <= 0:
            return b""
        chunk = self._stream.read(remaining if size < 0 else min(size, remaining))
        if not chunk and self._exact:
            raise StorageError(f"stream ended after {self.count} of {self._limit} bytes")
        self.count += len(chunk)
        return chunk

    def reset(self, *_args: Any, **_kwargs: Any) -> None:
        if self._start is None:
            raise StorageError("upload failed and the stream cannot be rewound to retry")
        self._stream.seek(self._start)
        self.count = 0


class _Lookahead:
    """A stream wrapper that can tell whether the stream is exhausted without losing bytes."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._pending = b""
        self._eof = False

    def read(self, size: int = -1) -> bytes:
        if self._pending:
            if size < 0:
                size = len(self._pending)
            chunk, self._pending = self._pending[:size], self._pending[size:]
            return chunk
        if self._eof:
            return b""
        chunk = self._stream.read(size)
        if not chunk:
            self._eof = True
        return chunk

    def at_eof(self) -> bool:
        if not self._pending and not self._eof:
            self._pending = self._stream.read(CHUNK_SIZE)
            self._eof = not self._pending
        return not self._pending and self._eof


def _fill(spool: BinaryIO, source: _Lookahead, limit: int) -> int:
    """Copy up to ``limit`` bytes from ``source`` into ``spool``; return the count."""
    size = 0
    while size < limit and (chunk := source.read(min(CHUNK_SIZE, limit - size))):
        spool.write(chunk)
        size += len(chunk)
    return size


class _SwiftObject:
    """The chunks of one GET, with the size Swift reported for exactly this object version."""

    def __init__(self, chunks: Generator[bytes, None, None], *, size: int) -> None:
        self.chunks, self.size = chunks, size

    def __iter__(self) -> "_SwiftObject":
        return self

    def __next__(self) -> bytes:
        return next(self.chunks)

    def close(self) -> None:
        self.chunks.close()


def _read_body(key: str, body: Any) -> Generator[bytes, None, None]:
    try:
        with _swift_errors(key):
            yield from body
    finally:
        # An abandoned download must not keep its HTTP connection busy.
        body.close()


def _is_slo(headers: dict[str, str]) -> bool:
    return headers.get("x-static-large-object", "").lower() == "true"


def _split_path(path: str) -> tuple[str, str]:
    """'/container/name' -> ('container', 'name')."""
    container, _, name = path.lstrip("/").partition("/")
    return container, name


@contextmanager
def _swift_errors(key: str, *, missing: bool = True) -> Iterator[None]:
    """Turn swiftclient and network errors into StorageError (404 -> ObjectNotFound if missing)."""
    try:
        yield
    except ClientException as error:
        if missing and error.http_status == 404:
            raise ObjectNotFound(key) from error
        if error.http_status == 412:
            raise ObjectExists(key) from error
        raise StorageError(f"Swift request for {key!r} failed: {error}") from error
    except OSError as error:  # sockets, and requests' errors, which subclass OSError
        raise StorageError(f"Swift request for {key!r} failed: {error}") from error
