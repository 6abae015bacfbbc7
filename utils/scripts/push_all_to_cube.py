"""Upload every file of a local folder to CUBE's uploadedfiles, several at a time.

Called by pushAllToCUBE.sh, which parses the seed's flags; usable on its own too:

    python utils/scripts/push_all_to_cube.py --dir DIR [--ext dcm] [--prefix DICOM/dataset1]
        [--url http://localhost:8000/api/v1/] [--jobs 4]

The credentials come from the environment variable CUBE_AUTH (``user:password``, default
``chris:chris1234``) so that the password never shows in a process list. Each file goes to
``<user>/uploads/<prefix>/<path relative to DIR>``. Progress goes to stderr. Exit status: 0 when
every file was uploaded, 1 when some failed (they are listed), 2 for a usage or login error.
"""

import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

import urllib3

RETRIES = 3
TIMEOUT = 300


@dataclass(frozen=True)
class Upload:
    local_path: Path
    upload_path: str


@dataclass(frozen=True)
class Failure:
    upload: Upload
    reason: str


def find_files(directory: Path, extension: str) -> list[Path]:
    """Every regular file under directory (recursively) whose name ends in .extension."""
    suffix = f".{extension.lstrip('.').lower()}" if extension else ""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            path = Path(root, name)
            if path.is_file() and name.lower().endswith(suffix):
                found.append(path)
    return found


def destination(username: str, prefix: str) -> str:
    """The storage folder that receives the files: <user>/uploads/<prefix>."""
    return "/".join(part for part in (username, "uploads", prefix.strip("/")) if part)


def plan_uploads(directory: Path, files: list[Path], username: str, prefix: str) -> list[Upload]:
    base = destination(username, prefix)
    return [Upload(path, f"{base}/{path.relative_to(directory).as_posix()}") for path in files]


def get_token(http: urllib3.PoolManager, api_url: str, username: str, password: str) -> str:
    response = http.request(
        "POST", f"{api_url}auth-token/", json={"username": username, "password": password}
    )
    if response.status != 200:
        raise SystemExit(
            f"error: login as {username!r} at {api_url} failed: "
            f"HTTP {response.status} {response.data[:300].decode(errors='replace')}"
        )
    return json.loads(response.data)["token"]


class Uploader:
    """Posts files to uploadedfiles/ over the pool's keep-alive connections.

    urllib3 rather than requests: per file it spends half the client CPU, which a sequential
    push pays in full on top of the server's time.
    """

    def __init__(self, http: urllib3.PoolManager, api_url: str, token: str) -> None:
        self.http = http
        self.url = f"{api_url}uploadedfiles/"
        self.headers = {"Authorization": f"Token {token}", "Accept": "application/json"}

    def upload(self, upload: Upload) -> Failure | None:
        reason = ""
        for attempt in range(RETRIES):
            if attempt:
                time.sleep(attempt)
            try:
                content = upload.local_path.read_bytes()
            except OSError as error:
                return Failure(upload, f"cannot read: {error}")
            try:
                response = self.http.request(
                    "POST",
                    self.url,
                    fields={
                        "upload_path": upload.upload_path,
                        "fname": (upload.local_path.name, content),
                    },
                    headers=self.headers,
                )
            except urllib3.exceptions.HTTPError as error:
                reason = f"{type(error).__name__}: {error}"
                continue
            if response.status == 201:
                return None
            reason = f"HTTP {response.status} {response.data[:300].decode(errors='replace')}"
            if response.status < 500:
                break  # the server refused this file; asking again will not help
        return Failure(upload, reason)


class Progress:
    """Counts finished uploads on stderr: one rewritten line on a terminal, else every 5%."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.done = 0
        self.failed = 0
        self.tty = sys.stderr.isatty()
        self.step = max(1, total // 20)

    def advance(self, failed: bool) -> None:
        self.done += 1
        self.failed += failed
        if not self.tty and self.done % self.step and self.done != self.total:
            return
        failures = f" ({self.failed} failed)" if self.failed else ""
        text = f"uploaded {self.done - self.failed}/{self.total} files{failures}"
        end = "\n" if not self.tty or self.done == self.total else ""
        sys.stderr.write(f"\r{text}{end}" if self.tty else f"{text}{end}")
        sys.stderr.flush()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, type=Path, help="local folder (recursive)")
    parser.add_argument("--ext", default="", help="only files with this extension")
    parser.add_argument("--prefix", default="", help="destination under <user>/uploads/")
    parser.add_argument("--url", default="http://localhost:8000/api/v1/", help="CUBE API URL")
    parser.add_argument("--jobs", type=int, default=4, help="parallel uploads")
    args = parser.parse_args(argv)
    if not args.url.endswith("/"):
        args.url += "/"
    if args.jobs < 1:
        parser.error("--jobs must be at least 1")
    return args


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    username, _, password = os.environ.get("CUBE_AUTH", "chris:chris1234").partition(":")
    if not username or not password:
        print("error: CUBE_AUTH must be user:password", file=sys.stderr)
        return 2
    if not args.dir.is_dir():
        print(f"error: {args.dir} is not a folder", file=sys.stderr)
        return 2
    files = find_files(args.dir, args.ext)
    if not files:
        kind = f"*.{args.ext.lstrip('.')} " if args.ext else ""
        print(f"error: no {kind}files under {args.dir}", file=sys.stderr)
        return 2
    uploads = plan_uploads(args.dir, files, username, args.prefix)
    # One kept connection per upload thread; this script does its own retries.
    http = urllib3.PoolManager(maxsize=args.jobs, retries=False, timeout=TIMEOUT)
    try:
        token = get_token(http, args.url, username, password)
    except urllib3.exceptions.HTTPError as error:
        print(f"error: cannot reach {args.url}: {error}", file=sys.stderr)
        return 2
    except SystemExit as error:
        print(error, file=sys.stderr)
        return 2
    print(
        f"uploading {len(uploads)} files from {args.dir} to "
        f"{destination(username, args.prefix)}/ with {args.jobs} connections",
        file=sys.stderr,
    )
    uploader = Uploader(http, args.url, token)
    progress = Progress(len(uploads))
    failures: list[Failure] = []
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = [pool.submit(uploader.upload, upload) for upload in uploads]
        for future in as_completed(futures):
            failure = future.result()
            if failure:
                failures.append(failure)
            progress.advance(failure is not None)
    for failure in sorted(failures, key=lambda f: str(f.upload.local_path)):
        print(
            f"failed: {failure.upload.local_path} -> {failure.upload.upload_path}: "
            f"{failure.reason}",
            file=sys.stderr,
        )
    if failures:
        print(f"error: {len(failures)} of {len(uploads)} files failed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
