"""Creating, scheduling, updating, cancelling and deleting plugin instances."""

import logging
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from rest_framework.exceptions import ValidationError

from feeds.models import Feed, Note
from plugins import tasks
from plugins.models import (
    ACTIVE_STATUSES,
    FAILED_STATUSES,
    PARAMETER_TYPE_ORDER,
    ComputeResource,
    ParameterType,
    Plugin,
    PluginInstance,
    PluginInstanceParameter,
    PluginInstanceSplit,
    PluginParameter,
    PluginType,
    Status,
)
from plugins.services.lifecycle import set_status
from plugins.services.paths import resolve_path_list

logger = logging.getLogger(__name__)

MAX_STRING_LENGTH = 600
MAX_PATH_LENGTH = 16000


def value_error(message: str) -> ValidationError:
    return ValidationError({"value": [message]})


def clean_parameter_value(parameter: PluginParameter, value: Any, *, user: User) -> Any:
    """Check a supplied value against the parameter's type and return it typed."""
    kind = parameter.type
    if kind == ParameterType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise value_error(f"'{value}' is not a valid boolean for parameter {parameter.name}.")
    if kind == ParameterType.INTEGER:
        if isinstance(value, bool):
            raise value_error(f"'{value}' is not a valid integer for parameter {parameter.name}.")
        try:
            number = float(value) if isinstance(value, float) else int(str(value).strip())
        except ValueError:
            raise value_error(
                f"'{value}' is not a valid integer for parameter {parameter.name}."
            ) from None
        if number != int(number):
            raise value_error(f"'{value}' is not a valid integer for parameter {parameter.name}.")
        return int(number)
    if kind == ParameterType.FLOAT:
        if isinstance(value, bool):
            raise value_error(f"'{value}' is not a valid float for parameter {parameter.name}.")
        try:
            return float(value)
        except (TypeError, ValueError):
            raise value_error(
                f"'{value}' is not a valid float for parameter {parameter.name}."
            ) from None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise value_error(f"Parameter {parameter.name} takes a string.")
    value = str(value)
    if kind in (ParameterType.PATH, ParameterType.UNEXTPATH):
        if len(value) > MAX_PATH_LENGTH:
            raise value_error(f"Parameter {parameter.name} is longer than {MAX_PATH_LENGTH}.")
        return resolve_path_list(value, user=user)
    if len(value) > MAX_STRING_LENGTH:
        raise value_error(f"Parameter {parameter.name} is longer than {MAX_STRING_LENGTH}.")
    return value


def clean_parameters(plugin: Plugin, data: Mapping[str, Any], *, user: User) -> list:
    """Validate the body's parameter values in the plugin's order; unknown keys are ignored."""
    cleaned = []
    for parameter in plugin.parameters.all():
        if parameter.name not in data:
            if not parameter.optional:
                raise ValidationError({parameter.name: ["This field is required."]})
            continue
        cleaned.append(
            (parameter, clean_parameter_value(parameter, data[parameter.name], user=user))
        )
    return cleaned


def find_previous(plugin: Plugin, data: Mapping[str, Any], *, user: User) -> PluginInstance | None:
    if plugin.meta.type == PluginType.FS:
        return None
    previous_id = data.get("previous_id")
    if previous_id in (None, ""):
        raise ValidationError({"previous_id": ["This field is required."]})
    try:
        previous_id = int(previous_id)
    except (TypeError, ValueError):
        raise ValidationError({"previous_id": ["A valid integer is required."]}) from None
    previous = PluginInstance.objects.select_related("feed").filter(pk=previous_id).first()
    if previous is None:
        raise ValidationError(
            {
                "previous_id": [
                    f"Couldn't find any 'previous' plugin instance with id {previous_id}."
                ]
            }
        )
    if not previous.feed.is_owned_by(user):
        raise ValidationError(
            {
                "previous_id": [
                    f"User is not an owner of feed for previous instance with id {previous_id}."
                ]
            }
        )
    return previous


def check_topology(previous: PluginInstance, cleaned: list) -> list:
    """A ts instance's ``plugininstances`` must include its previous and share its feed."""
    result = []
    for parameter, value in cleaned:
        if parameter.name == "plugininstances" and value:
            try:
                ids = [int(item) for item in value.split(",")]
            except ValueError:
                raise value_error(
                    "plugininstances must be a comma-separated list of ids."
                ) from None
            if previous.pk not in ids:
                raise value_error(f"plugininstances must contain the previous id {previous.pk}.")
            found = PluginInstance.objects.filter(pk__in=ids, feed_id=previous.feed_id).count()
            if found != len(set(ids)):
                raise value_error("Every plugin instance must exist and be in the same feed.")
            value = ",".join(str(item) for item in ids)
        elif parameter.name == "filter" and value:
            value = ",".join(item.strip() for item in value.split(","))
        result.append((parameter, value))
    return result


def choose_compute_resource(plugin: Plugin, name: str | None) -> ComputeResource:
    resources = plugin.compute_resources.order_by("id")
    if name:
        return resources.get(name=name)
    resource = resources.first()
    if resource is None:
        raise ValidationError(
            {"compute_resource_name": [f"Plugin '{plugin.meta.name}' has no compute resource."]}
        )
    return resource


def create_plugin_instance(
    plugin: Plugin, *, owner: User, data: Mapping[str, Any], **fields
) -> PluginInstance:
    """Validate parameters, save the instance (and a feed for fs plugins), and schedule it.

    ``fields`` are the serializer-validated instance fields; ``data`` is the raw body that
    carries ``previous_id`` and the parameter values.
    """
    previous = find_previous(plugin, data, user=owner)
    cleaned = clean_parameters(plugin, data, user=owner)
    if plugin.meta.type == PluginType.TS:
        cleaned = check_topology(previous, cleaned)
    compute_resource = choose_compute_resource(plugin, fields.get("compute_resource_name"))
    title = fields.get("title", "")
    with transaction.atomic():
        if previous is None:
            feed = Feed.objects.create(name=title or plugin.meta.name, creator=owner)
            feed.owner.add(owner)
            Note.objects.create(feed=feed)
        else:
            feed = previous.feed
        instance = PluginInstance.objects.create(
            title=title,
            plugin=plugin,
            owner=owner,
            previous=previous,
            feed=feed,
            compute_resource=compute_resource,
            cpu_limit=fields.get("cpu_limit", plugin.min_cpu_limit),
            memory_limit=fields.get("memory_limit", plugin.min_memory_limit),
            number_of_workers=fields.get("number_of_workers", plugin.min_number_of_workers),
            gpu_limit=fields.get("gpu_limit", plugin.min_gpu_limit),
        )
        instance.output_path = output_path_of(instance)
        instance.save(update_fields=["output_path"])
        PluginInstanceParameter.objects.bulk_create(
            PluginInstanceParameter(plugin_inst=instance, plugin_param=parameter, value=value)
            for parameter, value in cleaned
        )
        run_if_ready(instance)
    logger.info("instance %s of %s created for %s", instance.pk, plugin, owner.username)
    return instance


def output_path_of(instance: PluginInstance) -> str:
    """``<creator>/feed_<id>/<fs>_<id>/.../<plugin>_<id>/data``."""
    folder = f"{instance.plugin.meta.name}_{instance.pk}"
    if instance.previous is None:
        return f"{instance.feed.creator.username}/feed_{instance.feed_id}/{folder}/data"
    parent_folder = instance.previous.output_path.removesuffix("/data")
    return f"{parent_folder}/{folder}/data"


def parent_statuses(instance: PluginInstance) -> list[str]:
    """Statuses of the instances this one waits for (ts: every listed parent)."""
    if instance.plugin.meta.type == PluginType.TS:
        value = (
            instance.parameter_values.filter(plugin_param__name="plugininstances")
            .values_list("value", flat=True)
            .first()
        )
        if value:
            ids = [int(item) for item in value.split(",")]
            return list(PluginInstance.objects.filter(pk__in=ids).values_list("status", flat=True))
    if instance.previous_id is None:
        return []
    return [PluginInstance.objects.values_list("status", flat=True).get(pk=instance.previous_id)]


def run_if_ready(instance: PluginInstance) -> None:
    """Schedule the instance if its parents finished, wait, or cancel it if one failed."""
    statuses = parent_statuses(instance)
    if any(status in ACTIVE_STATUSES for status in statuses):
        if instance.status != Status.WAITING:
            set_status(instance, Status.WAITING)
    elif any(status in FAILED_STATUSES for status in statuses):
        set_status(instance, Status.CANCELLED)
    elif set_status(instance, Status.SCHEDULED):
        pk = instance.pk
        transaction.on_commit(lambda: tasks.submit_plugin_instance.delay(pk))


def sort_parameter_values(values: list) -> list:
    """Parameter values in the order they are listed and passed: by type, then by id."""
    return sorted(values, key=lambda v: (PARAMETER_TYPE_ORDER.index(v.plugin_param.type), v.pk))


def descendant_ids(instance: PluginInstance) -> list[int]:
    """The instance's id and those of all its descendants, breadth first."""
    ids = [instance.pk]
    frontier = [instance.pk]
    while frontier:
        frontier = list(
            PluginInstance.objects.filter(previous_id__in=frontier).values_list("pk", flat=True)
        )
        ids.extend(frontier)
    return ids


def cancel_plugin_instance(instance: PluginInstance) -> None:
    """Cancel the instance and its active descendants; stop remote jobs that are running."""
    with transaction.atomic():
        targets = PluginInstance.objects.filter(
            pk__in=descendant_ids(instance), status__in=ACTIVE_STATUSES
        )
        for target in targets:
            was_submitted = target.status in (Status.SCHEDULED, Status.STARTED)
            if set_status(target, Status.CANCELLED) and was_submitted:
                pk = target.pk
                transaction.on_commit(lambda pk=pk: tasks.delete_remote_job.delay(pk))
    instance.refresh_from_db()


def update_plugin_instance(instance: PluginInstance, *, title: str | None, status: str | None):
    """Rename the instance, and cancel it when asked to."""
    if title is not None and title != instance.title:
        instance.title = title
        instance.save(update_fields=["title"])
    if status == Status.CANCELLED and instance.status != Status.CANCELLED:
        cancel_plugin_instance(instance)
    return instance


def delete_plugin_instance(instance: PluginInstance) -> None:
    """Stop the instance's subtree, then delete its rows and its stored outputs."""
    from plugins.services.jobs import stop_remote_jobs
    from storage import get_storage

    stop_remote_jobs(PluginInstance.objects.filter(pk__in=descendant_ids(instance)))
    cancel_plugin_instance(instance)
    output_folder = instance.output_path.removesuffix("/data")
    with transaction.atomic():
        instance.delete()
        transaction.on_commit(lambda: get_storage().delete_folder(output_folder))


def create_split(
    instance: PluginInstance, *, owner: User, filter: str, compute_resource_name: str | None
) -> PluginInstanceSplit:
    """Fan an instance out into one pl-topologicalcopy instance per filter regex."""
    plugin = Plugin.objects.filter(meta__name="pl-topologicalcopy").order_by("-id").first()
    if plugin is None:
        raise ValidationError(
            ["Could not find plugin 'pl-topologicalcopy'. Please contact your ChRIS admin."]
        )
    if (
        compute_resource_name
        and not plugin.compute_resources.filter(name=compute_resource_name).exists()
    ):
        raise ValidationError(
            {
                "compute_resource_name": [
                    f"Plugin 'pl-topologicalcopy' has not been registered with compute resource "
                    f"'{compute_resource_name}'."
                ]
            }
        )
    regexes = [item.strip() for item in filter.split(",")] if filter.strip() else [""]
    with transaction.atomic():
        created = []
        for regex in regexes:
            data = {"previous_id": instance.pk, "plugininstances": str(instance.pk)}
            if regex:
                data["filter"] = regex
            created.append(
                create_plugin_instance(
                    plugin,
                    owner=owner,
                    data=data,
                    compute_resource_name=compute_resource_name,
                )
            )
        return PluginInstanceSplit.objects.create(
            plugin_inst=instance,
            filter=",".join(regexes),
            created_plugin_inst_ids=",".join(str(item.pk) for item in created),
        )
