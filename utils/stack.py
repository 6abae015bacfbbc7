"""Start a whole CUBE stack (a launcher script) as a subprocess and stop it without orphans.

The one launcher of the e2e tests, the production tests and the bench. A launcher
(``utils/scripts/run-embedded.sh``, ``utils/scripts/run-production.sh``) runs in the
foreground, honours CUBE_VAR_DIR, CUBE_PORT, LOCALCOMPUTE_PORT and CUBE_PLUGINS_DIR, and stops
every process it started on SIGTERM. ``start_stack`` runs one in its own process group with a
var dir and free ports, and waits until the API answers with the compute resource and every
built-in plugin registered. ``stop_stack`` SIGTERMs the group, SIGKILLs what is left and
raises ``StackError`` if anything had to be killed or escaped the group.

Every process of a stack carries the environment variable ``CUBE_E2E_STACK=<id>``; that is how
processes that left the group (a new session, a double fork) are still found.

Django-free and pytest-free: ``tests/e2e/stack.py`` adds the pytest fixtures.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parents[1]
EMBEDDED_SCRIPT = REPO_ROOT / "utils" / "scripts" / "run-embedded.sh"
PRODUCTION_SCRIPT = REPO_ROOT / "utils" / "scripts" / "run-production.sh"
INSTALL_PLUGINS_SCRIPT = REPO_ROOT / "utils" / "scripts" / "install_builtin_plugins.sh"
PLUGINS_VENV = REPO_ROOT / ".venvs" / "plugins"
SUPERUSER = ("chris", "chris1234")
MARKER = "CUBE_E2E_STACK"
START_TIMEOUT = 240.0
STOP_GRACE = 30.0
# The launcher picks its own profile: settings of the caller must not leak into it. A caller
# that wants one (the bench's in-process steps want DJANGO_SETTINGS_MODULE) passes it back.
DROPPED_ENV = (
    "DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS", "DATABASE_URL",
    "POSTGRES_DB", "CELERY_BROKER_URL", "STORAGE_BACKEND",
)  # fmt: skip


class StackError(Exception):
    """The stack did not start, or did not stop cleanly."""


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    pgid: int
    command: str
    ppid: int = 0


@dataclass
class Stack:
    """A running stack: its API root URL, process and files.

    ``env`` is the environment the launcher got; in-process steps (a ``manage.py`` command, the
    bench's ``utils.bench.inprocess``) run with it to open the stack's database and storage.
    """

    script: Path
    url: str
    port: int
    var_dir: Path
    log_path: Path
    process: subprocess.Popen
    marker: str
    env: dict[str, str] = field(repr=False)

    @property
    def profile(self) -> str:
        """``embedded`` or ``production``, from the launcher's name."""
        return self.script.stem.removeprefix("run-")

    @property
    def storage_root(self) -> Path:
        """The filesystem storage's folder (the embedded profile's storage)."""
        return Path(self.env.get("STORAGE_ROOT") or self.var_dir / "storage")

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])

    def web_worker_pids(self) -> list[int]:
        """PIDs of the gunicorn workers serving CUBE (not the master, not localcompute's).

        The launcher's descendants, found through their parents, so that sampling it often (the
        bench's RSS sampler does) reads no process's environment.
        """
        children: dict[int, list[int]] = {}
        for pid, ppid in _parents():
            children.setdefault(ppid, []).append(pid)
        serving = set()  # the launcher and its descendants that run cube.wsgi
        pending = [self.process.pid]
        workers = []
        while pending:
            pid = pending.pop()
            if "cube.wsgi" in _command(pid):
                serving.add(pid)
            for child in children.get(pid, []):
                pending.append(child)
                if pid in serving and "cube.wsgi" in _command(child):
                    workers.append(child)
        return workers


def free_ports(count: int) -> list[int]:
    """Distinct loopback ports that were free a moment ago (all held open while choosing)."""
    with contextlib.ExitStack() as sockets:
        ports = []
        for _ in range(count):
            sock = sockets.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


def install_builtin_plugins(out_dir: Path) -> Path:
    """Install the built-in plugins (venv cached in .venvs/plugins); return their JSON dir."""
    result = subprocess.run(
        ["bash", str(INSTALL_PLUGINS_SCRIPT), str(PLUGINS_VENV), str(out_dir)],
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise StackError(f"install_builtin_plugins.sh failed:\n{result.stderr[-3000:]}")
    return out_dir


def left_running_on_purpose(info: ProcessInfo) -> bool:
    """Services run-production.sh may start and deliberately leave up for the next run."""
    return any(name in info.command for name in ("redis-server", "postgres", "swift_aio.py"))


def start_stack(
    script: Path,
    var_dir: Path,
    extra_env: dict[str, str] | None = None,
    timeout: float = START_TIMEOUT,
    keep: Callable[[ProcessInfo], bool] | None = None,
) -> Stack:
    """Start script in a new process group and wait until it serves the seed workflow.

    ``keep`` is passed to ``stop_stack`` if the stack must be stopped before it is ready.
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    cube_port, localcompute_port = free_ports(2)
    env = {key: value for key, value in os.environ.items() if key not in DROPPED_ENV}
    env.update(
        {
            "CUBE_VAR_DIR": str(var_dir),
            "CUBE_PORT": str(cube_port),
            "LOCALCOMPUTE_PORT": str(localcompute_port),
        }
    )
    env.update(extra_env or {})
    env[MARKER] = uuid.uuid4().hex
    port = int(env["CUBE_PORT"])
    log_path = var_dir / "stack.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            ["bash", str(script)],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    stack = Stack(
        script=script,
        url=f"http://127.0.0.1:{port}/api/v1/",
        port=port,
        var_dir=var_dir,
        log_path=log_path,
        process=process,
        marker=env[MARKER],
        env=env,
    )
    try:
        wait_until_ready(stack, timeout)
    except BaseException:  # not ready, or Ctrl-C while waiting: leave nothing running
        with contextlib.suppress(StackError):
            stop_stack(stack, keep=keep)
        raise
    return stack


def expected_plugin_count(stack: Stack) -> int:
    """How many plugins the stack registers: one per JSON file in its CUBE_PLUGINS_DIR."""
    plugins_dir = Path(stack.env.get("CUBE_PLUGINS_DIR", REPO_ROOT / "var" / "plugins"))
    return max(1, sum(1 for path in plugins_dir.glob("*.json") if path.name != "catalogue.json"))


def wait_until_ready(stack: Stack, timeout: float) -> None:
    """Poll until the API answers and every built-in plugin is registered on a compute."""
    deadline = time.monotonic() + timeout
    expected = expected_plugin_count(stack)
    session = requests.Session()
    session.auth = SUPERUSER
    session.headers["Accept"] = "application/json"
    last = "no answer yet"
    while time.monotonic() < deadline:
        if stack.process.poll() is not None:
            raise StackError(
                f"{stack.script.name} exited with {stack.process.returncode} before it was "
                f"ready; log tail:\n{stack.log_tail()}"
            )
        try:
            root = session.get(stack.url, timeout=5)
            plugins = session.get(f"{stack.url}plugins/", params={"limit": 1}, timeout=5)
            computes = session.get(f"{stack.url}computeresources/", timeout=5)
            if root.ok and plugins.ok and computes.ok:
                if plugins.json()["count"] >= expected and computes.json()["count"] >= 1:
                    return
                last = f"plugins {plugins.text[:200]}"
            else:
                last = f"HTTP {root.status_code}/{plugins.status_code}/{computes.status_code}"
        except (requests.RequestException, ValueError, KeyError) as error:
            last = f"{type(error).__name__}: {error}"
        time.sleep(0.5)
    raise StackError(
        f"{stack.script.name} not ready after {timeout:.0f}s ({last}); log tail:\n"
        f"{stack.log_tail()}"
    )


def _stat_fields(pid: str) -> list[str]:
    """The fields of /proc/<pid>/stat after the parenthesised command: state, ppid, pgrp..."""
    return (Path("/proc") / pid / "stat").read_text().rsplit(")", 1)[1].split()


def _parents() -> Iterator[tuple[int, int]]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                yield int(entry.name), int(_stat_fields(entry.name)[1])
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile


def _command(pid: int) -> str:
    try:
        return (
            (Path("/proc") / str(pid) / "cmdline")
            .read_bytes()
            .replace(b"\0", b" ")
            .decode(errors="replace")
        )
    except OSError:
        return ""


def marked_processes(marker: str) -> list[ProcessInfo]:
    """Live (non-zombie) processes whose environment carries this stack's marker."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state, ppid, pgrp = _stat_fields(entry.name)[:3]
        except OSError:
            continue  # gone meanwhile, or not ours to read
        if state != "Z":
            command = _command(int(entry.name)).strip()[:200]
            found.append(ProcessInfo(int(entry.name), int(pgrp), command, int(ppid)))
    return found


def _wait_gone(
    marker: str, timeout: float, keep: Callable[[ProcessInfo], bool] | None
) -> list[ProcessInfo]:
    def left() -> list[ProcessInfo]:
        return [info for info in marked_processes(marker) if not (keep and keep(info))]

    deadline = time.monotonic() + timeout
    while (found := left()) and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def stop_stack(
    stack: Stack, grace: float = STOP_GRACE, keep: Callable[[ProcessInfo], bool] | None = None
) -> None:
    """SIGTERM the group, wait, SIGKILL leftovers; raise StackError if any had to be killed.

    ``keep`` names the processes the script leaves running on purpose (a database server that
    it started for later runs, say): they are neither killed nor reported.
    """
    pgid = stack.process.pid
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    try:
        stack.process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        pass
    leftovers = _wait_gone(stack.marker, timeout=5, keep=keep)
    if stack.process.poll() is None or leftovers:
        for info in leftovers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(info.pid, signal.SIGKILL)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)
        stack.process.wait(timeout=10)
    survivors = _wait_gone(stack.marker, timeout=5, keep=keep)
    problems = []
    if leftovers:
        listing = "\n".join(
            f"  pid {info.pid} (group {info.pgid}{'' if info.pgid == pgid else ', ESCAPED'}): "
            f"{info.command}"
            for info in leftovers
        )
        problems.append(f"processes that SIGTERM did not stop (SIGKILLed):\n{listing}")
    if survivors:
        problems.append(f"processes survived SIGKILL: {[info.pid for info in survivors]}")
    if problems:
        raise StackError(
            f"{stack.script.name} did not stop cleanly:\n"
            + "\n".join(problems)
            + f"\nlog tail:\n{stack.log_tail(30)}"
        )


def compute_credentials(var_dir: Path) -> tuple[str, str]:
    """The localcompute user and password a launcher created in var_dir/localcompute.env."""
    lines = (var_dir / "localcompute.env").read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines)
    return values["LOCALCOMPUTE_USER"], values["LOCALCOMPUTE_PASSWORD"]
