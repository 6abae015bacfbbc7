"""A test-only fs "plugin" that localcompute runs through its catalogue.

Usage: testhelper --mode MODE [--seconds N] [--mebibytes N] [--processes N] outputdir
"""

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", required=True)
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--mebibytes", type=int, default=0)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("outputdir")
    options = parser.parse_args()
    output = Path(options.outputdir)
    output.mkdir(parents=True, exist_ok=True)
    mode = options.mode

    if mode == "sleep":
        time.sleep(options.seconds)
        (output / "done.txt").write_text("done\n")
    elif mode == "spawn":
        # The grandchild leaves the process group: only killing the whole sandbox ends it.
        child = subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True
        )
        pids = {"plugin": os.getpid(), "grandchild": child.pid, "group": os.getpgid(0)}
        (output / "pids.json.partial").write_text(json.dumps(pids))
        (output / "pids.json.partial").rename(output / "pids.json")
        time.sleep(600)
    elif mode == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        (output / "pids.json").write_text(json.dumps({"plugin": os.getpid()}))
        time.sleep(600)
    elif mode == "fail":
        for number in range(1500):
            print(f"line {number}")
        sys.stdout.flush()
        print("giving up", file=sys.stderr)
        return 3
    elif mode == "env":
        (output / "env.json").write_text(json.dumps(dict(os.environ)))
        (output / "cwd.txt").write_text(os.getcwd())
    elif mode == "limits":
        (output / "limits.txt").write_text(Path("/proc/self/limits").read_text())
    elif mode == "alloc":
        # Each of --processes processes fills --mebibytes of memory, all at the same time.
        children = []
        for _ in range(options.processes - 1):
            pid = os.fork()
            if pid == 0:
                children = None
                break
            children.append(pid)
        block = bytearray(options.mebibytes * 1024 * 1024)
        time.sleep(options.seconds)
        if children is None:
            os._exit(0)
        for child in children:
            _, status = os.waitpid(child, 0)
            if status:
                return 1
        (output / "allocated.txt").write_text(str(len(block)))
    elif mode == "spin":
        # Busy for --seconds of wall-clock time; the CPU time that got is the quota's mark.
        deadline = time.monotonic() + options.seconds
        while time.monotonic() < deadline:
            pass
        used = resource.getrusage(resource.RUSAGE_SELF)
        (output / "cpu.json").write_text(json.dumps({"cpu": used.ru_utime + used.ru_stime}))
    elif mode == "threads":
        # Start threads until the system refuses one.
        stop = threading.Event()
        started = 0
        try:
            while started < 10_000:
                threading.Thread(target=stop.wait, daemon=True).start()
                started += 1
        except RuntimeError:
            pass
        stop.set()
        (output / "threads.txt").write_text(str(started))
    elif mode == "progress":
        # A line now and then, never flushed: PYTHONUNBUFFERED must bring it to the log.
        for step in range(int(options.seconds * 10)):
            print(f"progress step {step}")
            time.sleep(0.1)
    elif mode == "links":
        (output / "real.txt").write_text("real\n")
        (output / "escape.chrislink").write_text("home/bob/private")
        os.symlink("/etc/passwd", output / "passwd")
        (output / "sub").mkdir()
        (output / "sub" / "nested.txt").write_text("nested\n")
    else:
        print(f"unknown mode {mode}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
