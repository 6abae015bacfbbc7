import pytest

from plugins.models import ComputeResource
from plugins.services.registry import register_plugin
from tests.fakes import FakePfcon

DIRCOPY = {
    "name": "pl-dircopy", "version": "2.1.1", "dock_image": "fnndsc/pl-dircopy:2.1.1",
    "public_repo": "https://github.com/FNNDSC/pl-dircopy", "type": "fs",
    "selfpath": "/usr/local/bin", "selfexec": "dircopy", "execshell": "/usr/local/bin/python",
    "title": "Copy directories", "min_cpu_limit": "50m", "max_cpu_limit": "1000m",
    "min_memory_limit": "", "max_memory_limit": "",
    "parameters": [
        {"name": "dir", "type": "unextpath", "optional": False, "flag": "--dir",
         "short_flag": "--dir", "action": "store", "help": "directories", "default": None,
         "ui_exposed": True},
    ],
}  # fmt: skip
SIMPLEDSAPP = {
    "name": "pl-simpledsapp", "version": "2.1.3", "dock_image": "fnndsc/pl-simpledsapp:2.1.3",
    "type": "ds", "selfpath": "/usr/local/bin", "selfexec": "simpledsapp", "execshell": "",
    "parameters": [
        {"name": "prefix", "type": "str", "optional": True, "flag": "--prefix",
         "short_flag": "-p", "action": "store", "default": ""},
        {"name": "b_ignoreInputDir", "type": "bool", "optional": True,
         "flag": "--ignoreInputDir", "action": "store_true", "default": False},
        {"name": "dummyInt", "type": "int", "optional": True, "flag": "--dummyInt",
         "action": "store", "default": 1},
        {"name": "dummyFloat", "type": "float", "optional": True, "flag": "--dummyFloat",
         "action": "store", "default": 1.1},
    ],
}  # fmt: skip
SIMPLEFSAPP = {
    "name": "pl-simplefsapp", "version": "1.0.1", "dock_image": "fnndsc/pl-simplefsapp:1.0.1",
    "type": "fs", "selfpath": "/usr/local/bin", "selfexec": "simplefsapp", "execshell": "",
    "parameters": [
        {"name": "dir", "type": "path", "optional": False, "flag": "--dir", "action": "store"},
    ],
}  # fmt: skip
TOPOLOGICALCOPY = {
    "name": "pl-topologicalcopy", "version": "1.0.12",
    "dock_image": "fnndsc/pl-topologicalcopy:1.0.12", "type": "ts", "selfpath": "/usr/local/bin",
    "selfexec": "topologicalcopy", "execshell": "",
    "parameters": [
        {"name": "plugininstances", "type": "str", "optional": True,
         "flag": "--plugininstances", "action": "store", "default": ""},
        {"name": "filter", "type": "str", "optional": True, "flag": "--filter",
         "short_flag": "-f", "action": "store", "default": ""},
        {"name": "groupByInstance", "type": "bool", "optional": True,
         "flag": "--groupByInstance", "short_flag": "-g", "action": "store_true",
         "default": False},
    ],
}  # fmt: skip


@pytest.fixture
def pfcon(storage, settings):
    """An in-network fake pfcon that writes job outputs into the test's storage root."""
    with FakePfcon(innetwork=True, storage_env="fslink", output_root=settings.STORAGE_ROOT) as fake:
        yield fake


@pytest.fixture
def zip_pfcon():
    with FakePfcon() as fake:
        yield fake


def compute_resource_for(fake: FakePfcon, name: str = "host") -> ComputeResource:
    info = fake.server_info()
    return ComputeResource.objects.create(
        name=name,
        compute_url=fake.url,
        compute_auth_url=fake.auth_url,
        compute_user=FakePfcon.USERNAME,
        compute_password=FakePfcon.PASSWORD,
        compute_innetwork=info["pfcon_innetwork"],
        compute_requires_copy_job=info["requires_copy_job"],
        compute_requires_upload_job=info["requires_upload_job"],
    )


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
