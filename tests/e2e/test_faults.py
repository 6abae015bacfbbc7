"""The embedded stack under faults: a process killed mid-job is restarted and the job still
finishes; a stop signal ends every process the launcher started, plugin jobs included."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.api_user import User
from tests.e2e.stack import (
    EMBEDDED_SCRIPT,
    REPO_ROOT,
    Stack,
    install_builtin_plugins,
    marked_processes,
    running_stack,
)

pytestmark = pytest.mark.e2e

# Which of a stack's processes is which, by a piece of its command line.
PROCESS_COMMANDS = {
    "worker": "cube worker",
    "beat": "cube beat",
    "localcompute": "-m localcompute",
}
STOP_SECONDS = 10


def pids_of(stack: Stack, name: str) -> set[int]:
    needle = PROCESS_COMMANDS[name]
    return {info.pid for info in marked_processes(stack.marker) if needle in info.command}


def sandboxed_processes() -> list[int]:
    """Live plugin sandboxes on this machine (their environment is the job's alone)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv0 = (entry / "cmdline").read_bytes().split(b"\0")[0]
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if argv0.endswith(b"bwrap") and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.fixture(scope="module")
def plugins_dir(tmp_path_factory) -> Path:
    return install_builtin_plugins(tmp_path_factory.mktemp("plugins"))


@pytest.fixture(scope="module")
def stack(plugins_dir, tmp_path_factory) -> Stack:
    # A short claim: a job whose worker died is taken up again within seconds.
    env = {"CUBE_PLUGINS_DIR": str(plugins_dir), "CUBE_JOB_CLAIM_SECONDS": "3"}
    with running_stack(EMBEDDED_SCRIPT, tmp_path_factory.mktemp("faults-var"), env) as started:
        yield started


@pytest.fixture(scope="module")
def alice(stack) -> User:
    user = User(stack, "alice")
    assert user.upload("in/a.dcm", b"slice a\n").status_code == 201
    return user


@pytest.mark.parametrize("name", ["worker", "beat", "localcompute"])
def test_a_process_killed_mid_job_is_restarted_and_the_job_finishes(stack, alice, name):
    dircopy = alice.run("pl-dircopy", dir="alice/uploads/in")
    url = alice.start("pl-simpledsapp", previous_id=dircopy["id"], sleepLength="3")
    deadline = time.monotonic() + 30
    while alice.session.get(url, timeout=30).json()["status"] != "started":
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.1)
    killed = pids_of(stack, name)
    assert killed
    for pid in killed:
        os.kill(pid, signal.SIGKILL)

    started = time.monotonic()
    instance = alice.wait(url, timeout=90)
    assert instance["status"] == "finishedSuccessfully", instance
    assert time.monotonic() - started < 60
    assert list(alice.files(instance).values()) == [b"slice a\n"]
    restarted = pids_of(stack, name)
    assert restarted and not restarted & killed
    assert_consistent(stack)


def assert_consistent(stack: Stack) -> None:
    """Nothing lost or half-registered: the stack's database and storage agree."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check_consistency"],
        cwd=REPO_ROOT,
        env=stack.env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_stop_signal_ends_every_process_within_seconds(plugins_dir, tmp_path, signum):
    env = {"CUBE_PLUGINS_DIR": str(plugins_dir)}
    with running_stack(EMBEDDED_SCRIPT, tmp_path / "var", env) as stack:
        alice = User(stack, "alice")
        assert alice.upload("in/a.dcm", b"a").status_code == 201
        dircopy = alice.run("pl-dircopy", dir="alice/uploads/in")
        url = alice.start("pl-simpledsapp", previous_id=dircopy["id"], sleepLength="60")
        deadline = time.monotonic() + 30
        while not (sandboxes_before := set(sandboxed_processes())):
            assert time.monotonic() < deadline, alice.session.get(url, timeout=30).json()
            time.sleep(0.1)

        stopped_at = time.monotonic()
        os.killpg(stack.process.pid, signum)
        while marked_processes(stack.marker) or set(sandboxed_processes()) & sandboxes_before:
            assert time.monotonic() - stopped_at < STOP_SECONDS, marked_processes(stack.marker)
            time.sleep(0.1)
        stack.process.wait(timeout=5)
