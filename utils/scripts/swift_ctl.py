"""List, push and pull objects in a Swift container; the engine behind swiftCtl.sh."""

import argparse
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TextIO

from storage.base import StorageError
from storage.keys import TEMP_PREFIX, check_key, check_prefix
from storage.swift import SwiftStorage


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="swiftCtl.sh",
        description="List, push and pull objects in a Swift container. Credentials come from "
        "SWIFT_USERNAME and SWIFT_KEY; SWIFT_AUTH_URL overrides -S/-p.",
    )
    parser.add_argument("-A", dest="action", choices=["list", "push", "pull"], default="list")
    parser.add_argument("-D", dest="directory", help="local folder to push")
    parser.add_argument("-E", dest="extension", help="only names ending in .<ext>")
    parser.add_argument("-P", dest="prefix", default="", help="object prefix")
    parser.add_argument("-O", dest="pull_dir", help="folder to pull into")
    parser.add_argument("-S", dest="host", default="127.0.0.1")
    parser.add_argument("-p", dest="port", default="8080")
    parser.add_argument("-C", dest="container", default="users")
    parser.add_argument("-j", dest="threads", type=int, default=4, help="parallel transfers")
    args = parser.parse_args(argv)
    args.prefix = args.prefix.strip("/")
    try:
        check_prefix(args.prefix)
    except ValueError as error:
        parser.error(str(error))
    if args.action == "push" and not args.directory:
        parser.error("push needs -D <dir>")
    if args.action == "pull" and not args.pull_dir:
        parser.error("pull needs -O <pulldir>")
    if args.threads < 1:
        parser.error("-j must be at least 1")
    return args


class Progress:
    """A one-line transfer counter on stderr, redrawn in place on a terminal."""

    def __init__(self, verb: str, total: int, out: TextIO = sys.stderr) -> None:
        self.verb, self.total, self.out = verb, total, out
        self.files = self.size = 0
        self._lock = threading.Lock()
        self._drawn_at = 0.0
        self._live = out.isatty()

    def add(self, size: int) -> None:
        with self._lock:
            self.files += 1
            self.size += size
            # Redrawing on every file would make small-file transfers terminal-bound.
            if self._live and time.monotonic() - self._drawn_at > 0.1:
                self._draw("\r")

    def finish(self) -> None:
        self._draw("\r" if self._live else "")
        self.out.write("\n")

    def _draw(self, start: str) -> None:
        self._drawn_at = time.monotonic()
        self.out.write(
            f"{start}{self.verb} {self.files}/{self.total} files, {self.size / 1e6:.1f} MB"
        )
        self.out.flush()


def matches(name: str, extension: str | None) -> bool:
    return extension is None or name.lower().endswith("." + extension.lstrip(".").lower())


def run_all(jobs: Sequence[tuple[str, Callable[[], int]]], progress: Progress, threads: int) -> int:
    """Run (name, transfer) jobs in parallel, reporting each failure; return 1 if any failed."""
    failed: list[str] = []

    def run(job: tuple[str, Callable[[], int]]) -> None:
        name, transfer = job
        try:
            progress.add(transfer())
        except (StorageError, OSError, ValueError) as error:
            failed.append(name)
            print(f"\nswiftCtl: {progress.verb} {name} failed: {error}", file=sys.stderr)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, jobs))
    progress.finish()
    if failed:
        print(f"swiftCtl: {len(failed)} of {len(jobs)} transfers failed", file=sys.stderr)
    return 1 if failed else 0


def push(storage: SwiftStorage, args: argparse.Namespace) -> int:
    root = Path(args.directory)
    if not root.is_dir():
        print(f"swiftCtl: {root} is not a directory", file=sys.stderr)
        return 1
    files = sorted(
        path for path in root.rglob("*") if path.is_file() and matches(path.name, args.extension)
    )

    def upload(path: Path, key: str) -> int:
        with path.open("rb") as file:
            return storage.put(key, file, length=os.fstat(file.fileno()).st_size)

    jobs = []
    for path in files:
        key = "/".join(filter(None, [args.prefix, path.relative_to(root).as_posix()]))
        jobs.append((str(path), partial(upload, path, key)))
    return run_all(jobs, Progress("pushed", len(jobs)), args.threads)


def pull(storage: SwiftStorage, args: argparse.Namespace) -> int:
    keys = [key for key in storage.ls(args.prefix) if matches(key, args.extension)]
    target = Path(args.pull_dir)

    def download(key: str) -> int:
        if key == args.prefix:
            relative = key.rsplit("/", 1)[-1]
        else:
            relative = key[len(args.prefix) + 1 :] if args.prefix else key
        # Object names come from the server; refuse any that would land outside the target.
        path = target.joinpath(*check_key(relative).split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(f"{TEMP_PREFIX}{path.name}")
        size = 0
        try:
            with temp.open("wb") as file:
                for chunk in storage.open(key):
                    file.write(chunk)
                    size += len(chunk)
            temp.replace(path)
        finally:
            temp.unlink(missing_ok=True)
        return size

    jobs = [(key, partial(download, key)) for key in keys]
    return run_all(jobs, Progress("pulled", len(jobs)), args.threads)


def list_objects(storage: SwiftStorage, args: argparse.Namespace) -> int:
    for key in storage.ls(args.prefix):
        if matches(key, args.extension):
            print(key)
    return 0


def main(argv: Sequence[str]) -> int:
    args = parse_args(argv)
    auth_url = os.environ.get("SWIFT_AUTH_URL") or f"http://{args.host}:{args.port}/auth/v1.0"
    storage = SwiftStorage(
        auth_url,
        os.environ.get("SWIFT_USERNAME", "chris:chris1234"),
        os.environ.get("SWIFT_KEY", "testing"),
        args.container,
        # A command-line tool should fail within seconds when Swift is down.
        retries=2,
    )
    action = {"list": list_objects, "push": push, "pull": pull}[args.action]
    try:
        return action(storage, args)
    except StorageError as error:
        print(f"swiftCtl: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
