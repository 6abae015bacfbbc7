"""``python -m localcompute``: serve the API with gunicorn (one worker process, threads).

A single worker process is required: it owns the launched job processes and the
monitor thread. Concurrency comes from threads (LOCALCOMPUTE_THREADS).
"""

import logging
import sys

from gunicorn.app.base import BaseApplication

from .config import ConfigError, Settings


class LocalComputeServer(BaseApplication):
    def __init__(self, settings: Settings):
        self.settings = settings
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

    def load(self):
        from .app import create_app

        return create_app(self.settings)


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        settings = Settings.from_env()
    except ConfigError as e:
        print(f"localcompute: {e}", file=sys.stderr)
        raise SystemExit(2) from e
    logging.getLogger("localcompute").info(
        "localcompute on %s:%s, STORAGE_ENV=%s, STOREBASE=%s, data in %s, catalogue %s",
        settings.host,
        settings.port,
        settings.storage_env,
        settings.storebase,
        settings.data_dir,
        settings.plugins_catalogue,
    )
    LocalComputeServer(settings).run()


if __name__ == "__main__":
    main()
