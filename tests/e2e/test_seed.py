"""The seed workflow against the live embedded stack, with the seed's own tools, unmodified.

pushAllToCUBE.sh uploads SAG-anon, pfurl POSTs pl-dircopy in Collection+JSON with Basic auth,
the instance is polled until it finishes, the feed's files are walked page by page through
``next`` links and one file is downloaded with ``http --download`` (httpie).
"""

import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

from tests.e2e.stack import REPO_ROOT, SUPERUSER, unavailable

pytestmark = pytest.mark.e2e

PUSH_SCRIPT = REPO_ROOT / "utils" / "scripts" / "pushAllToCUBE.sh"
# CI lays shared/ beside the clone; the seed names the folder relative to the repo root.
SAG_ANON = "../shared/data/SAG-anon"
CJ = "application/vnd.collection+json"
FINAL_STATUSES = {"finishedSuccessfully", "finishedWithError", "cancelled"}


def cj_get(url: str, **params) -> dict:
    response = requests.get(url, params=params, auth=SUPERUSER, headers={"Accept": CJ})
    response.raise_for_status()
    collection = response.json()["collection"]
    assert "error" not in collection, collection["error"]
    return collection


def item_values(item: dict) -> dict:
    values = {entry["name"]: entry["value"] for entry in item["data"]}
    values.update({link["rel"]: link["href"] for link in item.get("links", [])})
    values["href"] = item["href"]
    return values


def link(collection: dict, rel: str) -> str | None:
    return next((x["href"] for x in collection.get("links", []) if x["rel"] == rel), None)


def push_all(live_stack: str, folder: str, prefix: str, *extra: str) -> subprocess.CompletedProcess:
    address = urlsplit(live_stack)
    command = [str(PUSH_SCRIPT), "-E", "dcm", "-D", folder, "-P", prefix]
    command += ["-C", address.hostname, "-p", str(address.port), *extra]
    return subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def dataset(live_stack) -> dict[str, Path]:
    """SAG-anon pushed to chris/uploads/DICOM/dataset1 by pushAllToCUBE.sh: basename → file."""
    source = REPO_ROOT / SAG_ANON
    if not source.is_dir():
        unavailable(f"{source} is missing")
    result = push_all(live_stack, SAG_ANON, "DICOM/dataset1")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "uploaded 192/192 files" in result.stderr
    return {path.name: path for path in source.glob("*.dcm")}


def test_push_all_to_cube_uploads_every_file(live_stack, dataset):
    assert len(dataset) == 192
    uploads = cj_get(
        f"{live_stack}uploadedfiles/search/", fname="chris/uploads/DICOM/dataset1/", limit=1
    )
    assert uploads["total"] == 192


def test_push_all_to_cube_reports_failed_files_and_exits_non_zero(live_stack, tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "a.dcm").write_bytes(b"first")
    (tmp_path / "sub" / "b.DCM").write_bytes(b"second")
    (tmp_path / "skipped.txt").write_text("not a dcm")

    first = push_all(live_stack, str(tmp_path), "e2e/twice")
    again = push_all(live_stack, str(tmp_path), "e2e/twice", "-j", "2")

    assert first.returncode == 0, first.stderr
    assert "uploaded 2/2 files" in first.stderr
    names = cj_get(f"{live_stack}uploadedfiles/search/", fname="chris/uploads/e2e/twice/")
    assert sorted(item_values(item)["fname"] for item in names["items"]) == [
        "chris/uploads/e2e/twice/a.dcm",
        "chris/uploads/e2e/twice/sub/b.DCM",
    ]
    # Our server refuses duplicates (v5 renames them); either way the script must say so.
    assert again.returncode == 1
    assert f"failed: {tmp_path}/a.dcm -> chris/uploads/e2e/twice/a.dcm" in again.stderr
    assert f"failed: {tmp_path}/sub/b.DCM -> chris/uploads/e2e/twice/sub/b.DCM" in again.stderr


def test_push_all_to_cube_refuses_a_wrong_password(live_stack, tmp_path):
    (tmp_path / "a.dcm").write_bytes(b"x")
    result = push_all(live_stack, str(tmp_path), "e2e/denied", "-U", "chris:wrong")
    assert result.returncode == 2
    assert "login as 'chris'" in result.stderr


def run_pfurl(pfurl: Path, live_stack: str, plugin_id: int, directory: str) -> dict:
    address = urlsplit(live_stack)
    message = json.dumps({"data": [{"name": "dir", "value": directory}]})
    # The seed's command line, verbatim apart from the address.
    command = [
        str(pfurl), "--verb", "POST", "--raw",
        "--http", f"{address.hostname}:{address.port}/api/v1/plugins/{plugin_id}/instances/",
        "--content-type", CJ,
        "--auth", ":".join(SUPERUSER),
        "--jsonwrapper", "template",
        "--msg", message,
        "--quiet", "--jsonpprintindent", "2",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    # pfurl exits 0 whatever the server said: the answer is the JSON it prints.
    assert result.returncode == 0, result.stderr
    start = result.stdout.find("{")
    assert start >= 0, f"no JSON from pfurl: {result.stdout!r} {result.stderr!r}"
    answer, _ = json.JSONDecoder().raw_decode(result.stdout[start:])
    return answer


def wait_for_instance(url: str, timeout: float = 180) -> dict:
    """Poll the instance (C+J, as the seed does) until it reaches a final status."""
    deadline = time.monotonic() + timeout
    while True:
        values = item_values(cj_get(url)["items"][0])
        if values["status"] in FINAL_STATUSES or time.monotonic() > deadline:
            return values
        time.sleep(1)


def walk_pages(url: str) -> list[dict]:
    """Every item of a C+J list, following ``next`` links until there are none."""
    items = []
    pages = 0
    while url:
        collection = cj_get(url)
        items += [item_values(item) for item in collection["items"]]
        url = link(collection, "next")
        pages += 1
        assert pages < 100, "runaway pagination"
    return items


@pytest.mark.parametrize("directory", ["/DICOM/dataset1", "chris/uploads/DICOM/dataset1"])
def test_seed_workflow_runs_pl_dircopy_with_pfurl(live_stack, dataset, pfurl, directory, tmp_path):
    plugins = cj_get(f"{live_stack}plugins/search/", name_exact="pl-dircopy", version="2.1.1")
    assert plugins["total"] == 1
    plugin = item_values(plugins["items"][0])

    answer = run_pfurl(pfurl, live_stack, plugin["id"], directory)

    collection = answer["collection"]
    assert "error" not in collection, collection["error"]
    created = item_values(collection["items"][0])
    assert created["plugin_name"] == "pl-dircopy"
    assert created["status"] in {"created", "waiting", "scheduled", "started"}
    final = wait_for_instance(created["href"])
    assert final["status"] == "finishedSuccessfully", final

    files = walk_pages(f"{final['feed']}files/")
    by_name = {item["fname"].rsplit("/", 1)[1]: item for item in files}
    assert set(dataset) <= set(by_name)
    assert all("/feed_" in item["fname"] and "/data/" in item["fname"] for item in files)

    name = sorted(dataset)[37]
    target = tmp_path / "download" / name
    target.parent.mkdir()
    http = Path(sys.executable).parent / "http"
    result = subprocess.run(
        [str(http), "--ignore-stdin", "--check-status", "--download", "--output", str(target),
         "--auth", ":".join(SUPERUSER), "GET", by_name[name]["file_resource"]],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "HTTPIE_CONFIG_DIR": str(tmp_path / "httpie")},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    assert digest == hashlib.sha256(dataset[name].read_bytes()).hexdigest()
