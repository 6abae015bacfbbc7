"""Authentication, server info, validation and ordering rules of the pfcon v6 API."""

import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
import requests

from tests.localcompute.support import OLD_DEFAULT_SECRET_KEY, helper_form, plugin_form


def test_health_needs_no_token(fslink):
    response = requests.get(fslink.url + "health/", timeout=5)
    assert response.status_code == 200
    assert response.json() == {"health": "OK"}


def test_auth_token_issues_a_two_day_hs256_jwt(fslink):
    response = requests.post(
        fslink.url + "auth-token/",
        json={"pfcon_user": fslink.user, "pfcon_password": fslink.password},
        timeout=5,
    )
    assert response.status_code == 200
    claims = jwt.decode(response.json()["token"], fslink.secret_key, algorithms=["HS256"])
    assert claims["pfcon_user"] == fslink.user
    lifetime = datetime.fromtimestamp(claims["exp"], UTC) - datetime.now(UTC)
    assert timedelta(days=2) - timedelta(minutes=1) < lifetime <= timedelta(days=2)


@pytest.mark.parametrize(
    "credentials",
    [
        lambda server: (server.user, "wrong"),
        lambda server: ("pfcon", server.password),
        # The built-in defaults of old: nothing may accept them any more.
        lambda server: ("pfcon", "pfcon1234"),
        lambda server: (server.user, "pfcon1234"),
    ],
    ids=["wrong-password", "wrong-user", "old-defaults", "old-default-password"],
)
def test_auth_token_refuses_bad_credentials(fslink, credentials):
    user, password = credentials(fslink)
    response = requests.post(
        fslink.url + "auth-token/",
        json={"pfcon_user": user, "pfcon_password": password},
        timeout=5,
    )
    assert response.status_code == 400
    assert response.json() == {"message": "Unable to log in with provided credentials."}


def test_auth_token_reports_missing_fields(fslink):
    response = requests.post(fslink.url + "auth-token/", json={"pfcon_user": "pfcon"}, timeout=5)
    assert response.status_code == 400
    assert set(response.json()["message"]) == {"pfcon_password"}


def _token(server, *, key: str | None = None, lifetime: timedelta = timedelta(hours=1)) -> str:
    """A token for the server's user, signed with its key unless another is given."""
    claims = {"pfcon_user": server.user, "exp": datetime.now(UTC) + lifetime}
    return jwt.encode(claims, key or server.secret_key, "HS256")


@pytest.mark.parametrize(
    ("header", "message"),
    [
        (None, "Missing authorization header."),
        (lambda server: "Token abc", "Invalid authorization header."),
        (lambda server: "Bearer not-a-jwt", "Invalid authorization token."),
        (
            lambda server: (
                "Bearer " + _token(server, key="another-key-entirely-of-at-least-32-bytes")
            ),
            "Invalid authorization token.",
        ),
        # Forged with the key localcompute had built in before credentials became mandatory.
        (
            lambda server: "Bearer " + _token(server, key=OLD_DEFAULT_SECRET_KEY),
            "Invalid authorization token.",
        ),
        (
            lambda server: "Bearer " + _token(server, lifetime=-timedelta(minutes=5)),
            "Expired authorization token.",
        ),
    ],
    ids=["missing", "not-bearer", "not-a-jwt", "other-key", "old-default-key", "expired"],
)
def test_requests_without_a_valid_token_get_401(fslink, header, message):
    headers = {"Authorization": header(fslink)} if header else {}
    for method, path in [
        ("GET", "pluginjobs/"),
        ("POST", "copyjobs/"),
        ("GET", "pluginjobs/chris-jid-1/"),
        ("DELETE", "pluginjobs/chris-jid-1/"),
        ("GET", "pluginjobs/chris-jid-1/file/"),
    ]:
        response = requests.request(method, fslink.url + path, headers=headers, timeout=5)
        assert response.status_code == 401, (method, path)
        assert response.json() == {"message": message}


def test_a_token_signed_with_the_servers_own_key_is_accepted(fslink):
    # The counterpart of the forged tokens above: same claims, the right key.
    response = requests.get(
        fslink.url + "pluginjobs/",
        headers={"Authorization": "Bearer " + _token(fslink)},
        timeout=5,
    )
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("collection", ["copyjobs", "pluginjobs", "uploadjobs", "deletejobs"])
def test_server_info_in_fslink_mode(fslink, collection):
    info = fslink.get(f"{collection}/").json()
    assert info["pfcon_innetwork"] is True
    assert info["storage_env"] == "fslink"
    assert info["requires_copy_job"] is True
    assert info["requires_upload_job"] is False
    assert {"server_version", "container_env", "compute_volume_type"} <= set(info)
    assert "swift_auth_url" not in info


def test_server_info_in_zipfile_mode(zipfile_server):
    info = zipfile_server.get("pluginjobs/").json()
    assert info["pfcon_innetwork"] is False
    assert info["storage_env"] == "zipfile"
    assert info["requires_copy_job"] is False
    assert info["requires_upload_job"] is False


def test_routes_need_the_trailing_slash(fslink):
    response = fslink.get("pluginjobs", allow_redirects=False)
    assert response.status_code in (301, 308)


def test_unknown_job_is_404_and_deleting_it_is_204(fslink):
    for collection in ("copyjobs", "pluginjobs", "uploadjobs", "deletejobs"):
        assert fslink.get(f"{collection}/no-such-job/").status_code == 404
        assert fslink.delete(f"{collection}/no-such-job/").status_code == 204


def test_plugin_post_bundles_missing_field_errors(fslink):
    response = fslink.post("pluginjobs/", {"jid": "chris-jid-bundle", "type": "xs"})
    assert response.status_code == 400
    message = response.json()["message"]
    for field in (
        "auid",
        "number_of_workers",
        "cpu_limit",
        "memory_limit",
        "gpu_limit",
        "image",
        "entrypoint",
        "type",
    ):
        assert field in message, field


def test_plugin_post_rejects_non_integer_limits(fslink):
    form = helper_form("chris-jid-int", "sleep", output_dir="home/alice/out-int")
    form["cpu_limit"] = "lots"
    response = fslink.post("pluginjobs/", form)
    assert response.status_code == 400
    assert "cpu_limit" in response.json()["message"]


def test_plugin_before_copy_is_409(fslink):
    form = helper_form("chris-jid-nocopy", "sleep", output_dir="home/alice/out-nocopy")
    response = fslink.post("pluginjobs/", form)
    assert response.status_code == 409
    assert "copy job" in response.json()["message"]


def test_uninstalled_image_is_400(fslink):
    fslink.copy("chris-jid-uninstalled", [], "home/alice/out-uninstalled")
    form = plugin_form(
        "chris-jid-uninstalled",
        image="fnndsc/pl-not-here:1.0",
        selfexec="nothere",
        output_dir="home/alice/out-uninstalled",
    )
    response = fslink.post("pluginjobs/", form)
    assert response.status_code == 400
    assert "image not installed locally" in response.json()["message"]


def test_entrypoint_not_matching_the_catalogue_is_400(fslink):
    fslink.copy("chris-jid-mismatch", [], "home/alice/out-mismatch")
    form = plugin_form(
        "chris-jid-mismatch",
        image="fnndsc/pl-dircopy:2.1.1",
        selfexec="dircopy",
        args=["--dir", "home/alice"],
        path_flags=["--dir"],
        output_dir="home/alice/out-mismatch",
    )
    form["entrypoint"] = ["/bin/sh", "-c", "/tmp/evil"]
    response = fslink.post("pluginjobs/", form)
    assert response.status_code == 400
    assert "image not installed locally" in response.json()["message"]


def test_untagged_image_uses_the_installed_version(fslink):
    fslink.copy("chris-jid-untagged", [], "home/alice/out-untagged")
    form = plugin_form(
        "chris-jid-untagged",
        image="docker.io/fnndsc/pl-dircopy",
        selfexec="dircopy",
        args=["--dir", "home/alice"],
        path_flags=["--dir"],
        output_dir="home/alice/out-untagged",
    )
    assert fslink.post("pluginjobs/", form).status_code == 201
    assert fslink.wait("pluginjobs", "chris-jid-untagged")["status"] == "finishedSuccessfully"


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        (["NOEQUALSSIGN"], 'must be a list of "key=value" strings'),
        (["1BAD=x"], 'must be a list of "key=value" strings'),
        (["LD_PRELOAD=/tmp/x.so"], "LD_PRELOAD may not be set"),
        (["PATH=/tmp"], "PATH may not be set"),
    ],
)
def test_invalid_env_is_400(fslink, env, fragment):
    jid = "chris-jid-env-invalid"
    fslink.copy(jid, [], "home/alice/out-env-invalid")
    form = helper_form(jid, "env", output_dir="home/alice/out-env-invalid", env=env)
    response = fslink.post("pluginjobs/", form)
    assert response.status_code == 400
    assert fragment in response.json()["message"]


@pytest.mark.parametrize("workers", [0, 65])
def test_number_of_workers_out_of_range_is_400(fslink, workers):
    jid = f"chris-jid-workers-{workers}"
    fslink.copy(jid, [], f"home/alice/out-workers-{workers}")
    form = helper_form(jid, "sleep", output_dir=f"home/alice/out-workers-{workers}")
    form["number_of_workers"] = workers
    response = fslink.post("pluginjobs/", form)
    assert response.status_code == 400
    assert "number_of_workers" in response.json()["message"]


def test_workers_add_up_to_the_jobs_resources(fslink):
    """A job runs once, with the memory, CPU and thread caps of all its workers."""
    jid = "chris-jid-workers-2"
    fslink.copy(jid, [], "home/alice/out-workers-2")
    form = helper_form(jid, "env", output_dir="home/alice/out-workers-2", memory_limit=300)
    form["number_of_workers"] = 2
    form["cpu_limit"] = 1500
    response = fslink.post("pluginjobs/", form)
    assert response.status_code == 201, response.text
    assert fslink.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"
    env = json.loads((fslink.storebase / "home/alice/out-workers-2/env.json").read_text())
    assert env["OMP_NUM_THREADS"] == "4"  # 2 workers × ⌈1500m⌉
    record = fslink.get(f"pluginjobs/{jid}/").json()["compute"]
    assert record["status"] == "finishedSuccessfully"


def test_plugin_post_is_idempotent_while_running(fslink):
    jid = "chris-jid-idempotent"
    fslink.copy(jid, [], "home/alice/out-idempotent")
    form = helper_form(jid, "sleep", "--seconds", "30", output_dir="home/alice/out-idempotent")
    first = fslink.post("pluginjobs/", form)
    second = fslink.post("pluginjobs/", form)
    assert first.status_code == second.status_code == 201
    assert first.json()["compute"]["status"] == "started"
    assert second.json()["compute"]["status"] == "started"
    assert second.json()["compute"]["timestamp"] == first.json()["compute"]["timestamp"]
    assert second.json()["data"] == {}
    assert fslink.delete(f"pluginjobs/{jid}/").status_code == 204


def test_failed_plugin_job_is_rescheduled_by_a_new_post(fslink):
    jid = "chris-jid-retry"
    fslink.copy(jid, [], "home/alice/out-retry")
    failing = helper_form(jid, "fail", output_dir="home/alice/out-retry")
    assert fslink.post("pluginjobs/", failing).status_code == 201
    assert fslink.wait("pluginjobs", jid)["status"] == "finishedWithError"
    fixed = helper_form(jid, "sleep", output_dir="home/alice/out-retry")
    assert fslink.post("pluginjobs/", fixed).status_code == 201
    assert fslink.wait("pluginjobs", jid)["status"] == "finishedSuccessfully"


def test_copy_post_is_idempotent(fslink):
    jid = "chris-jid-copy-twice"
    first = fslink.copy(jid, [], "home/alice/out-copy-twice")
    response = fslink.post(
        "copyjobs/", {"jid": jid, "input_dirs": [], "output_dir": "home/alice/out-copy-twice"}
    )
    assert response.status_code == 201
    assert response.json()["compute"]["timestamp"] == first["timestamp"]


def test_delete_job_is_409_while_the_plugin_runs(fslink):
    jid = "chris-jid-busy"
    fslink.copy(jid, [], "home/alice/out-busy")
    form = helper_form(jid, "sleep", "--seconds", "30", output_dir="home/alice/out-busy")
    assert fslink.post("pluginjobs/", form).status_code == 201
    response = fslink.post("deletejobs/", {"jid": jid})
    assert response.status_code == 409
    assert "plugin job is still active" in response.json()["message"]
    assert fslink.delete(f"pluginjobs/{jid}/").status_code == 204
    assert fslink.post("deletejobs/", {"jid": jid}).status_code == 201
    assert fslink.wait("deletejobs", jid)["status"] == "finishedSuccessfully"
    assert not fslink.job_dir(jid).exists()


def test_delete_job_without_job_dir_is_skipped(fslink):
    response = fslink.post("deletejobs/", {"jid": "chris-jid-never-ran"})
    assert response.status_code == 201
    compute = response.json()["compute"]
    assert compute["status"] == "finishedSuccessfully"
    assert compute["message"] == "deleteSkipped"


def test_upload_is_skipped_outside_swift(fslink):
    response = fslink.post("uploadjobs/", {"jid": "chris-jid-up", "job_output_path": "home/x"})
    assert response.status_code == 201
    assert response.json()["compute"]["message"] == "uploadSkipped"


def test_invalid_jid_is_rejected(fslink):
    response = fslink.post(
        "copyjobs/", {"jid": "../../etc", "input_dirs": [], "output_dir": "home/alice/x"}
    )
    assert response.status_code == 400
