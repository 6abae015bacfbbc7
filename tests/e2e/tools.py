"""Real client tools, each in its own virtualenv under .venvs/ (they pin old dependencies)."""

import subprocess
import sys
from pathlib import Path

from tests.e2e.stack import REPO_ROOT, unavailable


def tool_venv(name: str, *requirements: str) -> Path:
    """The virtualenv .venvs/<name> with requirements installed; created on first use."""
    venv = REPO_ROOT / ".venvs" / name
    stamp = venv / ".installed"
    wanted = "\n".join(requirements)
    if stamp.is_file() and stamp.read_text() == wanted:
        return venv
    steps = [
        [sys.executable, "-m", "venv", "--clear", str(venv)],
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
         "--disable-pip-version-check", *requirements],
    ]  # fmt: skip
    for command in steps:
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode:
            unavailable(
                f"cannot install {' '.join(requirements)} into {venv}:\n{result.stderr[-2000:]}"
            )
    stamp.write_text(wanted)
    return venv
