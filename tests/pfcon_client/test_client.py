import io
import logging
import pickle
import socket
import zipfile

import pytest
from pfconclient.client import Client as ReferenceClient
from pfconclient.client import JobType
from pfconclient.exceptions import PfconRequestException

from pfcon_client import PfconClient, PfconError, PluginJobFields, Timeouts
from tests.fakes import FakePfcon

JID = "chris-jid-7"


def plugin_fields(**overrides):
    values = dict(
        entrypoint=["python3", "/usr/local/bin/simpledsapp"],
        image="fnndsc/pl-simpledsapp",
        type="ds",
        auid="alice",
        args=["--prefix", "le"],
        cpu_limit=1000,
        memory_limit=200,
        gpu_limit=0,
        env=["CHRIS_JID=chris-jid-7", "CHRIS_PLG_INST_ID=7"],
    )
    values.update(overrides)
    return PluginJobFields(**values)


def make_zip(files):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


class NonSeekable(io.RawIOBase):
    """A forward-only byte stream, like a pipe."""

    def __init__(self, data):
        self._data = io.BytesIO(data)

    def readable(self):
        return True

    def readinto(self, buffer):
        chunk = self._data.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


# Authentication


def test_token_is_fetched_lazily_and_reused(pfcon, make_client):
    new_tokens = []
    client = make_client(pfcon, on_new_token=new_tokens.append)

    assert client.token is None
    client.get_server_info()
    client.get_server_info()

    assert [str(request) for request in pfcon.requests] == [
        "POST auth-token/",
        "GET pluginjobs/",
        "GET pluginjobs/",
    ]
    assert pfcon.requests[0].json == {"pfcon_user": "pfcon", "pfcon_password": "pfcon1234"}
    assert new_tokens == pfcon.issued_tokens == [client.token]
    assert pfcon.requests[2].headers["authorization"] == f"Bearer {client.token}"


def test_get_token_returns_and_keeps_a_new_token(pfcon, make_client):
    client = make_client(pfcon)

    token = client.get_token()
    client.get_server_info()

    assert token == client.token == pfcon.issued_tokens[-1]
    assert len(pfcon.requests_to("POST auth-token/")) == 1


def test_given_token_is_used_without_logging_in(pfcon, make_client):
    token = make_client(pfcon).get_token()
    pfcon.clear_requests()

    make_client(pfcon, token=token).get_server_info()

    assert [str(request) for request in pfcon.requests] == ["GET pluginjobs/"]


def test_bad_credentials_raise_pfcon_error_without_the_password(pfcon, make_client):
    client = make_client(pfcon, password="s3cret-pass")

    with pytest.raises(PfconError) as caught:
        client.get_server_info()

    error = caught.value
    assert error.status_code == 400
    assert error.message == "Unable to log in with provided credentials."
    assert error.transient is False
    assert "s3cret-pass" not in str(error) + repr(error)
    assert len(pfcon.requests) == 1


def test_expired_token_logs_in_again_once_and_reports_the_new_token(pfcon, make_client):
    new_tokens = []
    old_token = make_client(pfcon).get_token()
    client = make_client(pfcon, token=old_token, on_new_token=new_tokens.append)
    pfcon.expire_tokens()
    pfcon.clear_requests()

    info = client.get_server_info()

    assert info["storage_env"] == "zipfile"
    assert [str(request) for request in pfcon.requests] == [
        "GET pluginjobs/",
        "POST auth-token/",
        "GET pluginjobs/",
    ]
    assert new_tokens == [client.token]
    assert client.token != old_token


def test_second_401_is_raised_after_one_login(pfcon, make_client):
    new_tokens = []
    client = make_client(pfcon, on_new_token=new_tokens.append)
    client.get_token()
    pfcon.fail_next("GET pluginjobs/", 401, times=2, message="Invalid authorization token.")

    with pytest.raises(PfconError) as caught:
        client.get_server_info()

    assert caught.value.status_code == 401
    assert caught.value.message == "Invalid authorization token."
    assert caught.value.transient is False
    assert len(new_tokens) == 1
    assert len(pfcon.requests_to("GET pluginjobs/")) == 2


# Retries and errors


def test_status_timeout_is_retried(pfcon, make_client):
    client = make_client(pfcon, timeouts=Timeouts(status=0.3))
    pfcon.set_status(JID, "started")
    pfcon.delay_next("GET pluginjobs/*/", 1.5)

    compute = client.get_plugin_job_status(JID)

    assert compute["status"] == "started"
    assert len(pfcon.requests_to("GET pluginjobs/*/")) == 2


def test_timeouts_exhausted_raise_transient_error(pfcon, make_client, caplog):
    client = make_client(pfcon, retries=2, timeouts=Timeouts(status=0.2))
    pfcon.set_status(JID, "started")
    pfcon.delay_next("GET pluginjobs/*/", 1.5, times=3)

    with caplog.at_level(logging.WARNING, logger="pfcon_client"), pytest.raises(PfconError) as e:
        client.get_plugin_job_status(JID)

    assert e.value.transient is True
    assert e.value.status_code is None
    assert "timed out" in e.value.message
    assert len(pfcon.requests_to("GET pluginjobs/*/")) == 3
    assert len(caplog.records) == 3  # two retries and the final give-up
    assert all(JID in record.getMessage() for record in caplog.records)


def test_503_of_a_read_is_retried_with_backoff(pfcon, make_client):
    client = make_client(pfcon)
    client.submit_copy_job(
        JID, input_dirs=["home/alice/uploads"], output_dir="out", cpu_limit=1000, memory_limit=300
    )
    pfcon.fail_next("GET copyjobs/*/", 503, times=2)

    compute = client.get_copy_job_status(JID)

    assert compute["status"] == "finishedSuccessfully"
    assert compute["message"] == "copySkipped"
    assert len(pfcon.requests_to("GET copyjobs/*/")) == 3


@pytest.mark.parametrize(
    ("route", "submit"),
    [
        (
            "POST copyjobs/",
            lambda client: client.submit_copy_job(
                JID, input_dirs=["in"], output_dir="out", cpu_limit=1000, memory_limit=300
            ),
        ),
        (
            "POST pluginjobs/",
            lambda client: client.submit_plugin_job(
                JID, plugin_fields(input_dirs=["in"], output_dir="out"), data_file=io.BytesIO(b"z")
            ),
        ),
        (
            "POST deletejobs/",
            lambda client: client.submit_delete_job(JID, cpu_limit=1000, memory_limit=300),
        ),
    ],
    ids=["copy", "plugin", "delete"],
)
def test_a_job_submission_is_sent_once_whatever_the_retries(pfcon, make_client, route, submit):
    """The scheduler owns submission retries; the client must not multiply them."""
    client = make_client(pfcon, retries=5)
    pfcon.fail_next(route, 503, times=10)

    with pytest.raises(PfconError) as caught:
        submit(client)

    assert (caught.value.status_code, caught.value.transient) == (503, True)
    assert len(pfcon.requests_to(route)) == 1


def test_a_login_is_retried(pfcon, make_client):
    client = make_client(pfcon, retries=2)
    pfcon.fail_next("POST auth-token/", 503, times=2)

    assert client.get_token()
    assert len(pfcon.requests_to("POST auth-token/")) == 3


def test_503_exhausted_raises_transient_error_with_message(pfcon, make_client):
    client = make_client(pfcon, retries=1)
    pfcon.fail_next("GET pluginjobs/", 503, times=5, message="Kubernetes API unavailable")

    with pytest.raises(PfconError) as caught:
        client.get_server_info()

    assert (caught.value.status_code, caught.value.transient) == (503, True)
    assert caught.value.message == "Kubernetes API unavailable"
    assert len(pfcon.requests_to("GET pluginjobs/")) == 2


def test_500_is_transient_but_not_retried(pfcon, make_client):
    client = make_client(pfcon)
    pfcon.fail_next("POST deletejobs/", 500, message="PFCON_OP_IMAGE must be configured")

    with pytest.raises(PfconError) as caught:
        client.submit_delete_job(JID, cpu_limit=1000, memory_limit=300)

    assert (caught.value.status_code, caught.value.transient) == (500, True)
    assert len(pfcon.requests_to("POST deletejobs/")) == 1


def test_409_is_not_retried_and_carries_pfcons_message(pfcon_fslink, make_client):
    client = make_client(pfcon_fslink)

    with pytest.raises(PfconError) as caught:
        client.submit_plugin_job(JID, plugin_fields(input_dirs=["in"], output_dir="out"))

    error = caught.value
    assert (error.status_code, error.transient) == (409, False)
    assert error.message == f"Copy job {JID}-copy has not finished successfully yet."
    assert JID in str(error)
    assert len(pfcon_fslink.requests_to("POST pluginjobs/")) == 1


def test_400_bundled_errors_become_one_readable_message(pfcon, make_client):
    client = make_client(pfcon)
    fields = {"entrypoint": ["run"], "auid": "alice", "number_of_workers": 1}

    with pytest.raises(PfconError) as caught:
        client.submit_plugin_job(JID, fields, data_file=io.BytesIO(make_zip({})))

    assert caught.value.status_code == 400
    assert caught.value.message == (
        "cpu_limit: Missing required parameter in the post body; "
        "memory_limit: Missing required parameter in the post body; "
        "gpu_limit: Missing required parameter in the post body; "
        "image: Missing required parameter in the post body; "
        "type: Missing required parameter in the post body"
    )
    assert len(pfcon.requests_to("POST pluginjobs/")) == 1


def test_unknown_job_status_is_404_and_not_retried(pfcon, make_client):
    client = make_client(pfcon)

    with pytest.raises(PfconError) as caught:
        client.get_plugin_job_status("chris-jid-404")

    assert (caught.value.status_code, caught.value.transient) == (404, False)
    assert len(pfcon.requests_to("GET pluginjobs/*/")) == 1


def test_unreachable_server_is_a_transient_error(make_client):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = PfconClient(
        f"http://127.0.0.1:{port}/api/v1/", username="u", password="p", token="t", backoff=0
    )

    with pytest.raises(PfconError) as caught:
        client.get_copy_job_status(JID)

    assert caught.value.transient is True
    assert caught.value.status_code is None
    assert "could not reach pfcon" in caught.value.message


def test_pfcon_error_survives_pickling():
    error = PfconError("busy", status_code=503, transient=True, operation="GET pluginjobs/")

    copy = pickle.loads(pickle.dumps(error))

    assert (copy.message, copy.status_code, copy.transient) == ("busy", 503, True)
    assert str(copy) == str(error) == "pfcon GET pluginjobs/ failed with HTTP 503: busy"


def test_logs_and_errors_never_contain_secrets(pfcon, make_client, caplog):
    client = make_client(pfcon)
    client.get_token()
    old_token = client.token
    pfcon.expire_tokens()
    pfcon.fail_next("GET pluginjobs/*/", 503)

    with caplog.at_level(logging.DEBUG), pytest.raises(PfconError) as caught:
        client.get_plugin_job_status(JID)

    text = caplog.text + str(caught.value) + repr(caught.value)
    for secret in (FakePfcon.PASSWORD, old_token, client.token):
        assert secret not in text


# Statuses


@pytest.mark.parametrize("kind", ["copy", "plugin", "upload", "delete"])
def test_notstarted_is_normalised(pfcon, make_client, kind):
    client = make_client(pfcon)
    pfcon.set_status(JID, "notstarted", kind=kind)

    compute = getattr(client, f"get_{kind}_job_status")(JID)

    assert compute["status"] == "notStarted"


def test_undefined_status_is_passed_through(pfcon, make_client):
    client = make_client(pfcon)
    pfcon.set_status(JID, "undefined", logs="engine lost the container")

    compute = client.get_plugin_job_status(JID)

    assert compute["status"] == "undefined"
    assert compute["logs"] == "engine lost the container"


def test_compute_dict_has_pfcons_fields(pfcon, make_client):
    client = make_client(pfcon)
    client.submit_plugin_job(JID, plugin_fields(), data_file=io.BytesIO(make_zip({"a": "1"})))

    compute = client.get_plugin_job_status(JID)

    assert set(compute) == {"jid", "image", "cmd", "status", "message", "timestamp", "logs"}
    assert compute["status"] == "finishedSuccessfully"
    assert compute["cmd"] == (
        "python3 /usr/local/bin/simpledsapp --prefix le /share/incoming /share/outgoing"
    )


# Outputs


def test_json_listing_sends_the_output_path_as_a_query(pfcon_fslink, make_client):
    client = make_client(pfcon_fslink)
    pfcon_fslink.set_status(JID, "finishedSuccessfully")
    pfcon_fslink.set_output(JID, rel_file_paths=["a.txt", "sub dir/b&c.txt"])
    output_path = "home/alice/feeds/feed_1/pl-dircopy_7/data & more"

    listing = client.get_plugin_job_json(JID, output_path)

    assert listing == {
        "job_output_path": output_path,
        "rel_file_paths": ["a.txt", "sub dir/b&c.txt"],
    }
    assert pfcon_fslink.requests[-1].query == {"job_output_path": [output_path]}


def test_zip_is_streamed_into_the_destination(pfcon, make_client, tmp_path):
    client = make_client(pfcon)
    big = bytes(range(256)) * 12_000  # ~3 MiB: several download chunks
    pfcon.set_status(JID, "finishedSuccessfully")
    pfcon.set_output(JID, files={"out/big.bin": big, "notes.txt": b"hi"})
    destination = tmp_path / "outputs.zip"

    with destination.open("wb") as handle:
        client.download_plugin_job_zip(JID, handle)

    with zipfile.ZipFile(destination) as archive:
        assert sorted(archive.namelist()) == ["notes.txt", "out/big.bin"]
        assert archive.read("out/big.bin") == big


def test_bad_zip_bytes_are_written_as_is(pfcon, make_client):
    client = make_client(pfcon)
    pfcon.set_status(JID, "finishedSuccessfully")
    pfcon.set_output(JID, zip_bytes=b"this is not a zip")
    destination = io.BytesIO()

    client.download_plugin_job_zip(JID, destination)

    assert destination.getvalue() == b"this is not a zip"


def test_download_retry_starts_the_destination_again(pfcon, make_client):
    client = make_client(pfcon)
    pfcon.set_status(JID, "finishedSuccessfully")
    pfcon.set_output(JID, zip_bytes=b"ZIPDATA")
    pfcon.fail_next("GET pluginjobs/*/file/", 502)
    destination = io.BytesIO(b"header:")
    destination.seek(0, io.SEEK_END)

    client.download_plugin_job_zip(JID, destination)

    assert destination.getvalue() == b"header:ZIPDATA"


# What goes on the wire


def test_empty_lists_are_omitted_and_lists_use_repeated_keys(pfcon_fslink, make_client):
    client = make_client(pfcon_fslink)
    client.submit_copy_job(JID, input_dirs=[], output_dir="out", cpu_limit=1000, memory_limit=300)
    client.get_copy_job_status(JID)

    result = client.submit_plugin_job(
        JID,
        plugin_fields(
            type="fs", args=[], input_dirs=["in/a", "in/b"], output_dir="out", args_path_flags=[]
        ),
    )

    sent = pfcon_fslink.requests_to("POST pluginjobs/")[0]
    assert sent.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "args" not in sent.form
    assert "args_path_flags" not in sent.form
    assert sent.form["entrypoint"] == ["python3", "/usr/local/bin/simpledsapp"]
    assert sent.form["env"] == ["CHRIS_JID=chris-jid-7", "CHRIS_PLG_INST_ID=7"]
    assert sent.form["input_dirs"] == ["in/a", "in/b"]
    assert sent.value("jid") == JID
    assert sent.value("number_of_workers") == "1"
    assert result["data"] == {}
    assert result["compute"]["status"] == "notStarted"
    copy_sent = pfcon_fslink.requests_to("POST copyjobs/")[0]
    assert "input_dirs" not in copy_sent.form
    assert copy_sent.form["output_dir"] == ["out"]


def test_mapping_fields_are_accepted(pfcon_fslink, make_client):
    client = make_client(pfcon_fslink)
    pfcon_fslink.set_status(JID, "finishedSuccessfully", kind="copy")
    fields = {
        "entrypoint": ["run"],
        "args": ["--flag"],
        "auid": "bob",
        "number_of_workers": 1,
        "cpu_limit": 1000,
        "memory_limit": 200,
        "gpu_limit": 0,
        "image": "img",
        "type": "fs",
        "env": {"A": "1"},
        "output_dir": "out",
    }

    client.submit_plugin_job(JID, fields)

    sent = pfcon_fslink.requests_to("POST pluginjobs/")[0]
    assert sent.form["args"] == ["--flag"]
    assert sent.form["env"] == ["A=1"]


def test_mismatched_jid_in_fields_is_rejected(pfcon, make_client):
    with pytest.raises(ValueError):
        make_client(pfcon).submit_plugin_job(JID, plugin_fields(jid="chris-jid-8"))


def test_data_file_is_sent_as_multipart_with_a_length(pfcon, make_client, tmp_path):
    client = make_client(pfcon)
    archive = make_zip({"study/a.dcm": b"x" * 1000, "study/b.dcm": b"y"})
    zip_path = tmp_path / "inputs.zip"
    zip_path.write_bytes(archive)

    with zip_path.open("rb") as handle:
        result = client.submit_plugin_job(
            JID, plugin_fields(args_path_flags=["--dir"]), data_file=handle
        )

    sent = pfcon.requests_to("POST pluginjobs/")[0]
    assert sent.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert int(sent.headers["content-length"]) == len(sent.body)
    assert sent.files["data_file"].content == archive
    assert sent.files["data_file"].filename == "inputs.zip"
    assert sent.form["args"] == ["--prefix", "le"]
    assert sent.form["args_path_flags"] == ["--dir"]
    assert sent.value("memory_limit") == "200"
    assert result["data"]["nfiles"] == 2
    assert result["compute"]["jid"] == JID


def test_non_seekable_data_file_is_sent_chunked(pfcon, make_client):
    client = make_client(pfcon)
    archive = make_zip({"a.txt": b"a"})

    client.submit_plugin_job(JID, plugin_fields(), data_file=NonSeekable(archive))

    sent = pfcon.requests_to("POST pluginjobs/")[0]
    assert sent.headers.get("transfer-encoding") == "chunked"
    assert sent.files["data_file"].content == archive
    assert sent.files["data_file"].filename == "data_file"


def test_multipart_body_is_resent_whole_after_a_new_login(pfcon, make_client):
    client = make_client(pfcon)
    client.get_token()
    pfcon.expire_tokens()
    archive = make_zip({"a.txt": b"a" * 5000})

    client.submit_plugin_job(JID, plugin_fields(), data_file=io.BytesIO(archive))

    first, second = pfcon.requests_to("POST pluginjobs/")
    assert first.files["data_file"].content == second.files["data_file"].content == archive


def test_non_seekable_data_file_is_not_resent(pfcon, make_client):
    client = make_client(pfcon)
    client.get_token()
    pfcon.expire_tokens()

    with pytest.raises(PfconError) as caught:
        client.submit_plugin_job(JID, plugin_fields(), data_file=NonSeekable(make_zip({})))

    assert caught.value.status_code == 401
    assert len(pfcon.requests_to("POST pluginjobs/")) == 1


def test_deletes_tolerate_unknown_jobs(pfcon, make_client):
    client = make_client(pfcon)
    pfcon.fail_next("DELETE pluginjobs/*/", 404, message="Job not found")

    client.delete_plugin_job(JID)
    client.delete_copy_job(JID)
    client.delete_upload_job(JID)
    client.delete_delete_job(JID)

    assert [str(request) for request in pfcon.requests[1:]] == [
        f"DELETE pluginjobs/{JID}/",
        f"DELETE copyjobs/{JID}/",
        f"DELETE uploadjobs/{JID}/",
        f"DELETE deletejobs/{JID}/",
    ]


def test_full_swift_flow(pfcon_swift, make_client):
    client = make_client(pfcon_swift)
    fake = pfcon_swift

    assert client.health() == {"health": "OK"}
    info = client.get_server_info()
    assert (info["requires_copy_job"], info["requires_upload_job"]) == (True, True)
    assert "swift_auth_url" in info

    assert (
        client.submit_copy_job(
            JID,
            input_dirs=["home/alice/uploads"],
            output_dir="out",
            cpu_limit=1000,
            memory_limit=300,
        )["status"]
        == "notStarted"
    )
    assert client.get_copy_job_status(JID)["status"] == "finishedSuccessfully"
    client.submit_plugin_job(
        JID, plugin_fields(input_dirs=["home/alice/uploads"], output_dir="out")
    )
    with pytest.raises(PfconError) as caught:
        client.submit_delete_job(JID, cpu_limit=1000, memory_limit=300)
    assert caught.value.status_code == 409
    assert client.get_plugin_job_status(JID)["status"] == "finishedSuccessfully"
    client.submit_upload_job(JID, job_output_path="out", cpu_limit=1000, memory_limit=300)
    assert client.get_upload_job_status(JID)["status"] == "finishedSuccessfully"
    fake.set_output(JID, rel_file_paths=["x.txt"])
    assert client.get_plugin_job_json(JID, "out")["rel_file_paths"] == ["x.txt"]
    client.submit_delete_job(JID, cpu_limit=1000, memory_limit=300)
    assert client.get_delete_job_status(JID)["status"] == "finishedSuccessfully"
    for delete in ("copy", "plugin", "upload", "delete"):
        getattr(client, f"delete_{delete}_job")(JID)

    assert all(fake.job(JID, kind).removed for kind in ("copy", "plugin", "upload", "delete"))
    assert len(fake.issued_tokens) == 1


# Wire compatibility with the reference client


def _wire(requests):
    return [
        (r.method, r.route, r.query, r.form, {k: f.content for k, f in r.files.items()})
        for r in requests
        if r.route != "auth-token/"
    ]


def test_fake_and_client_match_python_pfconclient_on_the_wire(make_client):
    """python-pfconclient 4.0.0 drives the fake the same way as our client does."""
    archive = make_zip({"in.txt": b"data"})
    copy_fields = {"input_dirs": ["home/alice/uploads"], "output_dir": "out"}
    copy_fields |= {"cpu_limit": 1000, "memory_limit": 300}
    fields = plugin_fields(args_path_flags=["--dir"])
    recorded = {}
    results = {}

    with FakePfcon() as fake:
        token = ReferenceClient.get_auth_token(fake.auth_url, "pfcon", "pfcon1234")
        reference = ReferenceClient(fake.url, token)
        results["reference"] = [
            reference.get_server_info()["storage_env"],
            reference.submit_job(JobType.COPY, JID, dict(copy_fields))["compute"]["status"],
            reference.submit_job(JobType.PLUGIN, JID, fields.to_form(), io.BytesIO(archive))[
                "data"
            ]["nfiles"],
            reference.get_job_status(JobType.PLUGIN, JID)["compute"]["status"],
            reference.get_plugin_job_zip_data(JID),
            reference.delete_job(JobType.PLUGIN, JID),
        ]
        with pytest.raises(PfconRequestException) as caught:
            reference.get_job_status(JobType.PLUGIN, "chris-jid-missing")
        assert caught.value.code == 404
        recorded["reference"] = _wire(fake.requests)

    with FakePfcon() as fake:
        client = make_client(fake)
        destination = io.BytesIO()
        results["ours"] = [
            client.get_server_info()["storage_env"],
            client.submit_copy_job(JID, **copy_fields)["status"],
            client.submit_plugin_job(JID, fields, data_file=io.BytesIO(archive))["data"]["nfiles"],
            client.get_plugin_job_status(JID)["status"],
            client.download_plugin_job_zip(JID, destination) or destination.getvalue(),
            client.delete_plugin_job(JID),
        ]
        with pytest.raises(PfconError):
            client.get_plugin_job_status("chris-jid-missing")
        recorded["ours"] = _wire(fake.requests)

    assert results["ours"] == results["reference"]
    assert results["ours"][:4] == ["zipfile", "finishedSuccessfully", 1, "finishedSuccessfully"]
    assert recorded["ours"] == recorded["reference"]
    assert [request[:2] for request in recorded["ours"]] == [
        ("GET", "pluginjobs/"),
        ("POST", "copyjobs/"),
        ("POST", "pluginjobs/"),
        ("GET", f"pluginjobs/{JID}/"),
        ("GET", f"pluginjobs/{JID}/file/"),
        ("DELETE", f"pluginjobs/{JID}/"),
        ("GET", "pluginjobs/chris-jid-missing/"),
    ]


def test_reference_client_reads_the_fake_json_listing():
    with FakePfcon(innetwork=True, storage_env="filesystem") as fake:
        fake.set_status(JID, "finishedSuccessfully")
        fake.set_output(JID, rel_file_paths=["a.txt"])
        reference = ReferenceClient(
            fake.url, ReferenceClient.get_auth_token(fake.auth_url, "pfcon", "pfcon1234")
        )

        listing = reference.get_plugin_job_json_data(JID, "home/alice/out")

        assert listing == {"job_output_path": "home/alice/out", "rel_file_paths": ["a.txt"]}
        assert fake.requests[-1].route == f"pluginjobs/{JID}/file/"
        assert fake.requests[-1].query == {"job_output_path": ["home/alice/out"]}
