"""Process identity and process-group termination, based on /proc (Linux only).

A pid alone is not an identity: after a restart the pid of a finished job may belong to
another process. The pair (pid, start time in clock ticks since boot, field 22 of
``/proc/<pid>/stat``) is.
"""

import os
import signal
import time
from collections.abc import Callable


def read_stat(pid: int) -> tuple[str, int, int] | None:
    """(state, process group, start time) of ``pid``, or None when there is no such process."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            raw = f.read()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name may contain spaces and parentheses; the fields follow the last ')'.
    fields = raw.rsplit(b")", 1)[1].split()
    return fields[0].decode(), int(fields[2]), int(fields[19])


def start_time(pid: int) -> int | None:
    stat = read_stat(pid)
    return stat[2] if stat else None


def is_running(pid: int, started: int | None) -> bool:
    """True while ``pid`` is the same, not yet exited process that was recorded."""
    stat = read_stat(pid)
    if stat is None:
        return False
    state, _group, start = stat
    return state != "Z" and (started is None or start == started)


def group_is_ours(pid: int, started: int | None) -> bool:
    """True unless the leader's pid now belongs to an unrelated process.

    While any member of a process group lives, the kernel does not hand its id to a new
    process, so a missing leader still means the group (if any) is the job's.
    """
    stat = read_stat(pid)
    return stat is None or started is None or stat[2] == started


def group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def terminate_group(
    pgid: int,
    started: int | None,
    *,
    grace: float,
    reap: Callable[[], None] = lambda: None,
) -> bool:
    """SIGTERM the job's process group, SIGKILL it after ``grace`` seconds; True once gone.

    ``reap`` collects exited children of this process, which otherwise stay zombies and
    keep the group alive.
    """
    if not group_is_ours(pgid, started):
        return True
    _signal_group(pgid, signal.SIGTERM)
    if _wait_gone(pgid, grace, reap):
        return True
    _signal_group(pgid, signal.SIGKILL)
    return _wait_gone(pgid, 5.0, reap)


def _wait_gone(pgid: int, timeout: float, reap: Callable[[], None]) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        reap()
        if not group_alive(pgid) or _only_zombies(pgid):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def _only_zombies(pgid: int) -> bool:
    """True when every remaining member of the group has exited and waits to be reaped."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        stat = read_stat(int(entry))
        if stat and stat[1] == pgid and stat[0] != "Z":
            return False
    return True
