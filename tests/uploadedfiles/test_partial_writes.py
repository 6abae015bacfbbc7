"""Partial writes: the sweep of puts a crash cut short, and no transaction around a put."""

import io
import os
import time

import pytest
from django.db import connection

from storage.keys import TEMP_PREFIX
from uploadedfiles import services


def test_only_stale_partial_writes_are_removed(storage, settings):
    settings.PARTIAL_WRITE_MAX_AGE_SECONDS = 3600
    folder = os.path.join(storage.root, "alice", "uploads")
    os.makedirs(folder)
    stale = os.path.join(folder, f"{TEMP_PREFIX}0123456789abcdef")
    fresh = os.path.join(folder, f"{TEMP_PREFIX}fedcba9876543210")
    kept = os.path.join(folder, "a.txt")
    for path in (stale, fresh, kept):
        with open(path, "wb") as f:
            f.write(b"x" * 1024)
    two_hours_ago = time.time() - 7200
    os.utime(stale, (two_hours_ago, two_hours_ago))
    os.utime(kept, (two_hours_ago, two_hours_ago))

    assert services.remove_partial_writes() == 1

    assert not os.path.exists(stale)
    assert os.path.exists(fresh)  # a put may still be writing it
    assert os.path.exists(kept)


@pytest.mark.django_db(transaction=True)
def test_an_upload_holds_no_transaction_while_its_bytes_are_stored(user, storage, monkeypatch):
    """With SQLite a transaction open for an upload's duration would lock out every writer."""
    real_put = type(storage).put
    during_put = []

    def put(self, key, stream, **kwargs):
        during_put.append(connection.in_atomic_block)
        return real_put(self, key, stream, **kwargs)

    monkeypatch.setattr(type(storage), "put", put)
    stored = services.create_uploaded_file(
        owner=user, upload_path="alice/uploads/a.txt", stream=io.BytesIO(b"abc")
    )
    assert during_put == [False]
    assert (stored.fname, stored.fsize) == ("alice/uploads/a.txt", 3)
