"""The behaviour every storage backend must share; each test runs against each backend."""

import hashlib
import io
from collections.abc import Iterator

import pytest

from storage import ObjectExists, ObjectNotFound, StorageError

MiB = 1 << 20
# Larger than the Swift test segment size (1 MiB), so these are Static Large Objects there.
LARGE = 3 * MiB + 123


def pattern(size: int, seed: int = 0) -> bytes:
    """Deterministic bytes that differ between offsets, so misplaced chunks are noticed."""
    blocks = (
        hashlib.sha256(f"{seed}:{index}".encode()).digest() for index in range(size // 32 + 1)
    )
    return b"".join(blocks)[:size]


class IteratorStream(io.RawIOBase):
    """A non-seekable stream over an iterator of chunks, like a request body or a pipe."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data


def failing_chunks(data: bytes, fail_after: int) -> Iterator[bytes]:
    """Yields the first ``fail_after`` bytes of ``data`` in 64 KiB chunks, then raises."""
    for offset in range(0, fail_after, 64 * 1024):
        yield data[offset : min(offset + 64 * 1024, fail_after)]
    raise RuntimeError("client went away")


def put_bytes(
    backend, key: str, data: bytes, *, known_length: bool = True, replace: bool = True
) -> int:
    length = len(data) if known_length else None
    return backend.put(key, IteratorStream(iter([data])), length=length, replace=replace)


def read(backend, key: str) -> bytes:
    return b"".join(backend.open(key))


@pytest.mark.parametrize("size", [0, 10, MiB, LARGE])
@pytest.mark.parametrize("known_length", [True, False], ids=["length", "no-length"])
def test_put_then_open_returns_the_same_bytes(backend, size, known_length):
    data = pattern(size)

    written = put_bytes(backend, "chris/uploads/a.dcm", data, known_length=known_length)

    assert written == size
    assert read(backend, "chris/uploads/a.dcm") == data
    assert backend.size("chris/uploads/a.dcm") == size


def test_put_reads_only_length_bytes_of_a_seekable_stream(backend):
    stream = io.BytesIO(b"0123456789")

    assert backend.put("a/b", stream, length=4) == 4

    assert read(backend, "a/b") == b"0123"


@pytest.mark.parametrize("size", [0, 10])
def test_open_tells_the_size_of_the_version_it_reads(backend, size):
    put_bytes(backend, "a/sized", pattern(size))
    stored = backend.open("a/sized")
    put_bytes(backend, "a/sized", pattern(size + 7))  # replaced while being read

    assert stored.size == size
    try:
        body = b"".join(stored)
    except StorageError:
        pass  # Swift may refuse to finish a read of a changed object (412), never sends it short
    else:
        assert len(body) == size
    assert backend.open("a/sized").size == size + 7


@pytest.mark.parametrize("key", ["a.txt/b.txt", "a.txt/c/d.txt"], ids=["beneath", "deep-beneath"])
def test_put_beneath_an_object_is_refused_or_kept_apart(backend, key):
    """A filesystem can't hold a folder where a file is: it refuses with ObjectExists."""
    put_bytes(backend, "a.txt", b"file")
    try:
        put_bytes(backend, key, b"below")
    except ObjectExists:
        pass
    assert read(backend, "a.txt") == b"file"


def test_open_yields_chunks_of_bounded_size(backend):
    put_bytes(backend, "a/big", pattern(LARGE))

    chunks = list(backend.open("a/big"))

    assert len(chunks) > 1
    assert max(len(chunk) for chunk in chunks) <= MiB


@pytest.mark.parametrize("first_size", [10, LARGE])
@pytest.mark.parametrize("second_size", [20, LARGE + 1])
def test_put_replaces_an_existing_object(backend, first_size, second_size):
    put_bytes(backend, "a/obj", pattern(first_size, seed=1))

    put_bytes(backend, "a/obj", pattern(second_size, seed=2))

    assert read(backend, "a/obj") == pattern(second_size, seed=2)
    assert backend.ls("a") == ["a/obj"]


@pytest.mark.parametrize("size", [100, LARGE])
@pytest.mark.parametrize("known_length", [True, False], ids=["length", "no-length"])
def test_put_without_replace_keeps_an_existing_object(backend, size, known_length):
    put_bytes(backend, "a/key", b"original")
    with pytest.raises(ObjectExists):
        put_bytes(backend, "a/key", pattern(size), replace=False, known_length=known_length)
    assert read(backend, "a/key") == b"original"
    assert backend.ls("a") == ["a/key"]
    assert put_bytes(backend, "a/new", pattern(size), replace=False, known_length=known_length)
    assert read(backend, "a/new") == pattern(size)


def test_put_from_another_objects_open_stream(backend):
    data = pattern(LARGE)
    put_bytes(backend, "a/source", data)

    backend.put("a/copy", IteratorStream(backend.open("a/source")), length=len(data))

    assert read(backend, "a/copy") == data


@pytest.mark.parametrize("size", [100 * 1024, LARGE])
@pytest.mark.parametrize("known_length", [True, False], ids=["length", "no-length"])
def test_failed_stream_leaves_nothing_behind(backend, size, known_length):
    data = pattern(size)
    stream = IteratorStream(failing_chunks(data, fail_after=size * 3 // 4))

    with pytest.raises(RuntimeError, match="client went away"):
        backend.put("feed_1/out/a.bin", stream, length=size if known_length else None)

    assert backend.ls("") == []
    assert not backend.exists("feed_1/out/a.bin")
    assert not backend.exists("feed_1")


def test_failed_stream_keeps_the_previous_object(backend):
    put_bytes(backend, "a/obj", b"old")
    stream = IteratorStream(failing_chunks(pattern(LARGE), fail_after=2 * MiB))

    with pytest.raises(RuntimeError):
        backend.put("a/obj", stream)

    assert read(backend, "a/obj") == b"old"


def test_stream_shorter_than_length_is_an_error_and_stores_nothing(backend):
    with pytest.raises(StorageError, match="ended after 5 of 10 bytes"):
        backend.put("a/short", io.BytesIO(b"12345"), length=10)

    assert not backend.exists("a/short")


@pytest.fixture
def feeds(backend):
    """Objects whose names share prefixes, to catch prefix matching without the slash."""
    for key in ["u/feed_1/a", "u/feed_1/sub/b", "u/feed_10/c", "u/feed_1.txt", "v/d"]:
        put_bytes(backend, key, key.encode())
    put_bytes(backend, "u/feed_1/large", pattern(LARGE))
    return backend


def test_ls_lists_the_folder_and_not_siblings_sharing_its_name(feeds):
    assert feeds.ls("u/feed_1") == ["u/feed_1/a", "u/feed_1/large", "u/feed_1/sub/b"]
    assert feeds.ls("u/feed_10") == ["u/feed_10/c"]
    assert feeds.ls("u/feed") == []
    assert feeds.ls("missing") == []


def test_ls_of_an_object_key_lists_that_object(feeds):
    assert feeds.ls("u/feed_1/a") == ["u/feed_1/a"]
    assert feeds.ls("u/feed_1.txt") == ["u/feed_1.txt"]


def test_ls_of_empty_prefix_lists_everything_sorted(feeds):
    assert feeds.ls("") == [
        "u/feed_1.txt",
        "u/feed_1/a",
        "u/feed_1/large",
        "u/feed_1/sub/b",
        "u/feed_10/c",
        "v/d",
    ]


def test_ls_with_sizes_reports_each_objects_full_size(feeds):
    assert feeds.ls_with_sizes("u/feed_1") == [
        ("u/feed_1/a", len(b"u/feed_1/a")),
        ("u/feed_1/large", LARGE),
        ("u/feed_1/sub/b", len(b"u/feed_1/sub/b")),
    ]
    assert feeds.ls_with_sizes("u/feed_1.txt") == [("u/feed_1.txt", len(b"u/feed_1.txt"))]


def test_exists_for_objects_and_folders(feeds):
    assert feeds.exists("u/feed_1/a")
    assert feeds.exists("u/feed_1")
    assert feeds.exists("u/feed_1/sub")
    assert feeds.exists("u")
    assert not feeds.exists("u/feed")
    assert not feeds.exists("u/feed_1/missing")


def test_size_of_missing_object_or_folder_is_not_found(feeds):
    with pytest.raises(ObjectNotFound):
        feeds.size("u/missing")
    with pytest.raises(ObjectNotFound):
        feeds.size("u/feed_1")


def test_open_missing_object_raises_before_iterating(backend):
    with pytest.raises(ObjectNotFound):
        backend.open("u/missing")


def test_open_of_a_folder_is_not_found(feeds):
    with pytest.raises(ObjectNotFound):
        feeds.open("u/feed_1")


def test_delete_removes_only_that_object(feeds):
    feeds.delete("u/feed_1/a")
    feeds.delete("u/feed_1/large")

    assert feeds.ls("u/feed_1") == ["u/feed_1/sub/b"]
    assert not feeds.exists("u/feed_1/large")


def test_delete_of_missing_object_or_folder_is_a_no_op(feeds):
    feeds.delete("u/missing")
    feeds.delete("u/feed_1")

    assert len(feeds.ls("")) == 6


def test_delete_folder_removes_only_objects_under_prefix_slash(feeds):
    feeds.delete_folder("u/feed_1")

    assert feeds.ls("") == ["u/feed_1.txt", "u/feed_10/c", "v/d"]
    assert not feeds.exists("u/feed_1")


def test_delete_folder_of_missing_folder_or_object_key_is_a_no_op(feeds):
    feeds.delete_folder("missing")
    feeds.delete_folder("u/feed_1.txt")

    assert feeds.exists("u/feed_1.txt")


@pytest.mark.parametrize("size", [10, LARGE])
def test_copy_makes_an_independent_copy(backend, size):
    data = pattern(size)
    put_bytes(backend, "a/source", data)

    backend.copy("a/source", "b/copy")
    put_bytes(backend, "a/source", b"changed later")

    assert read(backend, "b/copy") == data
    backend.delete("a/source")
    assert read(backend, "b/copy") == data


def test_copy_replaces_the_destination(backend):
    put_bytes(backend, "a/source", b"new")
    put_bytes(backend, "b/copy", pattern(LARGE))

    backend.copy("a/source", "b/copy")

    assert read(backend, "b/copy") == b"new"


def test_copy_onto_itself_keeps_the_object(backend):
    put_bytes(backend, "a/source", b"data")

    backend.copy("a/source", "a/source")

    assert read(backend, "a/source") == b"data"


def test_copy_of_missing_object_is_not_found(backend):
    with pytest.raises(ObjectNotFound):
        backend.copy("a/missing", "b/copy")
    assert not backend.exists("b/copy")


@pytest.mark.parametrize("size", [10, LARGE])
def test_move_renames_the_object(backend, size):
    data = pattern(size)
    put_bytes(backend, "a/source", data)
    put_bytes(backend, "b/moved", b"to be replaced")

    backend.move("a/source", "b/moved")

    assert read(backend, "b/moved") == data
    assert backend.ls("") == ["b/moved"]


def test_move_of_missing_object_is_not_found(backend):
    with pytest.raises(ObjectNotFound):
        backend.move("a/missing", "b/moved")


def test_copy_many_copies_every_pair(backend):
    for index in range(20):
        put_bytes(backend, f"in/{index}", f"data {index}".encode())
    put_bytes(backend, "in/large", pattern(LARGE))
    pairs = [(f"in/{index}", f"out/x/{index}") for index in range(20)]

    backend.copy_many([*pairs, ("in/large", "out/large")])

    for index in range(20):
        assert read(backend, f"out/x/{index}") == f"data {index}".encode()
    assert read(backend, "out/large") == pattern(LARGE)
    assert len(backend.ls("in")) == 21


def test_copy_many_with_a_missing_source_is_not_found(backend):
    put_bytes(backend, "in/a", b"a")

    with pytest.raises(ObjectNotFound):
        backend.copy_many([("in/a", "out/a"), ("in/missing", "out/missing")])


BAD_KEYS = ["", "/abs/key", "a/../b", "..", "a//b", "a/", "./a", "a/./b", "a\x00b"]


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_keys_are_rejected(backend, key):
    operations = [
        lambda: backend.put(key, io.BytesIO(b"x")),
        lambda: backend.open(key),
        lambda: backend.exists(key),
        lambda: backend.size(key),
        lambda: backend.delete(key),
        lambda: backend.delete_folder(key),
        lambda: backend.copy(key, "ok/key"),
        lambda: backend.copy("ok/key", key),
        lambda: backend.move(key, "ok/key"),
        lambda: backend.copy_many([(key, "ok/key")]),
    ]
    if key:
        operations.append(lambda: backend.ls(key))
    for operation in operations:
        with pytest.raises(ValueError):
            operation()
