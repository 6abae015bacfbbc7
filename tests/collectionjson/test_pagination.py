"""Deep pages are fetched by primary key first; they must match what OFFSET would give."""

import pytest

from collectionjson import pagination
from tests.helpers import cj_items
from uploadedfiles.models import UploadedFile

pytestmark = pytest.mark.django_db


def test_deep_pages_match_shallow_order(client, user):
    UploadedFile.objects.bulk_create(
        UploadedFile(owner=user, fname=f"alice/uploads/{i:05}", fsize=i) for i in range(1105)
    )
    deep = client.get("/api/v1/uploadedfiles/?limit=50&offset=1001")
    names = [i["fname"] for i in cj_items(deep)]
    assert names == [f"alice/uploads/{i:05}" for i in range(1105 - 1002, 1105 - 1052, -1)]
    assert deep.json()["collection"]["total"] == 1105
    end = client.get("/api/v1/uploadedfiles/?limit=50&offset=5000")
    assert cj_items(end) == []


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/", "/api/v1/search/", "/api/v1/plugins/search/?name=x",
        "/api/v1/plugins/instances/", "/api/v1/files/", "/api/v1/pipelines/",
        "/api/v1/tags/", "/api/v1/filebrowser-files/alice/uploads/",
    ],
)  # fmt: skip
def test_deep_offsets_work_on_every_kind_of_list(superuser_client, url):
    separator = "&" if "?" in url else "?"
    response = superuser_client.get(f"{url}{separator}offset=1000")
    assert response.status_code in (200, 404), response.content


def test_deep_pages_keep_select_related_and_constant_queries(
    client, user, django_assert_max_num_queries
):
    UploadedFile.objects.bulk_create(
        UploadedFile(owner=user, fname=f"alice/uploads/{i:05}", fsize=i) for i in range(1200)
    )
    with django_assert_max_num_queries(4):
        response = client.get("/api/v1/uploadedfiles/?limit=100&offset=1100")
    assert len(cj_items(response)) == 100
    assert all(item["owner"].endswith(f"/users/{user.pk}/") for item in cj_items(response))


@pytest.mark.parametrize("offset", [1000, 1050, 1055, 1104, 1105, 1106, 3000])
def test_deep_pages_count_like_shallow_pages(client, user, monkeypatch, offset):
    UploadedFile.objects.bulk_create(
        UploadedFile(owner=user, fname=f"alice/uploads/{i:05}", fsize=i) for i in range(1105)
    )
    url = f"/api/v1/uploadedfiles/search/?fname=alice/&limit=50&offset={offset}"
    deep = client.get(url)
    monkeypatch.setattr(pagination, "DEFERRED_OFFSET", 10**9)
    assert deep.content == client.get(url).content
    assert deep.json()["collection"]["total"] == 1105
