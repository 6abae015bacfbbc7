import pytest

from cube import celery_app
from plugins.models import ComputeResource
from plugins.services.registry import register_plugin
from tests.fakes import FakePfcon
from tests.plugin_support import (
    DIRCOPY,
    SIMPLEDSAPP,
    SIMPLEFSAPP,
    TOPOLOGICALCOPY,
    compute_resource_for,
)


@pytest.fixture
def pfcon(storage, settings):
    """An in-network fake pfcon that writes job outputs into the test's storage root."""
    with FakePfcon(innetwork=True, storage_env="fslink", output_root=settings.STORAGE_ROOT) as fake:
        yield fake


@pytest.fixture
def zip_pfcon():
    with FakePfcon() as fake:
        yield fake


@pytest.fixture
def compute_resource(db, pfcon) -> ComputeResource:
    return compute_resource_for(pfcon)


@pytest.fixture
def dircopy(compute_resource):
    return register_plugin(DIRCOPY, compute_names=[compute_resource.name])


@pytest.fixture
def simpledsapp(compute_resource):
    return register_plugin(SIMPLEDSAPP, compute_names=[compute_resource.name])


@pytest.fixture
def simplefsapp(compute_resource):
    return register_plugin(SIMPLEFSAPP, compute_names=[compute_resource.name])


@pytest.fixture
def topologicalcopy(compute_resource):
    return register_plugin(TOPOLOGICALCOPY, compute_names=[compute_resource.name])


@pytest.fixture
def eager_tasks():
    """Celery tasks run at once, in the test's thread."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False
