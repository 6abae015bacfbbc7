"""pl-simplefsapp: lists a directory into out.txt and creates one empty file per entry."""

import os
import time
from argparse import ArgumentParser, Namespace
from pathlib import Path

from chris_plugin import chris_plugin
from chris_plugin.types import Special

__version__ = "1.0.1"

parser = ArgumentParser(description="A simple ChRIS fs app demo")
parser.add_argument("--dir", dest="dir", type=Special.path, required=True, help="look up directory")
parser.add_argument(
    "--sleepLength",
    dest="sleepLength",
    type=int,
    default=0,
    help="time to sleep before performing plugin action",
)


@chris_plugin(parser=parser, title="Simple ChRIS fs app", category="copy")
def main(options: Namespace, outputdir: Path) -> int:
    print(f"pl-simplefsapp {__version__}")
    if options.sleepLength > 0:
        print(f"sleeping for {options.sleepLength}s")
        time.sleep(options.sleepLength)
    names: list[str] = []
    for directory in options.dir.split(","):
        names.extend(sorted(os.listdir(directory)))
    (outputdir / "out.txt").write_text("".join(f"{name}\n" for name in names))
    for name in names:
        (outputdir / name).touch()
    print(f"listed {len(names)} entries into {outputdir / 'out.txt'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
