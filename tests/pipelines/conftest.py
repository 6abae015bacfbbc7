import json

import pytest

from feeds.models import Feed, Note
from pipelines.services.trees import create_pipeline
from plugins.models import ComputeResource, PluginInstance, Status
from plugins.services.registry import register_plugin

DIRCOPY = {
    "name": "pl-dircopy", "version": "2.1.1", "dock_image": "fnndsc/pl-dircopy:2.1.1",
    "type": "fs", "selfpath": "/usr/local/bin", "selfexec": "dircopy", "execshell": "",
    "parameters": [
        {"name": "dir", "type": "unextpath", "optional": False, "flag": "--dir"},
    ],
}  # fmt: skip
SIMPLEDSAPP = {
    "name": "pl-simpledsapp", "version": "2.1.3", "dock_image": "fnndsc/pl-simpledsapp:2.1.3",
    "type": "ds", "selfpath": "/usr/local/bin", "selfexec": "simpledsapp", "execshell": "",
    "parameters": [
        {"name": "prefix", "type": "str", "optional": True, "flag": "--prefix",
         "default": ""},
        {"name": "b_ignoreInputDir", "type": "bool", "optional": True,
         "flag": "--ignoreInputDir", "action": "store_true", "default": False},
        {"name": "dummyInt", "type": "int", "optional": True, "flag": "--dummyInt",
         "default": 1},
        {"name": "dummyFloat", "type": "float", "optional": True, "flag": "--dummyFloat",
         "default": 1.1},
    ],
}  # fmt: skip
LABELLER = {
    "name": "pl-labeller", "version": "0.1", "dock_image": "fnndsc/pl-labeller:0.1",
    "type": "ds", "selfpath": "/usr/local/bin", "selfexec": "labeller", "execshell": "",
    "parameters": [
        {"name": "label", "type": "str", "optional": False, "flag": "--label"},
        {"name": "inputs", "type": "path", "optional": False, "flag": "--inputs"},
    ],
}  # fmt: skip
TOPOLOGICALCOPY = {
    "name": "pl-topologicalcopy", "version": "1.0.12",
    "dock_image": "fnndsc/pl-topologicalcopy:1.0.12", "type": "ts",
    "selfpath": "/usr/local/bin", "selfexec": "topologicalcopy", "execshell": "",
    "parameters": [
        {"name": "plugininstances", "type": "str", "optional": True,
         "flag": "--plugininstances", "default": ""},
        {"name": "filter", "type": "str", "optional": True, "flag": "--filter", "default": ""},
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


def make_fs_instance(owner, plugin, status=Status.FINISHED_SUCCESSFULLY) -> PluginInstance:
    """A feed's root instance, built with the ORM so no job is involved."""
    feed = Feed.objects.create(name="feed", creator=owner)
    feed.owner.add(owner)
    Note.objects.create(feed=feed)
    instance = PluginInstance.objects.create(
        plugin=plugin,
        owner=owner,
        feed=feed,
        status=status,
        cpu_limit=1000,
        memory_limit=200,
        number_of_workers=1,
        gpu_limit=0,
    )
    instance.output_path = f"{owner.username}/feed_{feed.pk}/{plugin.meta.name}_{instance.pk}/data"
    instance.save(update_fields=["output_path"])
    return instance


@pytest.fixture
def fs_instance(user, dircopy) -> PluginInstance:
    return make_fs_instance(user, dircopy)


def diamond_tree(simpledsapp, topologicalcopy) -> list[dict]:
    """root -> (left, right); join (ts) after left, joining left and right."""
    return [
        {"title": "root", "plugin_id": simpledsapp.pk, "previous": None,
         "plugin_parameter_defaults": [{"name": "dummyInt", "default": 7}]},
        {"title": "left", "plugin_name": "pl-simpledsapp", "plugin_version": "2.1.3",
         "previous": "root", "plugin_parameter_defaults": [{"name": "prefix", "default": "L"}]},
        {"title": "right", "plugin_id": simpledsapp.pk, "previous": "root"},
        {"title": "join", "plugin_id": topologicalcopy.pk, "previous": "left",
         "plugin_parameter_defaults": [
             {"name": "plugininstances", "default": "left,right"},
             {"name": "filter", "default": ".*"},
         ]},
    ]  # fmt: skip


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


def tree_json(nodes: list[dict]) -> str:
    return json.dumps(nodes)
