"""A 200 MB object goes through each backend both ways without growing the process's memory."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SIZE = 200 * 1000 * 1000
MAX_GROWTH = 50 * 1024 * 1024

# Runs in a fresh interpreter so that the peak RSS (ru_maxrss) belongs to this transfer alone.
SCRIPT = r"""
import hashlib, json, os, resource, sys

from storage.filesystem import FilesystemStorage
from storage.swift import SwiftStorage

kind, known_length, size = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3])
BLOCK = 1 << 20


class PatternStream:
    # Deterministic bytes made block by block, never all in memory; hashes what it hands out.
    def __init__(self, size):
        self.size, self.position, self.sha256 = size, 0, hashlib.sha256()

    def read(self, n=-1):
        end = self.size if n < 0 else min(self.size, self.position + n)
        parts = []
        while self.position < end:
            block, offset = divmod(self.position, BLOCK)
            take = min(end - self.position, BLOCK - offset)
            data = (block.to_bytes(8, "big") * (BLOCK // 8))[offset : offset + take]
            parts.append(data)
            self.position += take
        data = b"".join(parts)
        self.sha256.update(data)
        return data


if kind == "filesystem":
    storage = FilesystemStorage(os.environ["TEST_STORAGE_ROOT"])
else:
    storage = SwiftStorage(
        os.environ["SWIFT_AUTH_URL"], os.environ["SWIFT_USERNAME"], os.environ["SWIFT_KEY"],
        os.environ["SWIFT_CONTAINER_NAME"], segment_size=int(os.environ["SWIFT_SEGMENT_SIZE"]),
    )


def roundtrip(key, size):
    stream = PatternStream(size)
    written = storage.put(key, stream, length=size if known_length else None)
    read_hash = hashlib.sha256()
    for chunk in storage.open(key):
        read_hash.update(chunk)
    return written, stream.sha256.hexdigest(), read_hash.hexdigest()


roundtrip("memory/warm-up", 3 * BLOCK)  # loads lazy imports, connects, allocates buffers
baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
written, sent, received = roundtrip("memory/large", size)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"written": written, "sent": sent, "received": received,
                  "growth": peak - baseline}))
"""


def transfer(kind: str, known_length: bool, env: dict[str, str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, kind, "1" if known_length else "0", str(SIZE)],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def assert_streamed(outcome: dict) -> None:
    assert outcome["written"] == SIZE
    assert outcome["received"] == outcome["sent"]
    assert outcome["growth"] < MAX_GROWTH, f"peak RSS grew by {outcome['growth']} bytes"


@pytest.mark.parametrize("known_length", [True, False], ids=["length", "no-length"])
def test_filesystem_streams_200_mb_with_flat_memory(tmp_path, known_length):
    outcome = transfer("filesystem", known_length, {"TEST_STORAGE_ROOT": str(tmp_path)})

    assert_streamed(outcome)


@pytest.mark.integration
@pytest.mark.parametrize("known_length", [True, False], ids=["length", "no-length"])
def test_swift_streams_200_mb_with_flat_memory(swift_account, known_length):
    env = {
        "SWIFT_AUTH_URL": swift_account.auth_url,
        "SWIFT_USERNAME": swift_account.username,
        "SWIFT_KEY": swift_account.key,
        "SWIFT_CONTAINER_NAME": swift_account.container,
        # Several segments, each larger than the in-memory part of the unknown-length spool.
        "SWIFT_SEGMENT_SIZE": str(32 << 20),
    }

    outcome = transfer("swift", known_length, env)

    assert_streamed(outcome)
