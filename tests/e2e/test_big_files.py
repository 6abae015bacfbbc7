"""A file larger than the server's memory budget goes up and comes back intact."""

import base64
import hashlib
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.stack import marked_processes, shared_embedded_stack

pytestmark = pytest.mark.e2e

SIZE = 300 * 1024 * 1024
RSS_BUDGET = 50 * 1024 * 1024
AUTH = ("chris", "chris1234")


def web_peak_rss() -> dict[int, int]:
    """Peak resident memory (VmHWM) of each gunicorn process of the stack, in bytes."""
    peaks = {}
    for process in marked_processes(shared_embedded_stack.stack.marker):
        if "gunicorn" not in process.command:
            continue
        for line in Path(f"/proc/{process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                peaks[process.pid] = int(line.split()[1]) * 1024
    return peaks


def write_big_file(path: Path) -> str:
    digest = hashlib.sha256()
    block = hashlib.sha512(b"seed").digest() * 16384  # 1 MiB, not all zeros
    with path.open("wb") as handle:
        for index in range(SIZE // len(block)):
            chunk = index.to_bytes(8, "big") + block[8:]
            handle.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def test_large_upload_and_download_keep_server_memory_flat(live_stack, tmp_path):
    source = tmp_path / "big.bin"
    expected = write_big_file(source)
    before = web_peak_rss()
    assert before, "no gunicorn process found for the stack"
    upload = subprocess.run(
        [
            "curl",
            "--silent",
            "--show-error",
            "--fail",
            "--user",
            "chris:chris1234",
            "-H",
            "Accept: application/json",
            "-F",
            "upload_path=chris/uploads/big/big.bin",
            "-F",
            f"fname=@{source}",
            f"{live_stack}uploadedfiles/",
        ],  # fmt: skip
        capture_output=True,
        check=True,
    )
    item = requests.get(
        f"{live_stack}uploadedfiles/search/?fname_exact=chris/uploads/big/big.bin",
        auth=AUTH,
        headers={"Accept": "application/json"},
        timeout=30,
    ).json()["results"][0]
    assert item["fsize"] == SIZE, upload.stdout
    digest = hashlib.sha256()
    with requests.get(item["file_resource"], auth=AUTH, stream=True, timeout=300) as download:
        download.raise_for_status()
        for chunk in download.iter_content(1024 * 1024):
            digest.update(chunk)
    assert digest.hexdigest() == expected
    after = web_peak_rss()
    growth = max(after[pid] - before.get(pid, after[pid]) for pid in after)
    assert growth < RSS_BUDGET, f"server peak RSS grew by {growth / 2**20:.0f} MiB"


def test_client_disconnecting_mid_upload_leaves_nothing(live_stack, tmp_path):
    """A body cut off half-way registers no row and stores no object."""
    address = urlsplit(live_stack)
    boundary = "cutoffboundary"
    head = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="upload_path"\r\n\r\n'
        "chris/uploads/cut/partial.bin\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="fname"; filename="fname"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    declared = len(head) + 8 * 1024 * 1024
    request = (
        f"POST /api/v1/uploadedfiles/ HTTP/1.1\r\nHost: {address.netloc}\r\n"
        f"Authorization: Basic {base64.b64encode(b'chris:chris1234').decode()}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {declared}\r\n\r\n"
    ).encode()
    with socket.create_connection((address.hostname, address.port), timeout=30) as connection:
        connection.sendall(request + head + b"x" * (3 * 1024 * 1024))
    time.sleep(2)  # the server notices the closed connection and drops the request
    found = requests.get(
        f"{live_stack}uploadedfiles/search/?fname=chris/uploads/cut/",
        auth=AUTH,
        headers={"Accept": "application/json"},
        timeout=30,
    ).json()
    assert found["count"] == 0
    assert not (shared_embedded_stack.stack.var_dir / "storage/chris/uploads/cut").exists()
