import io

import pytest

from plugins.models import PluginInstance
from plugins.services import jobs
from plugins.status import Status
from tests.helpers import CJ, cj_items, cj_template

pytestmark = pytest.mark.django_db


@pytest.fixture
def uploads(storage):
    storage.put("alice/uploads/DICOM/dataset1/0001.dcm", io.BytesIO(b"dicom"))


def run(client, plugin, body, **kwargs):
    return client.post(
        f"/api/v1/plugins/{plugin.pk}/instances/", cj_template(body), content_type=CJ, **kwargs
    )


def test_plugin_golden_document(anonymous_client, dircopy):
    response = anonymous_client.get(f"/api/v1/plugins/{dircopy.pk}/")
    item = response.json()["collection"]["items"][0]
    names = [entry["name"] for entry in item["data"]]
    assert names == [
        "id", "creation_date", "name", "version", "dock_image", "public_repo", "icon", "type",
        "stars", "authors", "title", "category", "description", "documentation", "license",
        "execshell", "selfpath", "selfexec", "min_number_of_workers", "max_number_of_workers",
        "min_cpu_limit", "max_cpu_limit", "min_memory_limit", "max_memory_limit",
        "min_gpu_limit", "max_gpu_limit",
    ]  # fmt: skip
    assert [link["rel"] for link in item["links"]] == [
        "meta", "parameters", "instances", "compute_resources",
    ]  # fmt: skip
    values = {entry["name"]: entry["value"] for entry in item["data"]}
    assert (values["min_cpu_limit"], values["max_cpu_limit"]) == (50, 1000)
    assert values["max_memory_limit"] == 2147483647


def test_plugin_search_matches_seed_name(anonymous_client, dircopy, simpledsapp):
    response = anonymous_client.get("/api/v1/plugins/search/?name=dircopy")
    assert [item["name"] for item in cj_items(response)] == ["pl-dircopy"]
    exact = anonymous_client.get("/api/v1/plugins/search/?name_exact=pl-dircopy&version=2.1.1")
    assert cj_items(exact)[0]["version"] == "2.1.1"
    params = anonymous_client.get(f"/api/v1/plugins/{dircopy.pk}/parameters/")
    assert cj_items(params)[0]["type"] == "unextpath"


def test_run_dircopy_golden_document(client, dircopy, uploads, user):
    response = run(client, dircopy, {"dir": "alice/uploads/DICOM/dataset1"})
    assert response.status_code == 201, response.content
    instance = PluginInstance.objects.get()
    assert response["Location"] == f"http://testserver/api/v1/plugins/instances/{instance.pk}/"
    item = response.json()["collection"]["items"][0]
    assert [entry["name"] for entry in item["data"]] == [
        "id", "title", "compute_resource_name", "plugin_id", "plugin_name", "plugin_version",
        "plugin_type", "feed_id", "start_date", "end_date", "output_path", "status", "summary",
        "raw", "owner_username", "cpu_limit", "memory_limit", "number_of_workers",
        "gpu_limit", "size", "error_code",
    ]  # fmt: skip
    assert [link["rel"] for link in item["links"]] == [
        "feed", "plugin", "compute_resource", "descendants", "files", "parameters", "splits",
    ]  # fmt: skip
    values = cj_items(response)[0]
    assert values["status"] == "scheduled"
    assert values["output_path"] == f"alice/feed_{instance.feed_id}/pl-dircopy_{instance.pk}/data"
    assert response.json()["collection"]["links"] == []


def test_run_accepts_json_and_form_bodies(client, dircopy, uploads):
    as_json = client.post(
        f"/api/v1/plugins/{dircopy.pk}/instances/",
        {"dir": "alice/uploads/DICOM/dataset1", "title": "j", "cpu_limit": "100m"},
        format="json",
    )
    assert as_json.status_code == 201
    assert cj_items(as_json)[0]["cpu_limit"] == 100
    as_form = client.post(
        f"/api/v1/plugins/{dircopy.pk}/instances/", {"dir": "/DICOM/dataset1", "title": "f"}
    )
    assert as_form.status_code == 201


@pytest.mark.parametrize(
    "body, message",
    [
        ({}, '"dir": ["This field is required."]'),
        ({"dir": "bobby/uploads"}, '"value"'),
        ({"dir": "alice/uploads/DICOM/dataset1", "cpu_limit": "1000"}, "CPU format incorrect"),
        ({"dir": "alice/uploads/DICOM/dataset1", "cpu_limit": "5000m"}, "out of range"),
        ({"dir": "alice/uploads/DICOM/dataset1", "memory_limit": "1"}, "Memory format"),
        ({"dir": "alice/uploads/DICOM/dataset1", "gpu_limit": 1}, "out of range"),
        ({"dir": "alice/uploads/DICOM/dataset1", "compute_resource_name": "x"}, "has not been"),
    ],
)
def test_run_validation_errors_change_nothing(client, dircopy, uploads, body, message):
    response = run(client, dircopy, body)
    assert response.status_code == 400
    assert message in response.json()["collection"]["error"]["message"]
    assert PluginInstance.objects.count() == 0


def test_ds_requires_owned_previous(client, other_client, dircopy, simpledsapp, uploads):
    fs_id = cj_items(run(client, dircopy, {"dir": "alice/uploads/DICOM/dataset1"}))[0]["id"]
    missing = run(client, simpledsapp, {})
    assert "previous_id" in missing.json()["collection"]["error"]["message"]
    unknown = run(client, simpledsapp, {"previous_id": 999})
    assert "Couldn't find" in unknown.json()["collection"]["error"]["message"]
    foreign = run(other_client, simpledsapp, {"previous_id": fs_id})
    assert "not an owner" in foreign.json()["collection"]["error"]["message"]
    ok = run(client, simpledsapp, {"previous_id": fs_id, "b_ignoreInputDir": True})
    assert ok.status_code == 201
    assert cj_items(ok)[0]["previous_id"] == fs_id
    params = client.get(f"/api/v1/plugins/instances/{cj_items(ok)[0]['id']}/parameters/")
    assert [(p["param_name"], p["value"], p["type"]) for p in cj_items(params)] == [
        ("b_ignoreInputDir", True, "boolean")
    ]
    typed = client.get(cj_items(params)[0]["href"])
    assert typed.status_code == 200


def test_detail_get_put_and_cancel(client, other_client, anonymous_client, dircopy, uploads):
    url = cj_items(run(client, dircopy, {"dir": "alice/uploads/DICOM/dataset1"}))[0]["href"]
    detail = client.get(url).json()["collection"]
    assert detail["template"] == {
        "data": [{"name": "title", "value": ""}, {"name": "status", "value": ""}]
    }
    assert "total" not in detail
    assert other_client.get(url).status_code == 200
    assert anonymous_client.get(url).status_code == 401
    assert other_client.put(url, cj_template({"title": "x"}), content_type=CJ).status_code == 403
    same = client.put(url, "{}", content_type="application/json", HTTP_ACCEPT="application/json")
    assert same.status_code == 200 and same.json()["status"] == "scheduled"
    bad = client.put(url, cj_template({"status": "started"}), content_type=CJ)
    assert bad.status_code == 400
    cancelled = client.put(url, cj_template({"status": "cancelled", "title": "t"}), content_type=CJ)
    assert cj_items(cancelled)[0]["status"] == "cancelled"
    assert cj_items(cancelled)[0]["title"] == "t"


def test_fs_instance_delete_is_forbidden(client, dircopy, uploads):
    url = cj_items(run(client, dircopy, {"dir": "alice/uploads/DICOM/dataset1"}))[0]["href"]
    assert client.delete(url).status_code == 403


def test_feed_files_listing_and_download(client, other_client, dircopy, uploads, pfcon):
    item = cj_items(run(client, dircopy, {"dir": "alice/uploads/DICOM/dataset1"}))[0]
    instance = PluginInstance.objects.get(pk=item["id"])
    for _ in range(5):
        instance.refresh_from_db()
        jobs.check_plugin_instance(instance, follow=False)
    instance.refresh_from_db()
    assert instance.status == Status.FINISHED_SUCCESSFULLY
    listing = client.get(f"/api/v1/{instance.feed_id}/files/?limit=1")
    collection = listing.json()["collection"]
    assert collection["total"] == 1
    assert collection["links"][0]["rel"] == "feed"
    file_item = cj_items(listing)[0]
    assert file_item["fname"].endswith("/alice_uploads_DICOM_dataset1/DICOM/dataset1/0001.dcm")
    download = client.get(file_item["file_resource"])
    assert b"".join(download.streaming_content) == b"dicom"
    assert other_client.get(file_item["file_resource"]).status_code == 403
    assert (
        client.get("/api/v1/files/search/?fname_icontains=0001").json()["collection"]["total"] == 1
    )
    assert other_client.get("/api/v1/files/").json()["collection"]["total"] == 0
    instance_files = client.get(f"/api/v1/plugins/instances/{instance.pk}/files/")
    assert [link["rel"] for link in instance_files.json()["collection"]["links"]] == [
        "feed", "plugin_inst",
    ]  # fmt: skip
    search = client.get(
        f"/api/v1/plugins/instances/search/?feed_id={instance.feed_id}&status=finishedSuccessfully"
    )
    assert cj_items(search)[0]["id"] == instance.pk
    bad_status = client.get("/api/v1/plugins/instances/search/?status=nope")
    assert bad_status.status_code == 400


def test_compute_resources_need_auth(anonymous_client, client, compute_resource):
    assert anonymous_client.get("/api/v1/computeresources/").status_code == 401
    items = cj_items(client.get("/api/v1/computeresources/"))
    assert items[0]["name"] == "host"
    assert "compute_password" not in items[0]


def test_splits_fan_out_topologicalcopy_instances(
    client, other_client, dircopy, topologicalcopy, uploads
):
    instance = cj_items(run(client, dircopy, {"dir": "alice/uploads/DICOM/dataset1"}))[0]
    url = f"/api/v1/plugins/instances/{instance['id']}/splits/"
    assert other_client.post(url, cj_template({"filter": "x"}), content_type=CJ).status_code == 403
    response = client.post(url, cj_template({"filter": r"\.dcm$, \.json$"}), content_type=CJ)
    assert response.status_code == 201, response.content
    split = cj_items(response)[0]
    created = [int(pk) for pk in split["created_plugin_inst_ids"].split(",")]
    assert split["filter"] == r"\.dcm$,\.json$"
    children = PluginInstance.objects.filter(pk__in=created)
    assert {child.plugin.meta.name for child in children} == {"pl-topologicalcopy"}
    assert {child.previous_id for child in children} == {instance["id"]}
    filters = sorted(
        child.parameter_values.get(plugin_param__name="filter").value for child in children
    )
    assert filters == [r"\.dcm$", r"\.json$"]
    listed = client.get(url).json()["collection"]
    assert listed["total"] == 1
    assert client.get(split["href"]).status_code == 200


def test_split_without_topologicalcopy_is_a_clear_400(client, dircopy, uploads):
    instance = cj_items(run(client, dircopy, {"dir": "alice/uploads/DICOM/dataset1"}))[0]
    response = client.post(
        f"/api/v1/plugins/instances/{instance['id']}/splits/", cj_template({}), content_type=CJ
    )
    assert response.status_code == 400
    assert "pl-topologicalcopy" in response.json()["collection"]["error"]["message"]


def test_plugin_metas_list_detail_and_plugins(anonymous_client, dircopy, simpledsapp):
    metas = anonymous_client.get("/api/v1/plugins/metas/")
    collection = metas.json()["collection"]
    assert [link["rel"] for link in collection["links"]] == ["feeds", "plugins"]
    names = [item["name"] for item in cj_items(metas)]
    assert names == ["pl-simpledsapp", "pl-dircopy"]  # by type: ds before fs
    search = anonymous_client.get("/api/v1/plugins/metas/search/?name_title_category=dircopy")
    meta = cj_items(search)[0]
    assert meta["name"] == "pl-dircopy"
    plugins = anonymous_client.get(meta["plugins"])
    assert [item["version"] for item in cj_items(plugins)] == ["2.1.1"]
    assert plugins.json()["collection"]["links"] == [{"rel": "meta", "href": meta["href"]}]


def test_descendants_and_root_id_follow_the_tree(client, dircopy, simpledsapp, uploads):
    fs = cj_items(run(client, dircopy, {"dir": "alice/uploads/DICOM/dataset1"}))[0]
    child = cj_items(run(client, simpledsapp, {"previous_id": fs["id"]}))[0]
    grandchild = cj_items(run(client, simpledsapp, {"previous_id": child["id"]}))[0]
    other = cj_items(run(client, dircopy, {"dir": "alice/uploads/DICOM/dataset1"}))[0]
    descendants = client.get(f"/api/v1/plugins/instances/{child['id']}/descendants/")
    assert [item["id"] for item in cj_items(descendants)] == [child["id"], grandchild["id"]]
    tree = client.get(f"/api/v1/plugins/instances/search/?root_id={fs['id']}")
    assert {item["id"] for item in cj_items(tree)} == {fs["id"], child["id"], grandchild["id"]}
    assert other["id"] not in {item["id"] for item in cj_items(tree)}
    assert (
        cj_items(client.get(f"/api/v1/plugins/instances/search/?previous_id={fs['id']}"))[0]["id"]
        == child["id"]
    )
