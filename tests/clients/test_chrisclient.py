"""python-chrisclient 2.9.1 (Collection+JSON, Basic auth) against the live embedded stack."""

import time

import pytest
from chrisclient.client import Client
from chrisclient.request import Request

pytestmark = pytest.mark.e2e

CJ = "application/vnd.collection+json"
FINAL_STATUSES = {"finishedSuccessfully", "finishedWithError", "cancelled"}


def test_chrisclient_lists_plugins_anonymously(live_stack):
    plugins = Client(live_stack).get_plugins({"name": "pl-"})

    assert {"pl-dircopy", "pl-simpledsapp"} <= {plugin["name"] for plugin in plugins["data"]}
    assert plugins["total"] == len(plugins["data"])


def test_chrisclient_uploads_and_runs_pl_dircopy(live_stack, tmp_path):
    client = Client(live_stack, "chris", "chris1234")
    local = tmp_path / "hello.txt"
    local.write_text("hello from python-chrisclient\n")

    plugins = client.get_plugins()
    uploaded = client.upload_file("chris/uploads/clients/chrisclient/hello.txt", str(local))
    listed = client.get_uploaded_files({"fname": "chris/uploads/clients/chrisclient/"})
    dircopy = client.get_plugins({"name_exact": "pl-dircopy"})["data"][0]
    created = client.create_plugin_instance(
        dircopy["id"], {"dir": "chris/uploads/clients/chrisclient"}
    )

    assert plugins["total"] >= 4
    assert uploaded["fname"] == "chris/uploads/clients/chrisclient/hello.txt"
    assert uploaded["fsize"] == local.stat().st_size
    assert [item["fname"] for item in listed["data"]] == [uploaded["fname"]]
    assert dircopy["version"] == "2.1.1"
    assert created["plugin_name"] == "pl-dircopy"
    deadline = time.monotonic() + 120
    while (instance := client.get_plugin_instance_by_id(created["id"]))[
        "status"
    ] not in FINAL_STATUSES and time.monotonic() < deadline:
        time.sleep(1)
    assert instance["status"] == "finishedSuccessfully", instance

    # The client has no call for an instance's files; chrispl-search reads this URL.
    request = Request("chris", "chris1234", CJ)
    collection = request.get(f"{live_stack}plugins/instances/{created['id']}/files/")
    files = Request.get_data_from_collection(collection)
    assert any(item["fname"].endswith("/clients/chrisclient/hello.txt") for item in files["data"])
    assert all(item["plugin_inst_id"] == created["id"] for item in files["data"])
