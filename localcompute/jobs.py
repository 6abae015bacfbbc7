"""The job manager: copy, plugin, upload and delete jobs with pfcon's semantics.

Plugin jobs run as local processes through ``runner.PluginRunner``; copy, upload and delete jobs
are file operations run on a small thread pool. Every job is a row in the JobStore, so the
manager can be restarted at any time: a plugin process outlives it and its recorded exit
status is picked up later, while a job whose process vanished without one turns
``undefined``.
"""

import logging
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import BinaryIO

from . import staging
from .catalogue import Catalogue, CatalogueError, InstalledPlugin
from .config import MAX_WORKERS, Settings
from .modes import Occupied, StorageMode
from .runner import PluginJobRequest, PluginRunner, now_iso, tail_lines
from .sandbox import JobPaths
from .store import JobRecord, JobStore, Kind, Status, job_name

logger = logging.getLogger(__name__)

JID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,199}")
ENV_KEY_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Variables a job may not set: they would change which code the plugin runs.
FORBIDDEN_ENV_KEYS = {
    "PATH",
    "HOME",
    "TMPDIR",
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "PYTHONUSERBASE",
    "PYTHONSAFEPATH",
}
# In a job's folder, beside incoming/: what its copy job downloaded (swift mode). The
# sandbox never sees it.
STAGED_INPUTS = "staged-inputs.json"
SERVER_VERSION = "6.0.6"  # the pfcon API level this service mirrors
MONITOR_INTERVAL_SECONDS = 0.5
# A copy or upload job that ends within this long answers its POST with its final status,
# which saves the client a round of polling; a longer one answers "started".
OPERATION_ANSWER_WAIT_SECONDS = 1.0
# LOCALCOMPUTE_STOP_JOBS_ON_EXIT: the SIGTERM -> SIGKILL grace at shutdown is kept short,
# since process managers (utils/scripts/supervise.py: 8 s) SIGKILL a server that takes
# longer to stop.
SHUTDOWN_KILL_GRACE_SECONDS = 2.0
SHUTDOWN_STOP_REASON = "stopped: localcompute shut down"


class JobError(Exception):
    """A request localcompute refuses; ``app.py`` answers it with its HTTP status."""

    def __init__(self, message: str | dict[str, str]):
        super().__init__(message)
        self.message = message


class InvalidRequest(JobError):
    """The request is malformed or asks for what localcompute does not offer."""


class JobNotFound(JobError):
    pass


class JobConflict(JobError):
    """The job's state, or its output folder, does not allow the request now."""


class CatalogueUnreadable(JobError):
    pass


def valid_jid(jid: str) -> bool:
    return bool(JID_PATTERN.fullmatch(jid)) and ".." not in jid


def parse_env(entries: list[str]) -> dict[str, str]:
    env: dict[str, str] = {}
    for entry in entries:
        key, separator, value = entry.partition("=")
        if not separator or not ENV_KEY_PATTERN.fullmatch(key):
            raise InvalidRequest('env: must be a list of "key=value" strings')
        if key in FORBIDDEN_ENV_KEYS or key.startswith("LD_"):
            raise InvalidRequest(f"env: {key} may not be set by a job")
        env[key] = value
    return env


class JobManager:
    """Runs and tracks jobs; the HTTP layer only translates requests into these calls."""

    def __init__(self, settings: Settings, *, mode: StorageMode):
        self.settings = settings
        self.mode = mode
        self.catalogue = Catalogue(settings.plugins_catalogue)
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.store = JobStore(settings.database_path)
        self.runner = PluginRunner(settings, self.store)
        self._jid_locks: dict[str, threading.Lock] = defaultdict(threading.Lock)
        self._jid_locks_lock = threading.Lock()
        self._admission_lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="localcompute-op")
        self._stopping = threading.Event()
        self._shutdown_lock = threading.Lock()
        self._jobs_stopped = False
        self._reconcile_operations()
        self._monitor = threading.Thread(
            target=self._monitor_loop, name="localcompute-monitor", daemon=True
        )
        self._monitor.start()

    # -- lifecycle -----------------------------------------------------------------------

    def close(self) -> None:
        self._stopping.set()
        self._monitor.join(timeout=5)
        self._pool.shutdown(wait=True)
        self.store.close()

    def stop_running_jobs(self) -> None:
        """Shutdown with LOCALCOMPUTE_STOP_JOBS_ON_EXIT: kill every running plugin job.

        Idempotent; a second caller waits for the first to finish.
        """
        with self._shutdown_lock:
            if self._jobs_stopped:
                return
            logger.info("shutting down: stopping the running plugin jobs")
            self._stopping.set()
            self._monitor.join(timeout=5)
            grace = min(self.settings.kill_grace_seconds, SHUTDOWN_KILL_GRACE_SECONDS)
            stopped = self.runner.stop_all(SHUTDOWN_STOP_REASON, grace=grace)
            self._jobs_stopped = True
        if stopped:
            logger.info("stopped %d running plugin job(s) on shutdown", len(stopped))

    def _reconcile_operations(self) -> None:
        """Operations run in threads of a previous process cannot still be running."""
        for record in self.store.with_status(None, Status.ACTIVE):
            if record.kind != Kind.PLUGIN:
                self.store.update(
                    record.name,
                    status=Status.UNDEFINED,
                    message="interrupted by a localcompute restart",
                    finished_at=now_iso(),
                )

    def _lock_for(self, jid: str) -> threading.Lock:
        with self._jid_locks_lock:
            return self._jid_locks[jid]

    # -- server info and responses ----------------------------------------------------------

    def server_info(self) -> dict:
        info = {
            "server_version": SERVER_VERSION,
            "pfcon_innetwork": self.mode.innetwork,
            "storage_env": self.mode.name,
            "requires_copy_job": self.mode.requires_copy_job,
            "requires_upload_job": self.mode.requires_upload_job,
            "container_env": "local",
            "compute_volume_type": "host",
        }
        if self.mode.name == "swift":
            info["swift_auth_url"] = self.settings.swift_auth_url
        return info

    def _compute(self, record: JobRecord, *, with_logs: bool) -> dict:
        logs = ""
        if with_logs:
            if record.kind == Kind.PLUGIN:
                logs = tail_lines(
                    self.runner.log_path(record.jid),
                    self.settings.logs_tail,
                    self.settings.logs_max_bytes,
                )
            else:
                logs = record.logs
        return {
            "jid": record.jid,
            "image": record.image,
            "cmd": record.cmd,
            "status": record.status,
            "message": record.message,
            "timestamp": record.finished_at or record.started_at,
            "logs": logs,
        }

    @staticmethod
    def _skipped(jid: str, message: str) -> dict:
        return {
            "jid": jid,
            "image": "",
            "cmd": "",
            "status": Status.FINISHED_SUCCESSFULLY,
            "message": message,
            "timestamp": "",
            "logs": "",
        }

    def get_job(self, kind: str, jid: str) -> dict:
        with self._lock_for(jid):
            record = self._current(kind, jid)
        if record is None:
            raise JobNotFound(f"Job {job_name(kind, jid)} not found.")
        if kind == Kind.DELETE and record.status == Status.FINISHED_SUCCESSFULLY:
            try:
                self.settings.job_dir(jid).rmdir()
            except FileNotFoundError:
                pass
            except OSError:
                logger.warning("job dir of %s is not empty after its delete job", jid)
        return self._compute(record, with_logs=True)

    def _current(self, kind: str, jid: str) -> JobRecord | None:
        record = self.store.get(job_name(kind, jid))
        if record is not None and kind == Kind.PLUGIN:
            record = self.runner.refresh(record)
        return record

    def _status_of(self, kind: str, jid: str) -> str | None:
        record = self._current(kind, jid)
        return record.status if record else None

    def _existing(self, kind: str, jid: str) -> dict | None:
        """pfcon's idempotency: a live or successful job answers for itself; a failed one
        is dropped so it can be scheduled again."""
        record = self._current(kind, jid)
        if record is None:
            return None
        if record.status in Status.RETRYABLE:
            self.store.delete(record.name)
            return None
        return self._compute(record, with_logs=True)

    # -- copy jobs ------------------------------------------------------------------------

    def submit_copy(self, jid: str, input_dirs: list[str], output_dir: str) -> dict:
        if not self.mode.requires_copy_job:
            return self._skipped(jid, "copySkipped")
        with self._lock_for(jid):
            existing = self._existing(Kind.COPY, jid)
            if existing is not None:
                return existing
            try:
                staging.storage_path(output_dir)
                for path in input_dirs:
                    staging.storage_path(path)
            except staging.StagingError as e:
                raise InvalidRequest(str(e)) from e
            job_dir = self.settings.job_dir(jid)
            incoming = job_dir / "incoming"
            shutil.rmtree(incoming, ignore_errors=True)
            incoming.mkdir(parents=True)
            description = f"copy {' '.join(input_dirs) or '(no inputs)'} -> {incoming}"
            record = self._new_operation(Kind.COPY, jid, description)

            def work(log: Callable[[str], None]) -> None:
                stager = self.mode.stager(log, record=job_dir / STAGED_INPUTS)
                count = stager.stage(input_dirs, incoming, output_dir)
                log(f"staged {count} files into {incoming}")

            return self._answer(record, self._run_operation(record, work))

    # -- upload jobs ----------------------------------------------------------------------

    def submit_upload(self, jid: str, job_output_path: str) -> dict:
        if not self.mode.requires_upload_job:
            return self._skipped(jid, "uploadSkipped")
        with self._lock_for(jid):
            status = self._status_of(Kind.PLUGIN, jid)
            if status is None:
                raise JobConflict(
                    "No plugin job found. A plugin job must complete before scheduling "
                    "an upload job.",
                )
            if status not in (Status.FINISHED_SUCCESSFULLY, Status.FINISHED_WITH_ERROR):
                raise JobConflict(
                    f"Plugin job has not completed yet (status: {status}). The plugin job "
                    "must finish before uploading.",
                )
            existing = self._existing(Kind.UPLOAD, jid)
            if existing is not None:
                return existing
            try:
                prefix = staging.storage_path(job_output_path)
            except staging.StagingError as e:
                raise InvalidRequest(f"job_output_path: {e}") from e
            job_dir = self.settings.job_dir(jid)
            outgoing = job_dir / "outgoing"
            record = self._new_operation(Kind.UPLOAD, jid, f"upload {outgoing} -> {prefix}")

            def work(log: Callable[[str], None]) -> None:
                outgoing.mkdir(parents=True, exist_ok=True)
                log(self.mode.upload(outgoing, prefix, record=job_dir / STAGED_INPUTS))

            return self._answer(record, self._run_operation(record, work))

    # -- delete jobs ----------------------------------------------------------------------

    def submit_delete(self, jid: str) -> dict:
        with self._lock_for(jid):
            job_dir = self.settings.job_dir(jid)
            if not job_dir.is_dir():
                return self._skipped(jid, "deleteSkipped")
            for kind in (Kind.COPY, Kind.PLUGIN, Kind.UPLOAD):
                status = self._status_of(kind, jid)
                if status in Status.ACTIVE:
                    raise JobConflict(
                        f"The {kind} job is still active (status: {status}). All jobs must "
                        "finish before scheduling a delete job.",
                    )
            existing = self._existing(Kind.DELETE, jid)
            if existing is not None:
                return existing
            record = self._new_operation(Kind.DELETE, jid, f"delete {job_dir}")

            def work(log: Callable[[str], None]) -> None:
                shutil.rmtree(job_dir)
                log(f"removed {job_dir}")

            self._run_operation(record, work)
            return self._compute(record, with_logs=False)

    # -- operations (copy/upload/delete) --------------------------------------------------

    def _new_operation(self, kind: str, jid: str, description: str) -> JobRecord:
        record = JobRecord(
            name=job_name(kind, jid),
            jid=jid,
            kind=kind,
            status=Status.NOT_STARTED,
            image="localcompute",
            cmd=description,
            message="created",
        )
        self.store.put(record)
        return record

    def _answer(self, record: JobRecord, running: Future) -> dict:
        """The new operation's status once it ended, or after a short wait."""
        try:
            running.result(timeout=OPERATION_ANSWER_WAIT_SECONDS)
        except FutureTimeout:
            pass
        return self._compute(self.store.get(record.name) or record, with_logs=False)

    def _run_operation(
        self, record: JobRecord, work: Callable[[Callable[[str], None]], None]
    ) -> Future:
        def run() -> None:
            lines: list[str] = []

            def log(line: str) -> None:
                lines.append(line)

            self.store.update(
                record.name, status=Status.STARTED, message="running", started_at=now_iso()
            )
            try:
                work(log)
            except (OSError, staging.StagingError) as e:
                logger.exception("%s failed", record.name)
                lines.append(f"error: {e}")
                status, message = Status.FINISHED_WITH_ERROR, "failed"
            else:
                status, message = Status.FINISHED_SUCCESSFULLY, "exited"
            self.store.update(
                record.name,
                status=status,
                message=message,
                finished_at=now_iso(),
                logs="\n".join(lines[-self.settings.logs_tail :]),
            )

        return self._pool.submit(self._guarded, record.name, run)

    def _guarded(self, name: str, run: Callable[[], None]) -> None:
        try:
            run()
        except Exception as e:
            # Unexpected errors (e.g. from the object storage client) still end the job.
            logger.exception("operation %s crashed", name)
            self.store.update(
                name,
                status=Status.FINISHED_WITH_ERROR,
                message="failed",
                finished_at=now_iso(),
                logs=f"error: {e}",
            )

    def remove_job(self, kind: str, jid: str) -> None:
        """DELETE <kind>jobs/<jid>/: forget the job; a running plugin is killed first."""
        with self._lock_for(jid):
            record = self.store.get(job_name(kind, jid))
            if record is None:
                return
            if kind == Kind.PLUGIN:
                record = self.runner.refresh(record)
                if record.status in Status.ACTIVE:
                    self.store.update(record.name, stop_reason="cancelled")
                    self.runner.kill(record)
                self.runner.forget_process(record.pid)
                self.runner.exit_path(jid).unlink(missing_ok=True)
            self.store.delete(record.name)

    # -- plugin jobs ----------------------------------------------------------------------

    def submit_plugin(self, request: PluginJobRequest) -> tuple[dict, dict]:
        if self.mode.innetwork and request.output_dir is None:
            raise InvalidRequest("output_dir: field is required")
        if not self.mode.innetwork and request.data_file is None:
            raise InvalidRequest("data_file: field is required")
        if not request.entrypoint:
            raise InvalidRequest("entrypoint: cannot be empty")
        env = parse_env(request.env)
        # A job runs once, with the resources of all its workers (Kubernetes would run
        # number_of_workers pods of the same command).
        if not 1 <= request.number_of_workers <= MAX_WORKERS:
            raise InvalidRequest(f"number_of_workers: must be between 1 and {MAX_WORKERS}")
        if request.gpu_limit > 0:
            raise InvalidRequest("gpu_limit: no GPUs are available on localcompute")
        plugin = self._installed_plugin(request)

        jid = request.jid
        with self._lock_for(jid):
            existing = self._existing(Kind.PLUGIN, jid)
            if existing is not None:
                return {}, existing
            if self.mode.requires_copy_job:
                copy_status = self._status_of(Kind.COPY, jid)
                if copy_status is None:
                    raise JobConflict(
                        "No copy job found. A copy job must complete successfully before "
                        "scheduling a plugin job.",
                    )
                if copy_status != Status.FINISHED_SUCCESSFULLY:
                    raise JobConflict(
                        f"Copy job has not completed successfully (status: {copy_status}). "
                        "Run the copy job first.",
                    )
            job_dir = self.settings.job_dir(jid)
            paths = JobPaths(
                incoming=job_dir / "incoming",
                outgoing=job_dir / "outgoing",
                scratch=job_dir / "tmp",
            )
            destination = self._output_destination(request.output_dir, paths.outgoing)
            data: dict = {}
            if not self.mode.innetwork:
                data = self._receive_zip(jid, request.data_file, paths.incoming)
            paths.incoming.mkdir(parents=True, exist_ok=True)
            # Fresh and empty, so the outputs are this run's alone.
            for folder in (paths.outgoing, paths.scratch):
                shutil.rmtree(folder, ignore_errors=True)
                folder.mkdir(parents=True)
            record = self.runner.prepare(request, plugin, env, paths, output_dir=destination)
            self.store.put(record)
            logger.info("job %s queued: %s", jid, record.cmd)
        self._admit()
        return data, self._compute(self.store.get(record.name) or record, with_logs=False)

    def _output_destination(self, output_dir: str | None, outgoing: Path) -> Path:
        """Where the outputs go once collected; refuses an output folder that isn't empty."""
        try:
            return self.mode.output_destination(output_dir, outgoing)
        except staging.StagingError as e:
            raise InvalidRequest(f"output_dir: {e}") from e
        except Occupied as e:
            raise JobConflict(f"output_dir: {e} is not empty") from e

    def _admit(self) -> None:
        """Start queued plugin jobs, oldest first, while fewer than max_jobs run."""
        with self._admission_lock:
            running = len(self.store.with_status(Kind.PLUGIN, (Status.STARTED,)))
            for queued in self.store.with_status(Kind.PLUGIN, (Status.NOT_STARTED,)):
                if running >= self.settings.max_jobs:
                    return
                lock = self._lock_for(queued.jid)
                # A request holding the lock may be deleting this job; try it next round.
                if not lock.acquire(blocking=False):
                    continue
                try:
                    current = self.store.get(queued.name)
                    if current is not None and current.status == Status.NOT_STARTED:
                        self.runner.start(current)
                        running += 1
                finally:
                    lock.release()

    def _installed_plugin(self, request: PluginJobRequest) -> InstalledPlugin:
        try:
            plugin = self.catalogue.find(request.image)
        except CatalogueError as e:
            logger.error("%s", e)
            raise CatalogueUnreadable("the plugin catalogue is unreadable") from e
        if plugin is None:
            raise InvalidRequest(f"image not installed locally: {request.image}")
        requested = os.path.basename(request.entrypoint[-1])
        if requested != plugin.selfexec:
            raise InvalidRequest(
                f"image not installed locally: {request.image} runs {plugin.selfexec!r}, "
                f"not {requested!r}",
            )
        if not os.access(plugin.executable, os.X_OK):
            raise InvalidRequest(f"image not installed locally: {plugin.executable} is missing")
        return plugin

    def _receive_zip(self, jid: str, data_file: BinaryIO, incoming: Path) -> dict:
        shutil.rmtree(incoming, ignore_errors=True)
        incoming.mkdir(parents=True)
        try:
            nfiles = staging.extract_zip(data_file, incoming)
        except staging.StagingError as e:
            shutil.rmtree(incoming, ignore_errors=True)
            raise InvalidRequest(str(e)) from e
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError) as e:
            shutil.rmtree(incoming, ignore_errors=True)
            raise InvalidRequest("data_file: Bad zip file") from e
        return {"jid": jid, "nfiles": nfiles, "timestamp": now_iso(), "path": str(incoming)}

    def _monitor_loop(self) -> None:
        while not self._stopping.wait(MONITOR_INTERVAL_SECONDS):
            try:
                self.runner.reap()
                for record in self.store.with_status(Kind.PLUGIN, (Status.STARTED,)):
                    lock = self._lock_for(record.jid)
                    # A request holding this job's lock (a kill in progress) must not
                    # delay the deadline checks of every other job.
                    if not lock.acquire(blocking=False):
                        continue
                    try:
                        current = self.store.get(record.name)
                        if current is not None:
                            self.runner.refresh(current)
                    finally:
                        lock.release()
                self._admit()
            except Exception:
                logger.exception("job monitor iteration failed")
                time.sleep(1)

    # -- outputs --------------------------------------------------------------------------

    def output_listing(self, jid: str, job_output_path: str) -> dict:
        try:
            prefix = staging.storage_path(job_output_path)
        except staging.StagingError as e:
            raise InvalidRequest(f"job_output_path: {e}") from e
        output = self.mode.outputs_folder(prefix, self.settings.job_dir(jid) / "outgoing")
        if not output.is_dir():
            raise JobNotFound(f"No output found for job {jid}.")
        return {"job_output_path": prefix, "rel_file_paths": staging.list_outputs(output)}

    def output_zip(self, jid: str) -> BinaryIO:
        outgoing = self.settings.job_dir(jid) / "outgoing"
        if not outgoing.is_dir():
            raise JobNotFound(f"No output found for job {jid}.")
        sink = tempfile.TemporaryFile(dir=self.settings.data_dir)
        staging.write_zip(outgoing, sink)
        sink.seek(0)
        return sink
