"""The exact bytes of the big list pages: feed files, uploads, upload search, plugin instances.

Clients (chrisclient, aiochris, caw, chrs, ChRIS_ui) read these documents, so the bodies are
pinned byte for byte in ``list_pages.json``, with names that need quoting in links and
escaping in JSON. Set ``CUBE_WRITE_LIST_PAGES=1`` to rewrite the file after a deliberate
change of the wire format.
"""

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from collectionjson import pagination
from feeds.models import Feed, Note
from feeds.views import FeedFileList
from pipelines.models import Pipeline, PipelineInstance, Workflow
from plugins.models import (
    ComputeResource,
    Plugin,
    PluginInstance,
    PluginInstanceFile,
    PluginMeta,
)
from plugins.views import AllPluginInstanceList
from tests.helpers import add_instance_file
from uploadedfiles.models import UploadedFile
from uploadedfiles.views import UploadedFileList, UploadedFileListQuerySearch

pytestmark = pytest.mark.django_db

EXPECTED = Path(__file__).with_name("list_pages.json")
CJ = "application/vnd.collection+json"
JSON = "application/json"

# Names a link must quote, or JSON must escape, or that no route matches (the newline).
AWKWARD_NAMES = [
    "plain.txt",
    "a b.txt",
    "ünïcødé 日本.txt",
    "100%.txt",
    "#hash.txt",
    "what?.txt",
    "new\nline.txt",
    'quote"back\\slash.txt',
    "sub;delims=&+$,'!*()@:~.txt",
    "line\u2028sep\u2029.txt",
    "ctrl\x01\x1f\x7f.txt",
    "tab\tcr\r.txt",
    "emoji 🎉.txt",
    "deeper/dir/leaf.dcm",
    "percent%2Fslash %0A.txt",
]

WINTER = dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC)
SUMMER = dt.datetime(2024, 6, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.fixture
def pages_data(settings):
    """Rows with fixed keys and dates, so the documents are the same on every database."""
    carol = User.objects.create_user("carol", "carol@example.org", "carol-password", pk=9001)
    dave = User.objects.create_user("dave", "dave@example.org", "dave-password", pk=9002)
    resource = ComputeResource.objects.create(
        pk=9101, name="hôst", compute_url="http://pfcon.invalid/api/v1/",
        compute_auth_url="http://pfcon.invalid/api/v1/auth-token/",
        compute_user="pfcon", compute_password="pfcon1234",
    )  # fmt: skip
    fs_meta = PluginMeta.objects.create(pk=9201, name="pl-fs", type="fs")
    ds_meta = PluginMeta.objects.create(pk=9202, name="pl-dś", type="ds")
    fs = Plugin.objects.create(
        pk=9301, meta=fs_meta, version="1.0", dock_image="fnndsc/pl-fs", execshell="python3",
        selfpath="/usr/local/bin", selfexec="fs",
    )  # fmt: skip
    ds = Plugin.objects.create(
        pk=9302, meta=ds_meta, version="2.0.1", dock_image="fnndsc/pl-ds",
        execshell="python3", selfpath="/usr/local/bin", selfexec="ds",
    )  # fmt: skip
    feed = Feed.objects.create(pk=9401, name="carol feed", creator=carol)
    feed.owner.add(carol)
    Note.objects.create(feed=feed)
    pipeline = Pipeline.objects.create(pk=9501, name="pipé 1", owner=carol)
    workflow = Workflow.objects.create(pk=9502, title="wf", pipeline=pipeline, owner=carol)
    pipeline_instance = PipelineInstance.objects.create(
        pk=9503, title="pi", pipeline=pipeline, owner=carol
    )
    limits = {"cpu_limit": 1000, "memory_limit": 200, "number_of_workers": 1, "gpu_limit": 0}
    root = PluginInstance.objects.create(
        pk=9601, plugin=fs, owner=carol, feed=feed, compute_resource=resource,
        status="finishedSuccessfully", output_path="carol/feed_9401/pl-fs_9601/data",
        size=12345678901, **limits,
    )  # fmt: skip
    PluginInstance.objects.create(
        pk=9602, plugin=ds, owner=carol, feed=feed, previous=root, compute_resource=None,
        title='tïtle "q" \\ \u2028 </script>', status="started",
        output_path="carol/feed_9401/pl-fs_9601/pl-dś_9602/data",
        summary='{"a": 1}', raw="ráw\n", error_code="CODE01",
        workflow=workflow, pipeline_inst=pipeline_instance, **limits,
    )  # fmt: skip
    PluginInstance.objects.create(
        pk=9603, plugin=ds, owner=dave, feed=feed, previous_id=9602, compute_resource=resource,
        status="cancelled", output_path="carol/feed_9401/x/data", **limits,
    )  # fmt: skip
    PluginInstance.objects.filter(pk=9601).update(start_date=WINTER, end_date=SUMMER)
    PluginInstance.objects.filter(pk=9602).update(start_date=SUMMER, end_date=SUMMER)
    PluginInstance.objects.filter(pk=9603).update(start_date=WINTER, end_date=WINTER)
    for index, name in enumerate(AWKWARD_NAMES):
        fname = f"{root.output_path}/{name}"
        add_instance_file(fname=fname, fsize=index * 1000, plugin_inst=root, feed=feed)
        PluginInstanceFile.objects.filter(fname=fname).update(id=9700 + index)
        UploadedFile.objects.create(
            pk=9800 + index, fname=f"carol/uploads/set/{name}", fsize=2**40 + index, owner=carol
        )
    UploadedFile.objects.create(pk=9899, fname="dave/uploads/hidden.txt", owner=dave)
    PluginInstanceFile.objects.update(creation_date=WINTER)
    UploadedFile.objects.filter(pk__lt=9805).update(creation_date=SUMMER)
    UploadedFile.objects.filter(pk__gte=9805).update(creation_date=WINTER)
    return carol


PAGES = {
    "files": "/api/v1/9401/files/",
    "files-paged": "/api/v1/9401/files/?limit=4&offset=5",
    "files-format-json": "/api/v1/9401/files/?limit=2&offset=1&format=json",
    "uploads": "/api/v1/uploadedfiles/?limit=100",
    "uploads-paged": "/api/v1/uploadedfiles/?offset=3&limit=5",
    "uploads-search": "/api/v1/uploadedfiles/search/?fname=carol/uploads/set/&limit=100",
    "uploads-search-paged": "/api/v1/uploadedfiles/search/?fname=carol/uploads/&limit=3&offset=8",
    "uploads-search-empty": "/api/v1/uploadedfiles/search/?fname=nobody/",
    "instances": "/api/v1/plugins/instances/?limit=100",
    "instances-paged": "/api/v1/plugins/instances/?limit=1&offset=1",
}
FORMATS = {"cj": CJ, "json": JSON}


def get_pages(client) -> dict[str, str]:
    bodies = {}
    for page, url in PAGES.items():
        for label, accept in FORMATS.items():
            if "format=json" in url and accept != JSON:
                continue  # the format parameter overrides Accept, and refuses any other
            response = client.get(url, HTTP_ACCEPT=accept)
            assert response.status_code == 200, response.content
            assert response["Content-Type"] == accept
            bodies[f"{page} {label}"] = response.content.decode()
            if "offset=" in url:  # and the same page loaded by key, as deep pages are
                with pytest.MonkeyPatch.context() as patch:
                    patch.setattr(pagination, "DEFERRED_OFFSET", 1)
                    deep = client.get(url, HTTP_ACCEPT=accept)
                assert deep.content == response.content
    return bodies


@pytest.fixture
def carol_client(pages_data) -> APIClient:
    client = APIClient()
    client.force_authenticate(pages_data)
    return client


def test_list_pages_keep_their_bytes(carol_client):
    bodies = get_pages(carol_client)
    if os.environ.get("CUBE_WRITE_LIST_PAGES"):
        EXPECTED.write_text(json.dumps(bodies, indent=1, sort_keys=True) + "\n")
    expected = json.loads(EXPECTED.read_text())
    assert sorted(bodies) == sorted(expected)
    for name, body in bodies.items():
        assert body == expected[name], name


def test_rows_give_the_serializer_bytes(carol_client, monkeypatch):
    fast = get_pages(carol_client)
    for view in (
        FeedFileList,
        UploadedFileList,
        UploadedFileListQuerySearch,
        AllPluginInstanceList,
    ):
        assert view.rows_class is not None
        monkeypatch.setattr(view, "rows_class", None)
    assert get_pages(carol_client) == fast
