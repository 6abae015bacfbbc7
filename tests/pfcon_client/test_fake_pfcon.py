"""Behaviour of tests.fakes.FakePfcon that other test suites rely on."""

import io
import zipfile

import pytest
import requests

from tests.fakes import FakePfcon

JID = "chris-jid-3"


def login(fake):
    response = requests.post(
        fake.auth_url, json={"pfcon_user": "pfcon", "pfcon_password": "pfcon1234"}
    )
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_server_info_flags_follow_the_data_mode():
    with FakePfcon(innetwork=True, storage_env="fslink") as fake:
        info = requests.get(fake.url + "pluginjobs/", headers=login(fake)).json()
    assert info["requires_copy_job"] is True
    assert info["requires_upload_job"] is False
    assert info["pfcon_innetwork"] is True

    with FakePfcon(requires_copy_job=True) as fake:
        info = requests.get(fake.url + "copyjobs/", headers=login(fake)).json()
    assert (info["storage_env"], info["requires_copy_job"]) == ("zipfile", True)


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "Missing authorization header."),
        ({"Authorization": "Token abc"}, "Invalid authorization header."),
        ({"Authorization": "Bearer abc"}, "Invalid authorization token."),
    ],
)
def test_requests_without_a_good_token_get_401(pfcon, headers, message):
    response = requests.get(pfcon.url + "pluginjobs/", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"message": message}


def test_health_needs_no_token(pfcon):
    assert requests.get(pfcon.url + "health/").json() == {"health": "OK"}


def test_post_is_idempotent_until_the_job_fails(pfcon_fslink):
    headers = login(pfcon_fslink)
    form = {"jid": JID, "output_dir": "out", "cpu_limit": 1000, "memory_limit": 300}

    first = requests.post(pfcon_fslink.url + "copyjobs/", data=form, headers=headers)
    pfcon_fslink.set_status(JID, "started", kind="copy")
    again = requests.post(pfcon_fslink.url + "copyjobs/", data=form, headers=headers)
    pfcon_fslink.set_status(JID, "finishedWithError", kind="copy")
    pfcon_fslink.set_status(JID, None, kind="copy")
    fresh = requests.post(pfcon_fslink.url + "copyjobs/", data=form, headers=headers)

    assert first.status_code == again.status_code == fresh.status_code == 201
    assert first.json()["compute"]["status"] == "notStarted"
    assert again.json()["compute"]["status"] == "started"
    assert fresh.json()["compute"]["status"] == "notStarted"


def test_delete_job_waits_for_active_jobs_and_skips_unknown_ones(pfcon):
    headers = login(pfcon)
    form = {"jid": JID, "cpu_limit": 1000, "memory_limit": 300}
    pfcon.set_status(JID, "started")

    skipped = requests.post(pfcon.url + "deletejobs/", data={**form, "jid": "x"}, headers=headers)
    busy = requests.post(pfcon.url + "deletejobs/", data=form, headers=headers)
    pfcon.set_status(JID, "finishedWithError")
    accepted = requests.post(pfcon.url + "deletejobs/", data=form, headers=headers)

    assert skipped.json()["compute"]["message"] == "deleteSkipped"
    assert busy.status_code == 409
    assert accepted.status_code == 201
    assert accepted.json()["compute"]["status"] == "notStarted"


def test_route_patterns_match_one_segment_per_star(pfcon):
    headers = login(pfcon)
    pfcon.set_status(JID, "started")
    pfcon.fail_next("GET pluginjobs/*/", 503, times=5)

    file_response = requests.get(pfcon.url + f"pluginjobs/{JID}/file/", headers=headers)
    status_response = requests.get(pfcon.url + f"pluginjobs/{JID}/", headers=headers)

    assert file_response.status_code == 200
    assert status_response.status_code == 503
    assert len(pfcon.requests_to("GET pluginjobs/*/file/")) == 1
    assert len(pfcon.requests_to("* pluginjobs/*/")) == 1


def test_plugin_outputs_are_written_under_output_root_on_success(tmp_path):
    with FakePfcon(innetwork=True, storage_env="filesystem", output_root=tmp_path) as fake:
        headers = login(fake)
        fake.set_output(JID, files={"a.txt": b"A", "sub/b.txt": b"B"})
        form = {
            "jid": JID,
            "entrypoint": ["run"],
            "auid": "alice",
            "number_of_workers": 1,
            "cpu_limit": 1000,
            "memory_limit": 200,
            "gpu_limit": 0,
            "image": "img",
            "type": "fs",
            "input_dirs": ["in"],
            "output_dir": "home/alice/feeds/feed_1/pl-x_3/data",
        }
        created = requests.post(fake.url + "pluginjobs/", data=form, headers=headers)
        polled = requests.get(fake.url + f"pluginjobs/{JID}/", headers=headers)

    assert created.json()["data"]["path"] == "in"
    assert polled.json()["compute"]["status"] == "finishedSuccessfully"
    output = tmp_path / "home/alice/feeds/feed_1/pl-x_3/data"
    assert (output / "a.txt").read_bytes() == b"A"
    assert (output / "sub/b.txt").read_bytes() == b"B"


def test_zip_is_built_from_the_output_files(pfcon):
    headers = login(pfcon)
    pfcon.set_status(JID, "finishedSuccessfully")
    pfcon.set_output(JID, files={"x/y.txt": b"Y"})

    response = requests.get(pfcon.url + f"pluginjobs/{JID}/file/", headers=headers)

    assert response.headers["Content-Type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert archive.read("x/y.txt") == b"Y"
