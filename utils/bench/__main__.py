"""``python -m utils.bench [--quick] [--profile embedded|production|all] [--only NAME ...]``.

Starts each profile's stack, runs the benchmarks, and prints figure | ours | baseline | ratio |
target | met?. Missed targets do not change the exit status (benchmarks are not tests); a
benchmark that crashes does (exit 1), so CI notices when one stops running.
"""

import argparse
import os
import platform
import socket
import subprocess
import sys
import time
import traceback
from pathlib import Path

from utils.bench.figures import FULL, ORDER, QUICK, Bench
from utils.bench.report import Row, machine, markdown_table, text_table
from utils.bench.stack import REPO, Stack, StackError, free_port

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


def production_stack() -> Stack:
    database = f"cube_bench_{os.getpid()}"
    return Stack(
        "production",
        REPO / "utils/scripts/run-production.sh",
        extra_env={
            "CUBE_DB_NAME": database,
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:5432/{database}",
            "CUBE_REDIS_DB": PRODUCTION_REDIS_DB,
            "CELERY_BROKER_URL": f"redis://127.0.0.1:6379/{PRODUCTION_REDIS_DB}",
            "SWIFT_PROXY_PORT": str(free_port()),
            "SWIFT_OBJECT_PORT": str(free_port()),
            "SWIFT_CONTAINER_PORT": str(free_port()),
            "SWIFT_ACCOUNT_PORT": str(free_port()),
        },
    )


def drop_database(stack: Stack) -> None:
    import psycopg2
    from psycopg2 import sql

    connection = psycopg2.connect(host="127.0.0.1", user="postgres", dbname="postgres")
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(stack.env["CUBE_DB_NAME"])
            )
        )
    connection.close()


def run_profile(stack: Stack, args: argparse.Namespace, rows: list[Row]) -> bool:
    """Run the benchmarks on one stack; False if any crashed."""
    sizes = QUICK if args.quick else FULL
    print(f"\n== {stack.profile}: starting {stack.launcher.name} on {stack.url}", flush=True)
    ok = True
    started = time.perf_counter()
    try:
        stack.start()
    except StackError as error:
        rows.append(Row(stack.profile, "stack start", f"error: {error}"[:200], met=False))
        print(error, file=sys.stderr)
        return False
    except BaseException:  # e.g. Ctrl-C while waiting: leave nothing running
        stack.stop()
        if stack.profile == "production":
            drop_database(stack)
        raise
    try:
        if stack.profile == "production":
            env_file = stack.var_dir / "production.env"
            for line in env_file.read_text().splitlines():
                name, separator, value = line.partition("=")
                if separator and not name.startswith("#"):
                    stack.env[name] = value.strip("'\"")
        print(f"   ready after {time.perf_counter() - started:.1f} s", flush=True)
        bench = Bench(stack, sizes, args.data, rows)
        bench.setup()
        for name in ORDER:
            if args.only and name not in args.only and not needed(name, args.only):
                continue
            print(f"-- {stack.profile}: {name}", flush=True)
            try:
                getattr(bench, name)()
            except Exception as error:
                ok = False
                traceback.print_exc()
                rows.append(Row(stack.profile, name, f"error: {error}"[:200], met=False))
                print(stack.log_tail(), file=sys.stderr)
    finally:
        stack.stop(keep=os.environ.get("BENCH_KEEP") == "1")
        if stack.profile == "production":
            drop_database(stack)
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
        ok &= run_profile(Stack("embedded", REPO / "utils/scripts/run-embedded.sh"), args, rows)
    if args.profile in ("production", "all"):
        reason = prepare_production_profile()
        if reason:
            skipped.append(f"production: skipped ({reason})")
        else:
            ok &= run_profile(production_stack(), args, rows)
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
