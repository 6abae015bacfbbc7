"""Concurrent requests for one thing: one winner, clear 4xx for the rest, never a 5xx (issue 10).

Each test sends its requests from threads released together by a barrier, every thread on
its own database connection. The suite's SQLite database is a file with the production
options (``tests/settings.py``), so SQLite locks as it does under ``make run``;
``utils/scripts/test-production.sh`` runs the same tests on PostgreSQL.
"""

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from rest_framework.test import APIClient

from plugins.models import PluginInstance, PluginInstanceSplit
from plugins.services.registry import register_plugin
from plugins.status import Status
from tests.fakes import FakePfcon
from tests.helpers import CJ, cj_template
from tests.plugin_support import (
    DIRCOPY,
    SIMPLEDSAPP,
    TOPOLOGICALCOPY,
    compute_resource_for,
    make_fs_instance,
)
from uploadedfiles.models import UploadedFile

pytestmark = pytest.mark.django_db(transaction=True)

RACERS = 20


def concurrently(count: int, request: Callable[[int], int]) -> Counter:
    """Run ``request(i)`` for i in range(count) at once; count the statuses they return."""
    barrier = threading.Barrier(count)
    statuses: list[int | str] = ["no answer"] * count

    def race(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            statuses[index] = request(index)
        except Exception as error:  # reported in the assertion, not lost in the thread
            statuses[index] = f"{type(error).__name__}: {error}"
        finally:
            connection.close()

    threads = [threading.Thread(target=race, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return Counter(statuses)


def client_for(user: User | None = None) -> APIClient:
    """A client of its own (clients are not thread-safe) that returns 500s as responses."""
    client = APIClient(raise_request_exception=False)
    if user is not None:
        client.force_authenticate(user)
    return client


def sign_up(data: dict) -> int:
    body = cj_template({"password": "password1", **data})
    return client_for().post("/api/v1/users/", body, content_type=CJ).status_code


def test_concurrent_sign_ups_of_one_username_make_one_account(storage):
    statuses = concurrently(
        RACERS, lambda i: sign_up({"username": "racer", "email": f"racer{i}@example.org"})
    )
    assert statuses == {201: 1, 400: RACERS - 1}
    user = User.objects.get(username="racer")
    assert list(UploadedFile.objects.values_list("owner", "fname")) == [
        (user.pk, "racer/uploads/welcome.txt")
    ]
    assert storage.ls("racer") == ["racer/uploads/welcome.txt"]


def test_concurrent_sign_ups_with_one_email_make_one_account():
    statuses = concurrently(
        RACERS, lambda i: sign_up({"username": f"racer{i}", "email": "same@example.org"})
    )
    assert statuses == {201: 1, 400: RACERS - 1}
    assert User.objects.filter(email="same@example.org").count() == 1
    assert UploadedFile.objects.count() == 1


@pytest.fixture
def pfcon(storage, settings):
    with FakePfcon(innetwork=True, storage_env="fslink", output_root=settings.STORAGE_ROOT) as fake:
        yield fake


@pytest.fixture
def plugins(pfcon):
    resource = compute_resource_for(pfcon)
    return {
        spec["name"]: register_plugin(spec, compute_names=[resource.name])
        for spec in (DIRCOPY, SIMPLEDSAPP, TOPOLOGICALCOPY)
    }


@pytest.fixture
def alice(db) -> User:
    return User.objects.create_user("alice", "alice@example.org", "alice-password")


def test_concurrent_splits_all_succeed(alice, plugins):
    """SQLite used to answer 'database is locked' to most of them."""
    instance = make_fs_instance(alice, plugins["pl-dircopy"])
    url = f"/api/v1/plugins/instances/{instance.pk}/splits/"
    count = 10

    def split(index: int) -> int:
        body = cj_template({"filter": rf"\.{index}$,^x{index}"})
        return client_for(alice).post(url, body, content_type=CJ).status_code

    assert concurrently(count, split) == {201: count}
    assert PluginInstanceSplit.objects.count() == count
    assert PluginInstance.objects.filter(previous=instance).count() == 2 * count


def delete_running_instance_concurrently(alice, plugins) -> Counter:
    root = make_fs_instance(alice, plugins["pl-dircopy"])
    running = PluginInstance.objects.create(
        plugin=plugins["pl-simpledsapp"], owner=alice, feed=root.feed, previous=root,
        status=Status.STARTED, compute_resource=root.plugin.compute_resources.first(),
        output_path=f"{root.output_path.removesuffix('/data')}/pl-simpledsapp_2/data",
        cpu_limit=1000, memory_limit=200, number_of_workers=1, gpu_limit=0,
    )  # fmt: skip
    url = f"/api/v1/plugins/instances/{running.pk}/"
    statuses = concurrently(10, lambda i: client_for(alice).delete(url).status_code)
    if statuses[204]:  # deleted at once; a 202 leaves the rest to a worker
        assert not PluginInstance.objects.filter(pk=running.pk).exists()
    assert PluginInstance.objects.filter(pk=root.pk).exists()
    return statuses


def test_concurrent_deletes_of_a_running_instance_never_fail(alice, plugins):
    statuses = delete_running_instance_concurrently(alice, plugins)
    assert set(statuses) <= {202, 204, 404}, statuses
    assert statuses[202] + statuses[204] >= 1, statuses


def test_concurrent_deletes_of_a_running_instance_have_one_winner(alice, plugins):
    statuses = delete_running_instance_concurrently(alice, plugins)
    assert statuses[202] + statuses[204] == 1, statuses
    assert statuses[404] == 9, statuses
