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


def test_only_stale_upload_spool_files_are_removed(storage, settings, tmp_path):
    """A web worker killed mid-upload leaves its spool file; the sweep removes it."""
    settings.PARTIAL_WRITE_MAX_AGE_SECONDS = 3600
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    os.makedirs(settings.FILE_UPLOAD_TEMP_DIR)
    names = {
        "stale": "tmpa1b2c3d4.upload.dcm",
        "fresh": "tmpe5f6g7h8.upload",  # an upload still arriving
        "other": "someone-elses.txt",  # in case the spool is a folder others share
    }
    paths = {key: os.path.join(settings.FILE_UPLOAD_TEMP_DIR, name) for key, name in names.items()}
    for path in paths.values():
        with open(path, "wb") as f:
            f.write(b"x" * 1024)
    two_hours_ago = time.time() - 7200
    for key in ("stale", "other"):
        os.utime(paths[key], (two_hours_ago, two_hours_ago))

    assert services.remove_partial_writes() == 1

    assert not os.path.exists(paths["stale"])
    assert os.path.exists(paths["fresh"])
    assert os.path.exists(paths["other"])


def test_a_missing_spool_folder_is_nothing_to_sweep(storage, settings, tmp_path):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "never-created")
    assert services.remove_partial_writes() == 0


def test_a_large_upload_spools_in_the_var_folder_and_leaves_nothing(
    client, storage, settings, tmp_path, monkeypatch
):
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "spool")
    os.makedirs(settings.FILE_UPLOAD_TEMP_DIR)
    spooled = []
    real_put = type(storage).put

    def put(self, key, stream, **kwargs):
        spooled.extend(os.listdir(settings.FILE_UPLOAD_TEMP_DIR))
        return real_put(self, key, stream, **kwargs)

    monkeypatch.setattr(type(storage), "put", put)
    content = b"z" * (settings.FILE_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = client.post(
        "/api/v1/uploadedfiles/",
        {"upload_path": "alice/uploads/big.dcm", "fname": io.BytesIO(content)},
        format="multipart",
    )

    assert response.status_code == 201
    assert len(spooled) == 1 and spooled[0].endswith(".upload")
    assert os.listdir(settings.FILE_UPLOAD_TEMP_DIR) == []


@pytest.mark.skipif("FILE_UPLOAD_TEMP_DIR" in os.environ, reason="the spool is set by env")
def test_the_spool_is_a_folder_of_the_var_dir_that_exists(settings):
    assert settings.FILE_UPLOAD_TEMP_DIR == str(settings.VAR_DIR / "upload-spool")
    assert os.path.isdir(settings.FILE_UPLOAD_TEMP_DIR)  # Django's checks refuse a missing one
