"""Fixtures for the Django-free pfcon client tests."""

import pytest

from pfcon_client import PfconClient, Timeouts
from tests.fakes import FakePfcon


@pytest.fixture
def pfcon():
    """An out-of-network (zipfile) fake pfcon."""
    with FakePfcon() as fake:
        yield fake


@pytest.fixture
def pfcon_fslink():
    """An in-network fslink fake pfcon, which requires copy jobs."""
    with FakePfcon(innetwork=True, storage_env="fslink") as fake:
        yield fake


@pytest.fixture
def pfcon_swift():
    """An in-network swift fake pfcon, which requires copy and upload jobs."""
    with FakePfcon(innetwork=True, storage_env="swift") as fake:
        yield fake


@pytest.fixture
def make_client():
    """Build clients for a fake with fast retries; closes them afterwards."""
    clients = []

    def make(fake, **kwargs):
        kwargs.setdefault("username", FakePfcon.USERNAME)
        kwargs.setdefault("password", FakePfcon.PASSWORD)
        kwargs.setdefault("backoff", 0.01)
        kwargs.setdefault("timeouts", Timeouts(connect=2, status=2, submit_op=2, submit_plugin=2))
        client = PfconClient(fake.url, **kwargs)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()
