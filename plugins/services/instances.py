"""Creating, scheduling, updating, cancelling and deleting plugin instances."""

import logging
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet
from rest_framework.exceptions import APIException, NotFound, ValidationError

from cube.storage import get_storage
from plugins.models import (
    ComputeResource,
    Plugin,
    PluginInstance,
    PluginInstanceParameter,
    PluginInstanceSplit,
    PluginType,
)
from plugins.services import scheduler
from plugins.services.lifecycle import set_status
from plugins.services.parameters import check_topology, clean_parameters
from plugins.status import ACTIVE_STATUSES, FAILED_STATUSES, Status

logger = logging.getLogger(__name__)


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
    plugin: Plugin,
    *,
    owner: User,
    parameters: Mapping[str, Any],
    previous: PluginInstance | None = None,
    compute_resource: ComputeResource | None = None,
    title: str = "",
    limits: Mapping[str, int] | None = None,
) -> PluginInstance:
    """Save an instance (and a feed for an fs plugin) and schedule it.

    ``parameters`` are raw values by parameter name, checked here against the plugin's
    parameters and the owner's paths. The caller has resolved ``previous`` (the owner's own,
    required for ds and ts plugins) and ``compute_resource`` (the plugin's first when None);
    ``limits`` are within the plugin's bounds, and default to its minimums.
    """
    cleaned = clean_parameters(plugin, parameters, user=owner)
    if plugin.meta.type == PluginType.TS:
        cleaned = check_topology(previous, cleaned)
    compute_resource = compute_resource or choose_compute_resource(plugin, None)
    limits = limits or {}
    with transaction.atomic():
        if previous is None:
            feed = owner.created_feeds.create_with_note(
                name=title or plugin.meta.name, creator=owner
            )
        else:
            feed = previous.feed
        instance = PluginInstance.objects.create(
            title=title,
            plugin=plugin,
            owner=owner,
            previous=previous,
            feed=feed,
            compute_resource=compute_resource,
            cpu_limit=limits.get("cpu_limit", plugin.min_cpu_limit),
            memory_limit=limits.get("memory_limit", plugin.min_memory_limit),
            number_of_workers=limits.get("number_of_workers", plugin.min_number_of_workers),
            gpu_limit=limits.get("gpu_limit", plugin.min_gpu_limit),
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
        scheduler.submit(instance.pk)


def cancel_plugin_instance(instance: PluginInstance) -> None:
    """Cancel the instance and its active descendants; stop remote jobs that are running."""
    with transaction.atomic():
        targets = PluginInstance.objects.filter(
            pk__in=PluginInstance.objects.descendant_ids(instance.pk), status__in=ACTIVE_STATUSES
        )
        for target in targets:
            was_submitted = target.status in (Status.SCHEDULED, Status.STARTED)
            if set_status(target, Status.CANCELLED) and was_submitted:
                scheduler.remove_remote_job(target)
    instance.refresh_from_db()


def update_plugin_instance(instance: PluginInstance, *, title: str | None, status: str | None):
    """Rename the instance, and cancel it when asked to."""
    if title is not None and title != instance.title:
        instance.title = title
        instance.save(update_fields=["title"])
    if status == Status.CANCELLED and instance.status != Status.CANCELLED:
        cancel_plugin_instance(instance)
    return instance


class RegistrationInProgress(APIException):
    status_code = 409
    default_detail = (
        "A plugin instance of this subtree is registering its output files; "
        "delete it once that has finished."
    )


def delete_instances(instances: QuerySet, *, folder: str) -> None:
    """Delete instances (and what cascades from them) and the storage folder of their outputs.

    Runs in the caller's transaction. The rows are locked first, so a worker cannot start
    registering files meanwhile; one already registering wins, and the delete answers 409
    rather than leave files in storage that no row names. Remote jobs are stopped by a task
    once the delete has committed: a request never waits on the compute service.
    """
    # Only the instance rows: PostgreSQL refuses FOR UPDATE on the nullable side of a join.
    locked = list(
        instances.select_for_update(of=("self",)).select_related("compute_resource", "plugin")
    )
    if any(instance.status == Status.REGISTERING_FILES for instance in locked):
        raise RegistrationInProgress()
    for instance in locked:
        if instance.status in (Status.SCHEDULED, Status.STARTED):
            scheduler.remove_remote_job(instance)
    instances.delete()
    transaction.on_commit(lambda: get_storage().delete_folder(folder))


def delete_plugin_instance(instance: PluginInstance) -> None:
    """Delete an instance with its subtree, their outputs and their remote jobs."""
    with transaction.atomic():
        if not PluginInstance.objects.select_for_update().filter(pk=instance.pk).exists():
            raise NotFound()  # a concurrent delete won
        delete_instances(
            PluginInstance.objects.filter(
                pk__in=PluginInstance.objects.descendant_ids(instance.pk)
            ),
            folder=instance.output_path.removesuffix("/data"),
        )


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
    compute_resource = choose_compute_resource(plugin, compute_resource_name)
    with transaction.atomic():
        created = []
        for regex in regexes:
            parameters = {"plugininstances": str(instance.pk)}
            if regex:
                parameters["filter"] = regex
            created.append(
                create_plugin_instance(
                    plugin,
                    owner=owner,
                    previous=instance,
                    parameters=parameters,
                    compute_resource=compute_resource,
                )
            )
        return PluginInstanceSplit.objects.create(
            plugin_inst=instance,
            filter=",".join(regexes),
            created_plugin_inst_ids=",".join(str(item.pk) for item in created),
        )
