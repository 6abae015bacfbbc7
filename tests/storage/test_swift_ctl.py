"""utils/scripts/swiftCtl.sh against a real Swift: push, list and pull round-trip."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SWIFT_CTL = Path(__file__).resolve().parents[2] / "utils" / "scripts" / "swiftCtl.sh"
PREFIX = "chris/uploads/DICOM/dataset1"


def swift_ctl(account, *args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "SWIFT_AUTH_URL": account.auth_url,
        "SWIFT_USERNAME": account.username,
        "SWIFT_KEY": account.key,
    }
    return subprocess.run(
        [str(SWIFT_CTL), "-C", account.container, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def dataset(tmp_path) -> Path:
    root = tmp_path / "dataset"
    (root / "series 1").mkdir(parents=True)
    (root / "a.dcm").write_bytes(b"a" * 1000)
    (root / "series 1" / "b.dcm").write_bytes(b"b" * 3_000_000)
    (root / "series 1" / "notes.txt").write_text("not an image")
    return root


@pytest.mark.integration
def test_push_list_pull_round_trip(swift_account, dataset, tmp_path):
    pushed = swift_ctl(swift_account, "-A", "push", "-D", str(dataset), "-P", PREFIX, "-E", "dcm")
    assert pushed.returncode == 0, pushed.stderr
    assert "pushed 2/2 files, 3.0 MB" in pushed.stderr

    listed = swift_ctl(swift_account, "-A", "list", "-P", PREFIX)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines() == [f"{PREFIX}/a.dcm", f"{PREFIX}/series 1/b.dcm"]

    pull_dir = tmp_path / "pulled"
    pulled = swift_ctl(swift_account, "-A", "pull", "-P", PREFIX, "-O", str(pull_dir))
    assert pulled.returncode == 0, pulled.stderr
    assert (pull_dir / "a.dcm").read_bytes() == (dataset / "a.dcm").read_bytes()
    assert (pull_dir / "series 1" / "b.dcm").read_bytes() == b"b" * 3_000_000
    assert not (pull_dir / "series 1" / "notes.txt").exists()


@pytest.mark.integration
def test_list_without_arguments_lists_every_object(swift_account, dataset):
    swift_ctl(swift_account, "-A", "push", "-D", str(dataset))

    listed = swift_ctl(swift_account)

    assert listed.stdout.splitlines() == ["a.dcm", "series 1/b.dcm", "series 1/notes.txt"]


@pytest.mark.integration
def test_push_of_missing_folder_fails(swift_account, tmp_path):
    result = swift_ctl(swift_account, "-A", "push", "-D", str(tmp_path / "missing"))

    assert result.returncode != 0


def test_unreachable_swift_fails(tmp_path):
    env = {**os.environ, "PYTHON": sys.executable}
    env.pop("SWIFT_AUTH_URL", None)

    result = subprocess.run(
        [str(SWIFT_CTL), "-S", "127.0.0.1", "-p", "9"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1
    assert "127.0.0.1" in result.stderr
