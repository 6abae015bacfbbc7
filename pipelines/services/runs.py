"""Running a pipeline: workflows and legacy pipeline instances."""

import logging
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from rest_framework.exceptions import ValidationError

from pipelines.models import (
    Pipeline,
    PipelineInstance,
    PluginPiping,
    Workflow,
)
from pipelines.services.trees import (
    TS_PARENTS,
    clean_default_value,
    clean_ts_piping_ids,
    in_dependency_order,
    piping_parents,
    split_list,
)
from plugins.models import PluginInstance, PluginType
from plugins.services.instances import (
    cancel_plugin_instance,
    choose_compute_resource,
    create_plugin_instance,
)
from plugins.status import ACTIVE_STATUSES

logger = logging.getLogger(__name__)

LIMIT_FIELDS = ("cpu_limit", "memory_limit", "number_of_workers", "gpu_limit")


@dataclass
class NodeRun:
    """What a caller chose for one piping's instance."""

    title: str | None = None
    compute_resource_name: str | None = None
    values: dict[str, Any] = field(default_factory=dict)


def clean_nodes_info(pipeline: Pipeline, nodes_info: list, *, field: str) -> dict[int, NodeRun]:
    """Check the per-piping choices of a run against the pipeline."""
    pipings = {
        piping.pk: piping
        for piping in pipeline.plugin_pipings.select_related("plugin__meta").prefetch_related(
            "plugin__parameters", "plugin__compute_resources"
        )
    }

    def error(message: str) -> ValidationError:
        return ValidationError({field: [message]})

    nodes: dict[int, NodeRun] = {}
    for entry in nodes_info:
        if not isinstance(entry, dict) or "piping_id" not in entry:
            raise error(f'Element does not specify "piping_id": {entry}')
        try:
            piping = pipings.get(int(entry["piping_id"]))
        except (TypeError, ValueError):
            piping = None
        if piping is None:
            raise error(f"Couldn't find any piping with id {entry['piping_id']} in this pipeline.")
        node = NodeRun()
        name = entry.get("compute_resource_name")
        if name:
            if not any(cr.name == name for cr in piping.plugin.compute_resources.all()):
                raise error(
                    f"Plugin for piping with id {piping.pk} has not been registered with a "
                    f"compute resource named {name}"
                )
            node.compute_resource_name = name
        title = entry.get("title")
        if title is not None:
            if not isinstance(title, str) or len(title) > 100:
                raise error(f"Invalid title {title} for piping with id {piping.pk}")
            node.title = title
        given = entry.get("plugin_parameter_defaults") or []
        if not isinstance(given, list):
            raise error(f"plugin_parameter_defaults of piping {piping.pk} must be a list.")
        parameters = {parameter.name: parameter for parameter in piping.plugin.parameters.all()}
        for default in given:
            parameter = parameters.get(default.get("name")) if isinstance(default, dict) else None
            if parameter is None:
                raise error(f"Invalid parameter default {default} for piping with id {piping.pk}")
            if default.get("default") is None:
                continue
            try:
                value = clean_default_value(parameter, default["default"])
                if parameter.name == TS_PARENTS and piping.plugin.meta.type == PluginType.TS:
                    value = clean_ts_piping_ids(piping, value, field=field)
            except ValidationError:
                raise error(
                    f"Invalid parameter default value {default['default']} for parameter "
                    f"'{parameter.name}' and piping with id {piping.pk}"
                ) from None
            node.values[parameter.name] = value
        nodes[piping.pk] = node
    return nodes


def check_limits(pipeline: Pipeline, limits: Mapping[str, int]) -> None:
    """Resource limits given for a whole run must suit every plugin of the pipeline."""
    for piping in pipeline.plugin_pipings.select_related("plugin"):
        plugin = piping.plugin
        for name, value in limits.items():
            low, high = getattr(plugin, f"min_{name}"), getattr(plugin, f"max_{name}")
            if not low <= value <= high:
                raise ValidationError({name: ["This field value is out of range."]})


def run_pipeline(
    pipeline: Pipeline,
    *,
    owner: User,
    previous: PluginInstance,
    nodes: Mapping[int, NodeRun],
    title: Callable[[PluginPiping], str],
    limits: Mapping[str, int],
) -> list[PluginInstance]:
    """Create and schedule one instance per piping, each after the instances it reads.

    Call inside a transaction: the instances then start in order once it commits (the
    first is scheduled, the rest wait for their parents).
    """
    pipings = list(
        pipeline.plugin_pipings.select_related("plugin__meta")
        .prefetch_related("parameter_defaults__plugin_param")
        .order_by("id")
    )

    def values_of(piping: PluginPiping) -> dict[str, Any]:
        values = {default.plugin_param.name: default.value for default in piping.defaults}
        values.update(nodes.get(piping.pk, NodeRun()).values)
        return values

    for piping in pipings:
        piping.defaults = list(piping.parameter_defaults.all())
    ordered = in_dependency_order(
        breadth_first(pipings),
        key=lambda piping: piping.pk,
        depends_on=lambda piping: piping_parents(piping, values_of(piping).get(TS_PARENTS)),
        field="nodes_info",
    )
    created: dict[int, PluginInstance] = {}
    for piping in ordered:
        node = nodes.get(piping.pk, NodeRun())
        parent = created[piping.previous_id] if piping.previous_id else previous
        parameters: dict[str, Any] = {}
        values = values_of(piping)
        for default in piping.defaults:
            parameter = default.plugin_param
            value = values[parameter.name]
            if parameter.name == TS_PARENTS and piping.plugin.meta.type == PluginType.TS:
                ids = [created[int(item)].pk for item in split_list(value)] or [parent.pk]
                value = ",".join(str(item) for item in ids)
            elif parameter.name not in node.values and value == parameter.default:
                continue  # the plugin's own default: stored only when it differs
            parameters[parameter.name] = value
        created[piping.pk] = create_plugin_instance(
            piping.plugin,
            owner=owner,
            previous=parent,
            parameters=parameters,
            compute_resource=choose_compute_resource(piping.plugin, node.compute_resource_name),
            title=node.title if node.title is not None else title(piping),
            limits=limits,
        )
    return list(created.values())


def breadth_first(pipings: Iterable[PluginPiping]) -> list[PluginPiping]:
    pipings = list(pipings)
    children = defaultdict(list)
    for piping in pipings:
        children[piping.previous_id].append(piping)
    ordered = []
    queue = deque(children[None])
    while queue:
        piping = queue.popleft()
        ordered.append(piping)
        queue.extend(children[piping.pk])
    return ordered


def create_workflow(
    pipeline: Pipeline,
    *,
    owner: User,
    previous: PluginInstance,
    nodes_info: list,
    title: str = "",
) -> Workflow:
    """Run the pipeline after ``previous``: one instance per piping, all in one transaction."""
    nodes = clean_nodes_info(pipeline, nodes_info, field="nodes_info")
    with transaction.atomic():
        workflow = Workflow.objects.create(
            pipeline=pipeline, owner=owner, title=title or pipeline.name
        )
        instances = run_pipeline(
            pipeline,
            owner=owner,
            previous=previous,
            nodes=nodes,
            title=lambda piping: piping.title,
            limits={},
        )
        PluginInstance.objects.filter(pk__in=[i.pk for i in instances]).update(workflow=workflow)
    logger.info("workflow %s of pipeline %s created for %s", workflow.pk, pipeline.pk, owner)
    return workflow


def parse_legacy_parameters(pipeline: Pipeline, data: Mapping[str, Any]) -> list[dict]:
    """Body keys ``<plugin id>_<piping id>_<previous piping id|null>_<param name>``."""
    piping_ids = set(pipeline.plugin_pipings.values_list("id", flat=True))
    defaults: dict[int, list] = defaultdict(list)
    for key, value in data.items():
        parts = str(key).split("_")
        if len(parts) < 4 or not parts[1].isdigit() or int(parts[1]) not in piping_ids:
            continue
        defaults[int(parts[1])].append({"name": "_".join(parts[3:]), "default": value})
    return [
        {"piping_id": piping_id, "plugin_parameter_defaults": values}
        for piping_id, values in defaults.items()
    ]


def create_pipeline_instance(
    pipeline: Pipeline,
    *,
    owner: User,
    previous: PluginInstance,
    data: Mapping[str, Any],
    title: str = "",
    description: str = "",
    **limits: int,
) -> PipelineInstance:
    """Run the pipeline the legacy way; unlike v5, the instances are scheduled."""
    nodes = clean_nodes_info(
        pipeline, parse_legacy_parameters(pipeline, data), field="non_field_errors"
    )
    limits = {name: value for name, value in limits.items() if name in LIMIT_FIELDS}
    check_limits(pipeline, limits)
    with transaction.atomic():
        pipeline_instance = PipelineInstance.objects.create(
            pipeline=pipeline, owner=owner, title=title, description=description, **limits
        )
        instances = run_pipeline(
            pipeline,
            owner=owner,
            previous=previous,
            nodes=nodes,
            title=lambda piping: title,
            limits=limits,
        )
        PluginInstance.objects.filter(pk__in=[i.pk for i in instances]).update(
            pipeline_inst=pipeline_instance
        )
    return pipeline_instance


def update_pipeline_instance(
    pipeline_instance: PipelineInstance,
    *,
    title: str | None = None,
    description: str | None = None,
) -> PipelineInstance:
    """Rename or redescribe a legacy run."""
    if title is not None:
        pipeline_instance.title = title
    if description is not None:
        pipeline_instance.description = description
    pipeline_instance.save(update_fields=["title", "description"])
    return pipeline_instance


def update_workflow(workflow: Workflow, *, title: str | None) -> Workflow:
    """Rename a workflow."""
    if title is not None and title != workflow.title:
        workflow.title = title
        workflow.save(update_fields=["title"])
    return workflow


def cancel_members(instances: Iterable[PluginInstance]) -> None:
    """Cancel the active instances of a run (and their active descendants)."""
    for instance in instances:
        instance.refresh_from_db(fields=["status"])
        if instance.status in ACTIVE_STATUSES:
            cancel_plugin_instance(instance)


def delete_workflow(workflow: Workflow) -> None:
    """Cancel the workflow's active instances and delete it; the instances remain."""
    with transaction.atomic():
        cancel_members(workflow.plugin_instances.order_by("id"))
        workflow.delete()


def delete_pipeline_instance(pipeline_instance: PipelineInstance) -> None:
    """Cancel the run's active instances and delete it; the instances remain."""
    with transaction.atomic():
        cancel_members(pipeline_instance.plugin_instances.order_by("id"))
        pipeline_instance.delete()
