"""A test-only fs "plugin" that localcompute runs through its catalogue.

Usage: testhelper --mode MODE [--seconds N] [--mebibytes N] outputdir
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", required=True)
    parser.add_argument("--seconds", type=float, default=0)
    parser.add_argument("--mebibytes", type=int, default=0)
    parser.add_argument("outputdir")
    options = parser.parse_args()
    output = Path(options.outputdir)
    output.mkdir(parents=True, exist_ok=True)
    mode = options.mode

    if mode == "sleep":
        time.sleep(options.seconds)
        (output / "done.txt").write_text("done\n")
    elif mode == "spawn":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
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
        block = bytearray(options.mebibytes * 1024 * 1024)
        (output / "allocated.txt").write_text(str(len(block)))
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
