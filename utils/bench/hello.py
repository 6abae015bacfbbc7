"""The floor of the minimal-request figure: a bare WSGI app served as CUBE's web process is.

``served()`` reads the gunicorn command of the Procfile's ``web`` entry and runs it with this
module's ``application`` in place of ``cube.wsgi``, so that both answer through the same server,
worker model and access log.
"""

import shlex
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from utils.stack import REPO_ROOT, free_ports

BODY = b'{"hello":"world"}'


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"),
                              ("Content-Length", str(len(BODY)))])  # fmt: skip
    return [BODY]


def web_command(port: int) -> list[str]:
    """The Procfile's gunicorn command for CUBE, serving this module on ``port``."""
    for line in (REPO_ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        if name.strip() == "web":
            gunicorn = shlex.split(command.rpartition("exec ")[2])
            break
    else:
        raise RuntimeError("Procfile has no web entry")
    if "cube.wsgi" not in gunicorn:
        raise RuntimeError(f"the web entry does not serve cube.wsgi: {gunicorn}")
    command = [__name__ if part == "cube.wsgi" else part for part in gunicorn]
    return [part.replace("${CUBE_PORT}", str(port)) for part in command]


@contextmanager
def served(log: Path) -> Iterator[str]:
    """Serve the hello app; yield its URL."""
    (port,) = free_ports(1)
    with log.open("wb") as output:
        process = subprocess.Popen(
            web_command(port), cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                requests.get(url, timeout=2)
                break
            except requests.ConnectionError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"the hello server did not start: see {log}") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
