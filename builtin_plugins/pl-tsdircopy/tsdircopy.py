"""pl-tsdircopy: the ts plugin chrs runs to add uploaded files to an existing feed.

Like pl-dircopy, the plugin only reports what it was asked for. After the job succeeds the
backend copies the ``--dir`` paths into the output folder and, because it is a ts plugin,
the filtered outputs of the instances named in ``--plugininstances``.
"""

import sys
from argparse import ArgumentParser, Namespace
from pathlib import Path

from chris_plugin import chris_plugin
from chris_plugin.types import Special

__version__ = "1.2.1"

parser = ArgumentParser(
    description="A plugin ts app to efficiently copy one or more obj storage directories"
)
parser.add_argument(
    "--plugininstances",
    dest="plugininstances",
    type=str,
    default="",
    help="string representing a comma-separated list of plugin instance ids",
)
parser.add_argument(
    "-f",
    "--filter",
    dest="filter",
    type=str,
    default="",
    help="string representing a comma-separated list of regular expressions to filter each "
    "of the input plugin instances' output dirs",
)
parser.add_argument(
    "-g",
    "--groupByInstance",
    dest="groupByInstance",
    action="store_true",
    help="if set then an output directory is created for each input plugin instance within "
    "this plugin app's output path",
)
parser.add_argument(
    "--dir", dest="dir", type=Special.unextpath, required=True, help="directories to be copied"
)


@chris_plugin(
    parser=parser,
    plugin_type="ts",
    title="A ChRIS ts app to efficiently copy one or more obj storage directories",
    category="utility",
    min_cpu_limit="1000m",
    min_memory_limit="200Mi",
)
def main(options: Namespace, inputdir: Path, outputdir: Path) -> int:
    print(f"pl-tsdircopy {__version__}")
    print(f"dir: {options.dir}")
    print(f"plugininstances: {options.plugininstances!r}")
    print(f"output dir: {outputdir}")
    return 0


def cli() -> int:
    """Console entry point accepting ``[options] outputdir`` as well as ``inputdir outputdir``.

    Compute services pass a ts plugin only its output dir, while the decorator expects two
    positional dirs; a lone positional is used for both.
    """
    argv = sys.argv[1:]
    _, rest = parser.parse_known_args(argv)
    positionals = [arg for arg in rest if not arg.startswith("-")]
    if len(positionals) == 1:
        sys.argv = [sys.argv[0], *argv, positionals[0]]
    return main()


if __name__ == "__main__":
    raise SystemExit(cli())
