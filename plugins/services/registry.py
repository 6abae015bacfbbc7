"""Registering compute resources and plugins."""

import logging
import re
from typing import Any

from django.db import transaction
from rest_framework.exceptions import ValidationError

from pfcon_client import PfconError
from plugins.fields import parse_cpu, parse_memory
from plugins.models import MAX_INT, ComputeResource, Plugin, PluginMeta, PluginParameter
from plugins.services.compute import client_for

logger = logging.getLogger(__name__)

DESCRIPTOR_TYPES = {
    "str": "string",
    "int": "integer",
    "float": "float",
    "bool": "boolean",
    "path": "path",
    "unextpath": "unextpath",
}
REQUIRED_KEYS = ("name", "version", "dock_image", "execshell", "selfpath", "selfexec", "parameters")
VERSION_PATTERN = re.compile(r"^[0-9.]+$")


def save_compute_resource(
    *,
    name: str,
    compute_url: str,
    compute_user: str,
    compute_password: str,
    compute_auth_url: str = "",
    description: str = "",
    max_job_exec_seconds: int = -1,
) -> ComputeResource:
    """Create or update a compute resource after asking the service how it stages data."""
    resource = ComputeResource.objects.filter(name=name).first() or ComputeResource(name=name)
    resource.compute_url = compute_url
    resource.compute_auth_url = compute_auth_url or compute_url + "auth-token/"
    resource.compute_user = compute_user
    resource.compute_password = compute_password
    resource.compute_auth_token = ""
    resource.description = description
    resource.max_job_exec_seconds = max_job_exec_seconds
    try:
        info = client_for(resource).get_server_info()
    except PfconError as error:
        raise ValidationError(
            {"compute_url": [f"Could not reach the compute service: {error}"]}
        ) from error
    resource.compute_innetwork = bool(info.get("pfcon_innetwork"))
    resource.compute_requires_copy_job = bool(info.get("requires_copy_job"))
    resource.compute_requires_upload_job = bool(info.get("requires_upload_job"))
    resource.save()
    logger.info("compute resource %s at %s saved (%s)", name, compute_url, info.get("storage_env"))
    return resource


def limit(descriptor: dict, key: str, parse, default: int) -> int:
    value = descriptor.get(key, "")
    if value in ("", None):
        return default
    try:
        return parse(value)
    except (TypeError, ValueError):
        raise ValidationError({"fname": [f"Invalid {key}: {value!r}."]}) from None


def plugin_limits(descriptor: dict) -> dict[str, int]:
    limits = {
        "min_number_of_workers": limit(descriptor, "min_number_of_workers", int, 1),
        "max_number_of_workers": limit(descriptor, "max_number_of_workers", int, MAX_INT),
        "min_cpu_limit": limit(descriptor, "min_cpu_limit", parse_cpu, 1000),
        "max_cpu_limit": limit(descriptor, "max_cpu_limit", parse_cpu, MAX_INT),
        "min_memory_limit": limit(descriptor, "min_memory_limit", parse_memory, 200),
        "max_memory_limit": limit(descriptor, "max_memory_limit", parse_memory, MAX_INT),
        "min_gpu_limit": limit(descriptor, "min_gpu_limit", int, 0),
    }
    default_max_gpu = MAX_INT if limits["min_gpu_limit"] > 0 else 0
    limits["max_gpu_limit"] = limit(descriptor, "max_gpu_limit", int, default_max_gpu)
    for kind in ("number_of_workers", "cpu_limit", "memory_limit", "gpu_limit"):
        if limits[f"min_{kind}"] > limits[f"max_{kind}"]:
            raise ValidationError({"fname": [f"min_{kind} is greater than max_{kind}."]})
    return limits


def clean_parameter(entry: Any) -> dict:
    if not isinstance(entry, dict) or not entry.get("name") or not entry.get("flag"):
        raise ValidationError({"fname": [f"Invalid parameter: {entry!r}."]})
    kind = DESCRIPTOR_TYPES.get(entry.get("type"))
    if kind is None:
        raise ValidationError({"fname": [f"Invalid type for parameter {entry['name']}."]})
    optional = bool(entry.get("optional", False))
    if kind in ("path", "unextpath") and optional:
        raise ValidationError(
            {"fname": [f"Parameter {entry['name']} of type {kind} must be required."]}
        )
    return {
        "name": entry["name"],
        "flag": entry["flag"],
        "short_flag": entry.get("short_flag") or "",
        "action": entry.get("action") or "store",
        "optional": optional,
        "type": kind,
        "default": entry.get("default") if optional else None,
        "help": entry.get("help") or "",
        "ui_exposed": bool(entry.get("ui_exposed", True)),
    }


def register_plugin(descriptor: dict, *, compute_names: list[str]) -> Plugin:
    """Register a plugin from its JSON representation on the named compute resources.

    Registering an existing name and version again only adds compute resources.
    """
    missing = [key for key in REQUIRED_KEYS if key not in descriptor]
    if missing:
        raise ValidationError({"fname": [f"Missing plugin fields: {', '.join(missing)}."]})
    version = str(descriptor["version"])
    if not VERSION_PATTERN.match(version) or len(version) > 10:
        raise ValidationError({"fname": [f"Invalid version {version!r}."]})
    if descriptor.get("type", "ds") not in ("fs", "ds", "ts"):
        raise ValidationError({"fname": ["Plugin type must be fs, ds or ts."]})
    if not compute_names:
        raise ValidationError({"compute_names": ["At least one compute resource is required."]})
    resources = list(ComputeResource.objects.filter(name__in=compute_names))
    unknown = set(compute_names) - {resource.name for resource in resources}
    if unknown:
        raise ValidationError(
            {"compute_names": [f"Unknown compute resources: {', '.join(sorted(unknown))}."]}
        )
    if not isinstance(descriptor["parameters"], list):
        raise ValidationError({"fname": ["parameters must be a list."]})
    parameters = [clean_parameter(entry) for entry in descriptor["parameters"]]
    limits = plugin_limits(descriptor)
    with transaction.atomic():
        meta, _ = PluginMeta.objects.get_or_create(
            name=descriptor["name"],
            defaults={
                "title": descriptor.get("title", ""),
                "public_repo": descriptor.get("public_repo", ""),
                "license": descriptor.get("license", ""),
                "type": descriptor.get("type", "ds"),
                "icon": descriptor.get("icon", ""),
                "category": descriptor.get("category", ""),
                "authors": descriptor.get("authors", ""),
                "documentation": descriptor.get("documentation", ""),
            },
        )
        plugin = Plugin.objects.filter(meta=meta, version=version).first()
        if plugin is None:
            plugin = Plugin.objects.create(
                meta=meta,
                version=version,
                dock_image=descriptor["dock_image"],
                description=descriptor.get("description", ""),
                execshell=descriptor["execshell"],
                selfpath=descriptor["selfpath"],
                selfexec=descriptor["selfexec"],
                **limits,
            )
            PluginParameter.objects.bulk_create(
                PluginParameter(plugin=plugin, **parameter) for parameter in parameters
            )
        plugin.compute_resources.add(*resources)
    logger.info("plugin %s %s registered on %s", meta.name, version, ", ".join(compute_names))
    return plugin
