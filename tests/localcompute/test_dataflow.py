"""The copy → plugin → outputs → delete flow in fslink and zipfile mode."""

import io
import zipfile

from pfconclient.client import Client, JobType

from tests.localcompute.support import helper_form, plugin_form


def _write(storebase, path: str, content: str) -> None:
    target = storebase / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)


def _simpledsapp_form(jid: str, prefix: str, output_dir: str | None = None) -> dict:
    return plugin_form(
        jid,
        image="fnndsc/pl-simpledsapp:2.1.3",
        selfexec="simpledsapp",
        plugin_type="ds",
        args=["--prefix", prefix],
        output_dir=output_dir,
    )


def test_pfconclient_drives_dircopy_through_the_fslink_flow(fslink):
    _write(fslink.storebase, "home/alice/uploads/study/a.dcm", "a")
    _write(fslink.storebase, "home/alice/uploads/study/series/b.dcm", "b")
    output_dir = "home/alice/feeds/feed_1/pl-dircopy_1/data"
    jid = "chris-jid-pfconclient"
    token = Client.get_auth_token(fslink.url + "auth-token/", fslink.user, fslink.password)
    client = Client(fslink.url, token)
    client.initial_wait = 0.1

    info = client.get_server_info()
    assert client.requires_copy_job is True
    assert info["requires_upload_job"] is False

    copy = client.submit_job(
        JobType.COPY,
        jid,
        {"input_dirs": ["home/alice/uploads/study"], "output_dir": output_dir},
    )
    assert copy["compute"]["jid"] == jid
    assert client.poll_job_status(JobType.COPY, jid) == "finishedSuccessfully"
    incoming = fslink.job_dir(jid) / "incoming"
    assert (incoming / "a.dcm").read_text() == "a"
    assert (incoming / "series" / "b.dcm").read_text() == "b"
    # Inputs are hard links, not copies, when they share a filesystem.
    assert (incoming / "a.dcm").stat().st_ino == (
        fslink.storebase / "home/alice/uploads/study/a.dcm"
    ).stat().st_ino

    form = plugin_form(
        jid,
        image="fnndsc/pl-dircopy:2.1.1",
        selfexec="dircopy",
        args=["--dir", "home/alice/uploads/study"],
        path_flags=["--dir"],
        output_dir=output_dir,
    )
    submitted = client.submit_job(JobType.PLUGIN, jid, form)
    assert submitted["data"] == {}
    assert set(submitted["compute"]) == {
        "jid",
        "image",
        "cmd",
        "status",
        "message",
        "timestamp",
        "logs",
    }
    assert submitted["compute"]["logs"] == ""
    assert client.poll_job_status(JobType.PLUGIN, jid) == "finishedSuccessfully"
    status = client.get_job_status(JobType.PLUGIN, jid)["compute"]
    # The plugin sees its folders where a pfcon container would, never server paths.
    assert "dir: /share/incoming" in status["logs"]
    assert status["cmd"].endswith("--dir /share/incoming /share/outgoing")

    listing = client.get_plugin_job_json_data(jid, output_dir)
    assert listing == {"job_output_path": output_dir, "rel_file_paths": []}

    upload = client.submit_job(JobType.UPLOAD, jid, {"job_output_path": output_dir})
    assert upload["compute"]["message"] == "uploadSkipped"
    client.submit_job(JobType.DELETE, jid, {})
    assert client.poll_job_status(JobType.DELETE, jid) == "finishedSuccessfully"
    assert not fslink.job_dir(jid).exists()
    for job_type in JobType:
        client.delete_job(job_type, jid)
    assert fslink.get(f"pluginjobs/{jid}/").status_code == 404
    # The shared storage itself is untouched.
    assert (fslink.storebase / "home/alice/uploads/study/a.dcm").read_text() == "a"


def test_simpledsapp_outputs_are_listed_in_fslink_mode(fslink):
    _write(fslink.storebase, "home/alice/feeds/feed_2/pl-dircopy_2/data/x.txt", "x")
    _write(fslink.storebase, "home/alice/feeds/feed_2/pl-dircopy_2/data/sub/y.txt", "y")
    parent = "home/alice/feeds/feed_2/pl-dircopy_2/data"
    output_dir = "home/alice/feeds/feed_2/pl-dircopy_2/pl-simpledsapp_3/data"
    jid = "chris-jid-simpleds"
    assert fslink.copy(jid, [parent], output_dir)["status"] == "finishedSuccessfully"
    response = fslink.post("pluginjobs/", _simpledsapp_form(jid, "le_", output_dir))
    assert response.status_code == 201, response.text
    assert fslink.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"
    listing = fslink.get(f"pluginjobs/{jid}/file/", params={"job_output_path": output_dir})
    assert listing.status_code == 200
    assert listing.headers["Content-Type"] == "application/json"
    assert listing.json()["rel_file_paths"] == ["le_x.txt", "sub/le_y.txt"]
    assert (fslink.storebase / output_dir / "sub" / "le_y.txt").read_text() == "y"


def test_fslink_listing_needs_job_output_path(fslink):
    assert fslink.get("pluginjobs/chris-jid-any/file/").status_code == 400


def test_copy_expands_chrislinks(fslink):
    _write(fslink.storebase, "home/alice/uploads/scan/s1.dcm", "s1")
    _write(
        fslink.storebase,
        "home/alice/feeds/feed_4/pl-dircopy_4/data/home_alice_uploads_scan.chrislink",
        "home/alice/uploads/scan",
    )
    _write(fslink.storebase, "home/alice/feeds/feed_4/pl-dircopy_4/data/notes.txt", "n")
    jid = "chris-jid-links"
    compute = fslink.copy(
        jid,
        ["home/alice/feeds/feed_4/pl-dircopy_4/data"],
        "home/alice/feeds/feed_4/pl-dircopy_4/pl-simpledsapp_5/data",
    )
    assert compute["status"] == "finishedSuccessfully", compute["logs"]
    incoming = fslink.job_dir(jid) / "incoming"
    assert (incoming / "notes.txt").read_text() == "n"
    assert (incoming / "home_alice_uploads_scan" / "s1.dcm").read_text() == "s1"
    assert not list(incoming.rglob("*.chrislink"))


def test_a_quick_copy_job_answers_its_post_with_its_end(fslink):
    """A copy that ends at once needs no second request to learn it."""
    _write(fslink.storebase, "home/alice/uploads/quick/a.txt", "a")
    response = fslink.post(
        "copyjobs/",
        {"jid": "chris-jid-quick", "input_dirs": ["home/alice/uploads/quick"],
         "output_dir": "home/alice/feeds/feed_9/pl-a_9/data"},
    )  # fmt: skip
    assert response.status_code == 201, response.text
    assert response.json()["compute"]["status"] == "finishedSuccessfully"
    assert (fslink.job_dir("chris-jid-quick") / "incoming" / "a.txt").read_text() == "a"


def test_copy_refuses_a_link_to_an_ancestor_of_the_output(fslink):
    _write(fslink.storebase, "home/alice/feeds/feed_6/pl-a_6/data/up.chrislink", "home/alice/feeds")
    jid = "chris-jid-badlink"
    compute = fslink.copy(
        jid, ["home/alice/feeds/feed_6/pl-a_6/data"], "home/alice/feeds/feed_6/pl-a_6/pl-b_7/data"
    )
    assert compute["status"] == "finishedWithError"
    assert "points at the job output dir" in compute["logs"]


def test_copy_refuses_paths_outside_the_storage_root(fslink):
    response = fslink.post(
        "copyjobs/", {"jid": "chris-jid-escape", "input_dirs": ["../../etc"], "output_dir": "x/y"}
    )
    assert response.status_code == 400


def test_outputs_drop_symlinks_and_plugin_written_chrislinks(fslink):
    jid = "chris-jid-outlinks"
    output_dir = "home/alice/out-links"
    fslink.copy(jid, [], output_dir)
    assert fslink.post("pluginjobs/", helper_form(jid, "links", output_dir=output_dir)).ok
    assert fslink.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"
    listing = fslink.get(f"pluginjobs/{jid}/file/", params={"job_output_path": output_dir})
    assert listing.json()["rel_file_paths"] == ["real.txt", "sub/nested.txt"]
    output = fslink.storebase / output_dir
    assert not (output / "escape.chrislink").exists()
    assert not (output / "passwd").is_symlink()


def test_shell_metacharacters_reach_the_plugin_literally(fslink, tmp_path):
    marker = tmp_path / "pwned"
    _write(fslink.storebase, "home/alice/feeds/feed_8/pl-dircopy_8/data/a.txt", "a")
    jid = "chris-jid-shell"
    output_dir = "home/alice/feeds/feed_8/pl-dircopy_8/pl-simpledsapp_9/data"
    fslink.copy(jid, ["home/alice/feeds/feed_8/pl-dircopy_8/data"], output_dir)
    prefix = f"$(touch {marker});`touch {marker}`|"
    response = fslink.post("pluginjobs/", _simpledsapp_form(jid, prefix, output_dir))
    assert response.status_code == 201, response.text
    assert fslink.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"
    listing = fslink.get(f"pluginjobs/{jid}/file/", params={"job_output_path": output_dir})
    assert listing.json()["rel_file_paths"] == [f"{prefix}a.txt"]
    assert not marker.exists()


def test_topologicalcopy_gets_only_the_output_dir_and_never_logs_its_env(fslink):
    jid = "chris-jid-ts"
    output_dir = "home/alice/feeds/feed_10/pl-topologicalcopy_10/data"
    fslink.copy(jid, [], output_dir)
    form = plugin_form(
        jid,
        image="fnndsc/pl-topologicalcopy:1.0.12",
        selfexec="topologicalcopy",
        plugin_type="ts",
        args=["--plugininstances", "3,5", "--filter", r".*\.txt$,.*"],
        output_dir=output_dir,
        env=[f"CHRIS_JID={jid}", "CHRIS_USER_TOKEN=very-secret-user-token"],
    )
    assert fslink.post("pluginjobs/", form).status_code == 201
    compute = fslink.wait("pluginjobs", jid)
    assert compute["status"] == "finishedSuccessfully", compute["logs"]
    assert "plugininstances: '3,5'" in compute["logs"]
    assert "very-secret-user-token" not in compute["logs"]


def test_simplefsapp_lists_its_path_argument(fslink):
    _write(fslink.storebase, "home/alice/uploads/fs/one.txt", "1")
    _write(fslink.storebase, "home/alice/uploads/fs/two.txt", "2")
    jid = "chris-jid-simplefs"
    output_dir = "home/alice/feeds/feed_11/pl-simplefsapp_11/data"
    fslink.copy(jid, ["home/alice/uploads/fs"], output_dir)
    form = plugin_form(
        jid,
        image="fnndsc/pl-simplefsapp:1.0.1",
        selfexec="simplefsapp",
        args=["--dir", "home/alice/uploads/fs", "--sleepLength", "0"],
        path_flags=["--dir"],
        output_dir=output_dir,
    )
    assert fslink.post("pluginjobs/", form).status_code == 201
    assert fslink.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"
    listing = fslink.get(f"pluginjobs/{jid}/file/", params={"job_output_path": output_dir})
    assert listing.json()["rel_file_paths"] == ["one.txt", "out.txt", "two.txt"]
    assert (fslink.storebase / output_dir / "out.txt").read_text() == "one.txt\ntwo.txt\n"


def _zip(members: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_zipfile_mode_roundtrip(zipfile_server):
    server = zipfile_server
    jid = "chris-jid-zip"
    copy = server.post("copyjobs/", {"jid": jid, "input_dirs": [], "output_dir": "x"})
    assert copy.json()["compute"]["message"] == "copySkipped"
    form = _simpledsapp_form(jid, "z_")
    data = _zip({"a.txt": "a", "sub/b.txt": "b"})
    response = server.post("pluginjobs/", form, files={"data_file": ("data.zip", data)})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["data"]["jid"] == jid
    assert body["data"]["nfiles"] == 2
    assert body["data"]["path"] == str(server.job_dir(jid) / "incoming")
    assert server.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"

    result = server.get(f"pluginjobs/{jid}/file/")
    assert result.status_code == 200
    assert result.headers["Content-Type"] == "application/zip"
    assert f"{jid}.zip" in result.headers["Content-Disposition"]
    with zipfile.ZipFile(io.BytesIO(result.content)) as archive:
        assert sorted(archive.namelist()) == ["sub/z_b.txt", "z_a.txt"]
        assert archive.read("sub/z_b.txt") == b"b"

    upload = server.post("uploadjobs/", {"jid": jid, "job_output_path": "x"})
    assert upload.json()["compute"]["message"] == "uploadSkipped"
    assert server.post("deletejobs/", {"jid": jid}).status_code == 201
    assert server.wait("deletejobs", jid)["status"] == "finishedSuccessfully"
    assert not server.job_dir(jid).exists()


def test_zipfile_mode_with_pfconclient(zipfile_server, tmp_path):
    server = zipfile_server
    source = tmp_path / "inputs"
    (source / "deep").mkdir(parents=True)
    (source / "deep" / "c.txt").write_text("c")
    client = Client(
        server.url, Client.get_auth_token(server.url + "auth-token/", server.user, server.password)
    )
    client.initial_wait = 0.1
    jid = "chris-jid-zip-client"
    form = _simpledsapp_form(jid, "p_")
    client.submit_job(JobType.PLUGIN, jid, form, Client.create_zip_file(str(source)))
    assert client.poll_job_status(JobType.PLUGIN, jid) == "finishedSuccessfully"
    client.get_plugin_job_files(jid, str(tmp_path / "outputs"))
    assert (tmp_path / "outputs" / "deep" / "p_c.txt").read_text() == "c"


def test_zipfile_expands_links_carried_in_the_archive(zipfile_server):
    server = zipfile_server
    jid = "chris-jid-zip-links"
    data = _zip(
        {
            "notes.txt": "n",
            "home_alice_uploads_scan.chrislink": "home/alice/uploads/scan",
            "home/alice/uploads/scan/s1.dcm": "s1",
        }
    )
    response = server.post(
        "pluginjobs/", _simpledsapp_form(jid, ""), files={"data_file": ("d.zip", data)}
    )
    assert response.status_code == 201, response.text
    assert response.json()["data"]["nfiles"] == 2
    incoming = server.job_dir(jid) / "incoming"
    assert (incoming / "home_alice_uploads_scan" / "s1.dcm").read_text() == "s1"
    assert not (incoming / "home").exists()


def test_zipfile_rejects_a_bad_zip(zipfile_server):
    response = zipfile_server.post(
        "pluginjobs/",
        _simpledsapp_form("chris-jid-badzip", "x"),
        files={"data_file": ("d.zip", b"not a zip at all")},
    )
    assert response.status_code == 400
    assert response.json() == {"message": "data_file: Bad zip file"}


def test_zipfile_rejects_members_escaping_incoming(zipfile_server, tmp_path):
    for name in ("../evil.txt", "/abs/evil.txt", "a/../../evil.txt"):
        response = zipfile_server.post(
            "pluginjobs/",
            _simpledsapp_form("chris-jid-zipslip", "x"),
            files={"data_file": ("d.zip", _zip({name: "evil"}))},
        )
        assert response.status_code == 400, name
        assert "unsafe member name" in response.json()["message"]
    assert not (zipfile_server.data_dir / "evil.txt").exists()
    assert not (zipfile_server.root / "evil.txt").exists()


def test_zipfile_requires_a_data_file(zipfile_server):
    response = zipfile_server.post("pluginjobs/", _simpledsapp_form("chris-jid-nozip", "x"))
    assert response.status_code == 400
    assert response.json() == {"message": "data_file: field is required"}


def test_outputs_json_is_only_for_in_network_modes(zipfile_server):
    jid = "chris-jid-zip-json"
    data = _zip({"a.txt": "a"})
    zipfile_server.post(
        "pluginjobs/", _simpledsapp_form(jid, ""), files={"data_file": ("d.zip", data)}
    )
    zipfile_server.wait("pluginjobs", jid)
    response = zipfile_server.get(f"pluginjobs/{jid}/file/", params={"job_output_path": "a/b"})
    assert response.headers["Content-Type"] == "application/zip"
