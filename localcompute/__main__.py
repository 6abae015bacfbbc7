"""``python -m localcompute``: serve the API with gunicorn (one worker process, threads).

A single worker process is required: it owns the launched job processes and the
monitor thread. Concurrency comes from threads (LOCALCOMPUTE_THREADS).
"""

import logging
import signal
import sys
import threading

from gunicorn.app.base import BaseApplication

from . import cgroups
from .config import ConfigError, Settings
from .sandbox import SandboxError, make_sandbox

logger = logging.getLogger("localcompute")


class LocalComputeServer(BaseApplication):
    def __init__(self, settings: Settings):
        self.settings = settings
        self.manager = None  # the worker's JobManager, set by load()
        super().__init__()

    def load_config(self) -> None:
        self.cfg.set("bind", f"{self.settings.host}:{self.settings.port}")
        self.cfg.set("workers", 1)
        self.cfg.set("worker_class", "gthread")
        self.cfg.set("threads", self.settings.threads)
        # Zip uploads and downloads can take long; gthread workers heartbeat independently.
        self.cfg.set("timeout", 300)
        self.cfg.set("graceful_timeout", 15)
        self.cfg.set("accesslog", "-")
        self.cfg.set("proc_name", "localcompute")
        # Several instances (tests, dev stacks) must not fight over one control socket.
        self.cfg.set("control_socket_disable", True)
        if self.settings.stop_jobs_on_exit:
            self.cfg.set("post_worker_init", self._stop_jobs_on_sigterm)
            self.cfg.set("worker_exit", self._stop_jobs_at_worker_exit)
            self.cfg.set("on_exit", self._stop_jobs_at_server_exit)

    def load(self):
        from .app import create_app

        app = create_app(self.settings)
        self.manager = app.extensions["localcompute"]
        return app

    # -- LOCALCOMPUTE_STOP_JOBS_ON_EXIT --------------------------------------------------
    # The worker owns the job processes, so it stops them. It starts as soon as it is told
    # to stop (SIGTERM makes gunicorn first drain open connections, which can take seconds)
    # and finishes before it exits (SIGQUIT, from a SIGINT to the arbiter, exits at once).
    # The arbiter sweeps once more after its worker is gone, in case the worker was killed.

    def _stop_jobs_on_sigterm(self, worker) -> None:
        graceful_exit = signal.getsignal(signal.SIGTERM)

        def handle_term(signum, frame):
            if callable(graceful_exit):
                graceful_exit(signum, frame)
            if self.manager is not None:
                threading.Thread(
                    target=self.manager.stop_running_jobs, name="stop-jobs", daemon=True
                ).start()

        signal.signal(signal.SIGTERM, handle_term)
        signal.siginterrupt(signal.SIGTERM, False)

    def _stop_jobs_at_worker_exit(self, server, worker) -> None:
        if self.manager is not None:
            self.manager.stop_running_jobs()

    def _stop_jobs_at_server_exit(self, server) -> None:
        from .jobs import SHUTDOWN_KILL_GRACE_SECONDS, SHUTDOWN_STOP_REASON
        from .runner import PluginRunner
        from .store import JobStore

        try:
            store = JobStore(self.settings.database_path)
            try:
                grace = min(self.settings.kill_grace_seconds, SHUTDOWN_KILL_GRACE_SECONDS)
                runner = PluginRunner(self.settings, store)
                stopped = runner.stop_all(SHUTDOWN_STOP_REASON, grace=grace)
            finally:
                store.close()
        except Exception:
            logger.exception("could not stop the remaining plugin jobs")
            return
        if stopped:
            logger.warning("stopped %d plugin job(s) left by the worker", len(stopped))


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env()
    except ConfigError as e:
        print(f"localcompute: {e}", file=sys.stderr)
        raise SystemExit(2) from e
    # No sandbox, no job: refuse to serve rather than run plugins unconfined by accident.
    try:
        make_sandbox(settings.sandbox, settings.data_dir).check()
    except SandboxError as e:
        print(f"localcompute: {e}", file=sys.stderr)
        raise SystemExit(2) from e
    try:
        groups = cgroups.detect(settings.cgroups, settings.cgroup_parent)
    except cgroups.CgroupError as e:
        print(f"localcompute: {e}", file=sys.stderr)
        raise SystemExit(2) from e
    logging.getLogger("localcompute").info(
        "localcompute on %s:%s, STORAGE_ENV=%s, STOREBASE=%s, data in %s, catalogue %s, "
        "sandbox %s, job limits by %s, at most %d jobs at once",
        settings.host,
        settings.port,
        settings.storage_env,
        settings.storebase,
        settings.data_dir,
        settings.plugins_catalogue,
        settings.sandbox,
        groups.describe() + " and rlimits" if groups else "rlimits only",
        settings.max_jobs,
    )
    LocalComputeServer(settings).run()


if __name__ == "__main__":
    main()
