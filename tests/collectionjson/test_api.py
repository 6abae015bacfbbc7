import pytest

from tests.helpers import CJ
from uploadedfiles.models import UploadedFile

pytestmark = pytest.mark.django_db

H = "http://testserver/api/v1/"
ROOT_RELS = [
    "chrisinstance", "public_feeds", "files", "compute_resources", "plugin_metas", "plugins",
    "plugin_instances", "pipelines", "pipeline_instances", "workflows", "tags",
    "pipelinesourcefiles", "uploadedfiles", "pacsfiles", "servicefiles", "filebrowser",
]  # fmt: skip


def test_root_links_anonymous(anonymous_client):
    response = anonymous_client.get("/api/v1/")
    assert response.status_code == 200
    assert response["Content-Type"] == CJ
    collection = response.json()["collection"]
    assert list(collection) == ["version", "href", "items", "links", "queries", "total"]
    assert [link["rel"] for link in collection["links"]] == ROOT_RELS
    assert collection["total"] == 0
    assert collection["queries"][0]["href"] == H + "search/"
    assert [d["name"] for d in collection["queries"][0]["data"]] == [
        "id", "name", "name_exact", "name_startswith", "min_id", "max_id",
        "min_creation_date", "max_creation_date", "public", "files_fname_icontains",
    ]  # fmt: skip


def test_root_plain_json_for_user(client, user):
    response = client.get("/api/v1/", HTTP_ACCEPT="application/json")
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert list(body) == ["count", "next", "previous", "results", "queries", "collection_links"]
    assert list(body["collection_links"]) == [*ROOT_RELS, "user"]
    assert body["collection_links"]["user"] == f"{H}users/{user.pk}/"
    assert body["collection_links"]["uploadedfiles"] == H + "uploadedfiles/"


def test_root_admin_link_for_staff(superuser_client):
    links = superuser_client.get("/api/v1/", HTTP_ACCEPT="application/json").json()[
        "collection_links"
    ]
    assert list(links)[-2:] == ["user", "admin"]
    assert links["admin"] == "http://testserver/chris-admin/api/v1/"


def test_pagination_links_and_total(client, user):
    UploadedFile.objects.bulk_create(
        UploadedFile(owner=user, fname=f"alice/uploads/{index:02}.txt", fsize=1)
        for index in range(25)
    )
    first = client.get("/api/v1/uploadedfiles/?limit=10").json()["collection"]
    assert first["total"] == 25
    assert len(first["items"]) == 10
    assert first["links"] == [{"rel": "next", "href": H + "uploadedfiles/?limit=10&offset=10"}]
    middle = client.get("/api/v1/uploadedfiles/?limit=10&offset=10").json()["collection"]
    assert middle["links"] == [
        {"rel": "next", "href": H + "uploadedfiles/?limit=10&offset=20"},
        {"rel": "previous", "href": H + "uploadedfiles/?limit=10"},
    ]
    assert middle["href"] == H + "uploadedfiles/?limit=10&offset=10"
    last = client.get("/api/v1/uploadedfiles/?limit=10&offset=20").json()["collection"]
    assert [link["rel"] for link in last["links"]] == ["previous"]
    for bad_limit in ("0", "-3", "abc"):
        page = client.get(f"/api/v1/uploadedfiles/?limit={bad_limit}").json()["collection"]
        assert len(page["items"]) == 10
    json_page = client.get(
        "/api/v1/uploadedfiles/?limit=5&offset=bad", HTTP_ACCEPT="application/json"
    ).json()
    assert json_page["count"] == 25
    assert json_page["previous"] is None
    assert json_page["next"] == H + "uploadedfiles/?limit=5&offset=5"


def test_error_bodies(client, anonymous_client):
    not_found = client.get("/api/v1/uploadedfiles/999/")
    assert not_found.status_code == 404
    assert not_found.json() == {
        "collection": {
            "version": "1.0",
            "href": H + "uploadedfiles/999/",
            "error": {"message": "Not found."},
        }
    }
    assert client.get("/api/v1/uploadedfiles/999/", HTTP_ACCEPT="application/json").json() == {
        "detail": "Not found."
    }
    method = client.patch("/api/v1/uploadedfiles/")
    assert method.status_code == 405
    assert method.json()["collection"]["error"]["message"] == 'Method "PATCH" not allowed.'
    media = client.post("/api/v1/users/1/", "x", content_type="text/plain")
    assert media.status_code in (405, 415)
    unknown_route = client.get("/api/v1/no/such/route/")
    assert unknown_route.status_code == 404
    assert unknown_route.json()["collection"]["error"]["message"] == "Not found."
    assert client.get("/api/v1/", HTTP_ACCEPT="image/png").status_code == 406


def test_collection_json_parse_errors(anonymous_client):
    cases = {
        "[]": "Invalid data provided.",
        "{}": "'template' field required.",
        '{"template": []}': "Template is not a dictionary.",
        '{"template": {}}': "'data' field required.",
        '{"template": {"data": [{"name": "a"}]}}': "'value' field required.",
        "{not json": "JSON parse error",
    }
    for body, message in cases.items():
        response = anonymous_client.post("/api/v1/users/", body, content_type=CJ)
        assert response.status_code == 400
        assert message in response.json()["collection"]["error"]["message"]


def test_validation_error_message_is_json_encoded_dict(anonymous_client):
    response = anonymous_client.post(
        "/api/v1/users/",
        '{"template": {"data": [{"name": "username", "value": "ab"}]}}',
        content_type=CJ,
    )
    message = response.json()["collection"]["error"]["message"]
    assert message.startswith('{"username": ["Ensure this field has at least 4 characters."]')


def test_datetime_filters_accept_any_utc_offset(client):
    # PostgreSQL rejects offsets beyond ±15:59 that Python accepts; they must not be a 500.
    response = client.get(
        "/api/v1/uploadedfiles/search/", {"min_creation_date": "2020-01-01T00:00:00-18:31"}
    )
    assert response.status_code == 200
