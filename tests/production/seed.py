"""The seed workflow against a production stack, shared by the seed and scale-out tests.

Uploads through the API (``pushAllToCUBE.sh``) and straight to Swift (``swiftCtl.sh``),
pl-dircopy on each with pfurl as the seed posts it, and every byte back through the feed's
files (one with httpie).
"""

import hashlib
import os
import random
import subprocess
import sys
from pathlib import Path

from tests.e2e.test_seed import run_pfurl
from tests.e2e.tools import tool_venv
from tests.production.conftest import REPO_ROOT, Api, swift_connection
from tests.production.conftest import Stack as ProductionStack

SHARED_DATA = REPO_ROOT.parent / "shared" / "data" / "SAG-anon"
# Where the seed pushes its second dataset straight to Swift, outside the API.
SWIFT_PUSHED = "chris/uploads/DICOM/dataset2"


def make_seed_dir(folder: Path, *, shared: bool = True) -> Path:
    """CUBE_SEED_DATA, the shared DICOM sample if present (and ``shared``), or generated
    .dcm-named files in ``folder``."""
    configured = os.environ.get("CUBE_SEED_DATA")
    if configured:
        return Path(configured)
    if shared and SHARED_DATA.is_dir():
        return SHARED_DATA
    rng = random.Random(1234)
    for index in range(40):
        sub = folder / ("series-a" if index % 2 else "series-b")
        sub.mkdir(parents=True, exist_ok=True)
        (sub / f"{index:04d}.dcm").write_bytes(rng.randbytes(rng.randint(0, 300_000)))
    (folder / "notes.txt").write_text("not a dcm: must not be pushed")
    return folder


def source_files(folder: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in folder.rglob("*")
        if path.is_file() and path.name.lower().endswith(".dcm")
    }


def feed_files(api: Api, instance: dict, dataset: str) -> dict[str, bytes]:
    """The feed's files, named relative to the dataset folder, each downloaded once."""
    files = api.all(f"{instance['feed_id']}/files/")
    names = [entry["fname"] for entry in files]
    assert len(names) == len(set(names)), "a file is registered twice"
    marker = f"/{dataset}/"
    contents = {}
    for entry in files:
        assert marker in entry["fname"], entry["fname"]
        relative = entry["fname"].split(marker, 1)[1]
        contents[relative] = api.download(entry["file_resource"])
    return contents


def assert_httpie_download(api: Api, instance: dict, expected: dict, folder: Path) -> None:
    """``http --download`` one feed file, as the seed does, and compare its sha256."""
    entry = api.all(f"{instance['feed_id']}/files/")[0]
    name = entry["fname"].split("/DICOM/", 1)[1].split("/", 1)[1]
    target = folder / "download.dcm"
    folder.mkdir()
    http = Path(sys.executable).parent / "http"
    result = subprocess.run(
        [str(http), "--ignore-stdin", "--check-status", "--download", "--output", str(target),
         "--auth", "chris:chris1234", "GET", entry["file_resource"]],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "HTTPIE_CONFIG_DIR": str(folder / "httpie")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert hashlib.sha256(target.read_bytes()).digest() == hashlib.sha256(expected[name]).digest()


def run_seed(stack: ProductionStack, seed_dir: Path, tmp_path: Path) -> None:
    """Run the seed's scripts against the stack and check every file it made."""
    api = Api(stack.api)
    expected = source_files(seed_dir)
    assert expected, f"no .dcm files in {seed_dir}"
    env = stack.env
    subprocess.run(
        [
            "utils/scripts/pushAllToCUBE.sh",
            *("-D", str(seed_dir), "-E", "dcm", "-P", "DICOM/dataset1"),
            *("-C", "127.0.0.1", "-p", env["CUBE_PORT"]),
        ],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        timeout=600,
    )
    subprocess.run(
        [
            "utils/scripts/swiftCtl.sh",
            *("-A", "push", "-D", str(seed_dir), "-E", "dcm"),
            *("-P", SWIFT_PUSHED, "-C", env["SWIFT_CONTAINER_NAME"]),
        ],
        cwd=REPO_ROOT,
        env=env,
        check=True,
        timeout=600,
    )
    pfurl = tool_venv("pfurl", "pfurl==2.3.0.1") / "bin" / "pfurl"
    dircopy = api.plugin_id("pl-dircopy")
    # The seed's own shorthand for the first, the full storage path for the second.
    directories = {"dataset1": "/DICOM/dataset1", "dataset2": SWIFT_PUSHED}
    instances = {}
    for dataset, directory in directories.items():
        answer = run_pfurl(pfurl, stack.api, dircopy, directory)["collection"]
        assert "error" not in answer, answer["error"]
        values = {entry["name"]: entry["value"] for entry in answer["items"][0]["data"]}
        instances[dataset] = values
    for dataset, created in instances.items():
        instance = api.wait_status(
            created["id"], {"finishedSuccessfully", "finishedWithError", "cancelled"}, 300
        )
        assert instance["status"] == "finishedSuccessfully", (instance, stack.log_tail())
        assert instance["size"] == sum(len(data) for data in expected.values())
        downloaded = feed_files(api, instance, dataset)
        assert_httpie_download(api, instance, expected, tmp_path / dataset)
        assert downloaded.keys() == expected.keys()
        mismatched = [name for name, data in downloaded.items() if data != expected[name]]
        assert not mismatched, f"{dataset}: {len(mismatched)} files differ, e.g. {mismatched[0]}"


def remove_swift_pushed(stack: ProductionStack) -> int:
    """Delete the objects the seed pushed straight to Swift: no row names them, by design."""
    connection = swift_connection()
    container = stack.env["SWIFT_CONTAINER_NAME"]
    _headers, listing = connection.get_container(
        container, prefix=f"{SWIFT_PUSHED}/", full_listing=True
    )
    for entry in listing:
        connection.delete_object(container, entry["name"])
    return len(listing)
