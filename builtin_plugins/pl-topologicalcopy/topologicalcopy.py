"""pl-topologicalcopy: the ts plugin behind CUBE's "splits"/topological joins.

The backend copies the filtered outputs of the parent instances once the job succeeds;
the plugin only logs its options. It must never log its environment: that holds the
user's API token.
"""

import sys
from argparse import ArgumentParser, Namespace
from importlib.metadata import version
from pathlib import Path

from chris_plugin import chris_plugin

__version__ = version("pl-topologicalcopy")

parser = ArgumentParser(
    description="A plugin ts app to copy filtered output dirs from a list of plugin instances"
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
    "--pftelDB",
    dest="pftelDB",
    type=str,
    default="",
    help="an optional pftel telemetry logger, of form "
    "'<pftelURL>/api/v1/<object>/<collection>/<event>'",
)


@chris_plugin(
    parser=parser,
    plugin_type="ts",
    title="A ChRIS ts app to copy filtered output dirs from a list of plugin instances",
    category="utility",
    min_cpu_limit="1000m",
    min_memory_limit="200Mi",
)
def main(options: Namespace, inputdir: Path, outputdir: Path) -> int:
    print(f"pl-topologicalcopy {__version__}")
    for name in ("plugininstances", "filter", "groupByInstance", "pftelDB"):
        print(f"{name}: {getattr(options, name)!r}")
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
