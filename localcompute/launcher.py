"""Supervisor process for one plugin job; stdlib only, run as ``python -I launcher.py``.

localcompute starts this script as the leader of a new session, with stdout/stderr already
pointing at the job log, and writes a JSON spec on its stdin::

    {"argv": [...], "env": {...}, "cwd": "...", "exit_path": "...",
     "rlimits": {"RLIMIT_AS": bytes-or-null, "RLIMIT_CPU": seconds-or-null,
                 "RLIMIT_FSIZE": bytes-or-null},
     "cgroups": null-or-{"dirs": [...], "writes": [[path, value, optional], ...], "procs": [...],
                         "oom_events": [...], "peak": [...],
                         "settle": [[path, value], ...], "settle_after": seconds},
     "notes": {"oom": "...", "failed": "..."},
     "exit_codes_carry_signals": bool}

``argv`` is the plugin's command, usually wrapped in its sandbox (``sandbox.py``). The
launcher creates the job's control groups (``cgroups.py``) and writes their limits, forks;
the single-threaded child joins the groups, applies the rlimits and execs the command. A job
still running ``settle_after`` seconds later gets its own CPU quota (``settle``) in place of
the quota of its start; if that cannot be written the job is stopped. The launcher waits,
kills whatever the job left in its process group and its groups, removes the groups and
records the outcome in ``exit_path`` atomically, with the number of OOM kills. When the
plugin failed, the ``notes`` (its limits, in words) end the job log, so the user reading the
log tail learns why. A sandbox reports a plugin killed by signal N as exit code 128 + N
(``exit_codes_carry_signals``). Because the outcome is a file, a job keeps running and its
result is still collected when localcompute restarts. The spec travels over a pipe
so the job's environment (which holds user tokens) never touches the disk.
"""

import json
import os
import resource
import select
import signal
import sys
import time
from datetime import UTC, datetime

RLIMITS = {
    "RLIMIT_AS": resource.RLIMIT_AS,
    "RLIMIT_CPU": resource.RLIMIT_CPU,
    "RLIMIT_FSIZE": resource.RLIMIT_FSIZE,
}
# The hard CPU limit sits a little above the soft one so the plugin gets SIGXCPU first.
CPU_HARD_MARGIN_SECONDS = 10
# How localcompute stops a job (cancel, wall-clock cap, shutdown): no explanation needed.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGKILL, signal.SIGINT, signal.SIGHUP)


def _apply_limits(limits: dict) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for name, value in limits.items():
        if value is None:
            continue
        hard = value + CPU_HARD_MARGIN_SECONDS if name == "RLIMIT_CPU" else value
        resource.setrlimit(RLIMITS[name], (value, hard))


def _say(line: str) -> None:
    """A line in the job log, after whatever the plugin wrote."""
    print(f"localcompute: {line}", flush=True)


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)


def _setup_cgroups(plan: dict | None) -> dict | None:
    """Create the job's groups with their limits; None (and a line in the log) if that fails."""
    if not plan:
        return None
    try:
        for folder in plan["dirs"]:
            os.mkdir(folder)
        for path, value, optional in plan["writes"]:
            try:
                _write(path, value)
            except FileNotFoundError:
                if not optional:  # swap accounting or group OOM kills may be missing
                    raise
    except OSError as e:
        _say(f"no cgroup limits for this job ({e}); its rlimits still apply")
        _remove_cgroups(plan)
        return None
    return plan


def _join_cgroups(plan: dict | None) -> None:
    if not plan:
        return
    for procs in plan["procs"]:
        _write(procs, str(os.getpid()))


def _cgroup_members(plan: dict) -> set[int]:
    members: set[int] = set()
    for procs in plan["procs"]:
        try:
            with open(procs) as f:
                members.update(int(line) for line in f if line.strip())
        except OSError:
            pass
    return members


def _empty_cgroups(plan: dict | None) -> None:
    """SIGKILL every process still in the job's groups, wherever its session or group."""
    if not plan:
        return
    deadline = time.monotonic() + 5
    while (members := _cgroup_members(plan)) and time.monotonic() < deadline:
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.02)


def _read_counter(path: str, key: str) -> int:
    try:
        with open(path) as f:
            for line in f:
                name, _, value = line.partition(" ")
                if name == key:
                    return int(value)
    except (OSError, ValueError):
        pass
    return 0


def _read_number(path: str) -> int | None:
    try:
        with open(path) as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        return None


def _remove_cgroups(plan: dict) -> None:
    for folder in plan["dirs"]:
        # A group stays busy a moment after its last process is reaped.
        for _attempt in range(50):
            try:
                os.rmdir(folder)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.02)


def _run_child(spec: dict, cgroups: dict | None) -> None:
    try:
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDONLY)
        os.dup2(devnull, 0)
        os.close(devnull)
        _join_cgroups(cgroups)
        os.chdir(spec["cwd"])
        _apply_limits(spec["rlimits"])
        os.execve(spec["argv"][0], spec["argv"], spec["env"])
    except BaseException as e:  # the child must never return into the parent's code
        print(f"localcompute: cannot start {spec['argv'][0]}: {e}", file=sys.stderr, flush=True)
    os._exit(127)


def _ends_within(pid: int, seconds: float) -> bool:
    """Whether the child ends within ``seconds``; it is left to reap."""
    try:
        handle = os.pidfd_open(pid)
    except (AttributeError, OSError):  # before Linux 5.3
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
            time.sleep(0.01)
        return False
    try:
        return bool(select.select([handle], [], [], seconds)[0])
    finally:
        os.close(handle)


def _settle(pid: int, cgroups: dict | None) -> None:
    """Give a job that outlives its start its own CPU quota; stop it if that fails."""
    settle = (cgroups or {}).get("settle") or []
    if not settle or _ends_within(pid, cgroups["settle_after"]):
        return
    try:
        for path, value in settle:
            _write(path, value)
    except OSError as e:
        _say(f"cannot set the job's CPU limit ({e}): stopping it")
        os.kill(pid, signal.SIGKILL)


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


def _outcome(status: int, *, exit_codes_carry_signals: bool) -> dict:
    outcome: dict = {"finished_at": datetime.now(UTC).isoformat()}
    code = os.waitstatus_to_exitcode(status)
    if os.WIFSIGNALED(status):
        outcome.update(returncode=None, signal=os.WTERMSIG(status))
    elif exit_codes_carry_signals and 128 < code < 128 + signal.NSIG:
        outcome.update(returncode=None, signal=code - 128)
    else:
        outcome.update(returncode=code, signal=None)
    return outcome


def _explain(outcome: dict, notes: dict) -> None:
    """Say in the job log why a job failed, when its limits may be the reason."""
    if outcome["returncode"] == 0:
        return
    if outcome.get("oom_kills"):
        _say(notes.get("oom") or "out of memory: the kernel killed the plugin at its limit")
    elif outcome["signal"] == signal.SIGXCPU:
        _say("the plugin used up its CPU time (RLIMIT_CPU) and was stopped")
    elif outcome["signal"] in STOP_SIGNALS:
        return  # stopped from outside: cancelled, timed out or shut down
    if notes.get("failed"):
        _say(notes["failed"])


def _record(exit_path: str, outcome: dict) -> None:
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
    cgroups = _setup_cgroups(spec.get("cgroups"))
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        _run_child(spec, cgroups)
    _settle(pid, cgroups)
    _, status = os.waitpid(pid, 0)
    _kill_leftovers()
    _empty_cgroups(cgroups)
    outcome = _outcome(status, exit_codes_carry_signals=spec["exit_codes_carry_signals"])
    if cgroups:
        outcome["oom_kills"] = sum(_read_counter(p, "oom_kill") for p in cgroups["oom_events"])
        peaks = [peak for p in cgroups["peak"] if (peak := _read_number(p)) is not None]
        outcome["peak_memory_bytes"] = max(peaks) if peaks else None
        _remove_cgroups(cgroups)
    _explain(outcome, spec.get("notes") or {})
    _record(spec["exit_path"], outcome)


if __name__ == "__main__":
    main()
