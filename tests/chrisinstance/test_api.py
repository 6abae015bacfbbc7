import io
import re
import uuid

import pytest
from django.core.management import call_command

from chrisinstance.models import ChrisInstance
from chrisinstance.services import get_chris_instance, get_job_id_prefix

pytestmark = pytest.mark.django_db

RANDOM_PREFIX = re.compile(r"chris-jid-[0-9a-f]{8}-")


def test_chris_instance_document(client, settings):
    settings.JOB_ID_PREFIX = "cube-jid-"
    response = client.get("/api/v1/chrisinstance/1/")
    assert response.status_code == 200
    instance = ChrisInstance.objects.get()
    assert re.fullmatch(r"cube-jid-[0-9a-f]{8}-", instance.job_id_prefix)
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
                        {"name": "job_id_prefix", "value": instance.job_id_prefix},
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
    assert RANDOM_PREFIX.fullmatch(first["job_id_prefix"])
    assert ChrisInstance.objects.count() == 1


def test_chris_instance_needs_auth_and_is_read_only(anonymous_client, client):
    assert anonymous_client.get("/api/v1/chrisinstance/1/").status_code == 401
    assert client.put("/api/v1/chrisinstance/1/", {}, format="json").status_code == 405
    assert client.delete("/api/v1/chrisinstance/1/").status_code == 405


def test_api_shows_the_stored_prefix_not_the_setting(client, settings):
    get_chris_instance()
    ChrisInstance.objects.update(job_id_prefix="chris-jid-0badcafe-")
    settings.JOB_ID_PREFIX = "something-else-"
    response = client.get("/api/v1/chrisinstance/1/", HTTP_ACCEPT="application/json")
    assert response.json()["job_id_prefix"] == "chris-jid-0badcafe-"


def test_the_prefix_is_drawn_once_and_kept():
    prefix = get_job_id_prefix()
    assert RANDOM_PREFIX.fullmatch(prefix)
    assert ChrisInstance.objects.get().job_id_prefix == prefix
    assert get_job_id_prefix() == prefix
    assert get_chris_instance().job_id_prefix == prefix


def test_a_recreated_installation_gets_a_new_prefix():
    """Deleting the database (here: its one row) must not give back the old job ids."""
    first = get_job_id_prefix()
    ChrisInstance.objects.all().delete()
    second = get_job_id_prefix()
    assert RANDOM_PREFIX.fullmatch(second)
    assert second != first
    assert ChrisInstance.objects.get().job_id_prefix == second


def test_prefixes_of_many_installations_differ():
    prefixes = {ChrisInstance().job_id_prefix for _ in range(200)}
    assert len(prefixes) == 200


def test_the_setting_is_the_leading_part(settings):
    settings.JOB_ID_PREFIX = "site-a-"
    assert re.fullmatch(r"site-a-[0-9a-f]{8}-", get_job_id_prefix())


def test_bootstrap_creates_the_installation_row_once():
    out = io.StringIO()
    call_command("bootstrap", stdout=out)
    prefix = ChrisInstance.objects.get().job_id_prefix
    assert prefix in out.getvalue()
    call_command("bootstrap", stdout=io.StringIO())
    assert ChrisInstance.objects.get().job_id_prefix == prefix
