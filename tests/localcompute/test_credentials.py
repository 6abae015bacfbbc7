"""localcompute has no built-in login: the launchers create random ones per var dir."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from localcompute.config import CREDENTIAL_VARIABLES, MIN_SECRET_LENGTH
from tests.localcompute.support import REPO_ROOT, free_port

SCRIPT = REPO_ROOT / "utils" / "scripts" / "localcompute_credentials.py"


def create_credentials(var_dir: Path, umask: int = 0o022) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SCRIPT), str(var_dir)],
        capture_output=True,
        text=True,
        timeout=30,
        # A permissive umask must not make the file readable by others.
        preexec_fn=lambda: os.umask(umask),
    )


def read_env_file(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines())


def test_credentials_file_is_private_random_and_kept(tmp_path):
    var_dir = tmp_path / "var"
    path = var_dir / "localcompute.env"

    first = create_credentials(var_dir, umask=0)
    assert first.returncode == 0, first.stderr
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text().splitlines()
    assert [line.split("=", 1)[0] for line in lines] == list(CREDENTIAL_VARIABLES)
    values = read_env_file(path)
    assert len(values["LOCALCOMPUTE_PASSWORD"]) >= 32
    assert len(values["LOCALCOMPUTE_SECRET_KEY"]) >= 32
    assert "pfcon1234" not in path.read_text()
    assert [p.name for p in var_dir.iterdir()] == ["localcompute.env"]  # no temporary left

    before = path.read_bytes()
    again = create_credentials(var_dir)
    assert again.returncode == 0, again.stderr
    assert path.read_bytes() == before

    other = create_credentials(tmp_path / "other")
    assert other.returncode == 0, other.stderr
    other_values = read_env_file(tmp_path / "other" / "localcompute.env")
    for name in CREDENTIAL_VARIABLES:
        assert other_values[name] != values[name], name


@pytest.mark.parametrize(
    "content",
    [
        "LOCALCOMPUTE_USER=a\nLOCALCOMPUTE_PASSWORD=b\n",
        "LOCALCOMPUTE_USER=a\nLOCALCOMPUTE_PASSWORD=b\nLOCALCOMPUTE_SECRET_KEY=c\nEXTRA=1\n",
        "LOCALCOMPUTE_USER=a\nLOCALCOMPUTE_PASSWORD=$(touch x)\nLOCALCOMPUTE_SECRET_KEY=c\n",
    ],
    ids=["missing", "extra", "not-shell-safe"],
)
def test_an_unusable_credentials_file_is_refused_and_left_alone(tmp_path, content):
    path = tmp_path / "localcompute.env"
    path.write_text(content)
    result = create_credentials(tmp_path)
    assert result.returncode == 1
    assert "fix or delete it" in result.stderr
    assert path.read_text() == content


def run_localcompute(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "localcompute"],
        cwd=REPO_ROOT,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "LOCALCOMPUTE_PORT": str(free_port()),
            "LOCALCOMPUTE_DATA_DIR": str(tmp_path / "data"),
            "STOREBASE": str(tmp_path / "storage"),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_localcompute_refuses_to_start_without_credentials(tmp_path):
    result = run_localcompute(tmp_path)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("localcompute: ")
    for name in CREDENTIAL_VARIABLES:
        assert name in lines[0]
    assert not (tmp_path / "data").exists()


def test_localcompute_ignores_the_old_pfcon_variables(tmp_path):
    result = run_localcompute(
        tmp_path, PFCON_USER="pfcon", PFCON_PASSWORD="x" * 32, SECRET_KEY="y" * 32
    )
    assert result.returncode == 2
    assert "LOCALCOMPUTE_PASSWORD" in result.stderr


def test_localcompute_refuses_a_short_password(tmp_path):
    result = run_localcompute(
        tmp_path,
        LOCALCOMPUTE_USER="cube",
        LOCALCOMPUTE_PASSWORD="short",
        LOCALCOMPUTE_SECRET_KEY="k" * MIN_SECRET_LENGTH,
    )
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"localcompute: LOCALCOMPUTE_PASSWORD must be at least {MIN_SECRET_LENGTH} characters"
    ]
