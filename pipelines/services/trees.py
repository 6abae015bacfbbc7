"""Plugin trees: validating them, saving them as pipings, and their default parameters."""

import logging
from collections import defaultdict, deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from pipelines.models import (
    DefaultPipingParameter,
    Pipeline,
    PluginPiping,
)
from plugins.models import (
    Plugin,
    PluginInstance,
    PluginParameter,
    PluginType,
)
from plugins.services.parameters import (
    clean_parameter_value,
)

logger = logging.getLogger(__name__)

TS_PARENTS = "plugininstances"

Key = TypeVar("Key", bound=Hashable)
Item = TypeVar("Item")


def tree_error(message: str) -> ValidationError:
    return ValidationError({"plugin_tree": [message]})


def split_list(value: Any) -> list[str]:
    """Items of a comma-separated list; the empty string is the empty list."""
    return [item.strip() for item in str(value).split(",")] if value not in (None, "") else []


def clean_default_value(parameter: PluginParameter, value: Any) -> Any:
    """Check a default against the parameter's type and rules and return it typed.

    Path values stay as given: they are checked against the running user's paths when a
    workflow creates its instances.
    """
    return clean_parameter_value(parameter, value, user=None)


def in_dependency_order(
    items: list[Item],
    *,
    key: Callable[[Item], Key],
    depends_on: Callable[[Item], set[Key]],
    field: str = "plugin_tree",
) -> list[Item]:
    """The items in their given order, except that each comes after everything it needs."""
    done: set[Key] = set()
    pending = list(items)
    ordered = []
    while pending:
        ready = next((item for item in pending if depends_on(item) <= done), None)
        if ready is None:
            names = ", ".join(str(key(item)) for item in pending)
            raise ValidationError(
                {field: [f"Pipeline's DAG has a cycle among the nodes: {names}."]}
            )
        pending.remove(ready)
        done.add(key(ready))
        ordered.append(ready)
    return ordered


# --- plugin trees -------------------------------------------------------------------------


@dataclass
class TreeNode:
    title: str
    plugin: Plugin
    previous: str | None
    # Every parameter of the plugin with its default, in the plugin's order; a ts node's
    # ``plugininstances`` lists node titles.
    defaults: list[tuple[PluginParameter, Any]]

    def parents(self) -> set[str]:
        parents = {self.previous} if self.previous else set()
        for parameter, value in self.defaults:
            if parameter.name == TS_PARENTS and self.plugin.meta.type == PluginType.TS:
                parents.update(split_list(value))
        return parents


def find_plugin(node: dict, title: str) -> Plugin:
    plugins = Plugin.objects.select_related("meta")
    if node.get("plugin_id") is not None:
        try:
            plugin_id = int(node["plugin_id"])
        except (TypeError, ValueError):
            raise tree_error(
                f"Invalid plugin_id {node['plugin_id']!r} in node '{title}'."
            ) from None
        plugin = plugins.filter(pk=plugin_id).first()
        if plugin is None:
            raise tree_error(f"Couldn't find any plugin with id {plugin_id}.")
    elif node.get("plugin_name") is not None and node.get("plugin_version") is not None:
        name, version = str(node["plugin_name"]), str(node["plugin_version"])
        plugin = plugins.filter(meta__name=name, version=version).first()
        if plugin is None:
            raise tree_error(f"Couldn't find any plugin with name {name} and version {version}.")
    else:
        raise tree_error(
            f"Node '{title}' must have either plugin_id or plugin_name and plugin_version."
        )
    if plugin.meta.type == PluginType.FS:
        raise tree_error(
            f"Plugin {plugin} is of type 'fs' and therefore can not be used to create a pipeline."
        )
    return plugin


def clean_ts_parents(value: str, *, plugin: Plugin, previous: str | None, titles: set) -> str:
    parents = split_list(value)
    prefix = f"Invalid default value '{value}' for parameter plugininstances for plugin "
    if previous is None:
        if parents:
            raise tree_error(
                "The plugininstances parameter's default must be the empty string for 'ts' "
                "plugins with null previous."
            )
        return ""
    if previous not in parents:
        raise tree_error(f"{prefix}{plugin.meta.name}. Must contain the title of the previous.")
    if len(parents) != len(set(parents)):
        raise tree_error(f"{prefix}{plugin.meta.name}. Duplicated title.")
    for title in parents:
        if title not in titles:
            raise tree_error(
                f"{prefix}{plugin.meta.name}. Could not find any node with title '{title}'."
            )
    return ",".join(parents)


def clean_node_defaults(
    plugin: Plugin, given: Any, *, previous: str | None, titles: set
) -> list[tuple[PluginParameter, Any]]:
    """Every parameter of the plugin with the node's default, or else the plugin's."""
    if given is None:
        given = []
    if not isinstance(given, list):
        raise tree_error(f"plugin_parameter_defaults of plugin {plugin.meta.name} must be a list.")
    parameters = {parameter.name: parameter for parameter in plugin.parameters.all()}
    supplied = {}
    for entry in given:
        if not isinstance(entry, dict) or "name" not in entry or "default" not in entry:
            raise tree_error(
                f"Invalid parameter default object {entry}. Each default object must have "
                f"'name' and 'default' properties."
            )
        parameter = parameters.get(entry["name"])
        if parameter is None:
            raise tree_error(
                f"Could not find any parameter with name {entry['name']} for plugin "
                f"{plugin.meta.name}."
            )
        if entry["default"] is None:
            continue
        try:
            supplied[parameter.name] = clean_default_value(parameter, entry["default"])
        except ValidationError:
            raise tree_error(
                f"Invalid default value {entry['default']} for parameter {parameter.name} for "
                f"plugin {plugin.meta.name}."
            ) from None
    defaults = []
    for name, parameter in parameters.items():
        value = supplied.get(name, parameter.default)
        if value is None:
            raise tree_error(
                f"Missing default value for parameter {name} for plugin {plugin}. Pipeline can "
                f"not be created until all plugin parameters have default values."
            )
        if name == TS_PARENTS and plugin.meta.type == PluginType.TS:
            value = clean_ts_parents(value, plugin=plugin, previous=previous, titles=titles)
        defaults.append((parameter, value))
    return defaults


def clean_plugin_tree(nodes: list) -> list[TreeNode]:
    """Validate a plugin tree; return its nodes breadth-first from the root.

    Titles are unique and non-empty, there is one root, no fs plugin, every parameter has
    a default, and a ts node's ``plugininstances`` names its previous among its parents.
    """
    if not nodes:
        raise tree_error("Invalid empty list.")
    titles: dict[str, dict] = {}
    for node in nodes:
        if not isinstance(node, dict):
            raise tree_error(f"Invalid node {node!r}: every node must be a JSON object.")
        title = node.get("title")
        if not isinstance(title, str) or not title.strip():
            raise tree_error("All nodes in the pipeline must have a non-empty title.")
        if len(title) > 100:
            raise tree_error(f"Invalid title '{title}': longer than 100 characters.")
        if title in titles:
            raise tree_error("Pipeline tree can not contain duplicated titles.")
        titles[title] = node
    roots = [title for title, node in titles.items() if node.get("previous") is None]
    if len(roots) != 1:
        raise tree_error(
            "Pipeline tree must have exactly one root (a node whose previous is null)."
        )
    parsed: dict[str, TreeNode] = {}
    children: dict[str, list[str]] = defaultdict(list)
    for title, node in titles.items():
        previous = node.get("previous")
        if previous is not None:
            if not isinstance(previous, str) or previous not in titles:
                raise tree_error(f"Could not find any node with title '{previous}'.")
            children[previous].append(title)
        plugin = find_plugin(node, title)
        defaults = clean_node_defaults(
            plugin, node.get("plugin_parameter_defaults"), previous=previous, titles=set(titles)
        )
        parsed[title] = TreeNode(title=title, plugin=plugin, previous=previous, defaults=defaults)
    ordered = []
    queue = deque(roots)
    while queue:
        title = queue.popleft()
        ordered.append(parsed[title])
        queue.extend(children[title])
    if len(ordered) != len(parsed):
        raise tree_error("Pipeline's tree is not connected.")
    in_dependency_order(ordered, key=lambda node: node.title, depends_on=TreeNode.parents)
    return ordered


def tree_from_instance(root: PluginInstance) -> list[dict]:
    """A plugin tree copied from a ds instance and its descendants, with their values.

    An instance without a title is named ``<plugin name>_<instance id>``.
    """
    ids = PluginInstance.objects.descendant_ids(root.pk)
    instances = {
        instance.pk: instance
        for instance in PluginInstance.objects.filter(pk__in=ids)
        .select_related("plugin__meta")
        .prefetch_related("parameter_values__plugin_param")
    }
    titles = {pk: inst.title or f"{inst.plugin.meta.name}_{pk}" for pk, inst in instances.items()}
    if len(set(titles.values())) != len(titles):
        raise ValidationError(
            {"plugin_inst_id": ["The tree of plugin instances contains duplicated titles."]}
        )
    nodes = []
    for pk in ids:
        instance = instances[pk]
        defaults = []
        for value in instance.parameter_values.all():
            default = value.value
            if value.plugin_param.name == TS_PARENTS and instance.plugin.meta.type == "ts":
                parents = [int(item) for item in split_list(default)]
                if any(parent not in titles for parent in parents):
                    raise ValidationError(
                        {
                            "plugin_inst_id": [
                                f"Plugin instance {pk} joins instances outside the copied tree."
                            ]
                        }
                    )
                default = ",".join(titles[parent] for parent in parents)
            defaults.append({"name": value.plugin_param.name, "default": default})
        nodes.append(
            {
                "title": titles[pk],
                "plugin_id": instance.plugin_id,
                "previous": None if pk == root.pk else titles[instance.previous_id],
                "plugin_parameter_defaults": defaults,
            }
        )
    return nodes


def save_plugin_tree(pipeline: Pipeline, nodes: list[TreeNode]) -> None:
    """Save validated nodes as pipings; ts parents are stored as piping ids."""
    pipings: dict[str, PluginPiping] = {}
    for node in nodes:
        pipings[node.title] = PluginPiping.objects.create(
            pipeline=pipeline,
            title=node.title,
            plugin=node.plugin,
            previous=pipings.get(node.previous) if node.previous else None,
        )
    rows = []
    for node in nodes:
        for parameter, value in node.defaults:
            if parameter.name == TS_PARENTS and node.plugin.meta.type == PluginType.TS:
                value = ",".join(str(pipings[title].pk) for title in split_list(value))
            rows.append(
                DefaultPipingParameter(
                    plugin_piping=pipings[node.title], plugin_param=parameter, value=value
                )
            )
    DefaultPipingParameter.objects.bulk_create(rows)


def create_pipeline(
    *,
    owner: User,
    plugin_tree: list | None = None,
    plugin_instance: PluginInstance | None = None,
    **fields,
) -> Pipeline:
    """Create a pipeline from a plugin tree, or from a copy of an instance's subtree."""
    if plugin_tree is None:
        if plugin_instance is None:
            raise ValidationError(
                {
                    "non_field_errors": [
                        "At least one of the fields 'plugin_tree' or 'plugin_inst_id' must be "
                        "provided."
                    ]
                }
            )
        try:
            nodes = clean_plugin_tree(tree_from_instance(plugin_instance))
        except ValidationError as error:
            detail = error.detail
            raise ValidationError(
                {"plugin_inst_id": detail.get("plugin_tree", detail)}
                if isinstance(detail, dict)
                else detail
            ) from None
    else:
        nodes = clean_plugin_tree(plugin_tree)
    with transaction.atomic():
        pipeline = Pipeline.objects.create(owner=owner, **fields)
        save_plugin_tree(pipeline, nodes)
    logger.info("pipeline %s created by %s", pipeline.pk, owner.username)
    return pipeline


def update_pipeline(pipeline: Pipeline, **fields) -> Pipeline:
    """Change the descriptive fields; a pipeline may be unlocked but never locked again."""
    if not pipeline.locked:
        fields.pop("locked", None)
    for name, value in fields.items():
        setattr(pipeline, name, value)
    pipeline.save()
    return pipeline


def plugin_tree_of(pipeline: Pipeline) -> list[dict]:
    """The pipeline as a plugin tree that could create it again."""
    pipings = list(pipeline.plugin_pipings.select_related("plugin__meta").order_by("id"))
    titles = {piping.pk: piping.title for piping in pipings}
    defaults = defaultdict(list)
    for default in DefaultPipingParameter.objects.filter(
        plugin_piping__pipeline=pipeline
    ).select_related("plugin_param"):
        defaults[default.plugin_piping_id].append(default)
    tree = []
    for piping in pipings:
        values = []
        for default in defaults[piping.pk]:
            value = default.value
            if default.plugin_param.name == TS_PARENTS and piping.plugin.meta.type == "ts":
                value = ",".join(titles.get(int(item), item) for item in split_list(value))
            values.append({"name": default.plugin_param.name, "default": value})
        tree.append(
            {
                "title": piping.title,
                "plugin_id": piping.plugin_id,
                "plugin_name": piping.plugin.meta.name,
                "plugin_version": piping.plugin.version,
                "previous": titles.get(piping.previous_id),
                "plugin_parameter_defaults": values,
            }
        )
    return tree


def piping_parents(piping: PluginPiping, ts_value: Any) -> set[int]:
    parents = {piping.previous_id} if piping.previous_id else set()
    if piping.plugin.meta.type == PluginType.TS:
        parents.update(int(item) for item in split_list(ts_value))
    return parents


def update_default_parameter(default: DefaultPipingParameter, *, value: Any) -> None:
    """Change a piping's default; a ts piping's parents must stay a valid DAG."""
    parameter = default.plugin_param
    value = clean_default_value(parameter, value)
    piping = default.plugin_piping
    if parameter.name == TS_PARENTS and piping.plugin.meta.type == PluginType.TS:
        value = clean_ts_piping_ids(piping, value, field="value")
        others = {
            other.plugin_piping_id: other.value
            for other in DefaultPipingParameter.objects.filter(
                plugin_piping__pipeline_id=piping.pipeline_id, plugin_param__name=TS_PARENTS
            )
        }
        others[piping.pk] = value
        pipings = list(
            PluginPiping.objects.filter(pipeline_id=piping.pipeline_id).select_related(
                "plugin__meta"
            )
        )
        in_dependency_order(
            pipings,
            key=lambda item: item.pk,
            depends_on=lambda item: piping_parents(item, others.get(item.pk)),
            field="value",
        )
    with transaction.atomic():
        default.value = value
        default.save(update_fields=["value"])
        Pipeline.objects.filter(pk=piping.pipeline_id).update(modification_date=timezone.now())


def clean_ts_piping_ids(piping: PluginPiping, value: str, *, field: str) -> str:
    """A ts piping's parents: piping ids of its pipeline that include its previous."""
    try:
        ids = [int(item) for item in split_list(value)]
    except ValueError:
        raise ValidationError(
            {field: ["plugininstances must be a comma-separated list of piping ids."]}
        ) from None
    if piping.previous_id is None:
        if ids:
            raise ValidationError({field: ["plugininstances must be empty for the root piping."]})
        return ""
    if piping.previous_id not in ids or len(ids) != len(set(ids)):
        raise ValidationError(
            {field: [f"plugininstances must list the previous piping {piping.previous_id} once."]}
        )
    found = PluginPiping.objects.filter(pk__in=ids, pipeline_id=piping.pipeline_id).count()
    if found != len(ids):
        raise ValidationError({field: ["Every piping in plugininstances must be in the pipeline."]})
    return ",".join(str(item) for item in ids)
