"""Bad input that once gave a 5xx gets a clear 4xx in the negotiated format (issue 10).

Plugin-specific cases (regexes, floats, path values, odd output names) are in
``tests/plugins/test_bad_input.py``.
"""

import base64
import io
import json

import pytest
from django.contrib.auth.models import User

from tests.helpers import CJ, cj_items, cj_template
from uploadedfiles.models import UploadedFile

pytestmark = pytest.mark.django_db

JSON = "application/json"


def upload(client, upload_path: str, content: bytes = b"data"):
    part = io.BytesIO(content)
    part.name = "fname"
    return client.post(
        "/api/v1/uploadedfiles/", {"upload_path": upload_path, "fname": part}, format="multipart"
    )


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("content_type", [CJ, JSON])
def test_deeply_nested_json_is_a_400(client, content_type):
    body = '{"template": {"data": [{"name": "title", "value": ' + nested(5000) + "}]}}"
    if content_type == JSON:
        body = '{"title": ' + nested(5000) + "}"
    response = client.post("/api/v1/tags/", body, content_type=content_type)
    assert response.status_code == 400
    response = client.post("/api/v1/tags/", body.replace("5000", "50"), content_type=content_type)
    assert response.status_code == 400


def test_nesting_under_the_parsers_limit_but_deep_is_a_400(client):
    body = json.dumps({"name": "x", "color": json.loads(nested(40))})
    response = client.post("/api/v1/tags/", body, content_type=JSON, HTTP_ACCEPT=JSON)
    assert response.status_code == 400
    assert "nested" in response.json()["detail"]


def test_deep_json_on_the_token_route_is_a_400(anonymous_client, user):
    body = '{"username": ' + nested(5000) + "}"
    response = anonymous_client.post("/api/v1/auth-token/", body, content_type=JSON)
    assert response.status_code == 400


@pytest.mark.parametrize("content_type", [CJ, JSON, "application/x-www-form-urlencoded"])
def test_body_over_10_mb_is_a_413(client, content_type):
    big = "x" * (10 * 1024 * 1024 + 1)
    body = {
        CJ: cj_template({"name": big, "color": "red"}),
        JSON: json.dumps({"name": big, "color": "red"}),
    }.get(content_type, f"name={big}&color=red")
    response = client.post("/api/v1/tags/", body, content_type=content_type, HTTP_ACCEPT=JSON)
    assert response.status_code == 413
    assert "larger than" in response.json()["detail"]


def test_nan_literal_in_a_cj_body_is_a_400(client):
    body = '{"template": {"data": [{"name": "name", "value": NaN}]}}'
    assert client.post("/api/v1/tags/", body, content_type=CJ).status_code == 400


@pytest.mark.parametrize("text", ["a\x00b", "\ud800"])
def test_nul_and_lone_surrogates_in_a_body_are_a_400(client, text):
    body = json.dumps({"template": {"data": [{"name": "name", "value": text}]}})
    response = client.post("/api/v1/tags/", body, content_type=CJ)
    assert response.status_code == 400


@pytest.mark.parametrize("offset", [2**63 - 1, 2**63, 2**64, 10**30, 1000, 5000])
def test_huge_offsets_give_an_empty_page(client, user, offset):
    UploadedFile.objects.create(owner=user, fname="alice/uploads/a.txt", fsize=1)
    for url in ("/api/v1/uploadedfiles/", "/api/v1/plugins/", "/api/v1/filebrowser/search/"):
        response = client.get(f"{url}?offset={offset}&limit={2**63 - 1}")
        assert response.status_code == 200, url
        assert response.json()["collection"]["items"] == []


@pytest.mark.parametrize(
    "upload_path, reason",
    [
        ("alice/uploads/a\nb.txt", "control characters"),
        ("alice/uploads/dir\x7f/b.txt", "control characters"),
        ("alice/uploads/a\x00b.txt", "NUL characters"),
        ("alice/uploads/.storage-put-1234", ".storage-put-"),
        ("alice/uploads/.storage-put-x/b.txt", ".storage-put-"),
        ("alice/uploads/$.storage-put-x", "not valid"),
        ("alice/uploads/" + "x" * 256, "255 bytes"),
        ("alice/uploads/" + "d" * 256 + "/b.txt", "255 bytes"),
    ],
)
def test_bad_upload_paths_are_a_400(client, storage, upload_path, reason):
    response = upload(client, upload_path)
    assert response.status_code == 400, response.content
    assert reason in response.json()["collection"]["error"]["message"]
    assert not UploadedFile.objects.exists()
    assert storage.ls("alice") == []


def test_upload_beneath_an_existing_file_is_a_400(client, storage):
    assert upload(client, "alice/uploads/a.txt").status_code == 201
    response = upload(client, "alice/uploads/a.txt/b.txt")
    assert response.status_code == 400
    assert "is a file" in response.json()["collection"]["error"]["message"]
    assert upload(client, "alice/uploads/a.txt/c/d.txt").status_code == 400
    assert storage.ls("alice/uploads") == ["alice/uploads/a.txt"]


def test_upload_onto_an_existing_folder_is_a_400(client, storage):
    assert upload(client, "alice/uploads/d/b.txt").status_code == 201
    response = upload(client, "alice/uploads/d")
    assert response.status_code == 400
    assert "is a folder" in response.json()["collection"]["error"]["message"]


def test_a_folder_differing_only_in_case_does_not_block_an_upload(client, storage):
    assert upload(client, "alice/uploads/D/b.txt").status_code == 201
    assert upload(client, "alice/uploads/d").status_code == 201
    assert upload(client, "alice/uploads/D").status_code == 400


def test_upload_beneath_an_unregistered_object_is_a_400(client, storage):
    storage.put("alice/uploads/pushed.txt", io.BytesIO(b"pushed outside the API"))
    response = upload(client, "alice/uploads/pushed.txt/b.txt")
    assert response.status_code == 400
    assert not UploadedFile.objects.exists()


def test_move_beneath_an_existing_file_is_a_400(client, storage):
    assert upload(client, "alice/uploads/a.txt").status_code == 201
    moved = cj_items(upload(client, "alice/uploads/b.txt"))[0]
    response = client.put(
        moved["href"], cj_template({"upload_path": "alice/uploads/a.txt/b.txt"}), content_type=CJ
    )
    assert response.status_code == 400
    assert UploadedFile.objects.filter(fname="alice/uploads/b.txt").exists()


@pytest.mark.parametrize(
    "username, reason",
    [
        ("comma,user", "only letters"),
        ("new\nline", "only letters"),
        ("tab\tuser", "only letters"),
        ("space user", "only letters"),
        (".storage-put-u1", "start with"),
        (".hidden", "start with"),
        ("a/bcd", "forward slashes"),
        ("chris", "not available"),
        ("SERVICES", "not available"),
    ],
)
def test_sign_up_refuses_names_that_cant_be_paths_and_creates_nothing(
    anonymous_client, storage, username, reason
):
    body = cj_template({"username": username, "password": "password1", "email": "x@example.org"})
    response = anonymous_client.post("/api/v1/users/", body, content_type=CJ)
    assert response.status_code == 400
    assert reason in response.json()["collection"]["error"]["message"]
    assert not User.objects.filter(email="x@example.org").exists()
    assert storage.ls("") == []


def test_sign_up_of_an_existing_name_or_email_creates_nothing(anonymous_client, user):
    for data in (
        {"username": "alice", "password": "password1", "email": "new@example.org"},
        {"username": "newbie", "password": "password1", "email": "alice@example.org"},
    ):
        response = anonymous_client.post("/api/v1/users/", cj_template(data), content_type=CJ)
        assert response.status_code == 400
        assert "must be unique" in response.json()["collection"]["error"]["message"]
    assert User.objects.count() == 1


def test_sign_up_over_a_leftover_welcome_file_still_succeeds(anonymous_client, storage):
    """A deleted user's files may stay in storage; a new user of that name still signs up."""
    storage.put("cube/uploads/welcome.txt", io.BytesIO(b"left by an earlier cube"))
    body = cj_template({"username": "cube", "password": "password1", "email": "c@example.org"})
    response = anonymous_client.post("/api/v1/users/", body, content_type=CJ)
    assert response.status_code == 201
    assert not UploadedFile.objects.filter(fname="cube/uploads/welcome.txt").exists()


@pytest.mark.parametrize(
    "path", ["a\nb", "alice/uploads/a\x00b", "\x00", "alice/uploads/\x1b", "é" * 300]
)
def test_file_browser_paths_with_odd_characters_never_fail(anonymous_client, client, path):
    for api_client in (anonymous_client, client):
        search = api_client.get("/api/v1/filebrowser/search/", {"path": path})
        assert search.status_code == 200
        assert search.json()["collection"]["items"] == []


def test_file_browser_lists_users_and_files_with_control_characters(
    client, superuser_client, superuser
):
    odd = User.objects.create_user("new\nline", "odd@example.org", "password1")
    UploadedFile.objects.create(owner=odd, fname="new\nline/uploads/a\nb.txt", fsize=1)
    UploadedFile.objects.create(owner=odd, fname="new\nline/uploads/x/c.txt", fsize=1)
    for path in ("", "new\nline", "new\nline/uploads"):
        response = superuser_client.get("/api/v1/filebrowser/search/", {"path": path})
        assert response.status_code == 200, path
        assert (
            superuser_client.get(
                "/api/v1/filebrowser/search/", {"path": path}, HTTP_ACCEPT=JSON
            ).status_code
            == 200
        )
    folder = cj_items(
        superuser_client.get("/api/v1/filebrowser/search/", {"path": "new\nline/uploads"})
    )[0]
    assert json.loads(folder["subfolders"]) == ["x"]
    assert client.get("/api/v1/filebrowser/search/", {"path": ""}).status_code == 200


def test_download_length_is_that_of_the_stored_bytes(client, storage):
    """A file whose bytes changed after registration downloads whole (issue 10, item 9)."""
    item = cj_items(upload(client, "alice/uploads/a.txt", b"short"))[0]
    storage.put("alice/uploads/a.txt", io.BytesIO(b"now much longer than before"))
    download = client.get(item["file_resource"])
    assert download.status_code == 200
    body = b"".join(download.streaming_content)
    assert body == b"now much longer than before"
    assert download["Content-Length"] == str(len(body))
    assert UploadedFile.objects.get().fsize == 5


@pytest.mark.parametrize(
    "authorization",
    [
        "Token abc\x00def",
        "Basic " + base64.b64encode(b"alice\x00:alice-password").decode(),
        "Basic " + base64.b64encode(b"alice:alice\x00password").decode(),
    ],
)
def test_nul_in_credentials_is_a_401(anonymous_client, user, authorization):
    response = anonymous_client.get("/api/v1/plugins/", HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 401
