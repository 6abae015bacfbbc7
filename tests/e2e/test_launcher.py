"""utils/stack.py without a stack: what the bench samples and what it reports at a stop."""

import subprocess
import sys
import time
from pathlib import Path

import pytest

from utils.stack import Stack, StackError, marked_processes, stop_stack

SLEEP = "import time; time.sleep(60)"


def launched(tmp_path: Path, code: str) -> Stack:
    """A stand-in launcher in its own session, marked as a stack's processes are."""
    marker = f"test-{time.monotonic_ns()}"
    env = {"PATH": "/usr/bin:/bin", "CUBE_E2E_STACK": marker}
    process = subprocess.Popen(
        [sys.executable, "-c", code, "gunicorn", "cube.wsgi"], env=env, start_new_session=True
    )
    return Stack(
        script=Path("run-embedded.sh"),
        url="http://127.0.0.1:1/api/v1/",
        port=1,
        var_dir=tmp_path,
        log_path=tmp_path / "stack.log",
        process=process,
        marker=marker,
        env=env,
    )


def wait_for(condition, timeout: float = 10):
    deadline = time.monotonic() + timeout
    while not (found := condition()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return found


def test_web_worker_pids_are_the_gunicorn_masters_children(tmp_path):
    # The launcher here is the master: its two children are the workers, their child is not.
    master = (
        "import subprocess, sys, time\n"
        f"worker = [sys.executable, '-c', {SLEEP!r}, 'gunicorn', 'cube.wsgi']\n"
        f"other = [sys.executable, '-c', {SLEEP!r}, 'localcompute']\n"
        "kids = [subprocess.Popen(worker), subprocess.Popen(worker), subprocess.Popen(other)]\n"
        "time.sleep(60)\n"
    )
    stack = launched(tmp_path, master)
    try:
        workers = wait_for(lambda: len(stack.web_worker_pids()) == 2 and stack.web_worker_pids())
        assert workers and stack.process.pid not in workers
        assert len(marked_processes(stack.marker)) == 4
        assert stack.profile == "embedded"
        assert stack.storage_root == tmp_path / "storage"
    finally:
        stop_stack(stack, grace=5)  # the group's SIGTERM ends the children too
    assert marked_processes(stack.marker) == []


def test_a_process_that_escaped_the_group_is_killed_and_reported(tmp_path):
    escaper = (
        "import subprocess, sys, time\n"
        f"subprocess.Popen([sys.executable, '-c', {SLEEP!r}], start_new_session=True)\n"
        "time.sleep(60)\n"
    )
    stack = launched(tmp_path, escaper)
    assert wait_for(lambda: len(marked_processes(stack.marker)) == 2)
    with pytest.raises(StackError, match="ESCAPED"):
        stop_stack(stack, grace=5)
    assert marked_processes(stack.marker) == []
