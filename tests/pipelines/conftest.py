import pytest

from pipelines.services.trees import create_pipeline
from plugins.models import ComputeResource, PluginInstance
from plugins.services.registry import register_plugin
from tests.plugin_support import (
    DIRCOPY,
    SIMPLEDSAPP,
    TOPOLOGICALCOPY,
    diamond_tree,
    make_fs_instance,
)

LABELLER = {
    "name": "pl-labeller", "version": "0.1", "dock_image": "fnndsc/pl-labeller:0.1",
    "type": "ds", "selfpath": "/usr/local/bin", "selfexec": "labeller", "execshell": "",
    "parameters": [
        {"name": "label", "type": "str", "optional": False, "flag": "--label"},
        {"name": "inputs", "type": "path", "optional": False, "flag": "--inputs"},
    ],
}  # fmt: skip


@pytest.fixture
def compute_resource(db) -> ComputeResource:
    return ComputeResource.objects.create(
        name="host",
        compute_url="http://pfcon.invalid/api/v1/",
        compute_user="pfcon",
        compute_password="pfcon1234",
    )


@pytest.fixture
def other_compute_resource(db) -> ComputeResource:
    return ComputeResource.objects.create(
        name="galena",
        compute_url="http://galena.invalid/api/v1/",
        compute_user="pfcon",
        compute_password="pfcon1234",
    )


@pytest.fixture
def dircopy(compute_resource):
    return register_plugin(DIRCOPY, compute_names=[compute_resource.name])


@pytest.fixture
def simpledsapp(compute_resource, other_compute_resource):
    return register_plugin(
        SIMPLEDSAPP, compute_names=[compute_resource.name, other_compute_resource.name]
    )


@pytest.fixture
def labeller(compute_resource):
    return register_plugin(LABELLER, compute_names=[compute_resource.name])


@pytest.fixture
def topologicalcopy(compute_resource):
    return register_plugin(TOPOLOGICALCOPY, compute_names=[compute_resource.name])


@pytest.fixture
def fs_instance(user, dircopy) -> PluginInstance:
    return make_fs_instance(user, dircopy)


@pytest.fixture
def pipeline(user, simpledsapp, topologicalcopy):
    return create_pipeline(
        owner=user,
        name="Diamond",
        authors="Alice",
        category="Test",
        description="A diamond",
        plugin_tree=diamond_tree(simpledsapp, topologicalcopy),
    )


@pytest.fixture
def unlocked_pipeline(other_user, simpledsapp):
    return create_pipeline(
        owner=other_user,
        name="Public chain",
        locked=False,
        plugin_tree=[
            {"title": "a", "plugin_id": simpledsapp.pk, "previous": None},
            {"title": "b", "plugin_id": simpledsapp.pk, "previous": "a"},
        ],
    )
