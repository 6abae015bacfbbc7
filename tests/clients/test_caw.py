"""caw 0.8.0 (library ``chris``, strict pyserde models) against the live embedded stack."""

import json
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

DRIVER = Path(__file__).with_name("caw_driver.py")


def test_caw_logs_in_uploads_runs_dircopy_and_downloads(live_stack, caw_python, tmp_path):
    local = tmp_path / "data.txt"
    local.write_bytes(b"hello from caw\n")
    target = tmp_path / "downloaded.txt"

    result = subprocess.run(
        [str(caw_python), str(DRIVER), live_stack, str(local), str(target)],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr[-4000:]
    report = json.loads(result.stdout)
    assert report["ready"] == "ready", report["ready"]
    assert report["bad_login"].startswith("refused"), report
    assert report["username"] == "chris"
    assert report["uploaded"] == {
        "fname": "chris/uploads/clients/caw/data.txt",
        "fsize": local.stat().st_size,
    }
    assert report["uploaded_found"] == ["chris/uploads/clients/caw/data.txt"]
    assert report["plugin_count"] == 1
    assert report["plugin"] == {"name": "pl-dircopy", "version": "2.1.1"}
    assert report["status"] == "finishedSuccessfully"
    assert any(name.endswith("/clients/caw/data.txt") for name in report["output_fnames"])
    assert target.read_bytes() == local.read_bytes()
