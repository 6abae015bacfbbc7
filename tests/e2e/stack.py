"""Start a whole CUBE stack script as a subprocess and stop it without leaving orphans.

A stack script (``utils/scripts/run-embedded.sh``, ``utils/scripts/run-production.sh``) runs in
the foreground, honours CUBE_VAR_DIR, CUBE_PORT, LOCALCOMPUTE_PORT and CUBE_PLUGINS_DIR, and
stops every process it started on SIGTERM. ``running_stack`` starts one in its own process
group with a temporary var dir and free ports, waits until the API answers with the compute
resource and the built-in plugins registered, and at exit SIGTERMs the group, SIGKILLs what is
left and raises ``StackError`` if anything had to be killed or escaped the group.

Every process of a stack carries the environment variable ``CUBE_E2E_STACK=<id>``; that is how
processes that left the group (a new session, a double fork) are still found.
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

import pytest
import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
EMBEDDED_SCRIPT = REPO_ROOT / "utils" / "scripts" / "run-embedded.sh"
INSTALL_PLUGINS_SCRIPT = REPO_ROOT / "utils" / "scripts" / "install_builtin_plugins.sh"
PLUGINS_VENV = REPO_ROOT / ".venvs" / "plugins"
SUPERUSER = ("chris", "chris1234")
MARKER = "CUBE_E2E_STACK"
# Variables of the pytest process that must not leak into the stack.
# The launcher picks its own profile: settings of the test run must not leak into it.
DROPPED_ENV = (
    "DJANGO_SETTINGS_MODULE", "PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS", "DATABASE_URL",
    "POSTGRES_DB", "CELERY_BROKER_URL", "STORAGE_BACKEND",
)  # fmt: skip


class StackError(Exception):
    """The stack did not start, or did not stop cleanly."""


def unavailable(reason: str) -> None:
    """Skip the test for a missing prerequisite, except under CI=true, where that is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}\n(CI=true: this must work in CI)", pytrace=False)
    pytest.skip(reason)


@dataclass
class Stack:
    """A running stack: its API root URL, process and files."""

    script: Path
    url: str
    port: int
    var_dir: Path
    log_path: Path
    process: subprocess.Popen
    marker: str
    env: dict[str, str] = field(repr=False)

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    pgid: int
    command: str


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


def start_stack(
    script: Path,
    var_dir: Path,
    extra_env: dict[str, str] | None = None,
    timeout: float = 240,
    keep: Callable[[ProcessInfo], bool] | None = None,
) -> Stack:
    """Start script in a new process group and wait until it serves the seed workflow."""
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
    except BaseException:
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
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile, or not ours to read
        # Fields after the parenthesised command: state, ppid, pgrp, ...
        state, _ppid, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if state != "Z":
            found.append(ProcessInfo(int(entry.name), int(pgrp), command.strip()[:200]))
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
    stack: Stack, grace: float = 30, keep: Callable[[ProcessInfo], bool] | None = None
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


@contextlib.contextmanager
def running_stack(
    script: Path,
    var_dir: Path,
    extra_env: dict[str, str] | None = None,
    timeout: float = 240,
    keep: Callable[[ProcessInfo], bool] | None = None,
) -> Iterator[Stack]:
    """A started stack for the duration of the block; stopped (and checked) at exit.

    A stack that cannot start makes the caller skip, except under CI=true, where it fails.
    ``keep`` is passed to ``stop_stack``.
    """
    try:
        stack = start_stack(script, var_dir, extra_env, timeout, keep)
    except StackError as error:
        unavailable(f"the stack failed to start:\n{error}")
    try:
        yield stack
    finally:
        stop_stack(stack, keep=keep)


def ui_env() -> dict[str, str]:
    """CUBE_UI_DIR for the shared stack, so it serves ChRIS_ui at / as `make run` can."""
    build = REPO_ROOT.parent / "shared" / "clients" / "chris_ui-v5" / "dist"
    return {"CUBE_UI_DIR": str(build)} if (build / "index.html").is_file() else {}


class _SharedEmbeddedStack:
    """One embedded stack for the whole session, shared by tests/e2e and tests/clients.

    Session fixtures of two conftests are separate fixtures, so each one acquires this and the
    last one to release it stops the stack.
    """

    def __init__(self) -> None:
        self.users = 0
        self.context: contextlib.ExitStack | None = None
        self.stack: Stack | None = None
        self.failure: BaseException | None = None

    def acquire(self, tmp_path_factory: pytest.TempPathFactory) -> Stack:
        if self.failure is not None:
            raise self.failure
        if self.stack is None:
            context = contextlib.ExitStack()
            try:
                plugins_dir = install_builtin_plugins(tmp_path_factory.mktemp("plugins"))
                self.stack = context.enter_context(
                    running_stack(
                        EMBEDDED_SCRIPT,
                        tmp_path_factory.mktemp("embedded-var"),
                        {"CUBE_PLUGINS_DIR": str(plugins_dir), **ui_env()},
                    )
                )
            except StackError as error:
                self.failure = error
                unavailable(str(error))
            except BaseException as error:  # skip/fail outcomes: repeat them for later users
                self.failure = error
                raise
            self.context = context
        self.users += 1
        return self.stack

    def release(self) -> None:
        self.users -= 1
        if self.users == 0 and self.context is not None:
            context, self.context, self.stack = self.context, None, None
            context.close()


shared_embedded_stack = _SharedEmbeddedStack()


def compute_credentials(var_dir: Path) -> tuple[str, str]:
    """The localcompute user and password a launcher created in var_dir/localcompute.env."""
    lines = (var_dir / "localcompute.env").read_text().splitlines()
    values = dict(line.split("=", 1) for line in lines)
    return values["LOCALCOMPUTE_USER"], values["LOCALCOMPUTE_PASSWORD"]


def attach_stack_log(item: pytest.Item, report: pytest.TestReport) -> None:
    """Add the tail of the shared stack's log to the report of a failed test that used it."""
    stack = shared_embedded_stack.stack
    if report.failed and stack is not None and "live_stack" in getattr(item, "fixturenames", ()):
        report.sections.append((f"{stack.script.name} log (tail)", stack.log_tail(80)))


@pytest.fixture(scope="session")
def live_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """API root URL (``http://127.0.0.1:<port>/api/v1/``) of the session's embedded stack.

    Import it into a conftest to use it; every importer shares the same stack.
    """
    stack = shared_embedded_stack.acquire(tmp_path_factory)
    try:
        yield stack.url
    finally:
        shared_embedded_stack.release()


@pytest.fixture(scope="session")
def live_stack_details(live_stack: str) -> Stack:
    """The session's embedded stack itself: its var dir, environment and log."""
    assert shared_embedded_stack.stack is not None
    return shared_embedded_stack.stack


@pytest.fixture(scope="session")
def live_compute_credentials(live_stack_details: Stack) -> tuple[str, str]:
    """(user, password) of the session stack's localcompute, random per var dir."""
    return compute_credentials(live_stack_details.var_dir)
