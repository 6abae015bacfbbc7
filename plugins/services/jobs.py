"""Drives one plugin instance's remote job: submit, follow, fetch outputs, clean up.

Every step is idempotent: pfcon's job POSTs return the existing job for a jid, status
changes are compare-and-set, and output rows are unique by key. So a step may run twice
(beat poller and follow-up check, or a retry after a killed worker) without harm.
"""

import base64
import json
import logging
import tempfile
import zlib
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from pfcon_client import PfconError
from plugins import tasks
from plugins.models import PluginInstance, Status
from plugins.services import outputs
from plugins.services.compute import client_for, input_dirs, job_id, plugin_job_fields
from plugins.services.lifecycle import set_status
from storage import StorageError

logger = logging.getLogger(__name__)

REMOTE_ACTIVE = ("notStarted", "started")
REMOTE_FINISHED = ("finishedSuccessfully", "finishedWithError")
LOG_TAIL = 1800


def encode_raw(response: dict) -> str:
    return base64.b64encode(zlib.compress(json.dumps(response).encode())).decode()


def summary(*, submitted: bool, pulled: bool = False, job_status: str = "", logs: str = "") -> str:
    returned = job_status in (*REMOTE_FINISHED, "undefined")
    return json.dumps(
        {
            "pushPath": {"status": submitted},
            "pullPath": {"status": pulled},
            "compute": {
                "submit": {"status": submitted},
                "return": {
                    "status": returned,
                    "job_status": job_status,
                    "job_logs": logs[-LOG_TAIL:],
                },
            },
        }
    )


def submit_plugin_instance(
    instance: PluginInstance, *, attempt: int = 0, follow: bool = True
) -> None:
    """Stage inputs and submit the job of a scheduled instance; retry transient failures.

    With ``follow``, the instance is checked again shortly while it stays active.
    """
    if instance.status != Status.SCHEDULED:
        return
    compute_resource = instance.compute_resource
    jid = job_id(instance)
    client = client_for(compute_resource)
    try:
        if compute_resource.compute_requires_copy_job:
            copy = copy_job_status(instance, client, jid)
            if copy["status"] == "finishedWithError":
                fail(instance, "CODE18", f"Copying the inputs failed: {copy.get('message')}")
                return
            if copy["status"] != "finishedSuccessfully":
                follow_up(instance, attempt, follow)  # still copying: shown as scheduled
                return
        fields = plugin_job_fields(instance, in_network=compute_resource.compute_innetwork)
        if compute_resource.compute_innetwork:
            response = client.submit_plugin_job(jid, fields)
        else:
            with tempfile.TemporaryFile() as zipped:
                outputs.zip_inputs(input_dirs(instance), zipped)
                zipped.seek(0)
                response = client.submit_plugin_job(jid, fields, data_file=zipped)
    except PfconError as error:
        if error.transient and attempt < settings.SUBMIT_RETRIES:
            logger.warning(
                "instance %s job %s: submit failed, retrying: %s", instance.pk, jid, error
            )
            retry_submit(instance, attempt + 1)
            return
        fail(instance, "CODE01", f"Submitting the job failed: {error}")
        return
    except StorageError as error:
        fail(instance, "CODE07", f"Staging the inputs failed: {error}")
        return
    logger.info("instance %s job %s: submitted", instance.pk, jid)
    if set_status(
        instance,
        Status.STARTED,
        summary=summary(submitted=True, job_status=response["compute"].get("status", "")),
        raw=encode_raw(response),
    ):
        follow_up(instance, 0, follow)


def copy_job_status(instance: PluginInstance, client, jid: str) -> dict:
    """The copy job's status, submitting the job first if pfcon does not know it yet."""
    try:
        return client.get_copy_job_status(jid)
    except PfconError as error:
        if error.status_code != 404:
            raise
    return client.submit_copy_job(
        jid,
        input_dirs=input_dirs(instance),
        output_dir=instance.output_path,
        cpu_limit=instance.cpu_limit,
        memory_limit=instance.memory_limit,
    )


def check_plugin_instance(
    instance: PluginInstance, *, attempt: int = 0, follow: bool = True
) -> None:
    """Advance an active instance by one step, following it while it runs if ``follow``."""
    if instance.status == Status.SCHEDULED:
        submit_plugin_instance(instance, attempt=attempt, follow=follow)
    elif instance.status == Status.STARTED:
        check_started(instance, attempt, follow)
    elif instance.status == Status.REGISTERING_FILES:
        recover_registration(instance)


def check_started(instance: PluginInstance, attempt: int, follow: bool) -> None:
    compute_resource = instance.compute_resource
    jid = job_id(instance)
    client = client_for(compute_resource)
    try:
        compute = client.get_plugin_job_status(jid)
    except PfconError as error:
        logger.warning(
            "instance %s job %s: status check failed (CODE02): %s", instance.pk, jid, error
        )
        follow_up(instance, attempt, follow)
        return
    remote = compute.get("status", "")
    logs = compute.get("logs") or ""
    new_summary = summary(submitted=True, job_status=remote, logs=logs)
    if remote in REMOTE_ACTIVE:
        if timed_out(instance):
            cancel_remote(instance, "CODE13", new_summary)
            return
        if new_summary != instance.summary:
            PluginInstance.objects.filter(pk=instance.pk, status=Status.STARTED).update(
                summary=new_summary, raw=encode_raw({"compute": compute})
            )
        follow_up(instance, attempt, follow)
        return
    if remote not in REMOTE_FINISHED:
        cancel_remote(instance, "CODE10", new_summary)
        return
    if compute_resource.compute_requires_upload_job:
        try:
            upload = client.submit_upload_job(
                jid,
                job_output_path=instance.output_path,
                cpu_limit=instance.cpu_limit,
                memory_limit=instance.memory_limit,
            )
        except PfconError as error:
            logger.warning("instance %s job %s: upload job failed: %s", instance.pk, jid, error)
            follow_up(instance, attempt, follow)
            return
        if upload["status"] == "finishedWithError":
            cancel_remote(instance, "CODE18", new_summary)
            return
        if upload["status"] != "finishedSuccessfully":
            follow_up(instance, attempt, follow)  # still uploading: shown as started
            return
    if not set_status(
        instance,
        Status.REGISTERING_FILES,
        summary=new_summary,
        raw=encode_raw({"compute": compute}),
    ):
        return
    register(instance, client, remote, logs)


def register(instance: PluginInstance, client, remote: str, logs: str) -> None:
    """Fetch and register the outputs, then set the final status and clean up remotely."""
    jid = job_id(instance)
    succeeded = remote == "finishedSuccessfully"
    try:
        outputs.fetch_outputs(instance, client, jid)
        if succeeded:
            outputs.copy_linked_inputs(instance)
        size = outputs.register_output_files(instance)
    except outputs.RegistrationError as error:
        logger.error(
            "instance %s job %s: registration failed (%s): %s", instance.pk, jid, error.code, error
        )
        final = Status.CANCELLED if succeeded else Status.FINISHED_WITH_ERROR
        set_status(
            instance,
            final,
            error_code=error.code,
            summary=summary(submitted=True, job_status=remote, logs=f"{logs}\n{error}"),
        )
    else:
        set_status(
            instance,
            Status.FINISHED_SUCCESSFULLY if succeeded else Status.FINISHED_WITH_ERROR,
            size=size,
            summary=summary(submitted=True, pulled=True, job_status=remote, logs=logs),
        )
    schedule_remote_cleanup(instance)


def recover_registration(instance: PluginInstance) -> None:
    """Redo a registration whose worker died: claim it, then register again (idempotent)."""
    stale_before = timezone.now() - timedelta(seconds=settings.REGISTRATION_STALE_SECONDS)
    if instance.status_changed > stale_before:
        return
    claimed = PluginInstance.objects.filter(
        pk=instance.pk, status=Status.REGISTERING_FILES, status_changed=instance.status_changed
    ).update(status_changed=timezone.now())
    if not claimed:
        return
    client = client_for(instance.compute_resource)
    try:
        compute = client.get_plugin_job_status(job_id(instance))
    except PfconError as error:
        logger.warning("instance %s: recovery status check failed: %s", instance.pk, error)
        return
    logger.info("instance %s: recovering an interrupted registration", instance.pk)
    register(instance, client, compute.get("status", ""), compute.get("logs") or "")


def timed_out(instance: PluginInstance) -> bool:
    limit = instance.compute_resource.max_job_exec_seconds
    if limit < 0:
        return False
    return timezone.now() - instance.start_date > timedelta(seconds=limit)


def cancel_remote(instance: PluginInstance, code: str, new_summary: str) -> None:
    if set_status(instance, Status.CANCELLED, error_code=code, summary=new_summary):
        schedule_remote_cleanup(instance)


def fail(instance: PluginInstance, code: str, message: str) -> None:
    logger.error("instance %s job %s: %s (%s)", instance.pk, job_id(instance), message, code)
    if set_status(
        instance,
        Status.FINISHED_WITH_ERROR,
        error_code=code,
        summary=summary(submitted=False, logs=message),
    ):
        schedule_remote_cleanup(instance)


def follow_up_delay(attempt: int) -> float:
    """Check often just after submission, then back off to the beat interval."""
    return min(
        settings.ACTIVE_JOB_POLL_INTERVAL * 2 ** (attempt // 10), settings.CELERY_POLL_INTERVAL
    )


def follow_up(instance: PluginInstance, attempt: int, follow: bool) -> None:
    if not follow:
        return  # the beat poller comes back anyway
    pk, delay = instance.pk, follow_up_delay(attempt)
    transaction.on_commit(
        lambda: tasks.check_plugin_instance.apply_async((pk, attempt + 1), countdown=delay)
    )


def retry_submit(instance: PluginInstance, attempt: int) -> None:
    pk, delay = instance.pk, 2**attempt
    transaction.on_commit(
        lambda: tasks.submit_plugin_instance.apply_async((pk, attempt), countdown=delay)
    )


def schedule_remote_cleanup(instance: PluginInstance) -> None:
    pk = instance.pk
    transaction.on_commit(lambda: tasks.delete_remote_job.delay(pk))


def stop_remote_jobs(instances) -> None:
    """Stop at once the remote jobs of submitted instances that are about to be deleted.

    A cleanup task queued for after the commit would find its instance gone.
    """
    submitted = instances.filter(status__in=(Status.SCHEDULED, Status.STARTED))
    for instance in submitted.select_related("compute_resource", "plugin__meta"):
        delete_remote_job(instance)


def delete_remote_job(instance: PluginInstance) -> None:
    """Stop the remote job if it still runs and remove its data (failures are CODE12, logged)."""
    compute_resource = instance.compute_resource
    if compute_resource is None:
        return
    jid = job_id(instance)
    client = client_for(compute_resource)
    try:
        client.delete_plugin_job(jid)
        if compute_resource.compute_requires_copy_job:
            client.submit_delete_job(
                jid, cpu_limit=instance.cpu_limit, memory_limit=instance.memory_limit
            )
            client.delete_copy_job(jid)
        if compute_resource.compute_requires_upload_job:
            client.delete_upload_job(jid)
    except PfconError as error:
        logger.warning(
            "instance %s job %s: remote cleanup failed (CODE12): %s", instance.pk, jid, error
        )
