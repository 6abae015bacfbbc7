import hashlib
import io
import json

import pytest

from storage.keys import LINK_NAME_MESSAGE
from tests.helpers import CJ, cj_items, cj_template
from uploadedfiles.models import UploadedFile

pytestmark = pytest.mark.django_db


def upload(api_client, upload_path: str, content: bytes = b"data", **extra):
    return api_client.post(
        "/api/v1/uploadedfiles/",
        {"upload_path": upload_path, "fname": io.BytesIO(content)},
        format="multipart",
        **extra,
    )


def test_upload_stores_file_under_upload_path(client, user, storage):
    response = upload(client, "alice/uploads/DICOM/dataset1/0001.dcm", b"dicom-bytes")
    assert response.status_code == 201, response.content
    uploaded = UploadedFile.objects.get()
    assert response["Location"] == f"http://testserver/api/v1/uploadedfiles/{uploaded.pk}/"
    item = cj_items(response)[0]
    assert item["fname"] == "alice/uploads/DICOM/dataset1/0001.dcm"
    assert item["fsize"] == 11
    assert item["file_resource"].endswith(f"/api/v1/uploadedfiles/{uploaded.pk}/0001.dcm")
    assert item["owner"] == f"http://testserver/api/v1/users/{user.pk}/"
    assert b"".join(storage.open(uploaded.fname)) == b"dicom-bytes"


def test_upload_document_shape(client, user):
    response = upload(client, "alice/uploads/a b$.txt", b"xy")
    uploaded = UploadedFile.objects.get()
    document = response.json()["collection"]
    assert list(document) == ["version", "href", "items", "links"]
    assert document["items"] == [
        {
            "data": [
                {"name": "id", "value": uploaded.pk},
                {"name": "creation_date", "value": document["items"][0]["data"][1]["value"]},
                {"name": "fname", "value": "alice/uploads/a_b.txt"},
                {"name": "fsize", "value": 2},
            ],
            "href": f"http://testserver/api/v1/uploadedfiles/{uploaded.pk}/",
            "links": [
                {
                    "rel": "file_resource",
                    "href": f"http://testserver/api/v1/uploadedfiles/{uploaded.pk}/a_b.txt",
                },
                {"rel": "owner", "href": f"http://testserver/api/v1/users/{user.pk}/"},
            ],
        }
    ]
    assert document["links"] == []


@pytest.mark.parametrize(
    "upload_path",
    [
        "bobby/uploads/x.txt",
        "alice/x.txt",
        "alice/uploads/../../bobby/uploads/x.txt",
        "alice/uploads/a/../x.txt",
        "alice/uploads//x.txt",
        "alice/uploads/./x.txt",
        "alice/uploads/a,b.txt",
        "alice/uploads/",
        "/../alice/uploads/x.txt",
        "",
    ],
)
def test_bad_upload_paths_change_nothing(client, storage, upload_path):
    response = upload(client, upload_path)
    assert response.status_code == 400
    assert "upload_path" in response.json()["collection"]["error"]["message"]
    assert UploadedFile.objects.count() == 0
    assert storage.ls("") == []


def test_duplicate_upload_is_refused_and_keeps_the_original(client, storage):
    assert upload(client, "alice/uploads/x.txt", b"first").status_code == 201
    response = upload(client, "alice/uploads/x.txt", b"second")
    assert response.status_code == 400
    assert "already exists" in response.json()["collection"]["error"]["message"]
    assert UploadedFile.objects.count() == 1
    assert b"".join(storage.open("alice/uploads/x.txt")) == b"first"


def test_upload_keeps_data_stored_there_outside_the_api(client, storage):
    storage.put("alice/uploads/pushed.txt", io.BytesIO(b"pushed directly"))
    response = upload(client, "alice/uploads/pushed.txt", b"from the API")
    assert response.status_code == 400
    assert "already exists" in response.json()["collection"]["error"]["message"]
    assert UploadedFile.objects.count() == 0
    assert b"".join(storage.open("alice/uploads/pushed.txt")) == b"pushed directly"


def test_missing_parts_and_wrong_content_type(client, storage):
    response = client.post(
        "/api/v1/uploadedfiles/", {"upload_path": "alice/uploads/x"}, format="multipart"
    )
    assert response.status_code == 400
    assert "fname" in response.json()["collection"]["error"]["message"]
    response = client.post(
        "/api/v1/uploadedfiles/", {"fname": io.BytesIO(b"x")}, format="multipart"
    )
    assert response.status_code == 400
    assert "upload_path" in response.json()["collection"]["error"]["message"]
    response = client.post(
        "/api/v1/uploadedfiles/", cj_template({"upload_path": "alice/uploads/x"}), content_type=CJ
    )
    assert response.status_code == 415
    assert UploadedFile.objects.count() == 0
    assert storage.ls("") == []


def test_storage_failure_leaves_no_row(client, storage, monkeypatch):
    from storage import StorageError

    def broken_put(key, stream, length=None, replace=True):
        raise StorageError("disk full")

    monkeypatch.setattr(storage, "put", broken_put)
    response = upload(client, "alice/uploads/x.txt")
    assert response.status_code == 503
    assert UploadedFile.objects.count() == 0


def test_download_streams_same_bytes(client, other_client, anonymous_client):
    content = bytes(range(256)) * 1000
    response = upload(client, "alice/uploads/blob.bin", content)
    file_resource = cj_items(response)[0]["file_resource"]
    download = client.get(file_resource)
    assert download.status_code == 200
    assert download["Content-Disposition"] == 'inline; filename="blob.bin"'
    assert download["Content-Length"] == str(len(content))
    assert (
        hashlib.sha256(b"".join(download.streaming_content)).digest()
        == hashlib.sha256(content).digest()
    )
    assert other_client.get(file_resource).status_code == 403
    assert anonymous_client.get(file_resource).status_code == 401


def test_list_shows_own_files_and_search_filters(client, other_client, superuser_client):
    upload(client, "alice/uploads/a/one.txt")
    upload(client, "alice/uploads/b/two.txt")
    upload(other_client, "bobby/uploads/three.txt")
    response = client.get("/api/v1/uploadedfiles/")
    assert [item["fname"] for item in cj_items(response)] == [
        "alice/uploads/b/two.txt",
        "alice/uploads/a/one.txt",
    ]
    assert response.json()["collection"]["queries"][0]["href"].endswith("/uploadedfiles/search/")
    search = client.get("/api/v1/uploadedfiles/search/?fname=alice/uploads/a/")
    assert [item["fname"] for item in cj_items(search)] == ["alice/uploads/a/one.txt"]
    leak = client.get("/api/v1/uploadedfiles/search/?fname=bobby")
    assert cj_items(leak) == []
    assert superuser_client.get("/api/v1/uploadedfiles/").json()["collection"]["total"] == 3
    nslashes = client.get("/api/v1/uploadedfiles/search/?fname_nslashes=3")
    assert len(cj_items(nslashes)) == 2


def test_put_moves_and_delete_removes(
    client, other_client, storage, django_capture_on_commit_callbacks
):
    response = upload(client, "alice/uploads/old.txt", b"moved")
    url = cj_items(response)[0]["href"]
    assert (
        other_client.put(url, {"upload_path": "bobby/uploads/x"}, format="json").status_code == 403
    )
    bad = client.put(url, {"upload_path": "bobby/uploads/x"}, format="json")
    assert bad.status_code == 400
    moved = client.put(
        url, cj_template({"upload_path": "alice/uploads/new/name.txt"}), content_type=CJ
    )
    assert moved.status_code == 200
    assert cj_items(moved)[0]["fname"] == "alice/uploads/new/name.txt"
    assert not storage.exists("alice/uploads/old.txt")
    assert b"".join(storage.open("alice/uploads/new/name.txt")) == b"moved"
    with django_capture_on_commit_callbacks(execute=True):
        assert client.delete(url).status_code == 204
    assert not storage.exists("alice/uploads/new/name.txt")
    assert UploadedFile.objects.count() == 0


def test_fname_search_is_a_case_sensitive_prefix(client, user):
    for name in ("alice/uploads/a/x", "alice/uploads/A/y", "alice/uploads/ab/z", "alice/uploads/a"):
        UploadedFile.objects.create(owner=user, fname=name, fsize=1)
    response = client.get("/api/v1/uploadedfiles/search/?fname=alice/uploads/a/")
    assert [item["fname"] for item in cj_items(response)] == ["alice/uploads/a/x"]


# Link files: the compute service follows a `.chrislink` object to the path written in it,
# so no user may store one. Case variants and names that only become one once made safe
# ("x.chris$link" -> "x.chrislink") are refused too.
LINK_NAMES = [
    "x.chrislink",
    "x.ChrisLink",
    "x.CHRISLINK",
    "deep/er/x.chrislink",
    "x.chris$link",
    "x.chrislink/",
    ".chrislink",
]


def link_error(response, accept: str) -> dict:
    if accept == CJ:
        assert response["Content-Type"].startswith(CJ)
        return json.loads(response.json()["collection"]["error"]["message"])
    assert response["Content-Type"].startswith("application/json")
    return response.json()


@pytest.mark.parametrize("accept", [CJ, "application/json"])
@pytest.mark.parametrize("name", LINK_NAMES)
def test_upload_of_a_link_file_name_is_refused_and_stores_nothing(
    client, other_client, storage, name, accept
):
    for api_client, home in ((client, "alice"), (other_client, "bobby")):
        response = upload(
            api_client, f"{home}/uploads/{name}", b"alice/uploads", HTTP_ACCEPT=accept
        )
        assert response.status_code == 400, response.content
        assert link_error(response, accept) == {"upload_path": [LINK_NAME_MESSAGE]}
    assert UploadedFile.objects.count() == 0
    assert storage.ls("") == []


def test_upload_into_another_users_space_with_a_link_name_is_refused(client, other_client, storage):
    assert upload(client, "alice/uploads/data.txt", b"alice's").status_code == 201
    response = upload(other_client, "alice/uploads/data.txt.chrislink", b"alice/uploads")
    assert response.status_code == 400
    assert list(UploadedFile.objects.values_list("fname", flat=True)) == ["alice/uploads/data.txt"]
    assert storage.ls("") == ["alice/uploads/data.txt"]


@pytest.mark.parametrize(
    "name", ["x.chrislink.txt", "chrislink", "x.chrislinks", "x_chrislink", "x.chrislink/y.txt"]
)
def test_names_that_only_contain_chrislink_are_accepted(client, storage, name):
    response = upload(client, f"alice/uploads/{name}")
    assert response.status_code == 201, response.content
    assert storage.exists(f"alice/uploads/{name}")


@pytest.mark.parametrize("accept", [CJ, "application/json"])
@pytest.mark.parametrize("name", LINK_NAMES)
def test_move_to_a_link_file_name_is_refused_and_changes_nothing(
    client, other_client, superuser_client, storage, name, accept
):
    url = cj_items(upload(client, "alice/uploads/a.txt", b"kept"))[0]["href"]
    target = {"upload_path": f"alice/uploads/{name}"}
    for api_client in (client, superuser_client):
        as_cj = api_client.put(url, cj_template(target), content_type=CJ, HTTP_ACCEPT=accept)
        as_json = api_client.put(url, target, format="json", HTTP_ACCEPT=accept)
        for response in (as_cj, as_json):
            assert response.status_code == 400, response.content
            assert link_error(response, accept) == {"upload_path": [LINK_NAME_MESSAGE]}
    # Bobby may not move Alice's file at all; nor may he move his own to a link name.
    assert other_client.put(url, target, format="json").status_code == 403
    own = cj_items(upload(other_client, "bobby/uploads/b.txt", b"his"))[0]["href"]
    response = other_client.put(own, {"upload_path": f"bobby/uploads/{name}"}, format="json")
    assert response.status_code == 400
    assert sorted(UploadedFile.objects.values_list("fname", flat=True)) == [
        "alice/uploads/a.txt",
        "bobby/uploads/b.txt",
    ]
    assert sorted(storage.ls("")) == ["alice/uploads/a.txt", "bobby/uploads/b.txt"]
    assert b"".join(storage.open("alice/uploads/a.txt")) == b"kept"
