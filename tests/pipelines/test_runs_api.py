import json

import pytest

from pipelines.models import PipelineInstance, Workflow
from plugins import tasks
from plugins.models import PluginInstance
from plugins.services.compute import job_environment
from plugins.status import Status
from tests.helpers import CJ, cj_items, cj_template
from tests.plugin_support import make_fs_instance

pytestmark = pytest.mark.django_db

H = "http://testserver/api/v1"


def error(response) -> str:
    return response.json()["collection"]["error"]["message"]


@pytest.fixture
def submitted(monkeypatch) -> list[int]:
    ids: list[int] = []
    monkeypatch.setattr(tasks.advance_plugin_instance, "delay", lambda pk, *a: ids.append(pk))
    return ids


def post_workflow(api_client, pipeline, **data):
    return api_client.post(
        f"/api/v1/pipelines/{pipeline.pk}/workflows/", cj_template(data), content_type=CJ
    )


def members(workflow_or_run) -> dict[str, PluginInstance]:
    return {i.title: i for i in workflow_or_run.plugin_instances.order_by("id")}


def test_workflow_creates_instances_in_order_and_schedules_the_first(
    client, user, pipeline, fs_instance, submitted, django_capture_on_commit_callbacks
):
    pipings = {p.title: p for p in pipeline.plugin_pipings.all()}
    nodes_info = [
        {"piping_id": pipings["left"].pk, "title": "left side",
         "compute_resource_name": "host",
         "plugin_parameter_defaults": [{"name": "dummyFloat", "default": 9.5}]},
    ]  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        response = post_workflow(
            client, pipeline, previous_plugin_inst_id=fs_instance.pk, nodes_info=nodes_info
        )
    assert response.status_code == 201, response.content
    workflow = Workflow.objects.get()
    assert workflow.title == "Diamond"
    created = members(workflow)
    assert list(created) == ["root", "left side", "right", "join"]
    root, left, right, join = created.values()
    assert submitted == [root.pk]
    assert root.status == Status.SCHEDULED and root.previous == fs_instance
    assert {left.status, right.status, join.status} == {Status.WAITING}
    assert left.previous == root and right.previous == root and join.previous == left
    values = {
        (i.title, v.plugin_param.name): v.value
        for i in created.values()
        for v in i.parameter_values.select_related("plugin_param")
    }
    assert values == {
        ("root", "dummyInt"): 7,
        ("left side", "prefix"): "L",
        ("left side", "dummyFloat"): 9.5,
        ("join", "plugininstances"): f"{left.pk},{right.pk}",
        ("join", "filter"): ".*",
    }
    item = cj_items(response)[0]
    assert item["pipeline_id"] == pipeline.pk and item["pipeline_name"] == "Diamond"
    assert item["scheduled_jobs"] == 1 and item["waiting_jobs"] == 3
    env = job_environment(join, prefix="chris-jid-")
    assert f"CHRIS_WORKFLOW_ID={workflow.pk}" in env
    assert f"CHRIS_PIPELINE_ID={pipeline.pk}" in env
    assert (
        f"CHRIS_WORKFLOW_PLG_INSTANCES=root:{root.pk},left side:{left.pk},right:{right.pk},"
        f"join:{join.pk}" in env
    )


def test_workflow_after_an_unfinished_instance_waits(client, user, pipeline, dircopy):
    previous = make_fs_instance(user, dircopy, status=Status.STARTED)
    response = client.post(
        f"/api/v1/pipelines/{pipeline.pk}/workflows/",
        {"previous_plugin_inst_id": previous.pk, "nodes_info": "[]", "title": "run"},
        format="json",
    )
    assert response.status_code == 201, response.content
    workflow = Workflow.objects.get()
    assert workflow.title == "run"
    assert {i.status for i in workflow.plugin_instances.all()} == {Status.WAITING}
    body = client.get(f"/api/v1/pipelines/workflows/{workflow.pk}/", HTTP_ACCEPT="application/json")
    assert body.json()["waiting_jobs"] == 4


def test_workflow_document_shape(client, user, pipeline, fs_instance):
    post_workflow(client, pipeline, previous_plugin_inst_id=fs_instance.pk)
    workflow = Workflow.objects.get()
    document = client.get(f"/api/v1/pipelines/workflows/{workflow.pk}/").json()["collection"]
    created = document["items"][0]["data"][1]["value"]
    assert document["items"] == [
        {
            "data": [
                {"name": "id", "value": workflow.pk},
                {"name": "creation_date", "value": created},
                {"name": "title", "value": "Diamond"},
                {"name": "pipeline_id", "value": pipeline.pk},
                {"name": "pipeline_name", "value": "Diamond"},
                {"name": "owner_username", "value": "alice"},
                {"name": "created_jobs", "value": 0},
                {"name": "waiting_jobs", "value": 3},
                {"name": "scheduled_jobs", "value": 1},
                {"name": "started_jobs", "value": 0},
                {"name": "registering_jobs", "value": 0},
                {"name": "finished_jobs", "value": 0},
                {"name": "errored_jobs", "value": 0},
                {"name": "cancelled_jobs", "value": 0},
            ],
            "href": f"{H}/pipelines/workflows/{workflow.pk}/",
            "links": [
                {"rel": "pipeline", "href": f"{H}/pipelines/{pipeline.pk}/"},
                {
                    "rel": "plugin_instances",
                    "href": f"{H}/pipelines/workflows/{workflow.pk}/plugininstances/",
                },
            ],  # fmt: skip
        }
    ]
    assert document["links"] == []
    assert document["template"] == {"data": [{"name": "title", "value": ""}]}
    listing = client.get(f"/api/v1/pipelines/{pipeline.pk}/workflows/").json()["collection"]
    assert listing["links"] == [{"rel": "pipeline", "href": f"{H}/pipelines/{pipeline.pk}/"}]
    assert [d["name"] for d in listing["template"]["data"]] == [
        "previous_plugin_inst_id", "title", "nodes_info",
    ]  # fmt: skip


def test_workflow_member_instance_fields(client, pipeline, fs_instance):
    post_workflow(client, pipeline, previous_plugin_inst_id=fs_instance.pk)
    workflow = Workflow.objects.get()
    root = workflow.plugin_instances.order_by("id").first()
    item = cj_items(client.get(f"/api/v1/plugins/instances/{root.pk}/"))[0]
    assert item["pipeline_id"] == pipeline.pk
    assert item["pipeline_name"] == "Diamond"
    assert item["workflow_id"] == workflow.pk
    assert "pipeline_inst_id" not in item and "pipeline_inst" not in item
    assert item["workflow"] == f"{H}/pipelines/workflows/{workflow.pk}/"
    names = [d["name"] for d in client.get(f"/api/v1/plugins/instances/{root.pk}/").json()[
        "collection"]["items"][0]["data"]]  # fmt: skip
    assert names.index("status") + 1 == names.index("pipeline_id")
    assert names.index("workflow_id") + 1 == names.index("summary")
    fs_item = cj_items(client.get(f"/api/v1/plugins/instances/{fs_instance.pk}/"))[0]
    assert not {"pipeline_id", "pipeline_name", "workflow_id", "workflow"} & set(fs_item)
    search = cj_items(client.get(f"/api/v1/plugins/instances/search/?workflow_id={workflow.pk}"))
    assert len(search) == 4
    listed = cj_items(client.get(f"/api/v1/pipelines/workflows/{workflow.pk}/plugininstances/"))
    assert [i["title"] for i in listed] == ["root", "left", "right", "join"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({}, "previous_plugin_inst_id"),
        ({"previous_plugin_inst_id": 99999}, "previous_plugin_inst_id"),
        ({"previous_plugin_inst_id": "abc"}, "previous_plugin_inst_id"),
        ({"nodes_info": "[{"}, "nodes_info"),
        ({"nodes_info": "{}"}, "nodes_info"),
        ({"nodes_info": [{"title": "x"}]}, "nodes_info"),
        ({"nodes_info": [{"piping_id": 99999}]}, "nodes_info"),
        ({"nodes_info": [{"piping_id": "ROOT", "compute_resource_name": "nope"}]}, "nodes_info"),
        ({"nodes_info": [{"piping_id": "ROOT", "title": "x" * 101}]}, "nodes_info"),
        ({"nodes_info": [{"piping_id": "ROOT", "plugin_parameter_defaults": [
            {"name": "dummyInt", "default": "many"}]}]}, "nodes_info"),
        ({"nodes_info": [{"piping_id": "ROOT", "plugin_parameter_defaults": [
            {"name": "nope", "default": 1}]}]}, "nodes_info"),
        ({"nodes_info": [{"piping_id": "ROOT", "plugin_parameter_defaults": "x"}]}, "nodes_info"),
    ],
)  # fmt: skip
def test_invalid_workflow_requests_create_nothing(client, pipeline, fs_instance, data, field):
    root = pipeline.plugin_pipings.get(title="root")
    data = json.loads(json.dumps(data).replace('"ROOT"', str(root.pk)))
    if field != "previous_plugin_inst_id":
        data["previous_plugin_inst_id"] = fs_instance.pk
    response = post_workflow(client, pipeline, **data)
    assert response.status_code == 400, response.content
    assert field in error(response)
    assert Workflow.objects.count() == 0
    assert PluginInstance.objects.count() == 1


def test_workflow_needs_feed_ownership_and_a_readable_pipeline(
    client,
    other_client,
    anonymous_client,
    other_user,
    pipeline,
    unlocked_pipeline,
    fs_instance,
    dircopy,
):
    response = post_workflow(
        other_client, unlocked_pipeline, previous_plugin_inst_id=fs_instance.pk
    )
    assert response.status_code == 400
    assert "not an owner" in error(response)
    own = make_fs_instance(other_user, dircopy)
    response = post_workflow(other_client, unlocked_pipeline, previous_plugin_inst_id=own.pk)
    assert response.status_code == 201, response.content
    assert post_workflow(other_client, pipeline, previous_plugin_inst_id=own.pk).status_code == 403
    assert other_client.get(f"/api/v1/pipelines/{pipeline.pk}/workflows/").status_code == 403
    assert anonymous_client.get(f"/api/v1/pipelines/{pipeline.pk}/workflows/").status_code == 401
    assert client.get("/api/v1/pipelines/9999/workflows/").status_code == 404


def test_all_workflows_search_put_and_delete(
    client, other_client, superuser_client, anonymous_client, pipeline, fs_instance, submitted
):
    post_workflow(client, pipeline, previous_plugin_inst_id=fs_instance.pk, title="first run")
    workflow = Workflow.objects.get()
    listing = other_client.get("/api/v1/pipelines/workflows/").json()["collection"]
    assert listing["total"] == 1
    assert listing["links"] == [{"rel": "pipelines", "href": f"{H}/pipelines/"}]
    assert [q["name"] for q in listing["queries"][0]["data"]] == [
        "id", "title", "pipeline_name", "owner_username",
    ]  # fmt: skip
    search = "/api/v1/pipelines/workflows/search/"
    assert len(cj_items(client.get(f"{search}?title=FIRST"))) == 1
    assert len(cj_items(client.get(f"{search}?pipeline_name=diam"))) == 1
    assert len(cj_items(client.get(f"{search}?owner_username=bobby"))) == 0
    assert anonymous_client.get("/api/v1/pipelines/workflows/").status_code == 401
    url = f"/api/v1/pipelines/workflows/{workflow.pk}/"
    assert other_client.get(url).status_code == 200
    assert other_client.put(url, cj_template({"title": "x"}), content_type=CJ).status_code == 403
    assert other_client.delete(url).status_code == 403
    response = client.put(url, cj_template({"title": "renamed"}), content_type=CJ)
    assert response.status_code == 200
    assert cj_items(response)[0]["title"] == "renamed"
    assert client.put(url, cj_template({"title": "x" * 101}), content_type=CJ).status_code == 400
    member_ids = list(workflow.plugin_instances.values_list("id", flat=True))
    assert superuser_client.delete(url).status_code == 204
    assert not Workflow.objects.exists()
    statuses = set(
        PluginInstance.objects.filter(pk__in=member_ids).values_list("status", flat=True)
    )
    assert statuses == {Status.CANCELLED}
    assert client.get(url).status_code == 404


def test_legacy_pipeline_instance_runs_like_a_workflow(
    client, other_client, pipeline, fs_instance, submitted, django_capture_on_commit_callbacks
):
    url = f"/api/v1/pipelines/{pipeline.pk}/instances/"
    template = client.get(url).json()["collection"]["template"]["data"]
    names = [d["name"] for d in template]
    assert names[:7] == [
        "previous_plugin_inst_id", "title", "description", "cpu_limit", "memory_limit",
        "number_of_workers", "gpu_limit",
    ]  # fmt: skip
    root = pipeline.plugin_pipings.get(title="root")
    key = f"{root.plugin_id}_{root.pk}_null_dummyInt"
    assert key in names
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            cj_template(
                {
                    "previous_plugin_inst_id": fs_instance.pk,
                    "title": "legacy",
                    "description": "old style",
                    "cpu_limit": "2000m",
                    key: 42,
                }
            ),  # fmt: skip
            content_type=CJ,
        )
    assert response.status_code == 201, response.content
    run = PipelineInstance.objects.get()
    item = cj_items(response)[0]
    assert {k: item[k] for k in ("title", "pipeline_id", "pipeline_name", "owner_username")} == {
        "title": "legacy", "pipeline_id": pipeline.pk, "pipeline_name": "Diamond",
        "owner_username": "alice",
    }  # fmt: skip
    assert item["cpu_limit"] == 2000 and item["memory_limit"] == 200
    assert item["plugin_instances"] == f"{H}/pipelines/instances/{run.pk}/plugininstances/"
    created = list(run.plugin_instances.order_by("id"))
    assert [i.title for i in created] == ["legacy"] * 4
    assert submitted == [created[0].pk]
    assert [i.status for i in created] == [Status.SCHEDULED] + [Status.WAITING] * 3
    assert created[0].cpu_limit == 2000
    assert created[0].parameter_values.get(plugin_param__name="dummyInt").value == 42
    member = cj_items(client.get(f"/api/v1/plugins/instances/{created[0].pk}/"))[0]
    assert member["pipeline_inst_id"] == run.pk
    assert member["pipeline_inst"] == f"{H}/pipelines/instances/{run.pk}/"
    assert "pipeline_id" not in member and "workflow_id" not in member
    listed = cj_items(client.get(f"/api/v1/pipelines/instances/{run.pk}/plugininstances/"))
    assert len(listed) == 4
    assert (
        len(cj_items(client.get(f"/api/v1/plugins/instances/search/?pipeline_inst_id={run.pk}")))
        == 4
    )


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"previous_plugin_inst_id": 99999},
        {"previous_plugin_inst_id": "FS", "cpu_limit": "lots"},
        {"previous_plugin_inst_id": "FS", "gpu_limit": 3},
        {"previous_plugin_inst_id": "FS", "KEY": "many"},
    ],
)
def test_invalid_legacy_pipeline_instances_create_nothing(client, pipeline, fs_instance, data):
    root = pipeline.plugin_pipings.get(title="root")
    key = f"{root.plugin_id}_{root.pk}_null_dummyInt"
    data = {
        (key if k == "KEY" else k): (fs_instance.pk if v == "FS" else v) for k, v in data.items()
    }
    response = client.post(
        f"/api/v1/pipelines/{pipeline.pk}/instances/", cj_template(data), content_type=CJ
    )
    assert response.status_code == 400, response.content
    assert PipelineInstance.objects.count() == 0
    assert PluginInstance.objects.count() == 1


def test_legacy_pipeline_instances_list_detail_and_delete(
    client, other_client, anonymous_client, pipeline, fs_instance, submitted
):
    client.post(
        f"/api/v1/pipelines/{pipeline.pk}/instances/",
        {"previous_plugin_inst_id": fs_instance.pk, "title": "legacy"},
        format="json",
    )
    run = PipelineInstance.objects.get()
    listing = other_client.get("/api/v1/pipelines/instances/").json()["collection"]
    assert listing["total"] == 1
    assert listing["links"] == [{"rel": "pipelines", "href": f"{H}/pipelines/"}]
    assert [q["name"] for q in listing["queries"][0]["data"]] == [
        "id", "title", "description", "pipeline_name", "owner_username",
    ]  # fmt: skip
    search = "/api/v1/pipelines/instances/search/"
    assert len(cj_items(client.get(f"{search}?title=LEG"))) == 1
    assert len(cj_items(client.get(f"{search}?pipeline_name=nothing"))) == 0
    assert anonymous_client.get("/api/v1/pipelines/instances/").status_code == 401
    url = f"/api/v1/pipelines/instances/{run.pk}/"
    document = client.get(url).json()["collection"]
    assert document["template"]["data"] == [
        {"name": "title", "value": ""},
        {"name": "description", "value": ""},
    ]
    body = cj_template({"title": "new", "description": "d", "cpu_limit": 5000})
    assert other_client.put(url, body, content_type=CJ).status_code == 403
    response = client.put(url, body, content_type=CJ)
    assert response.status_code == 200
    run.refresh_from_db()
    assert (run.title, run.description, run.cpu_limit) == ("new", "d", 1000)
    assert other_client.delete(url).status_code == 403
    assert client.delete(url).status_code == 204
    assert not PipelineInstance.objects.exists()
    assert set(
        PluginInstance.objects.exclude(pk=fs_instance.pk).values_list("status", flat=True)
    ) == {Status.CANCELLED}
    assert client.get(url).status_code == 404
