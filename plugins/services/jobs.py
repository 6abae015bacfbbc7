"""Drives one plugin instance's remote job: submit, follow, fetch outputs, clean up.

A worker first *claims* the instance with a short conditional update, then does the network
and storage work outside any transaction, so nothing holds the database while it waits.
A claim lapses after JOB_CLAIM_SECONDS, so the job of a worker that died is taken up by the
next poll. Every step is idempotent besides: pfcon's job POSTs return the existing job for a
jid, status changes are compare-and-set, and output rows are unique by key.
"""

import base64
import json
import logging
import tempfile
import threading
import zlib
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from pfcon_client import PfconError
from plugins.models import ComputeResource, PluginInstance
from plugins.services import outputs, scheduler
from plugins.services.compute import client_for, input_dirs, job_id, plugin_job_fields
from plugins.services.lifecycle import set_status
from plugins.status import SUBMITTED_STATUSES, ErrorCode, Status
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


# Instances this thread holds: eager tasks (tests) run a follow-up inside the step that
# scheduled it, and must not find their own claim in the way.
_held = threading.local()


def load(instance_id: int) -> PluginInstance | None:
    return (
        PluginInstance.objects.select_related(
            "plugin__meta", "compute_resource", "owner", "previous"
        )
        .filter(pk=instance_id)
        .first()
    )


def claim(instance_id: int) -> bool:
    """Hold a submitted instance for JOB_CLAIM_SECONDS; False if another worker holds it."""
    now = timezone.now()
    held = (
        PluginInstance.objects.filter(pk=instance_id, status__in=SUBMITTED_STATUSES)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_until=now + timedelta(seconds=settings.JOB_CLAIM_SECONDS))
    )
    return bool(held)


def advance_plugin_instance(instance_id: int, *, attempt: int = 0, follow: bool = True) -> None:
    """Claim the instance and move its job one step; with ``follow``, look again soon."""
    held = getattr(_held, "ids", set())
    reentrant = instance_id in held
    if not reentrant and not claim(instance_id):
        # Another worker holds it; keep this instance's follow-up chain alive.
        if (
            follow
            and PluginInstance.objects.filter(
                pk=instance_id, status__in=SUBMITTED_STATUSES
            ).exists()
        ):
            scheduler.follow_up(instance_id, attempt)
        return
    _held.ids = held | {instance_id}
    try:
        instance = load(instance_id)
        if instance is not None:
            check_plugin_instance(instance, attempt=attempt, follow=follow)
    finally:
        if not reentrant:
            _held.ids = held
            PluginInstance.objects.filter(pk=instance_id).update(claimed_until=None)


def submit_plugin_instance(
    instance: PluginInstance, *, attempt: int = 0, follow: bool = True
) -> None:
    """Stage inputs and submit the job of a scheduled instance; retry transient failures.

    This is the one layer that retries a submission: the pfcon client sends each POST once,
    and a transient failure is tried again through the scheduler, with backoff, up to
    ``SUBMIT_RETRIES`` times, without holding the worker or the claim in between.
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
                fail(
                    instance,
                    ErrorCode.REMOTE_DATA_JOB_FAILED,
                    f"Copying the inputs failed: {copy.get('message')}",
                )
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
            scheduler.retry_submit(instance.pk, attempt + 1)
            return
        fail(instance, ErrorCode.SUBMIT_FAILED, f"Submitting the job failed: {error}")
        return
    except StorageError as error:
        fail(instance, ErrorCode.STORAGE_FAILED, f"Staging the inputs failed: {error}")
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
        redo_registration(instance)


def check_started(instance: PluginInstance, attempt: int, follow: bool) -> None:
    compute_resource = instance.compute_resource
    jid = job_id(instance)
    client = client_for(compute_resource)
    try:
        compute = client.get_plugin_job_status(jid)
    except PfconError as error:
        logger.warning(
            "instance %s job %s: status check failed (%s): %s",
            instance.pk,
            jid,
            ErrorCode.STATUS_CHECK_FAILED,
            error,
        )
        follow_up(instance, attempt, follow)
        return
    remote = compute.get("status", "")
    logs = compute.get("logs") or ""
    new_summary = summary(submitted=True, job_status=remote, logs=logs)
    if remote in REMOTE_ACTIVE:
        if timed_out(instance):
            cancel_remote(instance, ErrorCode.TIMED_OUT, new_summary)
            return
        if new_summary != instance.summary:
            PluginInstance.objects.filter(pk=instance.pk, status=Status.STARTED).update(
                summary=new_summary, raw=encode_raw({"compute": compute})
            )
        follow_up(instance, attempt, follow)
        return
    if remote not in REMOTE_FINISHED:
        cancel_remote(instance, ErrorCode.UNKNOWN_REMOTE_STATUS, new_summary)
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
            cancel_remote(instance, ErrorCode.REMOTE_DATA_JOB_FAILED, new_summary)
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
    scheduler.remove_remote_job(instance)


def redo_registration(instance: PluginInstance) -> None:
    """Register again an instance whose registering worker died (its claim lapsed)."""
    client = client_for(instance.compute_resource)
    jid = job_id(instance)
    try:
        compute = client.get_plugin_job_status(jid)
    except PfconError as error:
        logger.warning(
            "instance %s job %s: recovery status check failed: %s", instance.pk, jid, error
        )
        return
    logger.info("instance %s job %s: redoing an interrupted registration", instance.pk, jid)
    register(instance, client, compute.get("status", ""), compute.get("logs") or "")


def timed_out(instance: PluginInstance) -> bool:
    limit = instance.compute_resource.max_job_exec_seconds
    if limit < 0:
        return False
    return timezone.now() - instance.start_date > timedelta(seconds=limit)


def cancel_remote(instance: PluginInstance, code: str, new_summary: str) -> None:
    if set_status(instance, Status.CANCELLED, error_code=code, summary=new_summary):
        scheduler.remove_remote_job(instance)


def fail(instance: PluginInstance, code: str, message: str) -> None:
    logger.error("instance %s job %s: %s (%s)", instance.pk, job_id(instance), message, code)
    if set_status(
        instance,
        Status.FINISHED_WITH_ERROR,
        error_code=code,
        summary=summary(submitted=False, logs=message),
    ):
        scheduler.remove_remote_job(instance)


def follow_up(instance: PluginInstance, attempt: int, follow: bool) -> None:
    if follow:  # else the beat poller comes back anyway
        scheduler.follow_up(instance.pk, attempt)


def remove_remote_job(
    compute_resource_id: int, jid: str, *, cpu_limit: int, memory_limit: int
) -> None:
    """Stop a job if it still runs and remove its data (failures are CODE12, logged)."""
    compute_resource = ComputeResource.objects.filter(pk=compute_resource_id).first()
    if compute_resource is None:
        return
    client = client_for(compute_resource)
    try:
        client.delete_plugin_job(jid)
        if compute_resource.compute_requires_copy_job:
            client.submit_delete_job(jid, cpu_limit=cpu_limit, memory_limit=memory_limit)
            client.delete_copy_job(jid)
        if compute_resource.compute_requires_upload_job:
            client.delete_upload_job(jid)
    except PfconError as error:
        logger.warning(
            "job %s on %s: remote cleanup failed (%s): %s",
            jid,
            compute_resource.name,
            ErrorCode.REMOTE_CLEANUP_FAILED,
            error,
        )
