"""Fixtures giving each storage test a fresh backend: filesystem always, Swift when marked."""

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from swiftclient.client import ClientException, Connection

from storage.filesystem import FilesystemStorage
from storage.swift import SwiftStorage

# Small segments so that a few MiB already exercise Static Large Objects.
TEST_SEGMENT_SIZE = 1 << 20


@dataclass(frozen=True)
class SwiftAccount:
    auth_url: str
    username: str
    key: str
    container: str

    def connection(self) -> Connection:
        return Connection(
            authurl=self.auth_url, user=self.username, key=self.key, retries=1, timeout=10
        )

    def storage(self, segment_size: int = TEST_SEGMENT_SIZE) -> SwiftStorage:
        return SwiftStorage(
            self.auth_url, self.username, self.key, self.container, segment_size=segment_size
        )


def _names(connection: Connection, container: str) -> list[str]:
    try:
        _headers, listing = connection.get_container(container, full_listing=True)
    except ClientException as error:
        if error.http_status == 404:
            return []
        raise
    return [entry["name"] for entry in listing]


def _empty(connection: Connection, container: str) -> None:
    for name in _names(connection, container):
        try:
            connection.delete_object(container, name)
        except ClientException as error:
            if error.http_status != 404:
                raise


@pytest.fixture(scope="session")
def swift_session() -> Iterator[SwiftAccount]:
    """A Swift account and a container unique to this test session, removed at the end."""
    account = SwiftAccount(
        auth_url=os.environ.get("SWIFT_AUTH_URL", "http://127.0.0.1:8080/auth/v1.0"),
        username=os.environ.get("SWIFT_USERNAME", "chris:chris1234"),
        key=os.environ.get("SWIFT_KEY", "testing"),
        container=f"test-storage-{uuid.uuid4().hex[:12]}",
    )
    connection = Connection(
        authurl=account.auth_url, user=account.username, key=account.key, retries=0, timeout=5
    )
    try:
        connection.get_auth()
    except (ClientException, OSError) as error:
        message = f"Swift not reachable at {account.auth_url}: {error}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    yield account
    connection = account.connection()
    for container in (account.container, f"{account.container}_segments"):
        _empty(connection, container)
        try:
            connection.delete_container(container)
        except ClientException as error:
            if error.http_status != 404:
                raise


@pytest.fixture
def swift_account(swift_session: SwiftAccount) -> Iterator[SwiftAccount]:
    """The session's account; the container is emptied after each test."""
    yield swift_session
    connection = swift_session.connection()
    _empty(connection, swift_session.container)
    _empty(connection, f"{swift_session.container}_segments")


@pytest.fixture
def segment_names(swift_account: SwiftAccount):
    """Returns the names currently in the segments container (to check for leftovers)."""
    connection = swift_account.connection()
    return lambda: _names(connection, f"{swift_account.container}_segments")


@pytest.fixture
def filesystem_storage(tmp_path: Path) -> FilesystemStorage:
    return FilesystemStorage(tmp_path / "storage")


@pytest.fixture
def swift_storage(swift_account: SwiftAccount) -> SwiftStorage:
    return swift_account.storage()


@pytest.fixture(
    params=["filesystem", pytest.param("swift", marks=pytest.mark.integration)],
)
def backend(request: pytest.FixtureRequest):
    """Each contract test runs once per backend.

    Not named ``storage``: that is the project-wide autouse fixture for Django tests.
    """
    return request.getfixturevalue(f"{request.param}_storage")
