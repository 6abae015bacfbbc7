"""How plugin processes are run, limited, stopped and recovered."""

import json
import os
import signal
import time

import pytest

from localcompute import cgroups
from tests.localcompute.support import (
    SERVER_SECRET,
    helper_form,
    job_processes,
    process_gone,
    wait_for_file,
)


def _start(server, jid: str, mode: str, *extra: str, **kwargs) -> dict:
    output_dir = f"home/alice/out-{jid}"
    server.copy(jid, [], output_dir)
    response = server.post(
        "pluginjobs/", helper_form(jid, mode, *extra, output_dir=output_dir, **kwargs)
    )
    assert response.status_code == 201, response.text
    return response.json()["compute"]


def _output(server, jid: str):
    """Where a finished job's outputs are: its output folder in storage."""
    return server.storebase / f"home/alice/out-{jid}"


def _running(server, jid: str) -> dict[str, list[int]]:
    """Wait until a "spawn" or "stubborn" job has written its pids file, then find its
    processes; while a job runs, its outputs exist only in its own outgoing folder."""
    wait_for_file(server.job_dir(jid) / "outgoing" / "pids.json")
    processes = job_processes(jid)
    assert processes["plugin"] and processes["sandbox"], processes
    return processes


def _all_gone(processes: dict[str, list[int]], timeout: float = 10) -> bool:
    return all(_wait_gone(pid, timeout) for pids in processes.values() for pid in pids)


def _wait_gone(pid: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while not process_gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_failure_reports_finished_with_error_and_the_log_tail(fslink):
    jid = "chris-jid-fail"
    _start(fslink, jid, "fail")
    compute = fslink.wait("pluginjobs", jid)
    assert compute["status"] == "finishedWithError"
    assert compute["message"] == "exited with code 3"
    lines = compute["logs"].splitlines()
    assert len(lines) == 1000
    # The plugin's last line, then localcompute's note of the job's limits.
    assert lines[-2] == "giving up"
    assert lines[-1].startswith("localcompute: the plugin failed; its limits: ")
    assert "line 1499" in lines
    assert "line 400" not in lines
    assert compute["timestamp"]


def test_success_has_iso_timestamp_and_exited_message(fslink):
    jid = "chris-jid-ok"
    posted = _start(fslink, jid, "sleep")
    assert posted["status"] == "started"
    compute = fslink.wait("pluginjobs", jid)
    assert compute["status"] == "finishedSuccessfully"
    assert compute["message"] == "exited"
    assert compute["timestamp"] >= posted["timestamp"]
    assert "T" in compute["timestamp"]


def test_cancel_kills_the_whole_process_group(fslink):
    jid = "chris-jid-cancel"
    _start(fslink, jid, "spawn")
    processes = _running(fslink, jid)
    assert processes["grandchild"]
    # It left the plugin's process group: a group kill alone would miss it.
    assert os.getpgid(processes["grandchild"][0]) != os.getpgid(processes["plugin"][0])
    assert fslink.get(f"pluginjobs/{jid}/").json()["compute"]["status"] == "started"
    assert os.getpgid(processes["plugin"][0]) != os.getpgid(0)

    assert fslink.delete(f"pluginjobs/{jid}/").status_code == 204
    assert _all_gone(processes)
    assert fslink.get(f"pluginjobs/{jid}/").status_code == 404


def test_cancel_stops_a_plugin_ignoring_sigterm(fslink):
    jid = "chris-jid-stubborn"
    _start(fslink, jid, "stubborn")
    processes = _running(fslink, jid)
    started = time.monotonic()
    assert fslink.delete(f"pluginjobs/{jid}/").status_code == 204
    assert _all_gone(processes)
    # SIGTERM ends the sandbox at once; the stubborn plugin dies with its namespace.
    assert time.monotonic() - started < 5


def test_wall_clock_cap_stops_a_job(localcompute_factory):
    server = localcompute_factory(LOCALCOMPUTE_MAX_SECONDS="2", LOCALCOMPUTE_KILL_GRACE_SECONDS="1")
    jid = "chris-jid-slow"
    _start(server, jid, "spawn")
    processes = _running(server, jid)
    compute = server.wait("pluginjobs", jid, timeout=20)
    assert compute["status"] == "finishedWithError"
    assert compute["message"] == "timeout"
    assert _all_gone(processes)


def test_restart_keeps_a_running_job_and_collects_its_exit(localcompute_factory):
    server = localcompute_factory()
    jid = "chris-jid-survivor"
    _start(server, jid, "sleep", "--seconds", "3")
    server.stop()
    server.start()
    assert server.get(f"pluginjobs/{jid}/").json()["compute"]["status"] == "started"
    compute = server.wait("pluginjobs", jid, timeout=20)
    assert compute["status"] == "finishedSuccessfully"
    assert (_output(server, jid) / "done.txt").exists()


def test_restart_reports_undefined_for_a_job_whose_process_vanished(localcompute_factory):
    server = localcompute_factory()
    jid = "chris-jid-lost"
    _start(server, jid, "spawn")
    processes = _running(server, jid)
    server.stop(signal.SIGKILL)
    # The machine "reboots": the job's processes disappear without an exit record.
    os.killpg(os.getpgid(processes["plugin"][0]), signal.SIGKILL)
    assert _all_gone(processes)
    server.start()
    compute = server.wait("pluginjobs", jid, timeout=10)
    assert compute["status"] == "undefined"
    # CUBE retries after undefined: a new POST schedules the job again.
    response = server.post(
        "pluginjobs/", helper_form(jid, "sleep", output_dir=f"home/alice/out-{jid}")
    )
    assert response.status_code == 201
    assert server.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"


def test_restart_marks_interrupted_operations_undefined(localcompute_factory):
    server = localcompute_factory()
    # A copy job recorded as running by a process that is gone.
    import sqlite3

    server.stop()
    with sqlite3.connect(server.data_dir / "state.sqlite3") as db:
        db.execute(
            "INSERT INTO jobs (name, jid, kind, status) VALUES (?, ?, 'copy', 'started')",
            ("chris-jid-halfcopy-copy", "chris-jid-halfcopy"),
        )
    server.start()
    assert server.get("copyjobs/chris-jid-halfcopy/").json()["compute"]["status"] == "undefined"


def test_plugin_environment_is_clean(fslink):
    jid = "chris-jid-env"
    _start(fslink, jid, "env", env=[f"CHRIS_JID={jid}", "CHRIS_USER_TOKEN=user-token"])
    assert fslink.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"
    env = json.loads((_output(fslink, jid) / "env.json").read_text())
    assert env["CHRIS_JID"] == jid
    assert env["CHRIS_USER_TOKEN"] == "user-token"
    dumped = json.dumps(env)
    for secret in (SERVER_SECRET, fslink.password, fslink.secret_key):
        assert secret not in dumped
    for leaked in (
        "LOCALCOMPUTE_USER",
        "LOCALCOMPUTE_PASSWORD",
        "LOCALCOMPUTE_SECRET_KEY",
        "LOCALCOMPUTE_TEST_SECRET",
        "SECRET_KEY",
        "PFCON_PASSWORD",
        "STOREBASE",
    ):
        assert leaked not in env
    # The sandbox's private /tmp, never a server path.
    assert env["HOME"] == "/tmp"
    assert env["TMPDIR"] == "/tmp"
    assert os.path.basename(env["PATH"].split(":")[0]).startswith("helper-bin")
    assert env["OMP_NUM_THREADS"] == "1"
    expected = {
        "CHRIS_JID",
        "CHRIS_USER_TOKEN",
        "PATH",
        "HOME",
        "TMPDIR",
        "LANG",
        "PYTHONUNBUFFERED",
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
    }
    # The interpreter may add LC_CTYPE when it coerces the C locale; bubblewrap sets PWD.
    assert set(env) - {"LC_CTYPE", "PWD"} == expected
    assert (_output(fslink, jid) / "cwd.txt").read_text() == "/tmp"


def _limit(limits_text: str, name: str) -> tuple[str, str]:
    for line in limits_text.splitlines():
        if line.startswith(name):
            soft, hard = line[len(name) :].split()[:2]
            return soft, hard
    raise AssertionError(f"{name} not in /proc/self/limits")


def test_rlimits_are_applied(fslink):
    jid = "chris-jid-limits"
    _start(fslink, jid, "limits", memory_limit=300)
    assert fslink.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"
    limits = (_output(fslink, jid) / "limits.txt").read_text()
    # memory_limit × 2 + 512 MiB of headroom for the interpreter
    assert _limit(limits, "Max address space") == (str((300 * 2 + 512) << 20),) * 2
    assert _limit(limits, "Max cpu time") == ("600", "610")
    assert _limit(limits, "Max file size") == (str(64 << 20),) * 2
    assert _limit(limits, "Max core file size") == ("0", "0")


def test_memory_limit_stops_an_oversized_allocation(fslink):
    jid = "chris-jid-alloc"
    _start(fslink, jid, "alloc", "--mebibytes", "1500", memory_limit=100)
    compute = fslink.wait("pluginjobs", jid)
    assert compute["status"] == "finishedWithError"
    assert "MemoryError" in compute["logs"]


def test_small_allocation_runs_under_the_memory_limit(fslink):
    jid = "chris-jid-alloc-ok"
    _start(fslink, jid, "alloc", "--mebibytes", "50", memory_limit=100)
    assert fslink.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"


def _job_cgroups():
    """This machine's per-job cgroups as localcompute finds them, or a skip."""
    found = cgroups.detect("auto")
    if found is None:
        pytest.skip("no writable cgroup hierarchy here: jobs have rlimits only")
    return found


def test_memory_cap_holds_the_whole_process_tree(fslink):
    """Three processes of 300 MiB each pass every per-process rlimit (1112 MiB of address
    space) but not the job's cgroup cap of 300 + 512 MiB: the kernel kills the job and
    the log says why."""
    _job_cgroups()
    jid = "chris-jid-oom"
    _start(
        fslink, jid, "alloc", "--mebibytes", "300", "--processes", "3", "--seconds", "2",
        memory_limit=300,
    )  # fmt: skip
    compute = fslink.wait("pluginjobs", jid, timeout=60)
    assert compute["status"] == "finishedWithError"
    assert "out of memory" in compute["message"]
    assert "localcompute: out of memory" in compute["logs"]
    assert "memory cap of 812 MiB (memory_limit 300 MiB + 512 MiB headroom)" in compute["logs"]
    assert not (_output(fslink, jid) / "allocated.txt").exists()
    # The launcher removed the job's groups.
    assert not any(folder.exists() for folder in _job_cgroups().job_dirs(jid))


def test_without_cgroups_jobs_keep_their_rlimits(localcompute_factory):
    """LOCALCOMPUTE_CGROUPS=off (or no writable hierarchy): per-process rlimits only."""
    server = localcompute_factory(LOCALCOMPUTE_CGROUPS="off")
    jid = "chris-jid-no-cgroups"
    _start(
        server, jid, "alloc", "--mebibytes", "300", "--processes", "3", memory_limit=300
    )  # fmt: skip
    assert server.wait("pluginjobs", jid, timeout=60)["status"] == "finishedSuccessfully"
    jid = "chris-jid-no-cgroups-big"
    _start(server, jid, "alloc", "--mebibytes", "1500", memory_limit=100)
    compute = server.wait("pluginjobs", jid)
    assert compute["status"] == "finishedWithError"
    assert "MemoryError" in compute["logs"]
    assert compute["logs"].strip().splitlines()[-1] == (
        "localcompute: the plugin failed; its limits: address space 712 MiB per process"
    )


def test_failed_job_log_ends_with_its_limits(fslink):
    jid = "chris-jid-limits-note"
    _start(fslink, jid, "alloc", "--mebibytes", "1500", memory_limit=100)
    compute = fslink.wait("pluginjobs", jid)
    assert compute["status"] == "finishedWithError"
    last = compute["logs"].strip().splitlines()[-1]
    assert last.startswith("localcompute: the plugin failed; its limits: ")
    assert "address space 712 MiB per process" in last


def _spin(server, jid: str, seconds: float, cpu_limit: int) -> float:
    """CPU seconds a job busy for ``seconds`` of wall-clock time got under ``cpu_limit``."""
    output_dir = f"home/alice/out-{jid}"
    server.copy(jid, [], output_dir)
    form = helper_form(jid, "spin", "--seconds", str(seconds), output_dir=output_dir)
    form["cpu_limit"] = cpu_limit
    assert server.post("pluginjobs/", form).status_code == 201
    assert server.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"
    return json.loads((_output(server, jid) / "cpu.json").read_text())["cpu"]


def test_cpu_limit_is_a_hard_quota(localcompute_factory):
    _job_cgroups()
    server = localcompute_factory(LOCALCOMPUTE_CPU_START_SECONDS="0")
    used = _spin(server, "chris-jid-spin", 2, cpu_limit=250)
    # A quarter of a core for 2 s; unthrottled it would be close to 2 s.
    assert used < 1.0, used


def test_a_job_starts_at_a_core_then_keeps_its_cpu_limit(fslink):
    """The first half second runs at one core, so an interpreter starts at full speed; the
    rest at the job's own 50m."""
    _job_cgroups()
    used = _spin(fslink, "chris-jid-start", 2, cpu_limit=50)
    # About 0.5 s at the start (less on a busy machine) and 1.5 s × 0.05 after it; 50m
    # throughout would give 0.1 s, no limit about 2 s.
    assert 0.15 < used < 1.0, used


def test_tasks_are_capped_per_job(localcompute_factory):
    _job_cgroups()
    server = localcompute_factory(LOCALCOMPUTE_MAX_TASKS="40")
    jid = "chris-jid-threads"
    # Room in the address space for 40 threads and their malloc arenas (64 MiB each).
    _start(server, jid, "threads", memory_limit=2000)
    assert server.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"
    started = int((_output(server, jid) / "threads.txt").read_text())
    # bubblewrap's two processes and the plugin's main thread count too.
    assert 30 < started < 40


def test_output_reaches_the_log_while_the_plugin_runs(fslink):
    """Nothing is flushed by the plugin: PYTHONUNBUFFERED brings each line to the log."""
    jid = "chris-jid-progress"
    _start(fslink, jid, "progress", "--seconds", "20")
    deadline = time.monotonic() + 15
    logs = ""
    while "progress step 3" not in logs and time.monotonic() < deadline:
        compute = fslink.get(f"pluginjobs/{jid}/").json()["compute"]
        assert compute["status"] == "started"
        logs = compute["logs"]
        time.sleep(0.2)
    assert "progress step 3" in logs
    assert fslink.delete(f"pluginjobs/{jid}/").status_code == 204


def _group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes of a process group."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and not process_gone(int(entry)):
            try:
                if os.getpgid(int(entry)) == pgid:
                    members.append(int(entry))
            except ProcessLookupError:
                pass
    return members


def _wait_group_gone(pgid: int, timeout: float) -> list[int]:
    deadline = time.monotonic() + timeout
    while (members := _group_members(pgid)) and time.monotonic() < deadline:
        time.sleep(0.05)
    return members


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_stop_jobs_on_exit_kills_every_job_group_when_the_server_stops(
    localcompute_factory, signum
):
    server = localcompute_factory(LOCALCOMPUTE_STOP_JOBS_ON_EXIT="true")
    groups = {}
    for jid, mode in (("chris-jid-exit-spawn", "spawn"), ("chris-jid-exit-stubborn", "stubborn")):
        _start(server, jid, mode)
        groups[jid] = os.getpgid(_running(server, jid)["plugin"][0])
        assert server.get(f"pluginjobs/{jid}/").json()["compute"]["status"] == "started"

    stopped_at = time.monotonic()
    server.stop(signum)
    # Both groups go together, well within the supervisor's SIGKILL deadline.
    for group in groups.values():
        assert _wait_group_gone(group, timeout=5 - (time.monotonic() - stopped_at)) == []
    assert time.monotonic() - stopped_at < 5

    server.start()
    for jid in groups:
        compute = server.get(f"pluginjobs/{jid}/").json()["compute"]
        assert compute["status"] == "finishedWithError"
        assert compute["message"] == "stopped: localcompute shut down"


def test_jobs_survive_the_server_stopping_without_stop_jobs_on_exit(localcompute_factory):
    server = localcompute_factory(LOCALCOMPUTE_STOP_JOBS_ON_EXIT="false")
    jid = "chris-jid-exit-kept"
    _start(server, jid, "spawn")
    processes = _running(server, jid)
    server.stop()
    time.sleep(1)
    assert not any(process_gone(pid) for pids in processes.values() for pid in pids)
    server.start()
    assert server.get(f"pluginjobs/{jid}/").json()["compute"]["status"] == "started"
    assert server.delete(f"pluginjobs/{jid}/").status_code == 204
    assert _all_gone(processes)
