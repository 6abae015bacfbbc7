import uuid

import pytest

from chrisinstance.models import ChrisInstance

pytestmark = pytest.mark.django_db


def test_chris_instance_document(client, settings):
    settings.JOB_ID_PREFIX = "cube-jid-"
    response = client.get("/api/v1/chrisinstance/1/")
    assert response.status_code == 200
    instance = ChrisInstance.objects.get()
    assert response.json() == {
        "collection": {
            "version": "1.0",
            "href": "http://testserver/api/v1/chrisinstance/1/",
            "items": [
                {
                    "data": [
                        {"name": "id", "value": 1},
                        {
                            "name": "creation_date",
                            "value": response.json()["collection"]["items"][0]["data"][1]["value"],
                        },
                        {"name": "name", "value": "ChRIS instance"},
                        {"name": "uuid", "value": str(instance.uuid)},
                        {"name": "job_id_prefix", "value": "cube-jid-"},
                        {"name": "description", "value": ""},
                    ],
                    "href": "http://testserver/api/v1/chrisinstance/1/",
                }
            ],
            "links": [],
        }
    }
    uuid.UUID(str(instance.uuid))


def test_any_id_gives_the_singleton(client):
    first = client.get("/api/v1/chrisinstance/1/", HTTP_ACCEPT="application/json").json()
    other = client.get("/api/v1/chrisinstance/42/", HTTP_ACCEPT="application/json").json()
    assert first == other
    assert first["url"] == "http://testserver/api/v1/chrisinstance/1/"
    assert first["job_id_prefix"] == "chris-jid-"
    assert ChrisInstance.objects.count() == 1


def test_chris_instance_needs_auth_and_is_read_only(anonymous_client, client):
    assert anonymous_client.get("/api/v1/chrisinstance/1/").status_code == 401
    assert client.put("/api/v1/chrisinstance/1/", {}, format="json").status_code == 405
    assert client.delete("/api/v1/chrisinstance/1/").status_code == 405
