"""Fixtures for the Django tests; each builds on the ones before it."""

import json
import os

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from storage import get_storage
from users.authentication import verified_credentials

CJ = "application/vnd.collection+json"


def require_service(name: str, reachable: bool) -> None:
    """Skip a test whose service is missing, except under CI, where that is a failure."""
    if reachable:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{name} is not reachable and CI=true: the service must run in CI")
    pytest.skip(f"{name} is not reachable")


def cj_items(response) -> list[dict]:
    """Items of a C+J response as plain dicts of data values and link hrefs."""
    items = []
    for item in response.json()["collection"]["items"]:
        values = {entry["name"]: entry["value"] for entry in item["data"]}
        for link in item.get("links", []):
            values.setdefault(link["rel"], link["href"])
        values["href"] = item.get("href")
        items.append(values)
    return items


def cj_template(data: dict) -> str:
    return json.dumps({"template": {"data": [{"name": k, "value": v} for k, v in data.items()]}})


@pytest.fixture(autouse=True)
def storage(settings, tmp_path):
    """Filesystem storage under the test's own folder."""
    settings.STORAGE_BACKEND = "filesystem"
    settings.STORAGE_ROOT = str(tmp_path / "storage")
    get_storage.cache_clear()
    verified_credentials.clear()
    yield get_storage()
    get_storage.cache_clear()


@pytest.fixture
def user(db) -> User:
    return User.objects.create_user("alice", "alice@example.org", "alice-password")


@pytest.fixture
def other_user(db) -> User:
    return User.objects.create_user("bobby", "bobby@example.org", "bobby-password")


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("chris", "chris@example.org", "chris1234")


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def client(user) -> APIClient:
    api_client = APIClient()
    api_client.force_authenticate(user)
    return api_client


@pytest.fixture
def superuser_client(superuser) -> APIClient:
    api_client = APIClient()
    api_client.force_authenticate(superuser)
    return api_client


@pytest.fixture
def other_client(other_user) -> APIClient:
    api_client = APIClient()
    api_client.force_authenticate(other_user)
    return api_client
