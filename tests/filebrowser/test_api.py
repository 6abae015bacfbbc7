import io
import json

import pytest

from feeds.models import Feed, Note
from pacsfiles.models import PACS, PACSFile
from plugins.models import Plugin, PluginInstance, PluginInstanceFile, PluginMeta
from servicefiles.models import Service, ServiceFile
from tests.helpers import add_instance_file, cj_items
from uploadedfiles.models import UploadedFile

pytestmark = pytest.mark.django_db

H = "http://testserver/api/v1/"


def make_feed(owner, public=False) -> Feed:
    feed = Feed.objects.create(name="f", creator=owner, public=public)
    feed.owner.add(owner)
    Note.objects.create(feed=feed)
    return feed


def add_output(storage, feed: Feed, plugin: Plugin, relative: str) -> PluginInstanceFile:
    instance = PluginInstance.objects.create(
        plugin=plugin, feed=feed, owner=feed.creator, status="finishedSuccessfully",
        output_path=f"{feed.creator.username}/feed_{feed.pk}/pl-fs_1/data",
        cpu_limit=1000, memory_limit=200, number_of_workers=1, gpu_limit=0,
    )  # fmt: skip
    fname = f"{feed.creator.username}/feed_{feed.pk}/{relative}"
    storage.put(fname, io.BytesIO(b"out"))
    return add_instance_file(fname=fname, fsize=3, plugin_inst=instance, feed=feed)


def add_upload(storage, owner, fname: str) -> UploadedFile:
    storage.put(fname, io.BytesIO(b"up"))
    return UploadedFile.objects.create(fname=fname, fsize=2, owner=owner)


@pytest.fixture
def tree(storage, user, other_user):
    meta = PluginMeta.objects.create(name="pl-fs", type="fs")
    plugin = Plugin.objects.create(
        meta=meta, version="1.0", dock_image="i", execshell="", selfpath="/", selfexec="fs"
    )
    alice_feed = make_feed(user)
    public_feed = make_feed(other_user, public=True)
    private_feed = make_feed(other_user)
    files = {
        "alice_out": add_output(storage, alice_feed, plugin, "pl-fs_1/data/x.txt"),
        "public_out": add_output(storage, public_feed, plugin, "pl-fs_2/data/y.txt"),
        "private_out": add_output(storage, private_feed, plugin, "pl-fs_3/data/z.txt"),
        "one": add_upload(storage, user, "alice/uploads/dataset1/a.txt"),
        "ten": add_upload(storage, user, "alice/uploads/dataset10/b.txt"),
        "top": add_upload(storage, user, "alice/uploads/top.txt"),
        "bobby_up": add_upload(storage, other_user, "bobby/uploads/secret.txt"),
    }
    storage.put("SERVICES/PACS/orthanc/p1/s1/1.dcm", io.BytesIO(b"d"))
    files["pacs"] = PACSFile.objects.create(
        fname="SERVICES/PACS/orthanc/p1/s1/1.dcm", fsize=1, PatientID="p1",
        StudyDate="2020-01-01", StudyInstanceUID="s", SeriesInstanceUID="r",
        pacs=PACS.objects.create(identifier="orthanc"),
    )  # fmt: skip
    files["service"] = ServiceFile.objects.create(
        fname="SERVICES/MyService/r.txt",
        fsize=1,
        service=Service.objects.create(identifier="MyService"),
    )
    return {"alice": alice_feed, "public": public_feed, "private": private_feed, **files}


def subfolders(response) -> list[str]:
    assert response.status_code == 200, response.content
    return json.loads(cj_items(response)[0]["subfolders"])


def fnames(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [item["fname"] for item in cj_items(response)]


def test_root_document(client, tree):
    response = client.get("/api/v1/filebrowser/")
    assert response.json() == {
        "collection": {
            "version": "1.0",
            "href": f"{H}filebrowser/",
            "items": [
                {
                    "data": [
                        {"name": "path", "value": ""},
                        {
                            "name": "subfolders",
                            "value": '["PIPELINES", "SERVICES", "alice", "bobby"]',
                        },
                    ],
                    "href": f"{H}filebrowser/",
                }
            ],
            "links": [],
            "queries": [
                {
                    "href": f"{H}filebrowser/search/",
                    "rel": "search",
                    "data": [{"name": "path", "value": ""}],
                }
            ],
            "total": 1,
        }
    }


def test_folder_and_files_documents(client, tree):
    response = client.get("/api/v1/filebrowser/alice/uploads/")
    assert response.json()["collection"]["items"] == [
        {
            "data": [
                {"name": "path", "value": "alice/uploads"},
                {"name": "subfolders", "value": '["dataset1", "dataset10"]'},
            ],
            "href": f"{H}filebrowser/alice/uploads/",
            "links": [{"rel": "files", "href": f"{H}filebrowser-files/alice/uploads/"}],
        }
    ]
    files = client.get("/api/v1/filebrowser-files/alice/uploads/").json()["collection"]
    top = tree["top"]
    assert files["items"] == [
        {
            "data": [
                {"name": "creation_date", "value": files["items"][0]["data"][0]["value"]},
                {"name": "fname", "value": "alice/uploads/top.txt"},
                {"name": "fsize", "value": 2},
            ],
            "href": f"{H}uploadedfiles/{top.pk}/",
            "links": [{"rel": "file_resource", "href": f"{H}uploadedfiles/{top.pk}/top.txt"}],
        }
    ]
    assert files["total"] == 1


def test_prefix_is_matched_with_a_slash(client, tree):
    assert subfolders(client.get("/api/v1/filebrowser/alice/uploads/dataset1/")) == []
    assert fnames(client.get("/api/v1/filebrowser-files/alice/uploads/dataset1/")) == [
        "alice/uploads/dataset1/a.txt"
    ]


def test_search(client, anonymous_client, tree):
    assert subfolders(client.get("/api/v1/filebrowser/search/?path=/alice/")) == [
        f"feed_{tree['alice'].pk}",
        "uploads",
    ]
    assert cj_items(client.get("/api/v1/filebrowser/search/?path="))[0]["path"] == ""
    assert cj_items(client.get("/api/v1/filebrowser/search/?path=bobby/uploads")) == []
    assert cj_items(client.get("/api/v1/filebrowser/search/?path=alice/nothing")) == []
    assert cj_items(anonymous_client.get("/api/v1/filebrowser/search/?path=alice")) == []


def test_other_users_tree_shows_readable_feeds_only(client, tree):
    public, private = tree["public"], tree["private"]
    assert subfolders(client.get("/api/v1/filebrowser/bobby/")) == [f"feed_{public.pk}"]
    assert subfolders(client.get(f"/api/v1/filebrowser/bobby/feed_{public.pk}/")) == ["pl-fs_2"]
    assert client.get(f"/api/v1/filebrowser/bobby/feed_{private.pk}/").status_code == 404
    assert (
        client.get(f"/api/v1/filebrowser-files/bobby/feed_{private.pk}/pl-fs_3/data/").status_code
        == 404
    )
    assert client.get("/api/v1/filebrowser/bobby/uploads/").status_code == 404
    assert client.get("/api/v1/filebrowser-files/bobby/uploads/").status_code == 404
    files = client.get(f"/api/v1/filebrowser-files/bobby/feed_{public.pk}/pl-fs_2/data/")
    assert fnames(files) == [tree["public_out"].fname]
    assert cj_items(files)[0]["href"] == f"{H}files/{tree['public_out'].pk}/"
    private.owner.add(tree["alice"].creator)
    assert subfolders(client.get("/api/v1/filebrowser/bobby/")) == [
        f"feed_{public.pk}",
        f"feed_{private.pk}",
    ]


def test_superuser_sees_every_tree(superuser_client, tree):
    private = tree["private"]
    assert subfolders(superuser_client.get("/api/v1/filebrowser/bobby/")) == sorted(
        [f"feed_{tree['public'].pk}", f"feed_{private.pk}", "uploads"]
    )
    assert fnames(superuser_client.get("/api/v1/filebrowser-files/bobby/uploads/")) == [
        "bobby/uploads/secret.txt"
    ]
    assert superuser_client.get(f"/api/v1/filebrowser/bobby/feed_{private.pk}/").status_code == 200


def test_anonymous_sees_pipelines_and_public_feeds(anonymous_client, tree):
    assert subfolders(anonymous_client.get("/api/v1/filebrowser/")) == ["PIPELINES", "bobby"]
    assert anonymous_client.get("/api/v1/filebrowser/PIPELINES/").status_code == 200
    assert anonymous_client.get("/api/v1/filebrowser/SERVICES/").status_code == 404
    assert anonymous_client.get("/api/v1/filebrowser/alice/").status_code == 404
    assert anonymous_client.get("/api/v1/filebrowser/alice/uploads/").status_code == 404
    public = tree["public"]
    assert subfolders(anonymous_client.get("/api/v1/filebrowser/bobby/")) == [f"feed_{public.pk}"]
    files = anonymous_client.get(f"/api/v1/filebrowser-files/bobby/feed_{public.pk}/pl-fs_2/data/")
    assert fnames(files) == [tree["public_out"].fname]


def test_services_tree(client, tree):
    assert subfolders(client.get("/api/v1/filebrowser/SERVICES/")) == ["MyService", "PACS"]
    assert subfolders(client.get("/api/v1/filebrowser/SERVICES/PACS/")) == ["orthanc"]
    pacs = client.get("/api/v1/filebrowser-files/SERVICES/PACS/orthanc/p1/s1/")
    assert cj_items(pacs)[0]["href"] == f"{H}pacsfiles/{tree['pacs'].pk}/"
    assert cj_items(pacs)[0]["file_resource"] == f"{H}pacsfiles/{tree['pacs'].pk}/1.dcm"
    service = client.get("/api/v1/filebrowser-files/SERVICES/MyService/")
    assert cj_items(service)[0]["href"] == f"{H}servicefiles/{tree['service'].pk}/"
    assert client.get("/api/v1/filebrowser/SERVICES/Nothing/").status_code == 404


def test_new_user_has_empty_uploads_and_bad_paths_are_404(other_client, client, tree):
    assert subfolders(client.get("/api/v1/filebrowser/alice/")) == [
        f"feed_{tree['alice'].pk}",
        "uploads",
    ]
    for path in ("alice/../bobby", "alice//uploads", "nobody", "alice/uploads/none"):
        assert client.get(f"/api/v1/filebrowser/{path}/").status_code == 404, path


def test_files_are_paged_by_the_database(client, user, storage, django_assert_max_num_queries):
    for number in range(25):
        add_upload(storage, user, f"alice/uploads/many/{number:02}.txt")
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/filebrowser-files/alice/uploads/many/")
    collection = response.json()["collection"]
    assert collection["total"] == 25
    assert len(collection["items"]) == 10
    assert [link["rel"] for link in collection["links"]] == ["next"]
    assert client.put("/api/v1/filebrowser/alice/", {}).status_code == 405


def test_pipelines_tree_lists_source_files(anonymous_client, user):
    from pipelines.models import Pipeline, PipelineSourceFile

    pipeline = Pipeline.objects.create(name="p", owner=user)
    source = PipelineSourceFile.objects.create(
        fname="PIPELINES/alice/p.json", fsize=5, type="json", pipeline=pipeline, owner=user
    )
    assert subfolders(anonymous_client.get("/api/v1/filebrowser/PIPELINES/")) == ["alice"]
    files = anonymous_client.get("/api/v1/filebrowser-files/PIPELINES/alice/")
    assert fnames(files) == ["PIPELINES/alice/p.json"]
    assert cj_items(files)[0]["href"] == f"{H}pipelines/sourcefiles/{source.pk}/"
    assert cj_items(files)[0]["file_resource"] == f"{H}pipelines/sourcefiles/{source.pk}/p.json"
    assert anonymous_client.get("/api/v1/filebrowser/PIPELINES/bobby/").status_code == 404
