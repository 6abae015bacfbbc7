"""The sweep of puts that a crash cut short."""

import os
import time

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
