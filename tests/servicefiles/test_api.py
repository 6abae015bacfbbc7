import io
import json

import pytest

from servicefiles.models import Service, ServiceFile
from storage.keys import LINK_NAME_MESSAGE
from tests.helpers import CJ, cj_items, cj_template

pytestmark = pytest.mark.django_db

H = "http://testserver/api/v1/"
KEY = "SERVICES/MyService/run1/result.txt"


@pytest.fixture
def stored(storage):
    storage.put(KEY, io.BytesIO(b"result"))
    return KEY


def register(storage, fname: str, service: str) -> ServiceFile:
    storage.put(fname, io.BytesIO(b"x"))
    service_row, _ = Service.objects.get_or_create(identifier=service)
    return ServiceFile.objects.create(fname=fname, fsize=1, service=service_row)


def test_register_service_file_document(superuser_client, stored):
    response = superuser_client.post(
        "/api/v1/servicefiles/",
        cj_template({"path": KEY, "service_name": "MyService"}),
        content_type=CJ,
    )
    assert response.status_code == 201, response.content
    service_file = ServiceFile.objects.get()
    item = response.json()["collection"]["items"][0]
    assert item == {
        "data": [
            {"name": "id", "value": service_file.pk},
            {"name": "creation_date", "value": item["data"][1]["value"]},
            {"name": "fname", "value": KEY},
            {"name": "fsize", "value": 6},
            {"name": "service_identifier", "value": "MyService"},
        ],
        "href": f"{H}servicefiles/{service_file.pk}/",
        "links": [
            {"rel": "file_resource", "href": f"{H}servicefiles/{service_file.pk}/result.txt"}
        ],
    }
    collection = superuser_client.get("/api/v1/servicefiles/").json()["collection"]
    assert collection["template"] == {
        "data": [{"name": "path", "value": ""}, {"name": "service_name", "value": ""}]
    }
    assert [d["name"] for d in collection["queries"][0]["data"]] == [
        "id", "min_creation_date", "max_creation_date", "fname", "fname_exact",
        "fname_icontains", "fname_nslashes", "service_identifier", "service_id",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"path": "chris/x", "service_name": "MyService"},
            {"path": ["File path must start with 'SERVICES/'."]},
        ),
        (
            {"path": "SERVICES/Other/x", "service_name": "MyService"},
            {"path": ["File path must start with 'SERVICES/MyService/'."]},
        ),
        (
            {"path": "SERVICES/MyService/none", "service_name": "MyService"},
            {"path": ["Could not find this path."]},
        ),
        (
            {"path": "SERVICES/PACS/x", "service_name": "PACS"},
            {
                "service_name": [
                    "This is the name of a registered service. Please use the service-specific API."
                ]
            },
        ),
        ({"path": KEY}, {"service_name": ["This field is required."]}),
        ({"service_name": "MyService"}, {"path": ["This field is required."]}),
        ({"path": KEY, "service_name": "x" * 21}, None),
    ],
)
def test_register_validation(superuser_client, stored, data, message):
    response = superuser_client.post("/api/v1/servicefiles/", data, format="json")
    assert response.status_code == 400
    if message is not None:
        assert json.loads(response.json()["collection"]["error"]["message"]) == message
    assert ServiceFile.objects.count() == 0


def test_register_duplicate_and_permissions(superuser_client, client, anonymous_client, stored):
    data = {"path": KEY, "service_name": "MyService"}
    assert client.post("/api/v1/servicefiles/", data, format="json").status_code == 403
    assert anonymous_client.post("/api/v1/servicefiles/", data, format="json").status_code == 401
    assert superuser_client.post("/api/v1/servicefiles/", data, format="json").status_code == 201
    again = superuser_client.post("/api/v1/servicefiles/", data, format="json")
    assert again.status_code == 400
    assert "File has already been registered." in again.json()["collection"]["error"]["message"]


def test_read_routes_and_download(client, anonymous_client, superuser_client, stored):
    superuser_client.post("/api/v1/servicefiles/", {"path": KEY, "service_name": "MyService"})
    service_file = ServiceFile.objects.get()
    for url in ("/api/v1/servicefiles/", "/api/v1/servicefiles/search/",
                f"/api/v1/servicefiles/{service_file.pk}/"):  # fmt: skip
        assert anonymous_client.get(url).status_code == 401
        assert client.get(url).status_code == 200
    download = client.get(f"/api/v1/servicefiles/{service_file.pk}/whatever")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"result"
    assert download["Content-Length"] == "6"
    assert client.get("/api/v1/servicefiles/999/").status_code == 404


def test_service_filters(client, storage):
    a = register(storage, "SERVICES/One/a/x.txt", "One")
    b = register(storage, "SERVICES/Two/b.txt", "Two")

    def ids(query: str) -> list[int]:
        response = client.get(f"/api/v1/servicefiles/search/?{query}")
        assert response.status_code == 200, response.content
        return sorted(item["id"] for item in cj_items(response))

    date = b.creation_date.isoformat().replace("+", "%2B")
    assert ids(f"id={a.pk}") == [a.pk]
    assert ids(f"min_creation_date={date}") == [b.pk]
    assert ids(f"max_creation_date={date}") == [a.pk, b.pk]
    assert ids("fname=SERVICES/One/") == [a.pk]
    assert ids("fname_exact=SERVICES/Two/b.txt") == [b.pk]
    assert ids("fname_icontains=/A/") == [a.pk]
    assert ids("fname_nslashes=2") == [b.pk]
    assert ids("service_identifier=Two") == [b.pk]
    assert ids(f"service_id={a.service_id}") == [a.pk]
    assert client.get("/api/v1/servicefiles/search/?service_id=x").status_code == 400


@pytest.mark.parametrize("name", ["run1/x.chrislink", "run1/x.ChrisLink", "x.CHRISLINK/"])
def test_a_link_file_is_never_registered(superuser_client, client, storage, name):
    """Even one already in storage: it would then be listed and served as an ordinary file."""
    path = f"SERVICES/MyService/{name}"
    storage.put(path.rstrip("/"), io.BytesIO(b"home/alice/uploads"))
    data = {"path": path, "service_name": "MyService"}
    assert client.post("/api/v1/servicefiles/", data, format="json").status_code == 403
    response = superuser_client.post("/api/v1/servicefiles/", cj_template(data), content_type=CJ)
    assert response.status_code == 400
    assert json.loads(response.json()["collection"]["error"]["message"]) == {
        "path": [LINK_NAME_MESSAGE]
    }
    response = superuser_client.post(
        "/api/v1/servicefiles/", data, format="json", HTTP_ACCEPT="application/json"
    )
    assert response.status_code == 400
    assert response.json() == {"path": [LINK_NAME_MESSAGE]}
    assert ServiceFile.objects.count() == 0
