"""manage.py check_consistency: the file tables against storage."""

import io

import pytest
from django.core.management import CommandError, call_command

from chrisinstance.services import bind_storage
from uploadedfiles.models import UploadedFile

pytestmark = pytest.mark.django_db


def upload(client, path: str, content: bytes) -> None:
    response = client.post(
        "/api/v1/uploadedfiles/",
        {"upload_path": path, "fname": io.BytesIO(content)},
        format="multipart",
    )
    assert response.status_code == 201, response.content


def run(*args) -> str:
    out = io.StringIO()
    call_command("check_consistency", *args, stdout=out)
    return out.getvalue()


def test_a_consistent_installation_passes(client, storage):
    bind_storage()  # its marker object is no orphan
    upload(client, "alice/uploads/a.txt", b"a")
    assert run().endswith("consistent\n")


def test_missing_orphaned_and_resized_files_are_reported(client, storage):
    upload(client, "alice/uploads/gone.txt", b"gone")
    upload(client, "alice/uploads/changed.txt", b"12345")
    upload(client, "alice/uploads/kept.txt", b"kept")
    storage.delete("alice/uploads/gone.txt")
    storage.put("alice/uploads/changed.txt", io.BytesIO(b"123"))
    storage.put("alice/feed_9/pl-x_9/data/stray.txt", io.BytesIO(b"stray"))
    out = io.StringIO()
    with pytest.raises(CommandError, match="do not agree"):
        call_command("check_consistency", stdout=out)
    text = out.getvalue()
    assert "1 missing from storage\n  alice/uploads/gone.txt" in text
    assert "1 orphans in storage\n  alice/feed_9/pl-x_9/data/stray.txt" in text
    assert "alice/uploads/changed.txt: 5 in the database, 3 stored" in text


def test_orphans_are_deleted_on_request_and_nothing_else(client, storage):
    upload(client, "alice/uploads/kept.txt", b"kept")
    storage.put("alice/feed_9/pl-x_9/data/stray.txt", io.BytesIO(b"stray"))
    assert "deleted 1 orphans" in run("--delete-orphans")
    assert not storage.exists("alice/feed_9/pl-x_9/data/stray.txt")
    assert storage.exists("alice/uploads/kept.txt")
    assert UploadedFile.objects.count() == 1
    assert run().endswith("consistent\n")
