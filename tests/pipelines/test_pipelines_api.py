import json

import pytest

from pipelines.models import DefaultPipingParameter, Pipeline, PluginPiping
from tests.helpers import CJ, cj_items, cj_template
from tests.plugin_support import diamond_tree, make_fs_instance

pytestmark = pytest.mark.django_db

H = "http://testserver/api/v1"


def post_pipeline(api_client, **data):
    return api_client.post("/api/v1/pipelines/", cj_template(data), content_type=CJ)


def error(response) -> str:
    return response.json()["collection"]["error"]["message"]


def test_create_pipeline_from_tree_string(client, user, simpledsapp, topologicalcopy):
    response = post_pipeline(
        client,
        name="Diamond",
        authors="Alice",
        plugin_tree=json.dumps(diamond_tree(simpledsapp, topologicalcopy)),
    )
    assert response.status_code == 201, response.content
    pipeline = Pipeline.objects.get()
    assert response["Location"] == f"{H}/pipelines/{pipeline.pk}/"
    assert pipeline.owner == user and pipeline.locked
    pipings = {piping.title: piping for piping in pipeline.plugin_pipings.all()}
    assert list(pipings) == ["root", "left", "right", "join"]
    assert pipings["left"].previous == pipings["root"]
    assert pipings["join"].previous == pipings["left"]
    values = {
        (d.plugin_piping.title, d.plugin_param.name): d.value
        for d in DefaultPipingParameter.objects.select_related("plugin_piping", "plugin_param")
    }
    assert values[("root", "dummyInt")] == 7
    assert values[("root", "prefix")] == ""
    assert values[("left", "prefix")] == "L"
    assert values[("join", "plugininstances")] == f"{pipings['left'].pk},{pipings['right'].pk}"
    assert values[("join", "filter")] == ".*"


def test_create_pipeline_accepts_decoded_list_in_json(client, simpledsapp):
    tree = [{"title": "only", "plugin_id": simpledsapp.pk, "previous": None}]
    response = client.post(
        "/api/v1/pipelines/", {"name": "Listy", "plugin_tree": tree}, format="json"
    )
    assert response.status_code == 201, response.content
    response = post_pipeline(client, name="Listy C+J", plugin_tree=tree)
    assert response.status_code == 201, response.content
    assert Pipeline.objects.count() == 2


def test_pipeline_document_shape(client, user, pipeline):
    response = client.get(f"/api/v1/pipelines/{pipeline.pk}/")
    assert response.status_code == 200
    document = response.json()["collection"]
    item = document["items"][0]
    dates = {d["name"]: d["value"] for d in item["data"]}
    assert item == {
        "data": [
            {"name": "id", "value": pipeline.pk},
            {"name": "name", "value": "Diamond"},
            {"name": "locked", "value": True},
            {"name": "authors", "value": "Alice"},
            {"name": "category", "value": "Test"},
            {"name": "description", "value": "A diamond"},
            {"name": "owner_username", "value": "alice"},
            {"name": "creation_date", "value": dates["creation_date"]},
            {"name": "modification_date", "value": dates["modification_date"]},
        ],
        "href": f"{H}/pipelines/{pipeline.pk}/",
        "links": [
            {"rel": "plugins", "href": f"{H}/pipelines/{pipeline.pk}/plugins/"},
            {"rel": "plugin_pipings", "href": f"{H}/pipelines/{pipeline.pk}/pipings/"},
            {"rel": "default_parameters", "href": f"{H}/pipelines/{pipeline.pk}/parameters/"},
            {"rel": "instances", "href": f"{H}/pipelines/{pipeline.pk}/instances/"},
            {"rel": "workflows", "href": f"{H}/pipelines/{pipeline.pk}/workflows/"},
            {"rel": "json_repr", "href": f"{H}/pipelines/{pipeline.pk}/json/"},
        ],
    }
    assert document["links"] == []
    assert [d["name"] for d in document["template"]["data"]] == [
        "name", "authors", "category", "description", "locked",
    ]  # fmt: skip
    assert "total" not in document and "queries" not in document


def test_pipeline_list_document(client, pipeline):
    document = client.get("/api/v1/pipelines/").json()["collection"]
    assert document["links"] == [{"rel": "plugins", "href": f"{H}/plugins/"}]
    assert document["total"] == 1
    assert document["queries"] == [
        {
            "href": f"{H}/pipelines/search/",
            "rel": "search",
            "data": [
                {"name": name, "value": ""}
                for name in (
                    "id",
                    "owner_username",
                    "name",
                    "category",
                    "description",
                    "authors",
                    "min_creation_date",
                    "max_creation_date",
                )  # fmt: skip
            ],
        }
    ]
    assert [d["name"] for d in document["template"]["data"]] == [
        "name", "authors", "category", "description", "locked", "plugin_tree", "plugin_inst_id",
    ]  # fmt: skip


def test_plain_json_pipeline_has_null_source_file(client, pipeline):
    response = client.get(f"/api/v1/pipelines/{pipeline.pk}/", HTTP_ACCEPT="application/json")
    body = response.json()
    assert body["source_file"] is None
    assert body["json_repr"] == f"{H}/pipelines/{pipeline.pk}/json/"


BAD_TREES = {
    "not json": "[{",
    "not a list": json.dumps({"title": "x"}),
    "empty": "[]",
    "node not object": json.dumps(["x"]),
    "missing title": json.dumps([{"plugin_id": "DS", "previous": None}]),
    "empty title": json.dumps([{"title": "", "plugin_id": "DS", "previous": None}]),
    "duplicated title": json.dumps(
        [
            {"title": "a", "plugin_id": "DS", "previous": None},
            {"title": "a", "plugin_id": "DS", "previous": "a"},
        ]
    ),
    "two roots": json.dumps(
        [
            {"title": "a", "plugin_id": "DS", "previous": None},
            {"title": "b", "plugin_id": "DS", "previous": None},
        ]
    ),
    "no root": json.dumps(
        [
            {"title": "a", "plugin_id": "DS", "previous": "b"},
            {"title": "b", "plugin_id": "DS", "previous": "a"},
        ]
    ),
    "disconnected cycle": json.dumps(
        [
            {"title": "r", "plugin_id": "DS", "previous": None},
            {"title": "a", "plugin_id": "DS", "previous": "b"},
            {"title": "b", "plugin_id": "DS", "previous": "a"},
        ]
    ),
    "unknown previous": json.dumps(
        [
            {"title": "a", "plugin_id": "DS", "previous": None},
            {"title": "b", "plugin_id": "DS", "previous": "zzz"},
        ]
    ),
    "unknown plugin id": json.dumps([{"title": "a", "plugin_id": 9999, "previous": None}]),
    "unknown plugin name": json.dumps(
        [{"title": "a", "plugin_name": "pl-nope", "plugin_version": "1", "previous": None}]
    ),
    "no plugin": json.dumps([{"title": "a", "previous": None}]),
    "fs plugin": json.dumps([{"title": "a", "plugin_id": "FS", "previous": None}]),
    "missing default": json.dumps([{"title": "a", "plugin_id": "LABEL", "previous": None}]),
    "bad default type": json.dumps(
        [
            {
                "title": "a",
                "plugin_id": "DS",
                "previous": None,
                "plugin_parameter_defaults": [{"name": "dummyInt", "default": "many"}],
            },
        ]  # fmt: skip
    ),
    "unknown parameter": json.dumps(
        [
            {
                "title": "a",
                "plugin_id": "DS",
                "previous": None,
                "plugin_parameter_defaults": [{"name": "nope", "default": 1}],
            },
        ]  # fmt: skip
    ),
    "default without value": json.dumps(
        [
            {
                "title": "a",
                "plugin_id": "DS",
                "previous": None,
                "plugin_parameter_defaults": [{"name": "dummyInt"}],
            },
        ]  # fmt: skip
    ),
    "ts root with parents": json.dumps(
        [
            {
                "title": "a",
                "plugin_id": "TS",
                "previous": None,
                "plugin_parameter_defaults": [{"name": "plugininstances", "default": "a"}],
            },
        ]  # fmt: skip
    ),
    "ts without previous in parents": json.dumps(
        [
            {"title": "a", "plugin_id": "DS", "previous": None},
            {"title": "b", "plugin_id": "DS", "previous": "a"},
            {
                "title": "t",
                "plugin_id": "TS",
                "previous": "a",
                "plugin_parameter_defaults": [{"name": "plugininstances", "default": "b"}],
            },
        ]  # fmt: skip
    ),
    "ts with empty parents": json.dumps(
        [
            {"title": "a", "plugin_id": "DS", "previous": None},
            {"title": "t", "plugin_id": "TS", "previous": "a"},
        ]
    ),
    "ts with unknown parent": json.dumps(
        [
            {"title": "a", "plugin_id": "DS", "previous": None},
            {
                "title": "t",
                "plugin_id": "TS",
                "previous": "a",
                "plugin_parameter_defaults": [{"name": "plugininstances", "default": "a,zz"}],
            },
        ]  # fmt: skip
    ),
    "ts cycle": json.dumps(
        [
            {"title": "a", "plugin_id": "DS", "previous": None},
            {
                "title": "t",
                "plugin_id": "TS",
                "previous": "a",
                "plugin_parameter_defaults": [{"name": "plugininstances", "default": "a,u"}],
            },
            {
                "title": "u",
                "plugin_id": "TS",
                "previous": "t",
                "plugin_parameter_defaults": [{"name": "plugininstances", "default": "t"}],
            },
        ]  # fmt: skip
    ),
}


@pytest.mark.parametrize("case", list(BAD_TREES))
def test_invalid_plugin_trees_are_refused(
    client, case, simpledsapp, topologicalcopy, dircopy, labeller
):
    tree = (
        BAD_TREES[case]
        .replace('"DS"', str(simpledsapp.pk))
        .replace('"TS"', str(topologicalcopy.pk))
        .replace('"FS"', str(dircopy.pk))
        .replace('"LABEL"', str(labeller.pk))
    )
    response = post_pipeline(client, name="Bad", plugin_tree=tree)
    assert response.status_code == 400, response.content
    assert "plugin_tree" in error(response)
    assert Pipeline.objects.count() == 0
    assert PluginPiping.objects.count() == 0


def test_create_pipeline_needs_a_tree_and_a_unique_name(client, pipeline, simpledsapp):
    response = post_pipeline(client, name="Nothing")
    assert response.status_code == 400
    assert "non_field_errors" in error(response)
    tree = json.dumps([{"title": "a", "plugin_id": simpledsapp.pk, "previous": None}])
    response = post_pipeline(client, name="Diamond", plugin_tree=tree)
    assert response.status_code == 400
    assert "name" in error(response)
    response = post_pipeline(client, plugin_tree=tree)
    assert response.status_code == 400
    assert "name" in error(response)


def test_anonymous_cannot_create_pipeline(anonymous_client, simpledsapp):
    tree = json.dumps([{"title": "a", "plugin_id": simpledsapp.pk, "previous": None}])
    response = post_pipeline(anonymous_client, name="Anon", plugin_tree=tree)
    assert response.status_code == 401


def test_create_pipeline_from_plugin_instance(client, user, simpledsapp, topologicalcopy, dircopy):
    from plugins.models import PluginInstance, PluginInstanceParameter

    fs = make_fs_instance(user, dircopy)

    def child(previous, plugin, title, **values):
        instance = PluginInstance.objects.create(
            plugin=plugin, owner=user, feed=fs.feed, previous=previous, title=title,
            cpu_limit=1000, memory_limit=200, number_of_workers=1, gpu_limit=0,
        )  # fmt: skip
        for name, value in values.items():
            PluginInstanceParameter.objects.create(
                plugin_inst=instance, plugin_param=plugin.parameters.get(name=name), value=value
            )
        return instance

    root = child(fs, simpledsapp, "first", dummyInt=3)
    second = child(root, simpledsapp, "")
    child(second, topologicalcopy, "joined", plugininstances=f"{root.pk},{second.pk}")
    response = post_pipeline(client, name="Copied", plugin_inst_id=root.pk)
    assert response.status_code == 201, response.content
    pipeline = Pipeline.objects.get(name="Copied")
    pipings = {piping.title: piping for piping in pipeline.plugin_pipings.all()}
    assert list(pipings) == ["first", f"pl-simpledsapp_{second.pk}", "joined"]
    joined = pipings["joined"].parameter_defaults.get(plugin_param__name="plugininstances")
    assert joined.value == f"{pipings['first'].pk},{pipings[f'pl-simpledsapp_{second.pk}'].pk}"
    first_int = pipings["first"].parameter_defaults.get(plugin_param__name="dummyInt")
    assert first_int.value == 3

    for bad in (fs.pk, 99999):
        response = post_pipeline(client, name=f"Bad {bad}", plugin_inst_id=bad)
        assert response.status_code == 400
        assert "plugin_inst_id" in error(response)


def test_cannot_copy_an_unreadable_instance_tree(other_client, user, simpledsapp, dircopy):
    from plugins.models import PluginInstance

    fs = make_fs_instance(user, dircopy)
    root = PluginInstance.objects.create(
        plugin=simpledsapp, owner=user, feed=fs.feed, previous=fs, title="first",
        cpu_limit=1000, memory_limit=200, number_of_workers=1, gpu_limit=0,
    )  # fmt: skip
    response = post_pipeline(other_client, name="Stolen", plugin_inst_id=root.pk)
    assert response.status_code == 400
    assert "plugin_inst_id" in error(response)
    fs.feed.public = True
    fs.feed.save()
    assert post_pipeline(other_client, name="Public", plugin_inst_id=root.pk).status_code == 201


def test_pipeline_visibility(
    client, other_client, superuser_client, anonymous_client, pipeline, unlocked_pipeline
):
    def names(api_client, url="/api/v1/pipelines/"):
        return sorted(item["name"] for item in cj_items(api_client.get(url)))

    assert names(anonymous_client) == ["Public chain"]
    assert names(client) == ["Diamond", "Public chain"]
    assert names(other_client) == ["Public chain"]
    assert names(superuser_client) == ["Diamond", "Public chain"]
    assert names(client, "/api/v1/pipelines/search/?name=diam") == ["Diamond"]
    assert names(anonymous_client, "/api/v1/pipelines/search/?name=diam") == []
    assert names(client, "/api/v1/pipelines/search/?owner_username=bobby") == ["Public chain"]
    assert names(client, "/api/v1/pipelines/search/?category=tes") == ["Diamond"]
    assert names(client, "/api/v1/pipelines/search/?authors=ALI") == ["Diamond"]
    assert names(client, "/api/v1/pipelines/search/?description=diamond") == ["Diamond"]
    assert client.get("/api/v1/pipelines/search/?id=x").status_code == 400

    url = f"/api/v1/pipelines/{pipeline.pk}/"
    assert client.get(url).status_code == 200
    assert superuser_client.get(url).status_code == 200
    assert other_client.get(url).status_code == 403
    assert anonymous_client.get(url).status_code == 401
    assert anonymous_client.get(f"/api/v1/pipelines/{unlocked_pipeline.pk}/").status_code == 200
    assert client.get("/api/v1/pipelines/9999/").status_code == 404


def test_pipeline_put_and_locking(client, other_client, anonymous_client, pipeline):
    url = f"/api/v1/pipelines/{pipeline.pk}/"
    assert other_client.put(url, cj_template({"name": "x"}), content_type=CJ).status_code == 403
    assert anonymous_client.put(url, cj_template({}), content_type=CJ).status_code == 401
    response = client.put(
        url,
        cj_template({"name": "Renamed", "plugin_tree": "[]", "locked": False}),
        content_type=CJ,
    )
    assert response.status_code == 200, response.content
    pipeline.refresh_from_db()
    assert pipeline.name == "Renamed" and not pipeline.locked
    assert pipeline.plugin_pipings.count() == 4
    # unlocked for good: locked is no longer in the template and is ignored
    template = client.get(url).json()["collection"]["template"]["data"]
    assert [d["name"] for d in template] == ["name", "authors", "category", "description"]
    response = client.put(url, cj_template({"locked": True}), content_type=CJ)
    assert response.status_code == 200
    pipeline.refresh_from_db()
    assert not pipeline.locked
    # readable by others now, still not writable
    assert other_client.get(url).status_code == 200
    assert other_client.delete(url).status_code == 403


def test_pipeline_delete(client, superuser_client, pipeline, unlocked_pipeline):
    assert client.delete(f"/api/v1/pipelines/{pipeline.pk}/").status_code == 204
    assert superuser_client.delete(f"/api/v1/pipelines/{unlocked_pipeline.pk}/").status_code == 204
    assert Pipeline.objects.count() == 0
    assert DefaultPipingParameter.objects.count() == 0


def test_pipeline_json_repr_round_trips(client, other_client, pipeline):
    url = f"/api/v1/pipelines/{pipeline.pk}/json/"
    assert other_client.get(url).status_code == 403
    response = client.get(url)
    assert response.status_code == 200
    item = response.json()["collection"]["items"][0]
    assert item["href"] == f"{H}/pipelines/{pipeline.pk}/"
    data = {d["name"]: d["value"] for d in item["data"]}
    assert list(data) == ["name", "locked", "authors", "category", "description", "plugin_tree"]
    tree = json.loads(data["plugin_tree"])
    join = next(node for node in tree if node["title"] == "join")
    assert join["previous"] == "left"
    assert {"name": "plugininstances", "default": "left,right"} in join["plugin_parameter_defaults"]
    response = post_pipeline(client, name="Copy", plugin_tree=data["plugin_tree"])
    assert response.status_code == 201, response.content


def test_pipeline_plugins_pipings_and_parameters(
    client, other_client, anonymous_client, pipeline, simpledsapp, topologicalcopy
):
    base = f"/api/v1/pipelines/{pipeline.pk}"
    plugins = client.get(f"{base}/plugins/")
    assert plugins.json()["collection"]["links"] == [
        {"rel": "pipeline", "href": f"{H}/pipelines/{pipeline.pk}/"}
    ]
    assert sorted(item["id"] for item in cj_items(plugins)) == sorted(
        [simpledsapp.pk, topologicalcopy.pk]
    )
    pipings = cj_items(client.get(f"{base}/pipings/"))
    assert [p["title"] for p in pipings] == ["root", "left", "right", "join"]
    assert "previous_id" not in pipings[0] and "previous" not in pipings[0]
    assert pipings[1]["previous_id"] == pipings[0]["id"]
    parameters = cj_items(client.get(f"{base}/parameters/"))
    assert len(parameters) == 10  # 3 ds pipings x 4 parameters would be 12, paged at 10
    # 3 ds pipings x 4 parameters + the ts piping's 3
    assert client.get(f"{base}/parameters/?limit=20").json()["collection"]["total"] == 15
    for suffix in ("plugins/", "pipings/", "parameters/", "json/"):
        assert other_client.get(f"{base}/{suffix}").status_code == 403
        assert anonymous_client.get(f"{base}/{suffix}").status_code == 401
    assert client.get("/api/v1/pipelines/9999/pipings/").status_code == 404


def test_piping_document_shape(client, other_client, pipeline, simpledsapp):
    left = pipeline.plugin_pipings.get(title="left")
    response = client.get(f"/api/v1/pipelines/pipings/{left.pk}/")
    assert response.status_code == 200
    assert response.json()["collection"]["items"] == [
        {
            "data": [
                {"name": "id", "value": left.pk},
                {"name": "previous_id", "value": left.previous_id},
                {"name": "title", "value": "left"},
                {"name": "plugin_id", "value": simpledsapp.pk},
                {"name": "plugin_name", "value": "pl-simpledsapp"},
                {"name": "plugin_version", "value": "2.1.3"},
                {"name": "pipeline_id", "value": pipeline.pk},
            ],
            "href": f"{H}/pipelines/pipings/{left.pk}/",
            "links": [
                {"rel": "previous", "href": f"{H}/pipelines/pipings/{left.previous_id}/"},
                {"rel": "plugin", "href": f"{H}/plugins/{simpledsapp.pk}/"},
                {"rel": "pipeline", "href": f"{H}/pipelines/{pipeline.pk}/"},
            ],
        }
    ]
    assert other_client.get(f"/api/v1/pipelines/pipings/{left.pk}/").status_code == 403
    assert client.get("/api/v1/pipelines/pipings/9999/").status_code == 404


def test_default_parameter_document_shape(client, pipeline, simpledsapp):
    root = pipeline.plugin_pipings.get(title="root")
    default = root.parameter_defaults.get(plugin_param__name="dummyInt")
    response = client.get(f"/api/v1/pipelines/integer-parameter/{default.pk}/")
    assert response.status_code == 200
    document = response.json()["collection"]
    assert document["items"] == [
        {
            "data": [
                {"name": "id", "value": default.pk},
                {"name": "value", "value": 7},
                {"name": "type", "value": "integer"},
                {"name": "plugin_piping_id", "value": root.pk},
                {"name": "plugin_piping_title", "value": "root"},
                {"name": "previous_plugin_piping_id", "value": None},
                {"name": "param_name", "value": "dummyInt"},
                {"name": "param_id", "value": default.plugin_param_id},
                {"name": "plugin_name", "value": "pl-simpledsapp"},
                {"name": "plugin_version", "value": "2.1.3"},
                {"name": "plugin_id", "value": simpledsapp.pk},
            ],
            "href": f"{H}/pipelines/integer-parameter/{default.pk}/",
            "links": [
                {"rel": "plugin_piping", "href": f"{H}/pipelines/pipings/{root.pk}/"},
                {
                    "rel": "plugin_param",
                    "href": f"{H}/plugins/parameters/{default.plugin_param_id}/",
                },
            ],
        }
    ]
    assert document["template"] == {"data": [{"name": "value", "value": ""}]}


@pytest.mark.parametrize(
    ("kind", "name", "good", "bad"),
    [
        ("string", "prefix", "P-", 5.5j),
        ("integer", "dummyInt", 12, "twelve"),
        ("float", "dummyFloat", 2.5, "x"),
        ("boolean", "b_ignoreInputDir", True, "maybe"),
    ],
)
def test_typed_default_parameter_put(client, pipeline, kind, name, good, bad):
    default = DefaultPipingParameter.objects.get(
        plugin_piping__pipeline=pipeline, plugin_piping__title="root", plugin_param__name=name
    )
    url = f"/api/v1/pipelines/{kind}-parameter/{default.pk}/"
    response = client.put(url, cj_template({"value": good}), content_type=CJ)
    assert response.status_code == 200, response.content
    default.refresh_from_db()
    assert default.value == good
    if not isinstance(bad, complex):
        response = client.put(url, cj_template({"value": bad}), content_type=CJ)
        assert response.status_code == 400
        assert "value" in error(response)
    assert client.put(url, cj_template({"value": None}), content_type=CJ).status_code == 400
    assert client.put(url, cj_template({}), content_type=CJ).status_code == 400
    other_kind = "float" if kind != "float" else "integer"
    assert client.get(f"/api/v1/pipelines/{other_kind}-parameter/{default.pk}/").status_code == 404


def test_default_parameter_permissions(
    client, other_client, superuser_client, anonymous_client, pipeline
):
    default = DefaultPipingParameter.objects.get(
        plugin_piping__pipeline=pipeline, plugin_piping__title="root", plugin_param__name="prefix"
    )
    url = f"/api/v1/pipelines/string-parameter/{default.pk}/"
    body = cj_template({"value": "x"})
    assert other_client.get(url).status_code == 403
    assert anonymous_client.get(url).status_code == 401
    assert other_client.put(url, body, content_type=CJ).status_code == 403
    assert superuser_client.put(url, body, content_type=CJ).status_code == 200
    pipeline.locked = False
    pipeline.save()
    assert other_client.get(url).status_code == 200
    assert anonymous_client.get(url).status_code == 200
    assert other_client.put(url, body, content_type=CJ).status_code == 403
    assert client.put(url, body, content_type=CJ).status_code == 403  # owner, unlocked
    assert superuser_client.put(url, body, content_type=CJ).status_code == 200
    assert client.get("/api/v1/pipelines/string-parameter/9999/").status_code == 404


def test_ts_parents_default_must_stay_valid(client, pipeline):
    pipings = {p.title: p for p in pipeline.plugin_pipings.all()}
    default = pipings["join"].parameter_defaults.get(plugin_param__name="plugininstances")
    url = f"/api/v1/pipelines/string-parameter/{default.pk}/"
    for bad in ("abc", str(pipings["right"].pk), f"{pipings['left'].pk},9999"):
        response = client.put(url, cj_template({"value": bad}), content_type=CJ)
        assert response.status_code == 400, bad
    response = client.put(url, cj_template({"value": str(pipings["left"].pk)}), content_type=CJ)
    assert response.status_code == 200
