"""pl-dircopy: the fs plugin CUBE uses to start a feed from existing storage paths.

The plugin itself only reports what it was asked for. The backend creates one link file
per ``--dir`` path in the new feed's output folder after the job succeeds.
"""

from argparse import ArgumentParser, Namespace
from importlib.metadata import version
from pathlib import Path

from chris_plugin import chris_plugin
from chris_plugin.types import Special

__version__ = version("pl-dircopy")

parser = ArgumentParser(description="A plugin fs app to copy one or more obj storage directories")
parser.add_argument(
    "--dir", dest="dir", type=Special.unextpath, required=True, help="directories to be copied"
)


@chris_plugin(
    parser=parser,
    title="A ChRIS fs app to copy obj storage directories",
    category="utility",
    min_cpu_limit="50m",
    max_cpu_limit="1000m",
)
def main(options: Namespace, outputdir: Path) -> int:
    print(f"pl-dircopy {__version__}")
    print(f"dir: {options.dir}")
    print(f"output dir: {outputdir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
