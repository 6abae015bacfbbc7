"""Staff operations on plugins and compute resources that the public API does not offer."""

import json
import logging
import urllib.error
import urllib.request

from django.db import transaction
from django.db.models import Count
from rest_framework.exceptions import ValidationError

from plugins.models import ComputeResource, Plugin

logger = logging.getLogger(__name__)

STORE_TIMEOUT_SECONDS = 30


def fetch_store_descriptor(url: str) -> dict:
    """Download a plugin's JSON description from a plugin store URL."""
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=STORE_TIMEOUT_SECONDS) as response:
            descriptor = json.load(response)
    except (OSError, ValueError) as error:
        raise ValidationError(
            {"plugin_store_url": [f"Could not get a plugin description from {url}: {error}"]}
        ) from error
    if not isinstance(descriptor, dict):
        raise ValidationError({"plugin_store_url": ["The store did not answer a JSON object."]})
    return descriptor


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
