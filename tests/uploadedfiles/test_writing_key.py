"""One writer of an upload key at a time, where the storage's no-clobber write can't decide.

Swift's conditional PUT lets two concurrent writers of one key both succeed; on PostgreSQL
an advisory lock makes the second wait. SQLite installations store on the filesystem, whose
no-clobber write is atomic, so there the lock is not taken.
"""

import threading
import time

import pytest
from django.db import connection

from uploadedfiles.services import writing_key


def hold(fname: str, inside: threading.Event, release: threading.Event) -> None:
    try:
        with writing_key(fname):
            inside.set()
            release.wait(10)
    finally:
        connection.close()


def enter(fname: str, entered: list[float]) -> None:
    try:
        with writing_key(fname):
            entered.append(time.monotonic())
    finally:
        connection.close()


@pytest.mark.django_db(transaction=True)
def test_a_second_writer_of_a_key_waits_on_postgresql():
    inside, release = threading.Event(), threading.Event()
    same, other = [], []
    holder = threading.Thread(target=hold, args=("alice/uploads/a.dcm", inside, release))
    holder.start()
    assert inside.wait(10)
    writers = [
        threading.Thread(target=enter, args=("alice/uploads/a.dcm", same)),
        threading.Thread(target=enter, args=("alice/uploads/b.dcm", other)),
    ]
    for writer in writers:
        writer.start()
    time.sleep(0.5)
    waited = not same
    released = time.monotonic()
    release.set()
    for thread in (holder, *writers):
        thread.join(10)
    assert same and other  # everyone got through in the end
    assert other[0] < released  # another key never waits
    assert waited == (connection.vendor == "postgresql")
    if waited:
        assert same[0] >= released
