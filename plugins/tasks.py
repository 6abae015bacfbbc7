"""Celery shims: each calls one service. Services are imported inside the tasks because
the services enqueue these tasks (through ``services.scheduler``)."""

from celery import shared_task


@shared_task
def advance_plugin_instance(instance_id: int, attempt: int = 0) -> None:
    from plugins.services import jobs

    jobs.advance_plugin_instance(instance_id, attempt=attempt)


@shared_task
def remove_remote_job(
    compute_resource_id: int, job_id: str, cpu_limit: int, memory_limit: int
) -> None:
    from plugins.services import jobs

    jobs.remove_remote_job(
        compute_resource_id, job_id, cpu_limit=cpu_limit, memory_limit=memory_limit
    )


@shared_task
def poll_plugin_instances() -> None:
    from plugins.services import polling

    polling.poll_plugin_instances()
