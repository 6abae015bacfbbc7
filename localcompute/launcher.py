"""Supervisor process for one plugin job; stdlib only, run as ``python -I launcher.py``.

localcompute starts this script as the leader of a new session, with stdout/stderr already
pointing at the job log, and writes a JSON spec on its stdin::

    {"argv": [...], "env": {...}, "cwd": "...", "exit_path": "...",
     "rlimits": {"RLIMIT_AS": bytes-or-null, "RLIMIT_CPU": seconds-or-null,
                 "RLIMIT_FSIZE": bytes-or-null},
     "exit_codes_carry_signals": bool}

``argv`` is the plugin's command, usually wrapped in its sandbox (``sandbox.py``). The
launcher forks, applies the resource limits in the single-threaded child and execs it, then
waits and records the outcome in ``exit_path`` atomically. A sandbox reports a plugin killed
by signal N as exit code 128 + N (``exit_codes_carry_signals``). Because the outcome is a
file, a job keeps running and its result is still collected when localcompute restarts.
The spec travels over a pipe so the job's environment (which holds user tokens) never
touches the disk.
"""

import json
import os
import resource
import signal
import sys
from datetime import UTC, datetime

RLIMITS = {
    "RLIMIT_AS": resource.RLIMIT_AS,
    "RLIMIT_CPU": resource.RLIMIT_CPU,
    "RLIMIT_FSIZE": resource.RLIMIT_FSIZE,
}
# The hard CPU limit sits a little above the soft one so the plugin gets SIGXCPU first.
CPU_HARD_MARGIN_SECONDS = 10


def _apply_limits(limits: dict) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for name, value in limits.items():
        if value is None:
            continue
        hard = value + CPU_HARD_MARGIN_SECONDS if name == "RLIMIT_CPU" else value
        resource.setrlimit(RLIMITS[name], (value, hard))


def _run_child(spec: dict) -> None:
    try:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        os.chdir(spec["cwd"])
        _apply_limits(spec["rlimits"])
        os.execve(spec["argv"][0], spec["argv"], spec["env"])
    except BaseException as e:  # the child must never return into the parent's code
        print(f"localcompute: cannot start {spec['argv'][0]}: {e}", file=sys.stderr, flush=True)
    os._exit(127)


def _kill_leftovers() -> None:
    """SIGKILL whatever the plugin left behind in this process group (not this process)."""
    own_pid, own_group = os.getpid(), os.getpgid(0)
    for _attempt in range(3):
        found = False
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == own_pid:
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    fields = f.read().rsplit(b")", 1)[1].split()
            except OSError:
                continue
            # After the command name: state, ppid, pgrp, ...
            if int(fields[2]) == own_group and fields[0] != b"Z":
                found = True
                try:
                    os.kill(int(entry), signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not found:
            return


def _record(exit_path: str, status: int, *, exit_codes_carry_signals: bool) -> None:
    outcome = {"finished_at": datetime.now(UTC).isoformat()}
    code = os.waitstatus_to_exitcode(status)
    if os.WIFSIGNALED(status):
        outcome.update(returncode=None, signal=os.WTERMSIG(status))
    elif exit_codes_carry_signals and 128 < code < 128 + signal.NSIG:
        outcome.update(returncode=None, signal=code - 128)
    else:
        outcome.update(returncode=code, signal=None)
    partial = f"{exit_path}.partial"
    with open(partial, "w") as f:
        json.dump(outcome, f)
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, exit_path)


def main() -> None:
    spec = json.loads(sys.stdin.buffer.read())
    # A TERM sent to the whole group stops the plugin; this process stays to record it.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _run_child(spec)
    _, status = os.waitpid(pid, 0)
    _kill_leftovers()
    _record(spec["exit_path"], status, exit_codes_carry_signals=spec["exit_codes_carry_signals"])


if __name__ == "__main__":
    main()
