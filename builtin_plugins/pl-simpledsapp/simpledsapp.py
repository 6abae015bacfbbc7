"""pl-simpledsapp: copies its input tree to its output, prefixing every file name."""

import json
import os
import shutil
import time
from argparse import ArgumentParser, Namespace
from datetime import UTC, datetime
from pathlib import Path

from chris_plugin import chris_plugin

__version__ = "2.1.3"

parser = ArgumentParser(description="A simple ChRIS ds app demo")
parser.add_argument(
    "-p", "--prefix", dest="prefix", type=str, default="", help="prefix for file names"
)
parser.add_argument(
    "--ignoreInputDir",
    dest="b_ignoreInputDir",
    action="store_true",
    help="if set, ignore the input dir completely",
)
parser.add_argument(
    "--sleepLength",
    dest="sleepLength",
    type=str,
    default="0",
    help="time to sleep before performing plugin action",
)
parser.add_argument(
    "--dummyInt", dest="dummyInt", type=int, default=1, help="dummy integer parameter"
)
parser.add_argument(
    "--dummyFloat", dest="dummyFloat", type=float, default=1.1, help="dummy float parameter"
)
parser.add_argument(
    "--pftelDB",
    dest="pftelDB",
    type=str,
    default="",
    help="an optional pftel telemetry logger, of form "
    "'<pftelURL>/api/v1/<object>/<collection>/<event>'",
)


@chris_plugin(parser=parser, title="Simple chris ds app", category="copy")
def main(options: Namespace, inputdir: Path, outputdir: Path) -> int:
    print(f"pl-simpledsapp {__version__}")
    seconds = float(options.sleepLength or 0)
    if seconds > 0:
        print(f"sleeping for {seconds}s")
        time.sleep(seconds)
    if options.b_ignoreInputDir:
        stamp = {"timestamp": datetime.now(UTC).isoformat()}
        (outputdir / "timestamp.json").write_text(json.dumps(stamp))
        print("input dir ignored; wrote timestamp.json")
        return 0
    copied = 0
    for root, _dirs, files in os.walk(inputdir):
        relative = Path(root).relative_to(inputdir)
        for name in files:
            source = Path(root) / name
            if source.is_symlink():
                continue
            target = outputdir / relative / f"{options.prefix}{name}"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
            copied += 1
    print(f"copied {copied} files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
