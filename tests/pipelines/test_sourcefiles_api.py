import io
import json

import pytest

from pipelines.models import Pipeline, PipelineSourceFile
from storage.keys import LINK_NAME_MESSAGE

pytestmark = pytest.mark.django_db

H = "http://testserver/api/v1"

YAML = b"""\
name: From YAML
authors: Alice
category: Imaging
description: two steps
locked: false
plugin_tree:
- title: first
  plugin: pl-simpledsapp v2.1.3
  previous: null
  plugin_parameter_defaults:
    dummyInt: 5
- title: second
  plugin: pl-simpledsapp v2.1.3
  previous: first
"""


def upload(api_client, content: bytes, name: str = "pipeline.yml", kind: str | None = "yaml"):
    data = {"fname": io.BytesIO(content)}
    data["fname"].name = name
    if kind is not None:
        data["type"] = kind
    return api_client.post("/api/v1/pipelines/sourcefiles/", data, format="multipart")


def error(response) -> str:
    return response.json()["collection"]["error"]["message"]


def test_yaml_source_file_creates_pipeline_and_is_stored(client, user, storage, simpledsapp):
    response = upload(client, YAML)
    assert response.status_code == 201, response.content
    source = PipelineSourceFile.objects.get()
    assert source.fname == "PIPELINES/alice/pipeline.yml"
    assert b"".join(storage.open(source.fname)) == YAML
    pipeline = source.pipeline
    assert (pipeline.name, pipeline.owner, pipeline.locked) == ("From YAML", user, False)
    first = pipeline.plugin_pipings.get(title="first")
    assert first.parameter_defaults.get(plugin_param__name="dummyInt").value == 5
    document = response.json()["collection"]
    item = document["items"][0]
    created = item["data"][1]["value"]
    assert item == {
        "data": [
            {"name": "id", "value": source.pk},
            {"name": "creation_date", "value": created},
            {"name": "fname", "value": "PIPELINES/alice/pipeline.yml"},
            {"name": "fsize", "value": len(YAML)},
            {"name": "type", "value": "yaml"},
        ],
        "href": f"{H}/pipelines/sourcefiles/{source.pk}/",
        "links": [
            {"rel": "file_resource", "href": f"{H}/pipelines/sourcefiles/{source.pk}/pipeline.yml"},
            {"rel": "pipeline", "href": f"{H}/pipelines/{pipeline.pk}/"},
            {"rel": "owner", "href": f"{H}/users/{user.pk}/"},
        ],
    }
    links = client.get(f"/api/v1/pipelines/{pipeline.pk}/").json()["collection"]["items"][0]
    assert {"rel": "source_file", "href": f"{H}/pipelines/sourcefiles/{source.pk}/"} in links[
        "links"
    ]


def test_json_source_file(client, simpledsapp):
    content = json.dumps(
        {
            "name": "From JSON",
            "plugin_tree": [
                {
                    "title": "a",
                    "plugin_name": "pl-simpledsapp",
                    "plugin_version": "2.1.3",
                    "previous": None,
                },
            ],  # fmt: skip
        }
    ).encode()
    response = upload(client, content, name="p.json", kind="json")
    assert response.status_code == 201, response.content
    assert Pipeline.objects.get().name == "From JSON"
    assert Pipeline.objects.get().locked


def test_source_file_read_download_and_search(client, anonymous_client, other_client, simpledsapp):
    source_id = upload(client, YAML).json()["collection"]["items"][0]["data"][0]["value"]
    detail = anonymous_client.get(f"/api/v1/pipelines/sourcefiles/{source_id}/")
    assert detail.status_code == 200
    download = anonymous_client.get(f"/api/v1/pipelines/sourcefiles/{source_id}/pipeline.yml")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == YAML
    assert download["Content-Disposition"] == 'inline; filename="pipeline.yml"'
    assert anonymous_client.get("/api/v1/pipelines/sourcefiles/999/x").status_code == 404
    listing = other_client.get("/api/v1/pipelines/sourcefiles/").json()["collection"]
    assert listing["total"] == 1
    assert listing["template"]["data"] == [
        {"name": "type", "value": ""},
        {"name": "fname", "value": ""},
    ]
    assert [q["name"] for q in listing["queries"][0]["data"]] == [
        "id", "min_creation_date", "max_creation_date", "fname", "fname_exact",
        "fname_icontains", "type", "owner_username",
    ]  # fmt: skip
    search = "/api/v1/pipelines/sourcefiles/search/"
    assert anonymous_client.get(f"{search}?type=yaml").json()["collection"]["total"] == 1
    assert anonymous_client.get(f"{search}?type=json").json()["collection"]["total"] == 0
    assert (
        anonymous_client.get(f"{search}?fname=PIPELINES/alice/").json()["collection"]["total"] == 1
    )
    assert anonymous_client.get(f"{search}?owner_username=bobby").json()["collection"]["total"] == 0


@pytest.mark.parametrize(
    ("content", "kind", "field"),
    [
        (b"name: [unclosed", "yaml", "fname"),
        (b"{not json", "json", "fname"),
        (b"- just a list", "yaml", "fname"),
        (b"name: x\nplugin_tree:\n- title: a\n  previous: null\n", "yaml", "fname"),
        (b"name: x\nplugin_tree:\n- title: a\n  plugin: pl-simpledsapp\n", "yaml", "fname"),
        (
            b"name: x\nplugin_tree:\n- title: a\n  plugin: pl-nope v1\n  previous: null\n",
            "yaml",
            "plugin_tree",
        ),
        (b"plugin_tree: []\n", "yaml", "name"),
        (YAML, "xml", "type"),
    ],
)
def test_invalid_source_files_change_nothing(client, storage, simpledsapp, content, kind, field):
    response = upload(client, content, kind=kind)
    assert response.status_code == 400, response.content
    assert field in error(response)
    assert Pipeline.objects.count() == 0
    assert PipelineSourceFile.objects.count() == 0
    assert storage.ls("PIPELINES") == []


def test_duplicate_source_file_and_anonymous_upload(client, anonymous_client, simpledsapp):
    assert upload(client, YAML).status_code == 201
    second = YAML.replace(b"From YAML", b"Other name")
    response = upload(client, second)
    assert response.status_code == 400
    assert "fname" in error(response)
    assert Pipeline.objects.count() == 1
    assert upload(anonymous_client, second, name="anon.yml").status_code == 401


@pytest.mark.parametrize("name", ["evil.chrislink", "evil.ChrisLink", "evil.chris$link"])
def test_source_file_with_a_link_file_name_is_refused(
    client, other_client, storage, simpledsapp, name
):
    """The source file is stored by its own name, so it may not be named like a link file."""
    response = upload(client, YAML, name=name)
    assert response.status_code == 400, response.content
    assert json.loads(error(response)) == {"fname": [LINK_NAME_MESSAGE]}
    data = {"fname": io.BytesIO(YAML), "type": "yaml"}
    data["fname"].name = name
    response = other_client.post(
        "/api/v1/pipelines/sourcefiles/", data, format="multipart", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"fname": [LINK_NAME_MESSAGE]}
    assert Pipeline.objects.count() == 0
    assert PipelineSourceFile.objects.count() == 0
    assert storage.ls("PIPELINES") == []
    assert upload(client, YAML, name=f"{name}.yml").status_code == 201
