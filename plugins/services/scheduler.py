"""The one module that enqueues plugin tasks; every other service calls it.

Tasks are enqueued when the current transaction commits, so a worker never looks for a row
that is not there yet, and a rolled-back request enqueues nothing.
"""

from django.conf import settings
from django.db import transaction

from plugins import tasks
from plugins.models import PluginInstance
from plugins.services.compute import job_id


def submit(instance_id: int) -> None:
    """Submit a newly scheduled instance's job as soon as a worker is free."""
    transaction.on_commit(lambda: tasks.advance_plugin_instance.delay(instance_id))


def follow_up(instance_id: int, attempt: int) -> None:
    """Look at an active instance again soon: often just after submission, then less."""
    delay = min(
        settings.ACTIVE_JOB_POLL_INTERVAL * 2 ** (attempt // 10), settings.CELERY_POLL_INTERVAL
    )
    transaction.on_commit(
        lambda: tasks.advance_plugin_instance.apply_async(
            (instance_id, attempt + 1), countdown=delay
        )
    )


def retry_submit(instance_id: int, attempt: int) -> None:
    """Try a failed submission again, with exponential backoff."""
    transaction.on_commit(
        lambda: tasks.advance_plugin_instance.apply_async(
            (instance_id, attempt), countdown=2**attempt
        )
    )


def remove_remote_job(instance: PluginInstance) -> None:
    """Stop the instance's job on its compute service and remove its data there.

    Keyed by compute resource and job id, not by instance, so it still runs after the
    instance's row is deleted.
    """
    if instance.compute_resource_id is None:
        return
    arguments = (
        instance.compute_resource_id,
        job_id(instance),
        instance.cpu_limit,
        instance.memory_limit,
    )
    transaction.on_commit(lambda: tasks.remove_remote_job.delay(*arguments))
