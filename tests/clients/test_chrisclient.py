"""python-chrisclient 2.9.1 (Collection+JSON, Basic auth) against the live embedded stack."""

import json
import time
from pathlib import Path

import pytest
import requests
from chrisclient.client import Client
from chrisclient.exceptions import ChrisRequestException
from chrisclient.request import Request

from tests.e2e.stack import shared_embedded_stack

pytestmark = pytest.mark.e2e

CJ = "application/vnd.collection+json"
FINAL_STATUSES = {"finishedSuccessfully", "finishedWithError", "cancelled"}


def test_chrisclient_lists_plugins_anonymously(live_stack):
    # One page of all of them: the stack has more built-ins than the default page size.
    plugins = Client(live_stack).get_plugins({"name": "pl-", "limit": 100})

    assert {"pl-dircopy", "pl-simpledsapp"} <= {plugin["name"] for plugin in plugins["data"]}
    assert plugins["total"] == len(plugins["data"])


def test_chrisclient_uploads_and_runs_pl_dircopy(live_stack, tmp_path):
    client = Client(live_stack, "chris", "chris1234")
    local = tmp_path / "hello.txt"
    local.write_text("hello from python-chrisclient\n")

    plugins = client.get_plugins()
    uploaded = client.upload_file("chris/uploads/clients/chrisclient/hello.txt", str(local))
    listed = client.get_uploaded_files({"fname": "chris/uploads/clients/chrisclient/"})
    dircopy = client.get_plugins({"name_exact": "pl-dircopy", "version": "2.1.1"})["data"][0]
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


# Methods of python-chrisclient 2.9.1's Client exercised below (every one it has): get_feeds,
# get_plugins, get_plugin_by_id, get_plugin_parameters, admin_upload_plugin,
# admin_register_plugin_with_computes, get_plugin_instances, get_plugin_instance_by_id,
# create_plugin_instance, get_pipelines, get_pipeline_by_id, get_pipeline_default_parameters,
# create_pipeline, get_workflows, get_workflow_by_id, get_workflow_plugin_instances,
# create_workflow, compute_workflow_nodes_info, get_pacs_files, register_pacs_file,
# get_service_files, register_service_file, upload_file, get_uploaded_files,
# delete_uploaded_file. It has no call for tags, the file browser, compute resources, feed
# notes/comments, instance files or instance parameters.

# The API spells parameter types out; a plugin descriptor uses the short names.
DESCRIPTOR_TYPES = {"string": "str", "integer": "int", "boolean": "bool"}
DESCRIPTOR_PARAMETER_KEYS = (
    "name", "type", "optional", "default", "flag", "short_flag", "action", "help", "ui_exposed",
)  # fmt: skip


def chris_client(live_stack: str) -> Client:
    return Client(live_stack, "chris", "chris1234")


def wait_finished(client: Client, instance_id: int, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while (instance := client.get_plugin_instance_by_id(instance_id))[
        "status"
    ] not in FINAL_STATUSES and time.monotonic() < deadline:
        time.sleep(1)
    return instance


def storage_root() -> Path:
    """Storage root of the shared embedded stack (filesystem storage under its var dir)."""
    stack = shared_embedded_stack.stack
    assert stack is not None
    return stack.var_dir / "storage"


@pytest.fixture(scope="module")
def finished_dircopy(live_stack, tmp_path_factory) -> dict:
    """A finished pl-dircopy instance (chris's) over one freshly uploaded file."""
    client = chris_client(live_stack)
    local = tmp_path_factory.mktemp("cc") / "input.txt"
    local.write_text("input for python-chrisclient workflows\n")
    client.upload_file("chris/uploads/clients/cc-flow/input.txt", str(local))
    dircopy = client.get_plugins({"name_exact": "pl-dircopy", "version": "2.1.1"})["data"][0]
    created = client.create_plugin_instance(dircopy["id"], {"dir": "chris/uploads/clients/cc-flow"})
    instance = wait_finished(client, created["id"])
    assert instance["status"] == "finishedSuccessfully", instance
    return instance


def test_chrisclient_reads_plugins_and_their_parameters(live_stack):
    client = chris_client(live_stack)

    listed = client.get_plugins({"limit": 100})
    searched = client.get_plugins({"name_exact": "pl-simpledsapp"})
    plugin = searched["data"][0]
    by_id = client.get_plugin_by_id(plugin["id"])
    parameters = client.get_plugin_parameters(plugin["id"])
    first_page = client.get_plugin_parameters(plugin["id"], {"limit": 2})

    assert {"pl-dircopy", "pl-simpledsapp", "pl-simplefsapp", "pl-topologicalcopy"} <= {
        item["name"] for item in listed["data"]
    }
    assert searched["total"] == 1
    assert (plugin["name"], plugin["version"], plugin["type"]) == ("pl-simpledsapp", "2.1.3", "ds")
    assert by_id == plugin
    assert parameters["total"] == len(parameters["data"]) == 6
    assert {item["name"]: item["type"] for item in parameters["data"]} == {
        "prefix": "string",
        "b_ignoreInputDir": "boolean",
        "sleepLength": "string",
        "dummyInt": "integer",
        "dummyFloat": "float",
        "pftelDB": "string",
    }
    assert len(first_page["data"]) == 2 and first_page["hasNextPage"]
    with pytest.raises(ChrisRequestException):
        client.get_plugin_by_id(999999)
    with pytest.raises(ChrisRequestException):
        client.get_plugin_parameters(999999)


def test_chrisclient_admin_uploads_a_plugin_and_sets_its_compute_resources(
    live_stack, live_compute_credentials
):
    client = chris_client(live_stack)
    source = client.get_plugins({"name_exact": "pl-simplefsapp"})["data"][0]
    parameters = client.get_plugin_parameters(source["id"], {"limit": 100})["data"]
    descriptor = {key: value for key, value in source.items() if key not in ("id", "creation_date")}
    descriptor.update(name="pl-ccadded", version="0.1.0", dock_image="fnndsc/pl-ccadded:0.1.0")
    descriptor.pop("stars", None)
    descriptor["parameters"] = [
        {key: param[key] for key in DESCRIPTOR_PARAMETER_KEYS}
        | {"type": DESCRIPTOR_TYPES.get(param["type"], param["type"])}
        for param in parameters
    ]
    # A second compute resource (test plumbing) pointing at the same localcompute.
    host = requests.get(
        f"{live_stack}computeresources/search/",
        params={"name": "host"},
        auth=("chris", "chris1234"),
        headers={"Accept": "application/json"},
    ).json()["results"][0]
    second = requests.post(
        live_stack.replace("/api/v1/", "/chris-admin/api/v1/computeresources/"),
        json={
            "name": "cc-second",
            "compute_url": host["compute_url"],
            "compute_user": live_compute_credentials[0],
            "compute_password": live_compute_credentials[1],
            "description": "second compute for python-chrisclient",
        },
        auth=("chris", "chris1234"),
        headers={"Accept": "application/json"},
    )
    assert second.status_code == 201, second.text

    uploaded = client.admin_upload_plugin("host", descriptor)
    registered = client.admin_register_plugin_with_computes(uploaded["id"], "host,cc-second")
    computes = requests.get(
        f"{live_stack}plugins/{uploaded['id']}/computeresources/",
        auth=("chris", "chris1234"),
        headers={"Accept": "application/json"},
    ).json()["results"]
    found = client.get_plugins({"name_exact": "pl-ccadded"})

    assert (uploaded["name"], uploaded["version"], uploaded["type"]) == (
        "pl-ccadded",
        "0.1.0",
        "fs",
    )
    assert uploaded["dock_image"] == "fnndsc/pl-ccadded:0.1.0"
    assert registered["id"] == uploaded["id"]
    assert sorted(item["name"] for item in computes) == ["cc-second", "host"]
    assert [item["id"] for item in found["data"]] == [uploaded["id"]]
    assert sorted(
        item["name"] for item in client.get_plugin_parameters(uploaded["id"])["data"]
    ) == sorted(param["name"] for param in parameters)
    with pytest.raises(ChrisRequestException, match="not a ChRIS admin"):
        Client(live_stack).admin_upload_plugin("host", descriptor)


def test_chrisclient_files_instances_and_feeds(live_stack, finished_dircopy, tmp_path):
    client = chris_client(live_stack)
    local = tmp_path / "throwaway.txt"
    local.write_text("to be deleted\n")
    fs = finished_dircopy

    with local.open("rb") as handle:  # the client also takes a file handle
        uploaded = client.upload_file("chris/uploads/clients/cc-delete/throwaway.txt", handle)
    before = client.get_uploaded_files({"id": uploaded["id"]})
    client.delete_uploaded_file(uploaded["id"])
    after = client.get_uploaded_files({"id": uploaded["id"]})
    all_uploads = client.get_uploaded_files()

    simpledsapp = client.get_plugins({"name_exact": "pl-simpledsapp"})["data"][0]
    ds = client.create_plugin_instance(
        simpledsapp["id"], {"previous_id": fs["id"], "prefix": "cc_", "title": "cc ds"}
    )
    ds_done = wait_finished(client, ds["id"])
    in_feed = client.get_plugin_instances({"feed_id": fs["feed_id"]})
    children = client.get_plugin_instances({"previous_id": fs["id"]})
    every = client.get_plugin_instances()
    feeds = client.get_feeds()
    feed = client.get_feeds({"id": fs["feed_id"]})

    assert before["total"] == 1
    assert before["data"][0]["fname"] == "chris/uploads/clients/cc-delete/throwaway.txt"
    assert after == {"data": [], "hasNextPage": False, "hasPreviousPage": False, "total": 0}
    assert all_uploads["total"] >= 1
    assert uploaded["id"] not in {item["id"] for item in all_uploads["data"]}
    assert (ds["plugin_name"], ds["previous_id"], ds["title"]) == (
        "pl-simpledsapp",
        fs["id"],
        "cc ds",
    )
    assert ds_done["status"] == "finishedSuccessfully", ds_done
    assert ds_done["feed_id"] == fs["feed_id"]
    assert {item["id"] for item in in_feed["data"]} == {fs["id"], ds["id"]}
    assert [item["id"] for item in children["data"]] == [ds["id"]]
    assert {fs["id"], ds["id"]} <= {item["id"] for item in every["data"]}
    assert fs["feed_id"] in {item["id"] for item in feeds["data"]}
    assert feed["total"] == 1
    assert feed["data"][0]["id"] == fs["feed_id"]
    assert feed["data"][0]["creator_username"] == "chris"
    with pytest.raises(ChrisRequestException):
        client.get_plugin_instance_by_id(999999)


def test_chrisclient_pipelines_and_workflows(live_stack, finished_dircopy):
    client = chris_client(live_stack)
    simpledsapp = client.get_plugins({"name_exact": "pl-simpledsapp"})["data"][0]
    tree = [
        {
            "title": "first",
            "plugin_id": simpledsapp["id"],
            "previous": None,
            "plugin_parameter_defaults": [{"name": "prefix", "default": "one_"}],
        },
        {
            "title": "second",
            "plugin_name": "pl-simpledsapp",
            "plugin_version": "2.1.3",
            "previous": "first",
        },
    ]

    pipeline = client.create_pipeline(
        {
            "name": "cc pipeline",
            "authors": "python-chrisclient",
            "category": "test",
            "description": "two simpledsapp nodes",
            "locked": False,
            "plugin_tree": json.dumps(tree),
        }
    )
    listed = client.get_pipelines()
    searched = client.get_pipelines({"name": "cc pipeline"})
    by_id = client.get_pipeline_by_id(pipeline["id"])
    defaults = client.get_pipeline_default_parameters(pipeline["id"], {"limit": 100})
    nodes_info = client.compute_workflow_nodes_info(defaults["data"])
    nodes_info_all = client.compute_workflow_nodes_info(defaults["data"], True)
    # python-chrisclient passes nodes_info on as given; a decoded list must work too.
    workflow = client.create_workflow(
        pipeline["id"],
        {
            "previous_plugin_inst_id": finished_dircopy["id"],
            "title": "cc wf",
            "nodes_info": nodes_info,
        },
    )
    instances = client.get_workflow_plugin_instances(workflow["id"])
    finished = [wait_finished(client, item["id"]) for item in instances["data"]]
    workflows = client.get_workflows()
    found = client.get_workflows({"pipeline_name": "cc pipeline"})
    wf_by_id = client.get_workflow_by_id(workflow["id"])

    assert (pipeline["name"], pipeline["locked"], pipeline["owner_username"]) == (
        "cc pipeline",
        False,
        "chris",
    )
    assert pipeline["id"] in {item["id"] for item in listed["data"]}
    assert [item["id"] for item in searched["data"]] == [pipeline["id"]]
    assert by_id == pipeline
    assert defaults["total"] == len(defaults["data"]) == 12
    by_title = {}
    for item in defaults["data"]:
        by_title.setdefault(item["plugin_piping_title"], {})[item["param_name"]] = item["value"]
    assert by_title["first"]["prefix"] == "one_"
    assert by_title["second"]["prefix"] == ""
    assert by_title["second"]["dummyInt"] == 1
    pipings = {item["plugin_piping_title"]: item for item in defaults["data"]}
    assert pipings["first"]["previous_plugin_piping_id"] is None
    assert pipings["second"]["previous_plugin_piping_id"] == pipings["first"]["plugin_piping_id"]
    assert sorted(node["title"] for node in nodes_info) == ["first", "second"]
    assert all("plugin_parameter_defaults" not in node for node in nodes_info)
    assert all(len(node["plugin_parameter_defaults"]) == 6 for node in nodes_info_all)
    assert (workflow["pipeline_id"], workflow["title"], workflow["owner_username"]) == (
        pipeline["id"],
        "cc wf",
        "chris",
    )
    assert instances["total"] == 2
    assert all(item["status"] == "finishedSuccessfully" for item in finished), finished
    assert {item["feed_id"] for item in finished} == {finished_dircopy["feed_id"]}
    first = next(item for item in finished if item["previous_id"] == finished_dircopy["id"])
    assert {item["previous_id"] for item in finished} == {finished_dircopy["id"], first["id"]}
    assert workflow["id"] in {item["id"] for item in workflows["data"]}
    assert [item["id"] for item in found["data"]] == [workflow["id"]]
    assert wf_by_id["id"] == workflow["id"]
    assert wf_by_id["pipeline_name"] == "cc pipeline"
    with pytest.raises(ChrisRequestException):
        client.get_pipeline_default_parameters(999999)
    with pytest.raises(ChrisRequestException):
        client.get_workflow_plugin_instances(999999)


def test_chrisclient_registers_and_lists_pacs_and_service_files(live_stack):
    client = chris_client(live_stack)
    pacs_path = "SERVICES/PACS/CCPACS/cc-patient/series1/image.dcm"
    service_path = "SERVICES/CCService/report.txt"
    for relative, body in ((pacs_path, b"DICM not really\n"), (service_path, b"a report\n")):
        target = storage_root() / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)

    empty = client.get_pacs_files({"PatientID": "cc-patient"})
    pacs = client.register_pacs_file(
        {
            "path": pacs_path,
            "PatientID": "cc-patient",
            "PatientName": "CC^Patient",
            "StudyDate": "2020-01-02",
            "StudyInstanceUID": "1.2.3",
            "SeriesInstanceUID": "1.2.3.4",
            "SeriesDescription": "cc series",
            "Modality": "MR",
            "pacs_name": "CCPACS",
        }
    )
    pacs_found = client.get_pacs_files({"PatientID": "cc-patient"})
    pacs_all = client.get_pacs_files()
    service = client.register_service_file({"path": service_path, "service_name": "CCService"})
    service_found = client.get_service_files({"fname": "SERVICES/CCService/"})
    service_all = client.get_service_files()

    assert empty["total"] == 0
    assert pacs["fname"] == pacs_path
    assert pacs["fsize"] == len(b"DICM not really\n")
    assert (pacs["PatientID"], pacs["StudyDate"], pacs["Modality"]) == (
        "cc-patient",
        "2020-01-02",
        "MR",
    )
    assert pacs["pacs_identifier"] == "CCPACS"
    assert [item["id"] for item in pacs_found["data"]] == [pacs["id"]]
    assert pacs["id"] in {item["id"] for item in pacs_all["data"]}
    assert (service["fname"], service["fsize"]) == (service_path, len(b"a report\n"))
    assert service["service_identifier"] == "CCService"
    assert [item["id"] for item in service_found["data"]] == [service["id"]]
    assert service["id"] in {item["id"] for item in service_all["data"]}
    with pytest.raises(ChrisRequestException, match="already been registered"):
        client.register_pacs_file(
            {
                "path": pacs_path,
                "PatientID": "cc-patient",
                "StudyDate": "2020-01-02",
                "StudyInstanceUID": "1.2.3",
                "SeriesInstanceUID": "1.2.3.4",
                "pacs_name": "CCPACS",
            }
        )
