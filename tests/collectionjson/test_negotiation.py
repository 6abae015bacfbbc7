import pytest

from collectionjson import negotiation

pytestmark = pytest.mark.django_db

CJ = "application/vnd.collection+json"
JSON = "application/json"


@pytest.fixture(autouse=True)
def empty_cache():
    negotiation._selections.clear()


def content_type(response) -> str:
    return response["Content-Type"].split(";")[0]


def test_remembered_answers_follow_accept_and_format(client):
    asked = [
        ({"HTTP_ACCEPT": JSON}, "", JSON),
        ({"HTTP_ACCEPT": CJ}, "", CJ),
        ({}, "", CJ),
        ({"HTTP_ACCEPT": "*/*"}, "?format=json", JSON),
        ({"HTTP_ACCEPT": "*/*"}, "?format=collection%2Bjson", CJ),
        ({"HTTP_ACCEPT": "text/html"}, "", "text/html"),
    ]
    for _ in range(2):  # the second round is answered from the cache
        for headers, query, expected in asked:
            response = client.get("/api/v1/" + query, **headers)
            assert response.status_code == 200
            assert content_type(response) == expected, (headers, query)
    assert len(negotiation._selections) == len(asked)


def test_media_type_parameters_are_kept_per_header(client):
    for _ in range(2):
        plain = client.get("/api/v1/", HTTP_ACCEPT=JSON)
        indented = client.get("/api/v1/", HTTP_ACCEPT=f"{JSON}; indent=4")
        assert b"\n    " not in plain.content
        assert b"\n    " in indented.content


def test_refusals_are_never_remembered(client):
    for _ in range(2):
        assert client.get("/api/v1/", HTTP_ACCEPT="image/png").status_code == 406
        assert client.get("/api/v1/?format=xml").status_code == 404
        assert client.get("/api/v1/?format=json", HTTP_ACCEPT=CJ).status_code == 406
    assert negotiation._selections == {}


def test_cache_is_bounded(client, monkeypatch):
    monkeypatch.setattr(negotiation, "CACHE_ENTRIES", 3)
    for index in range(10):
        accept = f"{JSON}; q=0.{index + 1}"
        assert content_type(client.get("/api/v1/", HTTP_ACCEPT=accept)) == JSON
        assert len(negotiation._selections) <= 3
