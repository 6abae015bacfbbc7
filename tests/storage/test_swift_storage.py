"""Swift-specific behaviour: segments of large objects, laziness, error mapping, threads."""

import io
import threading

import pytest

from storage import StorageError
from storage.swift import SwiftStorage

MiB = 1 << 20
LARGE = 3 * MiB + 5  # four segments at the 1 MiB test segment size


def put_large(storage: SwiftStorage, key: str, size: int = LARGE) -> None:
    storage.put(key, io.BytesIO(b"x" * size), length=size)


def test_construction_does_not_connect():
    storage = SwiftStorage("http://127.0.0.1:9/auth/v1.0", "nobody", "secret", "users", retries=0)

    with pytest.raises(StorageError, match="Swift request for 'a/b' failed"):
        storage.exists("a/b")


@pytest.mark.integration
def test_large_object_is_stored_in_segments_that_delete_removes(swift_storage, segment_names):
    put_large(swift_storage, "feed_1/big")

    assert len(segment_names()) == 4
    assert all(name.startswith("feed_1/big/") for name in segment_names())

    swift_storage.delete("feed_1/big")

    assert segment_names() == []


@pytest.mark.integration
def test_replacing_a_large_object_deletes_its_old_segments(swift_storage, segment_names):
    put_large(swift_storage, "a/big")
    old = set(segment_names())

    put_large(swift_storage, "a/big", size=2 * MiB + 1)

    assert len(segment_names()) == 3
    assert not old & set(segment_names())
    swift_storage.put("a/big", io.BytesIO(b"small"), length=5)
    assert segment_names() == []


@pytest.mark.integration
def test_delete_folder_deletes_segments_of_large_objects(swift_storage, segment_names):
    put_large(swift_storage, "feed_1/a/big")
    put_large(swift_storage, "feed_10/big")

    swift_storage.delete_folder("feed_1")

    assert swift_storage.ls("") == ["feed_10/big"]
    assert all(name.startswith("feed_10/") for name in segment_names())


@pytest.mark.integration
def test_copy_and_move_of_large_objects_leave_no_segments_behind(swift_storage, segment_names):
    put_large(swift_storage, "a/big")

    swift_storage.copy("a/big", "b/copy")
    swift_storage.move("a/big", "c/moved")
    assert len(segment_names()) == 8

    swift_storage.delete("b/copy")
    swift_storage.delete("c/moved")
    assert segment_names() == []


@pytest.mark.integration
def test_copy_many_copies_plain_objects_without_a_head_each(swift_storage, monkeypatch):
    for index in range(5):
        swift_storage.put(f"in/{index}", io.BytesIO(b"%d" % index), length=1)
    heads = []
    head = swift_storage._head
    monkeypatch.setattr(swift_storage, "_head", lambda key: heads.append(key) or head(key))

    swift_storage.copy_many([(f"in/{index}", f"out/x/{index}") for index in range(5)])

    assert heads == []
    assert [b"".join(swift_storage.open(f"out/x/{index}")) for index in range(5)] == [
        b"%d" % index for index in range(5)
    ]


@pytest.mark.integration
def test_copy_many_onto_large_objects_leaves_no_segments_behind(swift_storage, segment_names):
    put_large(swift_storage, "in/big")
    swift_storage.put("in/small", io.BytesIO(b"small"), length=5)
    put_large(swift_storage, "out/small")  # replaced by a plain object: its segments go
    swift_storage.put("out/big", io.BytesIO(b"old"), length=3)

    swift_storage.copy_many([("in/small", "out/small"), ("in/big", "out/big")])

    assert b"".join(swift_storage.open("out/small")) == b"small"
    assert b"".join(swift_storage.open("out/big")) == b"x" * LARGE
    assert len(segment_names()) == 8  # the source's and its copy's own
    swift_storage.delete_folder("in")
    swift_storage.delete_folder("out")
    assert segment_names() == []


@pytest.mark.integration
def test_failed_large_upload_deletes_uploaded_segments(swift_storage, segment_names):
    class FailingStream(io.RawIOBase):
        """Hands out 2.5 MiB, then fails like a dropped client connection."""

        remaining = 2 * MiB + MiB // 2

        def read(self, size=-1):
            if self.remaining <= 0:
                raise RuntimeError("client went away")
            size = self.remaining if size < 0 else min(size, self.remaining)
            self.remaining -= size
            return b"x" * size

    with pytest.raises(RuntimeError):
        swift_storage.put("a/big", FailingStream())

    assert segment_names() == []
    assert swift_storage.ls("") == []


@pytest.mark.integration
def test_each_thread_gets_its_own_connection(swift_storage):
    swift_storage.exists("a")
    connections = [swift_storage._connection()]
    worker = threading.Thread(target=lambda: connections.append(swift_storage._connection()))
    worker.start()
    worker.join()

    assert swift_storage._connection() is connections[0]
    assert connections[1] is not connections[0]


@pytest.mark.integration
def test_wrong_key_is_a_storage_error(swift_account):
    storage = SwiftStorage(
        swift_account.auth_url, swift_account.username, "wrong", swift_account.container
    )

    with pytest.raises(StorageError):
        storage.ls("")


@pytest.mark.integration
def test_segments_of_an_upload_that_died_are_swept_and_live_ones_kept(
    swift_storage, segment_names, swift_account
):
    put_large(swift_storage, "a/kept")
    connection = swift_account.connection()
    for index in range(2):  # what an upload killed before its manifest leaves behind
        connection.put_object(
            f"{swift_account.container}_segments", f"a/died/0123abcd/{index:08d}", b"x"
        )

    assert swift_storage.remove_partial_writes(older_than_seconds=3600) == 0  # may still run
    assert swift_storage.remove_partial_writes(older_than_seconds=0) == 2

    assert len(segment_names()) == 4
    assert all(name.startswith("a/kept/") for name in segment_names())
    assert b"".join(swift_storage.open("a/kept")) == b"x" * LARGE
