#!/usr/bin/env python3
"""Create VAR_DIR/localcompute.env with random localcompute credentials, once.

    python utils/scripts/localcompute_credentials.py VAR_DIR

The file holds exactly three lines, LOCALCOMPUTE_USER=, LOCALCOMPUTE_PASSWORD= and
LOCALCOMPUTE_SECRET_KEY=, and is readable by its owner only (0600 from the start). An
existing file is never rewritten, so a restart keeps the same credentials; delete it to
rotate them (the launchers then update CUBE's compute resource). The launchers source it
(`set -a; . VAR_DIR/localcompute.env; set +a`) and hand the user and password to CUBE as
COMPUTE_USER and COMPUTE_PASSWORD, so an existing file is checked to hold only those three
variables with values that need no shell quoting.

Standard library only: it runs before anything else of the stack.
"""

import os
import re
import secrets
import stat
import sys
import tempfile
from pathlib import Path

FILE_NAME = "localcompute.env"
NAMES = ("LOCALCOMPUTE_USER", "LOCALCOMPUTE_PASSWORD", "LOCALCOMPUTE_SECRET_KEY")
# Characters that mean the same in a shell assignment and in a Docker env file (no ~, no
# quotes, no $ or spaces).
SAFE_VALUE = re.compile(r"[A-Za-z0-9._+/=:@%,-]+")


class CredentialsError(Exception):
    """The existing credentials file cannot be used as it is."""


def new_credentials() -> dict[str, str]:
    return {
        "LOCALCOMPUTE_USER": f"cube-{secrets.token_hex(6)}",
        "LOCALCOMPUTE_PASSWORD": secrets.token_hex(24),
        "LOCALCOMPUTE_SECRET_KEY": secrets.token_hex(32),
    }


def create(path: Path) -> bool:
    """Write fresh credentials to path unless it exists; True if this call created it."""
    text = "".join(f"{name}={value}\n" for name, value in new_credentials().items())
    # mkstemp creates the file 0600; link() publishes it complete, and fails instead of
    # replacing a file that another launcher created meanwhile.
    fd, temporary = tempfile.mkstemp(prefix=f".{FILE_NAME}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
    finally:
        os.unlink(temporary)
    return True


def check(path: Path) -> dict[str, str]:
    """The credentials in path; CredentialsError unless it holds exactly the three names."""
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), 1):
        name, separator, value = line.partition("=")
        if not separator or name not in NAMES or name in values:
            raise CredentialsError(f"{path}:{number}: expected one of {', '.join(NAMES)}, once")
        if not SAFE_VALUE.fullmatch(value):
            raise CredentialsError(
                f"{path}:{number}: {name} may only use letters, digits and ._+/=:@%,-"
            )
        values[name] = value
    missing = [name for name in NAMES if name not in values]
    if missing:
        raise CredentialsError(f"{path}: {', '.join(missing)} missing")
    return values


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: localcompute_credentials.py VAR_DIR", file=sys.stderr)
        return 2
    os.umask(0o077)
    var_dir = Path(argv[0])
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / FILE_NAME
    if not path.exists() and create(path):
        print(f"localcompute_credentials: created {path}", file=sys.stderr)
    try:
        check(path)
    except (CredentialsError, OSError, UnicodeDecodeError) as error:
        print(f"localcompute_credentials: {error}; fix or delete it", file=sys.stderr)
        return 1
    if stat.S_IMODE(path.stat().st_mode) & 0o077:
        print(
            f"localcompute_credentials: warning: group or others can access {path}; "
            "run chmod 600 on it",
            file=sys.stderr,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
