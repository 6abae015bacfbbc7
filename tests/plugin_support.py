"""Plugins, compute resources and instances the tests build: descriptors shaped like
chris_plugin_info output, and ORM shortcuts that involve no job."""

from feeds.models import Feed, Note
from plugins.models import ComputeResource, PluginInstance
from plugins.status import Status
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
