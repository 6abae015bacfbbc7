"""Fixtures for the Django tests; each builds on the ones before it."""

import pytest
from django.contrib.auth.models import User
from rest_framework.test import APIClient

from cube.storage import get_storage
from users.authentication import verified_credentials


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
