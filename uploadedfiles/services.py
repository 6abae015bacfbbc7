import hashlib
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, connection, transaction
from rest_framework.exceptions import ValidationError

from cube.storage import get_storage
from storage import ObjectExists
from uploadedfiles import queries
from uploadedfiles.models import UploadedFile
from uploadedfiles.paths import clean_upload_path

logger = logging.getLogger(__name__)
# Django names an upload's spool file tempfile's way, with this suffix: tmpk3j5x_2a.upload.dcm
SPOOL_PREFIX, SPOOL_SUFFIX = "tmp", ".upload"


def duplicate_error(fname: str) -> ValidationError:
    return ValidationError({"upload_path": [f"A file already exists at '{fname}'."]})


def check_no_path_conflict(fname: str) -> None:
    """Refuse a key beneath a registered file, or one that is a folder of registered files.

    A filesystem can't hold ``a.txt`` both as a file and as a folder; Swift could, but both
    backends take the same keys. Registered files are checked in one query each way; an
    object stored beside the API still makes the filesystem put fail with ObjectExists.
    """
    segments = fname.split("/")
    ancestors = ["/".join(segments[:end]) for end in range(1, len(segments))]
    blocking = queries.registered_among(ancestors)
    if blocking is not None:
        raise ValidationError(
            {"upload_path": [f"'{blocking}' is a file: nothing can be stored beneath it."]}
        )
    if queries.registered_beneath(f"{fname}/"):
        raise ValidationError({"upload_path": [f"'{fname}' is a folder."]})


@contextmanager
def writing_key(fname: str) -> Iterator[None]:
    """Let one process at a time store and register ``fname``, on PostgreSQL.

    The filesystem's no-clobber write is atomic, but Swift's conditional PUT is not: two
    concurrent PUTs of one key can both succeed, and the loser of the INSERT would then
    delete the winner's object. A session-level advisory lock on the key makes the second
    writer wait and then find the object there; it holds no transaction open, and a process
    that dies releases it with its connection. SQLite installations store on the filesystem.
    """
    if connection.vendor != "postgresql":
        yield
        return
    digest = hashlib.blake2b(fname.encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def create_uploaded_file(*, owner: User, upload_path: str, stream: BinaryIO) -> UploadedFile:
    """Store the stream under the owner's uploads and register it.

    The object is written first, without replacing, so that the transaction which registers
    it holds the database only for one INSERT, never for the upload's duration (with
    SQLite that would lock out every other writer). The no-clobber write, one writer of a
    key at a time, decides a race for the same key; if the row can't be inserted the object
    is removed again. Row and object exist together or not at all.
    """
    fname = clean_upload_path(upload_path, username=owner.username)
    check_no_path_conflict(fname)
    storage = get_storage()
    # A known length lets Swift stream the upload straight through instead of staging it
    # first to learn whether it needs segments.
    length = getattr(stream, "size", None)
    with writing_key(fname):
        try:
            stored = storage.put(fname, stream, length=length, replace=False)
        except ObjectExists as error:
            raise duplicate_error(fname) from error
        try:
            return UploadedFile.objects.create(owner=owner, fname=fname, fsize=stored)
        except BaseException as error:
            storage.delete(fname)
            if isinstance(error, IntegrityError):
                raise duplicate_error(fname) from error
            raise


def move_uploaded_file(uploaded_file: UploadedFile, *, upload_path: str) -> UploadedFile:
    """Move a file to a new key under its owner's uploads.

    The row changes first, so its unique ``fname`` decides a race for the new key before
    the object moves (a rename; on Swift a server-side copy, no body passes through here).
    """
    fname = clean_upload_path(upload_path, username=uploaded_file.owner.username)
    if fname == uploaded_file.fname:
        return uploaded_file
    check_no_path_conflict(fname)
    storage = get_storage()
    if storage.exists(fname):
        raise duplicate_error(fname)
    old_fname = uploaded_file.fname
    try:
        with transaction.atomic():
            uploaded_file.fname = fname
            uploaded_file.save(update_fields=["fname"])
            storage.move(old_fname, fname)
    except (IntegrityError, ObjectExists) as error:
        raise duplicate_error(fname) from error
    return uploaded_file


def delete_uploaded_file(uploaded_file: UploadedFile) -> None:
    """Delete the row and its stored object."""
    fname = uploaded_file.fname
    with transaction.atomic():
        uploaded_file.delete()
        transaction.on_commit(lambda: get_storage().delete(fname))


def remove_partial_writes() -> int:
    """Sweep what puts and uploads cut short by a crash (a killed upload, say) left behind."""
    max_age = settings.PARTIAL_WRITE_MAX_AGE_SECONDS
    removed = get_storage().remove_partial_writes(max_age)
    if removed:
        logger.warning("removed %d partial writes left by crashed processes", removed)
    spooled = remove_stale_spool_files(max_age)
    if spooled:
        logger.warning("removed %d upload spool files left by crashed processes", spooled)
    return removed + spooled


def remove_stale_spool_files(older_than_seconds: float) -> int:
    """Delete the spool files of uploads that were last written ``older_than_seconds`` ago.

    A live upload writes its spool file as the bytes arrive, and a finished one removes it,
    so an old one belongs to a web worker that died. Unlinking a file a slow store is still
    reading is harmless: the reader keeps its open file. Only Django's spool names are
    touched, in case ``FILE_UPLOAD_TEMP_DIR`` is a folder others share.
    """
    cutoff = time.time() - older_than_seconds
    removed = 0
    try:
        entries = list(os.scandir(settings.FILE_UPLOAD_TEMP_DIR))
    except FileNotFoundError:
        return 0
    for entry in entries:
        try:
            if (
                entry.name.startswith(SPOOL_PREFIX)
                and SPOOL_SUFFIX in entry.name
                and entry.is_file(follow_symlinks=False)
                and entry.stat(follow_symlinks=False).st_mtime < cutoff
            ):
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue  # its upload just finished
    return removed
