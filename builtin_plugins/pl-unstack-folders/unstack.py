"""pl-unstack-folders: copy what sits at the bottom of a chain of single folders to the top.

pl-dircopy leaves a feed's files under long folders such as ``home_alice_uploads_study/``;
this plugin walks down from the input folder while a folder holds exactly one entry (at the
top, the ``input.meta.json``/``output.meta.json`` files are not counted) and copies what it
stops at into the output folder: a folder's contents, merged into the output, or one file.
"""

import shutil
import sys
from argparse import ArgumentParser, Namespace
from pathlib import Path

from chris_plugin import chris_plugin

__version__ = "1.0.0"

META_FILES = frozenset({"input.meta.json", "output.meta.json"})

parser = ArgumentParser(description="Copy deeply nested paths to the top-level.")


def find_nested(path: Path) -> Path:
    """The first path below ``path`` that is a file, or a folder with zero or several entries."""
    top = True
    while path.is_dir():
        entries = [entry for entry in path.iterdir() if not (top and entry.name in META_FILES)]
        if len(entries) != 1:
            break
        path, top = entries[0], False
    return path


@chris_plugin(
    parser=parser,
    title="Unstack Folders",
    category="",
    min_memory_limit="100Mi",
    min_cpu_limit="1000m",
    min_gpu_limit=0,
)
def main(options: Namespace, inputdir: Path, outputdir: Path) -> int:
    print(f"pl-unstack-folders {__version__}", file=sys.stderr, flush=True)
    nested = find_nested(inputdir)
    if nested.is_dir():
        target = outputdir
        print(f"{nested} -> {target}", flush=True)
        shutil.copytree(nested, target, dirs_exist_ok=True)
    else:
        target = outputdir / nested.name
        print(f"{nested} -> {target}", flush=True)
        shutil.copy2(nested, target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
