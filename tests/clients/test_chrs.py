"""chrs 0.3.1, the ChRIS command line (a Rust binary from PyPI), against the live stack.

chrs finds its helper plugins by exact name and version: ``upload --feed`` runs pl-dircopy
2.1.2 then pl-unstack-folders 1.0.0, uploading into the current feed runs pl-tsdircopy 1.2.1,
and a run on several parents first joins them with pl-topologicalcopy 1.0.2.
"""

import hashlib
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.e2e

ANSI = re.compile(r"\x1b\[[0-9;]*m")
FINAL_STATUSES = {"finishedSuccessfully", "finishedWithError", "cancelled"}


class Chrs:
    """Runs the chrs command as one user, with its config in a folder of its own."""

    def __init__(self, program: Path, home: Path, cwd: Path):
        self.program, self.home, self.cwd = program, home, cwd

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(self.program), *args],
            cwd=self.cwd,
            env={
                "HOME": str(self.home),
                "XDG_CONFIG_HOME": str(self.home / ".config"),
                "PATH": "/usr/bin:/bin",
                "NO_COLOR": "1",
                "RUST_BACKTRACE": "0",
            },
            capture_output=True,
            text=True,
            timeout=180,
        )
        result.stdout, result.stderr = ANSI.sub("", result.stdout), ANSI.sub("", result.stderr)
        if check:
            assert result.returncode == 0, f"chrs {' '.join(args)}:\n{result.stderr[-3000:]}"
        return result


def digests(root: Path) -> dict[str, str]:
    """sha256 of every file under root, by path relative to it."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in root.rglob("*")
        if path.is_file()
    }


def instance_id(output: str) -> int:
    """The id in the ``plugininstance/<id>`` line chrs prints after upload and run."""
    found = re.findall(r"plugininstance/(\d+)", output)
    assert found, output
    return int(found[-1])


@pytest.fixture
def account(live_stack) -> tuple[str, str]:
    """A fresh user, so that chrs lists only what this test made."""
    username = f"chrs{uuid.uuid4().hex[:8]}"
    password = f"pw-{uuid.uuid4().hex}"
    response = requests.post(
        f"{live_stack}users/",
        json={"username": username, "password": password, "email": f"{username}@example.org"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return username, password


def wait_for_feed(live_stack: str, auth: tuple[str, str], feed_id: int, count: int) -> list:
    """The feed's instances once there are ``count`` of them, all finished."""
    deadline = time.monotonic() + 180
    while True:
        instances = requests.get(
            f"{live_stack}{feed_id}/plugininstances/",
            params={"limit": 100},
            auth=auth,
            headers={"Accept": "application/json"},
            timeout=30,
        ).json()["results"]
        done = [item for item in instances if item["status"] in FINAL_STATUSES]
        if len(instances) >= count and len(done) == len(instances):
            return instances
        assert time.monotonic() < deadline, instances
        time.sleep(0.5)


def feed_of(live_stack: str, auth: tuple[str, str], plugin_instance_id: int) -> int:
    return requests.get(
        f"{live_stack}plugins/instances/{plugin_instance_id}/",
        auth=auth,
        headers={"Accept": "application/json"},
        timeout=30,
    ).json()["feed_id"]


def test_chrs_session_uploads_runs_joins_and_downloads(live_stack, chrs_program, account, tmp_path):
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    study = work / "study"
    (study / "series" / "sub").mkdir(parents=True)
    (study / "series" / "sub" / "1.dcm").write_bytes(b"first slice\n" * 100)
    (study / "series" / "sub" / "2.dcm").write_bytes(b"second slice\n" * 50)
    (study / "series" / "notes.txt").write_text("a note\n")
    (work / "extra.txt").write_text("added later\n")
    chrs = Chrs(chrs_program, home, work)

    chrs("login", "--no-keyring", "--cube", live_stack, "--username", account[0],
         "--password", account[1])  # fmt: skip
    assert account[0] in chrs("whoami").stdout

    # upload --feed: pl-dircopy 2.1.2 then pl-unstack-folders 1.0.0 in a new feed
    unstacked = instance_id(chrs("upload", "--feed", "chrs study", "study").stdout)
    feed_id = feed_of(live_stack, account, unstacked)
    instances = wait_for_feed(live_stack, account, feed_id, 2)
    assert {
        (item["plugin_name"], item["plugin_version"], item["status"]) for item in instances
    } == {
        ("pl-dircopy", "2.1.2", "finishedSuccessfully"),
        ("pl-unstack-folders", "1.0.0", "finishedSuccessfully"),
    }
    status = chrs("status").stdout
    assert "chrs study" in status
    assert "pl-unstack-folders" in status
    assert "finished: 2" in status and "errors: 0" in status
    listed = chrs("ls", "--full", "--level", "6", "--show", "files").stdout.splitlines()
    assert sorted(line.rsplit("/data/", 1)[1] for line in listed) == [
        "notes.txt", "sub/1.dcm", "sub/2.dcm",
    ]  # fmt: skip
    chrs("download", f"plugininstance/{unstacked}", str(tmp_path / "unstacked"))
    assert digests(tmp_path / "unstacked") == digests(study / "series")

    # upload --no-feed: the file lands in the user's uploads, nothing runs
    chrs("upload", "--no-feed", "extra.txt")
    uploads = requests.get(
        f"{live_stack}uploadedfiles/search/",
        params={"fname_icontains": "extra.txt"},
        auth=account,
        headers={"Accept": "application/json"},
        timeout=30,
    ).json()["results"]
    assert [item["fname"].split("/")[:2] for item in uploads] == [[account[0], "uploads"]]
    assert len(wait_for_feed(live_stack, account, feed_id, 2)) == 2

    # upload into the current feed: pl-tsdircopy 1.2.1 under the current instance
    added = instance_id(chrs("upload", "extra.txt").stdout)
    instances = wait_for_feed(live_stack, account, feed_id, 4)
    by_id = {item["id"]: item for item in instances}
    assert by_id[added]["plugin_name"] == "pl-unstack-folders"
    tsdircopy = by_id[by_id[added]["previous_id"]]
    assert (tsdircopy["plugin_name"], tsdircopy["plugin_version"]) == ("pl-tsdircopy", "1.2.1")
    assert tsdircopy["previous_id"] == unstacked
    assert {item["status"] for item in instances} == {"finishedSuccessfully"}

    # run on the current instance, then on two parents (joined by pl-topologicalcopy 1.0.2)
    prefixed = instance_id(
        chrs("run", "--title", "prefixed", "pl-simpledsapp", "--", "--prefix=one-").stdout
    )
    merged = instance_id(
        chrs(
            "run", "--title", "merged", "pl-simpledsapp", "--", "--prefix=both-",
            f"plugininstance/{unstacked}", f"plugininstance/{added}",
        ).stdout
    )  # fmt: skip
    instances = wait_for_feed(live_stack, account, feed_id, 7)
    by_id = {item["id"]: item for item in instances}
    assert {item["status"] for item in instances} == {"finishedSuccessfully"}
    assert by_id[prefixed]["previous_id"] == added
    join = by_id[by_id[merged]["previous_id"]]
    assert (join["plugin_name"], join["plugin_version"]) == ("pl-topologicalcopy", "1.0.2")
    chrs("download", f"plugininstance/{merged}", str(tmp_path / "merged"))
    sources = {**digests(study / "series"), "extra.txt": digests(work)["extra.txt"]}
    expected = {
        str(Path(name).with_name(f"both-{Path(name).name}")): digest
        for name, digest in sources.items()
    }
    assert digests(tmp_path / "merged") == expected

    chrs("logout")
    assert chrs("whoami", check=False).returncode != 0
    assert "not logged in" in chrs("ls", check=False).stderr.lower()
