"""Helpers for the localcompute tests: a server wrapper and request builders."""

import os
import secrets
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
INSTALL_SCRIPT = REPO_ROOT / "utils" / "scripts" / "install_builtin_plugins.sh"
HELPER_SOURCE = Path(__file__).with_name("testhelper.py")
HELPER_IMAGE = "local/pl-testhelper:1.0"
# What localcompute used before credentials became mandatory; it must open nothing now.
OLD_DEFAULT_SECRET_KEY = "localcompute-dev-secret-key-change-me"
# Present in the server's environment; it must never reach a plugin.
SERVER_SECRET = "server-only-secret-value"
TERMINAL = ("finishedSuccessfully", "finishedWithError", "undefined")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def random_credentials() -> dict[str, str]:
    """LOCALCOMPUTE_USER/_PASSWORD/_SECRET_KEY, fresh for each server, as the launchers do."""
    return {
        "LOCALCOMPUTE_USER": f"test-{secrets.token_hex(4)}",
        "LOCALCOMPUTE_PASSWORD": secrets.token_urlsafe(24),
        "LOCALCOMPUTE_SECRET_KEY": secrets.token_urlsafe(32),
    }


class LocalCompute:
    """One localcompute process with its own storage root, data dir and random credentials."""

    def __init__(self, root: Path, catalogue: Path, mode: str, extra_env: dict[str, str]):
        self.root = root
        self.storebase = root / "storage"
        self.data_dir = root / "data"
        self.mode = mode
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/api/v1/"
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LANG": "C.UTF-8",
            "LOCALCOMPUTE_HOST": "127.0.0.1",
            "LOCALCOMPUTE_PORT": str(self.port),
            "STORAGE_ENV": mode,
            "STOREBASE": str(self.storebase),
            "LOCALCOMPUTE_DATA_DIR": str(self.data_dir),
            "LOCALCOMPUTE_PLUGINS": str(catalogue),
            "LOCALCOMPUTE_KILL_GRACE_SECONDS": "2",
            **random_credentials(),
            "LOCALCOMPUTE_TEST_SECRET": SERVER_SECRET,
            **extra_env,
        }
        self.process: subprocess.Popen | None = None
        self._token: str | None = None
        self.log_path = root / "server.log"

    @property
    def user(self) -> str:
        return self.env["LOCALCOMPUTE_USER"]

    @property
    def password(self) -> str:
        return self.env["LOCALCOMPUTE_PASSWORD"]

    @property
    def secret_key(self) -> str:
        return self.env["LOCALCOMPUTE_SECRET_KEY"]

    def start(self) -> "LocalCompute":
        self.storebase.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "localcompute"],
            cwd=REPO_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            # Its own group, so a simulated crash can take down master and worker at once.
            start_new_session=True,
        )
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"localcompute exited:\n{self.log_path.read_text()}")
            try:
                if requests.get(self.url + "health/", timeout=1).ok:
                    return self
            except requests.ConnectionError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"localcompute did not start:\n{self.log_path.read_text()}")

    def stop(self, signum: int = signal.SIGTERM) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if signum == signal.SIGKILL:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            return
        self.process.send_signal(signum)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    @property
    def token(self) -> str:
        if self._token is None:
            response = requests.post(
                self.url + "auth-token/",
                json={"pfcon_user": self.user, "pfcon_password": self.password},
                timeout=10,
            )
            response.raise_for_status()
            self._token = response.json()["token"]
        return self._token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, path: str, **kwargs) -> requests.Response:
        return requests.get(self.url + path, headers=self.headers, timeout=30, **kwargs)

    def post(self, path: str, data: dict, **kwargs) -> requests.Response:
        return requests.post(self.url + path, data=data, headers=self.headers, timeout=60, **kwargs)

    def delete(self, path: str) -> requests.Response:
        return requests.delete(self.url + path, headers=self.headers, timeout=60)

    def wait(self, kind: str, jid: str, *, timeout: float = 30, until=TERMINAL) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            response = self.get(f"{kind}/{jid}/")
            assert response.status_code == 200, response.text
            compute = response.json()["compute"]
            if compute["status"] in until or time.monotonic() > deadline:
                return compute
            time.sleep(0.1)

    def job_dir(self, jid: str) -> Path:
        return self.data_dir / f"key-{jid}"

    def copy(self, jid: str, input_dirs: list[str], output_dir: str) -> dict:
        response = self.post(
            "copyjobs/", {"jid": jid, "input_dirs": input_dirs, "output_dir": output_dir}
        )
        assert response.status_code == 201, response.text
        return self.wait("copyjobs", jid)


def kill_leftover_jobs(server: LocalCompute) -> None:
    """Best effort: no test may leave plugin processes behind."""
    database = server.data_dir / "state.sqlite3"
    if not database.exists():
        return
    with sqlite3.connect(database) as db:
        pids = [row[0] for row in db.execute("SELECT pid FROM jobs WHERE pid IS NOT NULL")]
    for pid in pids:
        try:
            if os.getpgid(pid) == pid:
                os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def plugin_form(
    jid: str,
    *,
    image: str,
    selfexec: str,
    plugin_type: str = "fs",
    args: list[str] | None = None,
    path_flags: list[str] | None = None,
    output_dir: str | None = None,
    env: list[str] | None = None,
    memory_limit: int = 300,
) -> dict:
    form = {
        "jid": jid,
        "args": args or [],
        "args_path_flags": path_flags or [],
        "auid": "alice",
        "number_of_workers": 1,
        "cpu_limit": 1000,
        "memory_limit": memory_limit,
        "gpu_limit": 0,
        "image": image,
        "entrypoint": ["/usr/local/bin/python", f"/usr/local/bin/{selfexec}"],
        "type": plugin_type,
        "env": env or [f"CHRIS_JID={jid}"],
    }
    if output_dir is not None:
        form["output_dir"] = output_dir
    return form


def helper_form(jid: str, mode: str, *extra: str, **kwargs) -> dict:
    return plugin_form(
        jid,
        image=HELPER_IMAGE,
        selfexec="testhelper",
        args=["--mode", mode, *extra],
        **kwargs,
    )


def process_gone(pid: int) -> bool:
    """True when ``pid`` no longer runs (a zombie waiting for its reaper counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            state = f.read().rsplit(b")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == b"Z"


def wait_for_file(path: Path, timeout: float = 15) -> Path:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} never appeared")
        time.sleep(0.05)
    return path


def clean_tree(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def job_processes(jid: str) -> dict[str, list[int]]:
    """Host pids of a job's live processes, by role ("sandbox", "plugin", "grandchild").

    Inside its sandbox a plugin sees only its own pid namespace, so what it could report
    is useless here; every process of the job carries ``CHRIS_JID=<jid>`` instead.
    """
    marker = f"CHRIS_JID={jid}".encode()
    found: dict[str, list[int]] = {"sandbox": [], "plugin": [], "grandchild": []}
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or process_gone(int(entry)):
            continue
        try:
            environ = Path(f"/proc/{entry}/environ").read_bytes().split(b"\0")
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if marker not in environ:
            continue
        if argv[0].endswith(b"bwrap"):
            found["sandbox"].append(int(entry))
        elif any(b"time.sleep" in arg for arg in argv):
            found["grandchild"].append(int(entry))
        else:
            found["plugin"].append(int(entry))
    return found
