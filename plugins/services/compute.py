"""What CUBE sends to a compute service for one plugin instance."""

import posixpath

from django.conf import settings

from chrisinstance.services import get_job_id_prefix
from pfcon_client import PfconClient, PluginJobFields
from plugins.models import (
    ComputeResource,
    ParameterAction,
    ParameterType,
    PluginInstance,
    PluginType,
)
from plugins.services.parameters import sort_parameter_values

PATH_TYPES = (ParameterType.PATH, ParameterType.UNEXTPATH)


def client_for(compute_resource: ComputeResource) -> PfconClient:
    """A pfcon client that saves refreshed tokens on the compute resource."""

    def save_token(token: str) -> None:
        ComputeResource.objects.filter(pk=compute_resource.pk).update(compute_auth_token=token)

    token = compute_resource.compute_auth_token
    return PfconClient(
        compute_resource.compute_url,
        auth_url=compute_resource.compute_auth_url or None,
        username=compute_resource.compute_user,
        password=compute_resource.compute_password,
        token=None if token in ("", "initial_token") else token,
        on_new_token=save_token,
        retries=settings.PFCON_RETRIES,
        backoff=settings.PFCON_RETRY_BACKOFF,
    )


def job_id(instance: PluginInstance, *, prefix: str | None = None) -> str:
    """The compute service's name for the instance's job: unique to this installation.

    ``prefix`` saves the read of the installation's prefix when the caller has it.
    """
    return f"{prefix if prefix is not None else get_job_id_prefix()}{instance.pk}"


def sorted_values(instance: PluginInstance) -> list:
    return sort_parameter_values(list(instance.parameter_values.select_related("plugin_param")))


def command_args(instance: PluginInstance) -> tuple[list[str], list[str]]:
    """The plugin's arguments and the flags whose values are storage paths."""
    args: list[str] = []
    path_flags: list[str] = []
    for value in sorted_values(instance):
        parameter = value.plugin_param
        if parameter.action == ParameterAction.STORE:
            args.extend([parameter.flag, str(value.value)])
        elif bool(value.value) == (parameter.action == ParameterAction.STORE_TRUE):
            args.append(parameter.flag)
        if parameter.type in PATH_TYPES:
            path_flags.append(parameter.flag)
    return args, path_flags


def input_dirs(instance: PluginInstance) -> list[str]:
    """Storage paths staged as the job's input: path values, and a ds parent's output."""
    dirs = []
    for value in sorted_values(instance):
        if value.plugin_param.type == ParameterType.PATH:
            dirs.extend(item for item in str(value.value).split(",") if item)
    if instance.plugin.meta.type == PluginType.DS and instance.previous is not None:
        dirs.append(instance.previous.output_path)
    return dirs


def job_environment(instance: PluginInstance, *, prefix: str) -> list[str]:
    """Only identifiers: no credentials reach the plugin."""
    env = [f"CHRIS_JID={job_id(instance, prefix=prefix)}", f"CHRIS_PLG_INST_ID={instance.pk}"]
    if instance.previous is not None:
        env += [
            f"CHRIS_PREV_PLG_INST_ID={instance.previous_id}",
            f"CHRIS_PREV_JID={job_id(instance.previous, prefix=prefix)}",
        ]
    if instance.workflow_id is not None:
        members = instance.workflow.plugin_instances.order_by("id").values_list("title", "id")
        env += [
            f"CHRIS_WORKFLOW_ID={instance.workflow_id}",
            f"CHRIS_PIPELINE_ID={instance.workflow.pipeline_id}",
            "CHRIS_WORKFLOW_PLG_INSTANCES=" + ",".join(f"{t}:{pk}" for t, pk in members),
        ]
    return env


def plugin_job_fields(instance: PluginInstance, *, in_network: bool) -> PluginJobFields:
    plugin = instance.plugin
    executable = posixpath.join(plugin.selfpath, plugin.selfexec)
    args, path_flags = command_args(instance)
    prefix = get_job_id_prefix()
    return PluginJobFields(
        jid=job_id(instance, prefix=prefix),
        entrypoint=[plugin.execshell, executable] if plugin.execshell else [executable],
        args=args,
        args_path_flags=path_flags,
        auid=instance.owner.username,
        number_of_workers=instance.number_of_workers,
        cpu_limit=instance.cpu_limit,
        memory_limit=instance.memory_limit,
        gpu_limit=instance.gpu_limit,
        image=plugin.dock_image,
        type=plugin.meta.type,
        env=job_environment(instance, prefix=prefix),
        input_dirs=input_dirs(instance) if in_network else [],
        output_dir=instance.output_path if in_network else None,
    )
