"""The OpenAPI schema generates without warnings and is served with its Swagger UI."""

import pytest
from django.core.management import call_command


def test_schema_generates_without_warnings(tmp_path):
    call_command(
        "spectacular", "--fail-on-warn", "--validate", "--file", str(tmp_path / "schema.yaml")
    )


@pytest.mark.django_db
def test_schema_is_served_as_json_to_anyone(anonymous_client):
    response = anonymous_client.get("/schema/", HTTP_ACCEPT="application/json")

    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "ChRIS Ultron BackEnd (CUBE) API"
    feed_list = document["paths"]["/api/v1/"]["get"]
    assert list(feed_list["responses"]["200"]["content"]) == ["application/json"]


@pytest.mark.django_db
def test_swagger_ui_is_served(anonymous_client):
    response = anonymous_client.get("/schema/swagger-ui/")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
