"""Run the processes of a Procfile in the foreground, restart any that crashes, and stop
them all, with everything they started, on SIGINT, SIGTERM or SIGHUP.

    python utils/scripts/supervise.py PROCFILE [NAME ...]

Each process runs in its own process group, so a stop reaches its children too (a Celery
pool, gunicorn workers): SIGTERM to every group at once, SIGKILL to whatever is left after
STOP_GRACE_SECONDS. A process that exits while the stack runs is started again after a short
backoff; one that exits by itself within STARTUP_SECONDS of its first start is a configuration
error, and stops the whole stack with its exit status. Output lines are prefixed with the time and
the process name.
"""

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime

STOP_GRACE_SECONDS = 8.0
STARTUP_SECONDS = 5.0
MAX_BACKOFF_SECONDS = 30.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@dataclass
class Process:
    name: str
    command: str
    popen: subprocess.Popen | None = None
    started_at: float = 0.0
    starts: int = 0
    backoff: float = 1.0
    restart_at: float | None = None
    pumps: list[threading.Thread] = field(default_factory=list)


def read_procfile(path: str) -> list[Process]:
    processes = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, command = line.partition(":")
            processes.append(Process(name.strip(), command.strip()))
    return processes


class Supervisor:
    def __init__(self, processes: list[Process]):
        self.processes = processes
        self.width = max(len(process.name) for process in processes)
        self.output_lock = threading.Lock()
        self.stop_requested: int | None = None
        self.exit_status = 0

    def say(self, name: str, text: str) -> None:
        stamp = datetime.now().strftime("%H:%M:%S")
        with self.output_lock:
            sys.stdout.write(f"{stamp} {name.ljust(self.width)} | {text}\n")
            sys.stdout.flush()

    def start(self, process: Process) -> None:
        process.popen = subprocess.Popen(
            ["bash", "-c", process.command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        process.started_at = time.monotonic()
        process.starts += 1
        process.restart_at = None
        pump = threading.Thread(target=self.pump, args=(process, process.popen), daemon=True)
        pump.start()
        process.pumps.append(pump)
        self.say("system", f"{process.name} started (pid {process.popen.pid})")

    def pump(self, process: Process, popen: subprocess.Popen) -> None:
        for raw in popen.stdout:
            self.say(process.name, raw.decode(errors="replace").rstrip("\n"))

    def run(self) -> int:
        for signum in STOP_SIGNALS:
            signal.signal(signum, self.request_stop)
        for process in self.processes:
            self.start(process)
        while self.stop_requested is None:
            self.check_processes()
            time.sleep(0.2)
        self.stop_all()
        return self.exit_status

    def request_stop(self, signum, frame) -> None:
        if self.stop_requested is None:
            self.stop_requested = signum
            self.exit_status = 128 + signum if signum != signal.SIGINT else 0

    def check_processes(self) -> None:
        now = time.monotonic()
        for process in self.processes:
            if process.restart_at is not None:
                if now >= process.restart_at:
                    self.start(process)
                continue
            status = process.popen.poll()
            if status is None:
                continue
            uptime = now - process.started_at
            self.kill_group(process, signal.SIGKILL)  # leftovers of the crashed process
            # Exiting by itself right at start is a configuration error; a process killed by
            # a signal (negative status) is restarted whenever it dies.
            if process.starts == 1 and uptime < STARTUP_SECONDS and status >= 0:
                self.say("system", f"{process.name} exited with {status} at start: stopping")
                self.exit_status = status or 1
                self.stop_requested = signal.SIGTERM
                return
            if uptime > 60:
                process.backoff = 1.0
            self.say(
                "system",
                f"{process.name} exited with {status}; restarting in {process.backoff:.0f}s",
            )
            process.restart_at = now + process.backoff
            process.backoff = min(process.backoff * 2, MAX_BACKOFF_SECONDS)

    def kill_group(self, process: Process, signum: int) -> None:
        if process.popen is None:
            return
        try:
            os.killpg(process.popen.pid, signum)
        except ProcessLookupError:
            pass

    def stop_all(self) -> None:
        self.say("system", "stopping every process")
        running = [process for process in self.processes if process.restart_at is None]
        for process in running:
            self.kill_group(process, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for process in running:
            try:
                process.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.say("system", f"{process.name} ignored SIGTERM: killing it")
        # A group outlives its leader when a child ignores SIGTERM: kill every group.
        for process in running:
            self.kill_group(process, signal.SIGKILL)
            process.popen.wait()
        for process in running:
            for pump in process.pumps:
                pump.join(timeout=1)
        self.say("system", "stopped")


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    processes = read_procfile(sys.argv[1])
    wanted = sys.argv[2:]
    if wanted:
        unknown = set(wanted) - {process.name for process in processes}
        if unknown:
            print(f"supervise: no such process in {sys.argv[1]}: {sorted(unknown)}")
            return 2
        processes = [process for process in processes if process.name in wanted]
    return Supervisor(processes).run()


if __name__ == "__main__":
    sys.exit(main())
