"""Staff operations on plugins and compute resources that the public API does not offer."""

import logging

from django.db import transaction
from django.db.models import Count
from rest_framework.exceptions import ValidationError

from adminapi import store
from plugins.models import ComputeResource, Plugin

logger = logging.getLogger(__name__)


def fetch_store_descriptor(url: str) -> dict:
    """A plugin's JSON description from its URL in a ChRIS store (…/api/v1/plugins/<id>/)."""
    try:
        return store.plugin_at(url)
    except store.StoreError as error:
        raise ValidationError(
            {"plugin_store_url": [f"Could not get a plugin description from {url}: {error}"]}
        ) from error


def find_store_descriptor(store_url: str, *, name: str, version: str = "") -> dict:
    """A plugin's JSON description from a ChRIS store's API, by name and version."""
    try:
        return store.find_plugin(store_url, name, version)
    except store.StoreError as error:
        raise ValidationError({"store_url": [str(error)]}) from error


def set_plugin_compute_resources(plugin: Plugin, *, compute_names: list[str]) -> Plugin:
    """Replace the compute resources a plugin may run on."""
    resources = list(ComputeResource.objects.filter(name__in=compute_names))
    unknown = set(compute_names) - {resource.name for resource in resources}
    if unknown:
        raise ValidationError(
            {"compute_names": [f"Unknown compute resources: {', '.join(sorted(unknown))}."]}
        )
    plugin.compute_resources.set(resources)
    logger.info("plugin %s now runs on %s", plugin, ", ".join(compute_names))
    return plugin


def delete_plugin(plugin: Plugin) -> None:
    """Delete a plugin version, and its meta when no other version is left."""
    meta = plugin.meta
    with transaction.atomic():
        plugin.delete()
        if not meta.plugins.exists():
            meta.delete()
    logger.info("plugin %s %s deleted", meta.name, plugin.version)


def delete_compute_resource(compute_resource: ComputeResource) -> None:
    """Delete a compute resource unless some plugin would be left with none."""
    with transaction.atomic():
        stranded = (
            # pk__in keeps the filter's join out of the count.
            Plugin.objects.filter(pk__in=compute_resource.plugins.values("pk"))
            .annotate(resource_count=Count("compute_resources"))
            .filter(resource_count=1)
            .select_related("meta")
        )
        names = [f"{plugin.meta.name} {plugin.version}" for plugin in stranded]
        if names:
            raise ValidationError(
                {
                    "non_field_errors": [
                        "Can not delete compute resource: these plugins would be left without "
                        f"one: {', '.join(names)}."
                    ]
                }
            )
        compute_resource.delete()
    logger.info("compute resource %s deleted", compute_resource.name)
