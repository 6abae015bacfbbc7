"""Start and stop a CUBE stack (a launcher script) as a subprocess on free loopback ports."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import suppress
from pathlib import Path

import psutil
import requests

REPO = Path(__file__).resolve().parents[2]
SUPERUSER = ("chris", "chris1234")
START_TIMEOUT = 240.0
STOP_TIMEOUT = 30.0


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Stack:
    """One running stack: ``launcher`` started with a temporary CUBE_VAR_DIR and free ports.

    ``env`` is the environment the launcher got; in-process steps (utils.bench.inprocess) run
    with it so that they open the same database and storage as the served stack.
    """

    def __init__(self, profile: str, launcher: Path, *, extra_env: dict[str, str] | None = None):
        self.profile = profile
        self.launcher = launcher
        self.var_dir = Path(tempfile.mkdtemp(prefix=f"cube-bench-{profile}-"))
        self.port = free_port()
        self.env = {
            **os.environ,
            "CUBE_VAR_DIR": str(self.var_dir),
            "CUBE_PORT": str(self.port),
            "LOCALCOMPUTE_PORT": str(free_port()),
            "CUBE_PLUGINS_DIR": str(REPO / "var" / "plugins"),
            "STORAGE_ROOT": str(self.var_dir / "storage"),
            "DJANGO_SETTINGS_MODULE": "cube.settings",
            "CUBE_LOG_LEVEL": "WARNING",
            **(extra_env or {}),
        }
        self.url = f"http://127.0.0.1:{self.port}/api/v1/"
        self.log_path = self.var_dir / "stack.log"
        self._process: subprocess.Popen | None = None

    @property
    def storage_root(self) -> Path:
        return Path(self.env["STORAGE_ROOT"])

    def start(self) -> "Stack":
        log = open(self.log_path, "wb")
        # A session of its own, so stop() can end the launcher and everything it started.
        self._process = subprocess.Popen(
            [str(self.launcher)],
            cwd=REPO,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise StackError(f"{self.launcher.name} exited early:\n{self.log_tail()}")
            if self._ready():
                return self
            time.sleep(0.5)
        self.stop()
        raise StackError(f"{self.launcher.name} not ready in {START_TIMEOUT:.0f} s")

    def _ready(self) -> bool:
        try:
            response = requests.get(
                f"{self.url}plugins/search/",
                params={"name": "pl-dircopy"},
                auth=SUPERUSER,
                headers={"Accept": "application/json"},
                timeout=5,
            )
        except requests.RequestException:
            return False
        return response.ok and bool(response.json().get("results"))

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def web_worker_pids(self) -> list[int]:
        """PIDs of the gunicorn workers serving CUBE (not localcompute's, not the master)."""
        if self._process is None:
            return []
        try:
            processes = psutil.Process(self._process.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            return []
        pids = []
        for process in processes:
            try:
                if "cube.wsgi" in " ".join(process.cmdline()):
                    parent = process.parent()
                    if parent is not None and "cube.wsgi" in " ".join(parent.cmdline()):
                        pids.append(process.pid)
            except psutil.Error:
                continue
        return pids

    def stop(self, *, keep: bool = False) -> None:
        """End the launcher (its supervisor passes SIGTERM on), then any descendant left behind."""
        process = self._process
        if process is not None and process.poll() is None:
            try:
                descendants = psutil.Process(process.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                descendants = []
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                with suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=STOP_TIMEOUT)
            _gone, alive = psutil.wait_procs(descendants, timeout=STOP_TIMEOUT)
            for leftover in alive:
                with suppress(psutil.Error):
                    leftover.kill()
        self._process = None
        if not keep:
            shutil.rmtree(self.var_dir, ignore_errors=True)

    def __enter__(self) -> "Stack":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop(keep=os.environ.get("BENCH_KEEP") == "1")
