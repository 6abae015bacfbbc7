"""Running plugin jobs as local processes and tracking them across restarts.

Each job runs under ``launcher.py`` as the leader of its own process group; the launcher
records the exit status in ``key-<jid>/exit.json``. The runner keeps one row per job in the
JobStore with the launcher's pid and ``/proc`` start time, so after a restart it can tell a
job that still runs from one whose process vanished (``undefined``).
"""

import json
import logging
import math
import os
import shlex
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from . import cgroups, processes, staging
from .catalogue import InstalledPlugin
from .config import Settings
from .sandbox import JobPaths, make_sandbox, runtime_paths
from .store import JobRecord, JobStore, Kind, Status, job_name

logger = logging.getLogger(__name__)

LAUNCHER = Path(__file__).with_name("launcher.py")


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class PluginJobRequest:
    """A validated ``POST pluginjobs/`` body."""

    jid: str
    image: str
    entrypoint: list[str]
    type: str
    args: list[str] = field(default_factory=list)
    args_path_flags: list[str] = field(default_factory=list)
    env: list[str] = field(default_factory=list)
    auid: str = ""
    number_of_workers: int = 1
    cpu_limit: int = 1000
    memory_limit: int = 300
    gpu_limit: int = 0
    input_dirs: list[str] | None = None
    output_dir: str | None = None
    data_file: BinaryIO | None = None


def localize_path_args(args: list[str], path_flags: list[str], input_dir: str) -> list[str]:
    """Replace the value following each path flag by the job's input dir."""
    localized: list[str] = []
    replace_next = False
    for arg in args:
        if replace_next:
            localized.append(input_dir)
            replace_next = False
            continue
        localized.append(arg)
        replace_next = arg in path_flags
    return localized


def tail_lines(path: Path, count: int, max_bytes: int | None = None) -> str:
    """The last ``count`` lines of a possibly large text file, at most ``max_bytes`` of them
    (the start of the first line may then be cut)."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            position = f.tell()
            chunks: list[bytes] = []
            newlines = 0
            read = 0
            while position > 0 and newlines <= count:
                if max_bytes is not None and read > max_bytes:
                    break
                step = min(65536, position)
                position -= step
                f.seek(position)
                chunk = f.read(step)
                chunks.append(chunk)
                newlines += chunk.count(b"\n")
                read += len(chunk)
    except FileNotFoundError:
        return ""
    lines = b"".join(reversed(chunks)).splitlines(keepends=True)
    tail = b"".join(lines[-count:])
    if max_bytes is not None and len(tail) > max_bytes:
        tail = tail[-max_bytes:]
    return tail.decode("utf-8", errors="replace")


def job_cores(request: PluginJobRequest) -> int:
    """Whole cores of the job: its workers' ⌈cpu_limit / 1000⌉ (thread caps, CPU time)."""
    return max(1, math.ceil(request.cpu_limit / 1000)) * request.number_of_workers


def describe_exit(returncode: int | None, signum: int | None, oom_kills: int = 0) -> str:
    if oom_kills:
        if returncode is None:
            return "killed: out of memory"
        return f"exited with code {returncode} (out of memory)"
    if signum is not None:
        try:
            name = signal.Signals(signum).name
        except ValueError:
            name = str(signum)
        reason = {
            signal.SIGXCPU: " (cpu limit)",
            signal.SIGXFSZ: " (file size limit)",
            signal.SIGKILL: "",
        }.get(signum, "")
        return f"killed: {name}{reason}"
    return "exited" if returncode == 0 else f"exited with code {returncode}"


class PluginRunner:
    """Starts, observes and stops plugin processes; all state goes through the JobStore."""

    def __init__(self, settings: Settings, store: JobStore):
        self.settings = settings
        self.store = store
        self.sandbox = make_sandbox(settings.sandbox, settings.data_dir)
        self.cgroups = cgroups.detect(settings.cgroups, settings.cgroup_parent)
        self._processes: dict[int, subprocess.Popen] = {}
        self._processes_lock = threading.Lock()
        self._killing: set[str] = set()
        self._killing_lock = threading.Lock()

    def log_path(self, jid: str) -> Path:
        return self.settings.job_dir(jid) / "job.log"

    def exit_path(self, jid: str) -> Path:
        return self.settings.job_dir(jid) / "exit.json"

    def _rlimits(self, request: PluginJobRequest) -> dict[str, int | None]:
        settings = self.settings
        address_space = None
        if settings.memory_factor > 0 and request.memory_limit > 0:
            memory = request.memory_limit * request.number_of_workers
            mib = memory * settings.memory_factor + settings.memory_headroom_mib
            address_space = int(mib * 1024 * 1024)
        cpu = settings.max_cpu_seconds or settings.max_seconds * job_cores(request)
        fsize = settings.max_file_mib * 1024 * 1024 if settings.max_file_mib > 0 else None
        return {"RLIMIT_AS": address_space, "RLIMIT_CPU": cpu, "RLIMIT_FSIZE": fsize}

    def _memory_cap_mib(self, request: PluginJobRequest) -> int | None:
        """The job's cgroup memory cap: its workers' memory_limit plus the headroom."""
        if request.memory_limit <= 0:
            return None
        memory = request.memory_limit * request.number_of_workers
        return memory + self.settings.memory_headroom_mib

    def _cgroups(self, request: PluginJobRequest) -> dict | None:
        if self.cgroups is None:
            return None
        cap = self._memory_cap_mib(request)
        cpu = request.cpu_limit * request.number_of_workers if request.cpu_limit > 0 else None
        plan = self.cgroups.for_job(
            request.jid,
            memory_bytes=cap * 1024 * 1024 if cap else None,
            cpu_millicores=cpu,
            max_tasks=self.settings.max_tasks,
            # One core per worker while the plugin starts (an interpreter, its imports).
            start_millicores=1000 * request.number_of_workers,
            start_seconds=self.settings.cpu_start_seconds,
        )
        return plan.spec()

    def _notes(self, request: PluginJobRequest, rlimits: dict[str, int | None]) -> dict:
        """The job's limits in words, for the end of a failed job's log."""
        workers = request.number_of_workers
        memory = f"memory_limit {request.memory_limit} MiB"
        if workers > 1:
            memory += f" × {workers} workers"
        limits = []
        cap = self._memory_cap_mib(request)
        if self.cgroups is not None and cap:
            limits.append(
                f"memory {cap} MiB for the whole job ({memory} + "
                f"{self.settings.memory_headroom_mib} MiB headroom)"
            )
        if rlimits["RLIMIT_AS"]:
            limits.append(f"address space {rlimits['RLIMIT_AS'] >> 20} MiB per process")
        cpu = request.cpu_limit * workers
        if self.cgroups is not None and "cpu" in self.cgroups.parents:
            cores = cpu / 1000
            limit = f"CPU {cpu}m ({cores:g} core{'' if cores == 1 else 's'})"
            start = self.settings.cpu_start_seconds
            if start > 0 and cpu < 1000 * workers:
                limit += f" after its first {start:g} s"
            limits.append(limit)
        if self.cgroups is not None and "pids" in self.cgroups.parents:
            limits.append(f"{self.settings.max_tasks} processes and threads")
        notes = {"failed": f"the plugin failed; its limits: {', '.join(limits) or 'none'}"}
        if cap:
            notes["oom"] = (
                f"out of memory: the kernel killed the plugin when the job reached its memory "
                f"cap of {cap} MiB ({memory} + {self.settings.memory_headroom_mib} MiB headroom)"
            )
        return notes

    def prepare(
        self,
        request: PluginJobRequest,
        plugin: InstalledPlugin,
        job_env: dict[str, str],
        paths: JobPaths,
        *,
        output_dir: Path,
    ) -> JobRecord:
        """A queued job: its record, holding the launcher spec that ``start`` runs.

        ``paths`` are the job's folders on the host; the plugin's argv, environment and
        log name them as the sandbox shows them (``/share/incoming``, ``/share/outgoing``).
        """
        jid = request.jid
        view = self.sandbox.view(paths)
        argv = [str(plugin.executable)]
        argv += localize_path_args(request.args, request.args_path_flags, str(view.incoming))
        if request.type == "ds":
            argv.append(str(view.incoming))
        argv.append(str(view.outgoing))

        threads = str(job_cores(request))
        env = {
            **job_env,
            "PATH": f"{plugin.bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(view.scratch),
            "TMPDIR": str(view.scratch),
            "LANG": "C.UTF-8",
            # What a Python plugin prints reaches the job log (and CUBE's summary) at once.
            "PYTHONUNBUFFERED": "1",
            "OMP_NUM_THREADS": threads,
            "OPENBLAS_NUM_THREADS": threads,
            "MKL_NUM_THREADS": threads,
            "NUMEXPR_NUM_THREADS": threads,
        }
        rlimits = self._rlimits(request)
        spec = {
            "argv": self.sandbox.wrap(argv, paths, runtime_paths(plugin.executable)),
            "env": env,
            "cwd": str(paths.scratch),
            "rlimits": rlimits,
            "cgroups": self._cgroups(request),
            "notes": self._notes(request, rlimits),
            # bubblewrap reports a plugin killed by signal N as exit code 128 + N.
            "exit_codes_carry_signals": self.sandbox.name != "off",
        }
        return JobRecord(
            name=job_name(Kind.PLUGIN, jid),
            jid=jid,
            kind=Kind.PLUGIN,
            status=Status.NOT_STARTED,
            image=request.image,
            cmd=shlex.join(argv),
            message="waiting for a free slot",
            output_dir=str(output_dir),
            launch_spec=json.dumps(spec),
        )

    def start(self, record: JobRecord) -> JobRecord:
        """Run a queued job under the launcher, as the leader of its own process group."""
        jid = record.jid
        job_dir = self.settings.job_dir(jid)
        spec = {**json.loads(record.launch_spec), "exit_path": str(self.exit_path(jid))}
        self.exit_path(jid).unlink(missing_ok=True)
        if self.cgroups is not None:
            # Groups of an earlier run of this jid, whose launcher was killed.
            self.cgroups.kill_job(jid)
            self.cgroups.remove_job(jid)
        if self.sandbox.name == "off":
            logger.warning("job %s runs UNCONFINED (LOCALCOMPUTE_SANDBOX=off)", jid)
        with open(self.log_path(jid), "wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-I", str(LAUNCHER)],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=job_dir,
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                start_new_session=True,
                close_fds=True,
            )
        with self._processes_lock:
            self._processes[process.pid] = process
        changes = {
            "status": Status.STARTED,
            "message": "running",
            "started_at": now_iso(),
            "pid": process.pid,
            "pid_start": processes.start_time(process.pid),
            "launch_spec": "",
        }
        self.store.update(record.name, **changes)
        for key, value in changes.items():
            setattr(record, key, value)
        try:
            process.stdin.write(json.dumps(spec).encode())
            process.stdin.close()
        except BrokenPipeError:
            logger.error("job %s: the launcher exited before reading its spec", jid)
        logger.info("job %s started (%s sandbox): %s", jid, self.sandbox.name, record.cmd)
        return record

    def _read_exit(self, jid: str) -> dict | None:
        try:
            return json.loads(self.exit_path(jid).read_text())
        except FileNotFoundError:
            return None
        except ValueError:
            logger.error("unreadable exit record for %s", jid)
            return {"returncode": None, "signal": None}

    def refresh(self, record: JobRecord) -> JobRecord:
        """Bring a plugin job's status up to date with its process; collect its outputs
        once it has ended."""
        if record.status != Status.STARTED:
            return record
        outcome = self._read_exit(record.jid)
        if outcome is None and processes.is_running(record.pid, record.pid_start):
            self._enforce_deadline(record)
            return record
        if outcome is None:
            outcome = self._read_exit(record.jid)  # it may have exited in between
        changes: dict = {"finished_at": now_iso()}
        if outcome is not None:
            changes["finished_at"] = outcome.get("finished_at") or changes["finished_at"]
            returncode, signum = outcome.get("returncode"), outcome.get("signal")
            success = returncode == 0 and not record.stop_reason
            changes["status"] = (
                Status.FINISHED_SUCCESSFULLY if success else Status.FINISHED_WITH_ERROR
            )
            changes["message"] = record.stop_reason or describe_exit(
                returncode, signum, outcome.get("oom_kills") or 0
            )
        elif record.stop_reason:
            changes.update(status=Status.FINISHED_WITH_ERROR, message=record.stop_reason)
        else:
            changes.update(
                status=Status.UNDEFINED, message="the job's process vanished without an exit status"
            )
        if record.pid and processes.group_is_ours(record.pid, record.pid_start):
            # Leftovers of a launcher that died without reaping its plugin.
            if processes.group_alive(record.pid):
                self._kill_async(record)
        if outcome is None and self.cgroups is not None:
            # The launcher died before it could empty and remove the job's groups.
            self.cgroups.kill_job(record.jid)
            self.cgroups.remove_job(record.jid)
        self.forget_process(record.pid)
        # A job that vanished may still have processes writing; it is run again instead.
        if changes["status"] != Status.UNDEFINED:
            try:
                self._collect_outputs(record)
            except (OSError, staging.StagingError) as e:
                logger.exception("job %s: collecting the outputs failed", record.jid)
                changes.update(
                    status=Status.FINISHED_WITH_ERROR,
                    message=f"collecting the outputs failed: {e}",
                )
        self.store.update(record.name, **changes)
        for key, value in changes.items():
            setattr(record, key, value)
        logger.info("%s: %s (%s)", record.jid, record.status, record.message)
        return record

    def _collect_outputs(self, record: JobRecord) -> None:
        """Move what the plugin wrote into its output place, keeping only regular files and
        folders with sound names; what is dropped is said in the job log."""
        outgoing = self.settings.job_dir(record.jid) / "outgoing"
        dropped = staging.collect_outputs(outgoing, Path(record.output_dir))
        if dropped:
            with open(self.log_path(record.jid), "a", encoding="utf-8") as log:
                for line in dropped:
                    log.write(f"localcompute: dropped from the outputs: {line}\n")
            logger.warning("job %s: dropped %d output entries", record.jid, len(dropped))

    def _enforce_deadline(self, record: JobRecord) -> None:
        started = datetime.fromisoformat(record.started_at)
        elapsed = (datetime.now(UTC) - started).total_seconds()
        if elapsed > self.settings.max_seconds and not record.stop_reason:
            logger.warning("%s exceeded %ss; stopping it", record.jid, self.settings.max_seconds)
            record.stop_reason = "timeout"
            self.store.update(record.name, stop_reason="timeout")
            self._kill_async(record)

    def _kill_async(self, record: JobRecord) -> None:
        with self._killing_lock:
            if record.name in self._killing:
                return
            self._killing.add(record.name)

        def kill() -> None:
            try:
                self.kill(record)
            finally:
                with self._killing_lock:
                    self._killing.discard(record.name)

        threading.Thread(target=kill, name=f"kill-{record.jid}", daemon=True).start()

    def kill(self, record: JobRecord, *, grace: float | None = None) -> None:
        if not record.pid:
            return
        gone = processes.terminate_group(
            record.pid,
            record.pid_start,
            grace=self.settings.kill_grace_seconds if grace is None else grace,
            reap=self.reap,
        )
        if not gone:
            logger.error("process group %s of %s survived SIGKILL", record.pid, record.jid)

    def stop_all(self, reason: str, *, grace: float) -> list[JobRecord]:
        """Kill every active plugin job's process group at once and record the outcome.

        Each job ends ``finishedWithError`` with ``reason`` as its message (like a timeout).
        Safe to call from a process that did not launch the jobs (no children to reap).
        """
        for queued in self.store.with_status(Kind.PLUGIN, (Status.NOT_STARTED,)):
            self.store.update(
                queued.name,
                status=Status.FINISHED_WITH_ERROR,
                message=reason,
                finished_at=now_iso(),
                launch_spec="",
            )
        records = self.store.with_status(Kind.PLUGIN, (Status.STARTED,))
        for record in records:
            if not record.stop_reason:
                record.stop_reason = reason
                self.store.update(record.name, stop_reason=reason)
        killers = [
            threading.Thread(
                target=self.kill, args=(record,), kwargs={"grace": grace}, name=f"stop-{record.jid}"
            )
            for record in records
        ]
        for killer in killers:
            killer.start()
        for killer in killers:
            killer.join()
        stopped = []
        for record in records:
            current = self.store.get(record.name)
            if current is not None:
                stopped.append(self.refresh(current))
        return stopped

    def reap(self) -> None:
        with self._processes_lock:
            for pid, process in list(self._processes.items()):
                if process.poll() is not None:
                    del self._processes[pid]

    def forget_process(self, pid: int | None) -> None:
        if pid is None:
            return
        with self._processes_lock:
            process = self._processes.get(pid)
            if process is not None and process.poll() is not None:
                del self._processes[pid]
