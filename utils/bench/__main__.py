"""``python -m utils.bench [--quick] [--profile embedded|production|all] [--only NAME ...]``.

Starts each profile's stack, runs the benchmarks, and prints figure | ours | baseline | ratio |
target | met?. Missed targets do not change the exit status (benchmarks are not tests); a
benchmark that crashes does (exit 1), so CI notices when one stops running.
"""

import argparse
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from utils.bench.figures import FULL, ORDER, QUICK, Bench
from utils.bench.report import Row, machine, markdown_table, text_table
from utils.stack import (
    EMBEDDED_SCRIPT,
    PRODUCTION_SCRIPT,
    StackError,
    free_ports,
    left_running_on_purpose,
    start_stack,
    stop_stack,
)
from utils.stack import REPO_ROOT as REPO

DATA_DIR = REPO.parent / "shared" / "data" / "SAG-anon"
PRODUCTION_REDIS_DB = "13"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m utils.bench", description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        default=os.environ.get("BENCH_QUICK", "") not in ("", "0"),
        help="smaller sizes, a couple of minutes (also BENCH_QUICK=1)",
    )
    parser.add_argument("--profile", choices=["embedded", "production", "all"], default="all")
    parser.add_argument("--only", nargs="+", choices=ORDER, help="run only these benchmarks")
    parser.add_argument("--data", type=Path, default=DATA_DIR, help="folder pushed and copied")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown here")
    return parser.parse_args(argv)


def reachable(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except OSError:
        return False
    return True


def prepare_production_profile() -> str | None:
    """Set up what the production profile needs; return why it cannot run, or None."""
    if not (REPO / "utils/scripts/run-production.sh").exists():
        return "utils/scripts/run-production.sh not found"
    if not reachable(5432):
        return "no PostgreSQL on 127.0.0.1:5432"
    if not reachable(6379):
        return "no Redis on 127.0.0.1:6379"
    swift_venv = Path(os.environ.get("SWIFT_VENV", REPO / ".venvs/swift"))
    if not (swift_venv / "bin/python").exists():
        # A fresh clone: install the local Swift the production profile runs on.
        print(f"bench: setting up a local Swift in {swift_venv}", flush=True)
        setup = subprocess.run([str(REPO / "utils/scripts/swift-local.sh"), "setup"])
        if setup.returncode:
            return f"utils/scripts/swift-local.sh setup failed (exit {setup.returncode})"
    return None


@dataclass
class Profile:
    """A stack to benchmark: its launcher and what the bench adds to its environment."""

    name: str
    script: Path
    extra_env: dict[str, str] = field(default_factory=dict)


def bench_env(profile: Profile) -> dict[str, str]:
    # In-process steps (utils.bench.inprocess) run Django with the stack's environment.
    return {
        "CUBE_PLUGINS_DIR": str(REPO / "var" / "plugins"),
        "DJANGO_SETTINGS_MODULE": "cube.settings",
        "CUBE_LOG_LEVEL": "WARNING",
        **profile.extra_env,
    }


def production_profile() -> Profile:
    database = f"cube_bench_{os.getpid()}"
    proxy, objects, containers, accounts = free_ports(4)
    return Profile(
        "production",
        PRODUCTION_SCRIPT,
        {
            "CUBE_DB_NAME": database,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "CUBE_REDIS_DB": PRODUCTION_REDIS_DB,
            "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{PRODUCTION_REDIS_DB}",
            "SWIFT_PROXY_PORT": str(proxy),
            "SWIFT_OBJECT_PORT": str(objects),
            "SWIFT_CONTAINER_PORT": str(containers),
            "SWIFT_ACCOUNT_PORT": str(accounts),
        },
    )


def drop_database(profile: Profile) -> None:
    import psycopg2
    from psycopg2 import sql

    connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(profile.extra_env["CUBE_DB_NAME"])
            )
        )
    connection.close()


def run_profile(profile: Profile, args: argparse.Namespace, rows: list[Row]) -> bool:
    """Run the benchmarks on one stack; False if any crashed."""
    sizes = QUICK if args.quick else FULL
    # BENCH_KEEP=1 keeps the var dir (logs, database, storage) for a look afterwards.
    keep_var_dir = os.environ.get("BENCH_KEEP") == "1"
    var_dir = Path(tempfile.mkdtemp(prefix=f"cube-bench-{profile.name}-"))
    print(f"\n== {profile.name}: starting {profile.script.name} in {var_dir}", flush=True)
    ok = True
    started = time.perf_counter()
    try:
        stack = start_stack(
            profile.script, var_dir, bench_env(profile), keep=left_running_on_purpose
        )
    except BaseException as error:  # start_stack left nothing running
        if not keep_var_dir:
            shutil.rmtree(var_dir, ignore_errors=True)
        if profile.name == "production":
            drop_database(profile)
        if not isinstance(error, StackError):
            raise  # e.g. Ctrl-C while waiting
        rows.append(Row(profile.name, "stack start", f"error: {error}"[:200], met=False))
        print(error, file=sys.stderr)
        return False
    try:
        if profile.name == "production":
            env_file = stack.var_dir / "production.env"
            for line in env_file.read_text().splitlines():
                name, separator, value = line.partition("=")
                if separator and not name.startswith("#"):
                    stack.env[name] = value.strip("'\"")
        print(f"   ready on {stack.url} after {time.perf_counter() - started:.1f} s", flush=True)
        bench = Bench(stack, sizes, args.data, rows)
        bench.setup()
        for name in ORDER:
            if args.only and name not in args.only and not needed(name, args.only):
                continue
            print(f"-- {profile.name}: {name}", flush=True)
            try:
                getattr(bench, name)()
            except Exception as error:
                ok = False
                traceback.print_exc()
                rows.append(Row(profile.name, name, f"error: {error}"[:200], met=False))
                print(stack.log_tail(), file=sys.stderr)
    finally:
        try:
            stop_stack(stack, keep=left_running_on_purpose)
        except StackError as error:
            ok = False
            print(error, file=sys.stderr)
        if not keep_var_dir:
            shutil.rmtree(var_dir, ignore_errors=True)
        if profile.name == "production":
            drop_database(profile)
    return ok


def needed(name: str, only: list[str]) -> bool:
    """push feeds job, job feeds listing/registration/concurrency, listing feeds concurrency."""
    wants = set(only)
    if wants & {"job", "listing", "registration", "concurrency"} and name == "push":
        return True
    if wants & {"listing", "registration", "concurrency"} and name == "job":
        return True
    return "concurrency" in wants and name == "listing"


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if not args.data.is_dir():
        print(f"bench: no data folder at {args.data}", file=sys.stderr)
        return 2
    rows: list[Row] = []
    ok = True
    skipped = []
    if args.profile in ("embedded", "all"):
        ok &= run_profile(Profile("embedded", EMBEDDED_SCRIPT), args, rows)
    if args.profile in ("production", "all"):
        reason = prepare_production_profile()
        if reason:
            skipped.append(f"production: skipped ({reason})")
        else:
            ok &= run_profile(production_profile(), args, rows)
    mode = "quick" if args.quick else "full"
    header = f"CUBE benchmarks ({mode}) on {machine()}, {platform.python_implementation()} " \
        f"{platform.python_version()}, {time.strftime('%Y-%m-%d')}"  # fmt: skip
    print(f"\n{header}\n\n{text_table(rows)}")
    for line in skipped:
        print(line)
    if args.markdown:
        args.markdown.write_text(
            f"{header}\n\n{markdown_table(rows)}\n" + "".join(f"\n{line}\n" for line in skipped)
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
