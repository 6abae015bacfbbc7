"""Celery shims: load the instance by primary key and call one service."""

from celery import shared_task

from plugins.models import PluginInstance


def load(instance_id: int) -> PluginInstance | None:
    return (
        PluginInstance.objects.select_related(
            "plugin__meta", "compute_resource", "owner", "previous"
        )
        .filter(pk=instance_id)
        .first()
    )


@shared_task
def submit_plugin_instance(instance_id: int, attempt: int = 0) -> None:
    from plugins.services import jobs

    instance = load(instance_id)
    if instance is not None:
        jobs.submit_plugin_instance(instance, attempt=attempt)


@shared_task
def check_plugin_instance(instance_id: int, attempt: int = 0) -> None:
    from plugins.services import jobs

    instance = load(instance_id)
    if instance is not None:
        jobs.check_plugin_instance(instance, attempt=attempt)


@shared_task
def delete_remote_job(instance_id: int) -> None:
    from plugins.services import jobs

    instance = load(instance_id)
    if instance is not None:
        jobs.delete_remote_job(instance)


@shared_task
def poll_plugin_instances() -> None:
    from plugins.services import polling

    polling.poll_plugin_instances()
