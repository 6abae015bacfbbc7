"""A hostile ds "plugin" for the confinement tests: it tries to leave its sandbox.

Usage: escapeprobe --targets PATH[,PATH...] --ports PORT[,PORT...] inputdir outputdir

It tries to read the host's /etc and every target (another user's storage, the server's
database, its plugin runtime), to write to each target, to its inputs and to its own
executable, to reach the given loopback ports and the internet, and to see other processes.
Every attempt and its outcome goes to ``report.json`` in the output folder: "denied: ..."
when it failed, "ALLOWED" when it worked.
"""

import argparse
import json
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path


def attempt(action: Callable[[], object]) -> str:
    try:
        action()
    except Exception as error:
        return f"denied: {type(error).__name__}: {error}"
    return "ALLOWED"


def read_tree(path: str) -> None:
    if os.path.isdir(path):
        if not os.listdir(path):
            raise FileNotFoundError(f"{path} is an empty folder")
        for root, _dirs, files in os.walk(path):
            for name in files:
                Path(root, name).read_bytes()
    else:
        Path(path).read_bytes()


def write_into(path: str) -> None:
    target = Path(path) / "written-by-escapeprobe" if os.path.isdir(path) else Path(path)
    with open(target, "ab") as f:
        f.write(b"escapeprobe was here\n")


def connect(host: str, port: int) -> None:
    socket.create_connection((host, port), timeout=2).close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--targets", default="")
    parser.add_argument("--ports", default="")
    parser.add_argument("inputdir")
    parser.add_argument("outputdir")
    options = parser.parse_args()
    targets = [item for item in options.targets.split(",") if item]
    ports = [int(item) for item in options.ports.split(",") if item]

    report: dict[str, str] = {
        "read /etc/shadow": attempt(lambda: Path("/etc/shadow").read_bytes()),
        "read /etc/hostname": attempt(lambda: Path("/etc/hostname").read_bytes()),
        "read /root": attempt(lambda: read_tree("/root/.bash_history")),
        "write the inputs": attempt(lambda: write_into(options.inputdir)),
        "write the plugin executable": attempt(lambda: write_into(sys.argv[0])),
        "write the interpreter": attempt(lambda: write_into(sys.executable)),
        "write above the output": attempt(
            lambda: write_into(os.path.join(options.outputdir, "..", "..", "escaped"))
        ),
        "reach the internet": attempt(lambda: connect("1.1.1.1", 53)),
    }
    for target in targets:
        report[f"read {target}"] = attempt(lambda target=target: read_tree(target))
        report[f"write {target}"] = attempt(lambda target=target: write_into(target))
    for port in ports:
        report[f"connect 127.0.0.1:{port}"] = attempt(lambda port=port: connect("127.0.0.1", port))
    processes = [entry for entry in os.listdir("/proc") if entry.isdigit()]
    report["processes seen"] = str(len(processes))
    report["etc"] = ",".join(sorted(os.listdir("/etc")))
    Path(options.outputdir, "report.json").write_text(json.dumps(report, indent=1))
    # Things a plugin may write that must never enter storage.
    Path(options.outputdir, "escape.chrislink").write_text("bobby/uploads")
    os.symlink("/etc/passwd", os.path.join(options.outputdir, "passwd"))
    Path(options.outputdir, "bad\nname.txt").write_text("control character")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
