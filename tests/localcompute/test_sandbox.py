"""The sandbox, admission control and output collection of plugin jobs."""

import os
import subprocess
import sys
import time

from localcompute import staging
from tests.localcompute.support import REPO_ROOT, helper_form, job_processes


def _submit(server, jid: str, mode: str, *extra: str) -> None:
    output_dir = f"home/alice/out-{jid}"
    server.copy(jid, [], output_dir)
    response = server.post("pluginjobs/", helper_form(jid, mode, *extra, output_dir=output_dir))
    assert response.status_code == 201, response.text


def _statuses(server, jids: list[str]) -> list[str]:
    return [server.get(f"pluginjobs/{jid}/").json()["compute"]["status"] for jid in jids]


def test_jobs_beyond_max_jobs_wait_as_not_started(localcompute_factory):
    server = localcompute_factory(LOCALCOMPUTE_MAX_JOBS="2")
    jids = [f"chris-jid-queue-{number}" for number in range(5)]
    for jid in jids:
        _submit(server, jid, "sleep", "--seconds", "1")
    most_running = 0
    deadline = time.monotonic() + 60
    while (statuses := _statuses(server, jids)).count("finishedSuccessfully") < len(jids):
        running = statuses.count("started")
        most_running = max(most_running, running)
        assert running <= 2, statuses
        assert set(statuses) <= {"notStarted", "started", "finishedSuccessfully"}, statuses
        assert time.monotonic() < deadline, statuses
        time.sleep(0.05)
    assert most_running == 2


def test_a_queued_job_is_cancelled_before_any_process_starts(localcompute_factory):
    server = localcompute_factory(LOCALCOMPUTE_MAX_JOBS="1")
    _submit(server, "chris-jid-busy", "sleep", "--seconds", "30")
    _submit(server, "chris-jid-waiting", "sleep", "--seconds", "30")
    assert _statuses(server, ["chris-jid-busy", "chris-jid-waiting"]) == ["started", "notStarted"]
    assert server.delete("pluginjobs/chris-jid-waiting/").status_code == 204
    assert server.get("pluginjobs/chris-jid-waiting/").status_code == 404
    assert server.delete("pluginjobs/chris-jid-busy/").status_code == 204
    time.sleep(1)  # a monitor round that would start a leftover queued job
    assert job_processes("chris-jid-waiting") == {"sandbox": [], "plugin": [], "grandchild": []}
    assert not (server.job_dir("chris-jid-waiting") / "job.log").exists()


def test_queued_jobs_start_after_a_restart(localcompute_factory):
    server = localcompute_factory(LOCALCOMPUTE_MAX_JOBS="1")
    _submit(server, "chris-jid-first", "sleep", "--seconds", "2")
    _submit(server, "chris-jid-second", "sleep")
    server.stop()
    server.start()
    assert server.wait("pluginjobs", "chris-jid-second")["status"] == "finishedSuccessfully"
    assert server.wait("pluginjobs", "chris-jid-first")["status"] == "finishedSuccessfully"


def test_an_output_folder_that_is_not_empty_is_refused(fslink):
    jid = "chris-jid-occupied"
    output_dir = f"home/alice/out-{jid}"
    leftover = fslink.storebase / output_dir / "old.txt"
    leftover.parent.mkdir(parents=True)
    leftover.write_text("from an earlier job")
    fslink.copy(jid, [], output_dir)
    response = fslink.post("pluginjobs/", helper_form(jid, "sleep", output_dir=output_dir))
    assert response.status_code == 409
    assert "not empty" in response.json()["message"]
    assert sorted(path.name for path in leftover.parent.iterdir()) == ["old.txt"]


def test_without_bubblewrap_localcompute_refuses_to_start(localcompute_factory, tmp_path):
    server = localcompute_factory()
    server.stop()
    env = {**server.env, "PATH": str(tmp_path / "empty-bin")}
    result = subprocess.run(
        [sys.executable, "-m", "localcompute"],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "bubblewrap (bwrap) is not installed" in result.stderr.strip().splitlines()[-1]


def test_sandbox_off_runs_plugins_unconfined_and_says_so(localcompute_factory):
    server = localcompute_factory(LOCALCOMPUTE_SANDBOX="off")
    jid = "chris-jid-unconfined"
    _submit(server, jid, "env")
    assert server.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"
    cwd = (server.storebase / f"home/alice/out-{jid}" / "cwd.txt").read_text()
    assert cwd == str(server.job_dir(jid) / "tmp")  # a host path: no sandbox
    log = server.log_path.read_text()
    assert f"job {jid} runs UNCONFINED (LOCALCOMPUTE_SANDBOX=off)" in log


def test_collecting_outputs_keeps_only_regular_files_with_sound_names(tmp_path):
    outgoing, destination = tmp_path / "outgoing", tmp_path / "storage" / "out"
    (outgoing / "sub").mkdir(parents=True)
    (outgoing / "kept.txt").write_text("kept")
    (outgoing / "sub" / "nested.txt").write_text("nested")
    (outgoing / "link.chrislink").write_text("bobby/uploads")
    (outgoing / "Upper.ChrisLink").write_text("bobby/uploads")
    (outgoing / "passwd").symlink_to("/etc/passwd")
    (outgoing / "folder-link").symlink_to(tmp_path)
    (outgoing / "new\nline.txt").write_text("control character")
    (outgoing / "bad\x1bdir").mkdir()
    (outgoing / "bad\x1bdir" / "inside.txt").write_text("gone with its folder")
    os.mkfifo(outgoing / "fifo")
    outside = tmp_path / "outside.txt"
    outside.write_text("shared inode")
    os.link(outside, outgoing / "hardlink.txt")

    dropped = staging.collect_outputs(outgoing, destination)

    assert staging.list_outputs(destination) == ["hardlink.txt", "kept.txt", "sub/nested.txt"]
    assert sorted(path.name for path in destination.iterdir()) == [
        "hardlink.txt",
        "kept.txt",
        "sub",
    ]
    copied = destination / "hardlink.txt"
    assert copied.read_text() == "shared inode"
    assert copied.stat().st_nlink == 1 and outside.stat().st_nlink == 1
    assert len(dropped) == 7
    assert sum("symbolic link" in line for line in dropped) == 2
    assert sum("link files are written by CUBE only" in line for line in dropped) == 2
    assert sum("control character" in line for line in dropped) == 2
    assert sum("not a regular file" in line for line in dropped) == 1
    assert list(outgoing.rglob("*")) == [outgoing / "sub"]  # moved, not copied


def test_collecting_outputs_again_after_a_crash_finishes_the_move(tmp_path):
    outgoing, destination = tmp_path / "outgoing", tmp_path / "out"
    outgoing.mkdir()
    (outgoing / "a.txt").write_text("a")
    (outgoing / "b.txt").write_text("b")
    destination.mkdir()
    os.link(outgoing / "a.txt", destination / "a.txt")  # linked, then the process died
    assert staging.collect_outputs(outgoing, destination) == []
    assert staging.list_outputs(destination) == ["a.txt", "b.txt"]
    assert not list(outgoing.iterdir())
