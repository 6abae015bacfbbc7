"""Swift mode against a real Swift (integration: needs Swift on 127.0.0.1:8080)."""

import io
import os
import uuid
import zipfile

import pytest
import requests
from pfconclient.client import Client, JobType

from tests.localcompute.support import plugin_form

pytestmark = pytest.mark.integration

SWIFT_AUTH_URL = os.environ.get("SWIFT_AUTH_URL", "http://127.0.0.1:8080/auth/v1.0")
SWIFT_USERNAME = os.environ.get("SWIFT_USERNAME", "chris:chris1234")
SWIFT_KEY = os.environ.get("SWIFT_KEY", "testing")


def _swift_reachable() -> bool:
    try:
        response = requests.get(
            SWIFT_AUTH_URL,
            headers={"X-Auth-User": SWIFT_USERNAME, "X-Auth-Key": SWIFT_KEY},
            timeout=3,
        )
    except requests.RequestException:
        return False
    return response.ok


@pytest.fixture
def swift_container():
    if not _swift_reachable():
        if os.environ.get("CI") == "true":
            pytest.fail(f"Swift is not reachable at {SWIFT_AUTH_URL} and CI=true")
        pytest.skip(f"Swift is not reachable at {SWIFT_AUTH_URL}")
    from storage.swift import SwiftStorage

    container = f"localcompute-test-{uuid.uuid4().hex[:12]}"
    storage = SwiftStorage(SWIFT_AUTH_URL, SWIFT_USERNAME, SWIFT_KEY, container)
    yield container, storage
    storage.delete_folder("home")
    from swiftclient.client import ClientException, Connection

    connection = Connection(authurl=SWIFT_AUTH_URL, user=SWIFT_USERNAME, key=SWIFT_KEY)
    for name in (container, f"{container}_segments"):
        try:
            connection.delete_container(name)
        except ClientException as e:
            if e.http_status != 404:  # the segments container usually never existed
                raise


def _put(storage, key: str, content: str) -> None:
    data = content.encode()
    storage.put(key, io.BytesIO(data), length=len(data))


def test_swift_mode_copy_plugin_upload_delete(localcompute_factory, swift_container):
    container, storage = swift_container
    _put(storage, "home/alice/feeds/feed_1/pl-dircopy_1/data/a.txt", "a")
    _put(storage, "home/alice/feeds/feed_1/pl-dircopy_1/data/sub/b.txt", "b")
    _put(
        storage,
        "home/alice/feeds/feed_1/pl-dircopy_1/data/home_alice_uploads_scan.chrislink",
        "home/alice/uploads/scan",
    )
    _put(storage, "home/alice/uploads/scan/s1.dcm", "s1")
    server = localcompute_factory(
        "swift",
        SWIFT_AUTH_URL=SWIFT_AUTH_URL,
        SWIFT_USERNAME=SWIFT_USERNAME,
        SWIFT_KEY=SWIFT_KEY,
        SWIFT_CONTAINER_NAME=container,
    )
    info = server.get("pluginjobs/").json()
    assert info["storage_env"] == "swift"
    assert info["requires_copy_job"] is True
    assert info["requires_upload_job"] is True
    assert info["swift_auth_url"] == SWIFT_AUTH_URL

    client = Client(
        server.url, Client.get_auth_token(server.url + "auth-token/", server.user, server.password)
    )
    client.initial_wait = 0.1
    jid = "chris-jid-swift"
    parent = "home/alice/feeds/feed_1/pl-dircopy_1/data"
    output_dir = "home/alice/feeds/feed_1/pl-dircopy_1/pl-simpledsapp_2/data"

    client.submit_job(JobType.COPY, jid, {"input_dirs": [parent], "output_dir": output_dir})
    assert client.poll_job_status(JobType.COPY, jid) == "finishedSuccessfully"
    incoming = server.job_dir(jid) / "incoming"
    assert (incoming / "sub" / "b.txt").read_text() == "b"
    assert (incoming / "home_alice_uploads_scan" / "s1.dcm").read_text() == "s1"

    form = plugin_form(
        jid,
        image="fnndsc/pl-simpledsapp:2.1.3",
        selfexec="simpledsapp",
        plugin_type="ds",
        args=["--prefix", "s_", "--sleepLength", "1"],
        output_dir=output_dir,
    )
    client.submit_job(JobType.PLUGIN, jid, form)
    early = server.post("uploadjobs/", {"jid": jid, "job_output_path": output_dir})
    assert early.status_code == 409
    assert client.poll_job_status(JobType.PLUGIN, jid) == "finishedSuccessfully"

    client.submit_job(JobType.UPLOAD, jid, {"job_output_path": output_dir})
    assert client.poll_job_status(JobType.UPLOAD, jid) == "finishedSuccessfully"
    expected = ["home_alice_uploads_scan/s_s1.dcm", "s_a.txt", "sub/s_b.txt"]
    assert storage.ls(output_dir) == [f"{output_dir}/{name}" for name in expected]
    assert b"".join(storage.open(f"{output_dir}/sub/s_b.txt")) == b"b"

    listing = client.get_plugin_job_json_data(jid, output_dir)
    assert listing == {"job_output_path": output_dir, "rel_file_paths": expected}
    archive = zipfile.ZipFile(io.BytesIO(client.get_plugin_job_zip_data(jid)))
    assert sorted(archive.namelist()) == expected

    client.submit_job(JobType.DELETE, jid, {})
    assert client.poll_job_status(JobType.DELETE, jid) == "finishedSuccessfully"
    assert not server.job_dir(jid).exists()
    for job_type in JobType:
        client.delete_job(job_type, jid)


def test_swift_copy_of_a_missing_prefix_stages_nothing(localcompute_factory, swift_container):
    container, _storage = swift_container
    server = localcompute_factory(
        "swift",
        SWIFT_AUTH_URL=SWIFT_AUTH_URL,
        SWIFT_USERNAME=SWIFT_USERNAME,
        SWIFT_KEY=SWIFT_KEY,
        SWIFT_CONTAINER_NAME=container,
    )
    compute = server.copy("chris-jid-swift-empty", ["home/nobody/nothing"], "home/nobody/out")
    assert compute["status"] == "finishedSuccessfully"
    assert "not found" in compute["logs"]


def test_swift_outputs_that_are_inputs_unchanged_are_copied_inside_swift(
    localcompute_factory, swift_container
):
    container, storage = swift_container
    scan = os.urandom(200_000)
    parent = "home/alice/feeds/feed_3/pl-dircopy_3/data"
    storage.put(f"{parent}/scan.dcm", io.BytesIO(scan), length=len(scan))
    _put(storage, f"{parent}/notes.txt", "small")
    server = localcompute_factory(
        "swift",
        SWIFT_AUTH_URL=SWIFT_AUTH_URL,
        SWIFT_USERNAME=SWIFT_USERNAME,
        SWIFT_KEY=SWIFT_KEY,
        SWIFT_CONTAINER_NAME=container,
    )
    jid = "chris-jid-swift-copies"
    output_dir = "home/alice/feeds/feed_3/pl-dircopy_3/pl-simpledsapp_4/data"
    server.copy(jid, [parent], output_dir)
    form = plugin_form(
        jid,
        image="fnndsc/pl-simpledsapp:2.1.3",
        selfexec="simpledsapp",
        plugin_type="ds",
        args=["--prefix", "s_"],
        output_dir=output_dir,
    )
    assert server.post("pluginjobs/", form).status_code == 201
    assert server.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"
    response = server.post("uploadjobs/", {"jid": jid, "job_output_path": output_dir})
    assert response.status_code == 201, response.text
    upload = server.wait("uploadjobs", jid)
    assert upload["status"] == "finishedSuccessfully"
    assert "stored 2 files" in upload["logs"] and "(1 copied inside storage)" in upload["logs"]
    assert b"".join(storage.open(f"{output_dir}/s_scan.dcm")) == scan
    assert b"".join(storage.open(f"{output_dir}/s_notes.txt")) == b"small"
