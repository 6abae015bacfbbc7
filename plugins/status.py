"""Plugin instance statuses, error codes and the one transition table.

Imports only Django, so models, services, feeds and pipelines can all depend on it.
"""

from django.db import models


class Status(models.TextChoices):
    CREATED = "created"
    WAITING = "waiting"
    SCHEDULED = "scheduled"
    STARTED = "started"
    REGISTERING_FILES = "registeringFiles"
    FINISHED_SUCCESSFULLY = "finishedSuccessfully"
    FINISHED_WITH_ERROR = "finishedWithError"
    CANCELLED = "cancelled"


class ErrorCode(models.TextChoices):
    """CUBE's ``error_code`` values: what went wrong, on the wire as ``CODEnn``."""

    SUBMIT_FAILED = "CODE01", "Submitting the job to the compute service failed"
    STATUS_CHECK_FAILED = "CODE02", "Asking the compute service for the job's status failed"
    OUTPUTS_NOT_FETCHED = "CODE03", "Fetching the job's outputs failed"
    OUTPUT_ZIP_INVALID = "CODE04", "The job's output zip is invalid"
    PARENT_MISSING = "CODE05", "A parent plugin instance is missing"
    OUTPUTS_NOT_LISTED = "CODE06", "Listing the outputs to register them failed"
    STORAGE_FAILED = "CODE07", "Storing or staging data failed"
    LINKED_INPUTS_NOT_COPIED = "CODE09", "Copying linked inputs failed"
    UNKNOWN_REMOTE_STATUS = "CODE10", "The compute service reported an unknown status"
    REMOTE_CLEANUP_FAILED = "CODE12", "Removing the job from the compute service failed"
    TIMED_OUT = "CODE13", "The job ran longer than its compute resource allows"
    OUTPUTS_MISSING = "CODE14", "Files the job listed are missing from storage"
    OUTPUTS_NOT_LISTED_REMOTELY = "CODE15", "Listing the in-network outputs failed"
    OUTPUT_PATH_MISMATCH = "CODE16", "The job's output path is not the instance's"
    REMOTE_DATA_JOB_FAILED = "CODE18", "The compute service's copy or upload job failed"


ACTIVE_STATUSES = (
    Status.CREATED,
    Status.WAITING,
    Status.SCHEDULED,
    Status.STARTED,
    Status.REGISTERING_FILES,
)
FAILED_STATUSES = (Status.FINISHED_WITH_ERROR, Status.CANCELLED)
# Statuses in which a job may exist on the compute service.
SUBMITTED_STATUSES = (Status.SCHEDULED, Status.STARTED, Status.REGISTERING_FILES)

ALLOWED_TRANSITIONS: dict[str, set[str]] = {
    Status.CREATED: {Status.WAITING, Status.SCHEDULED, Status.CANCELLED},
    Status.WAITING: {Status.SCHEDULED, Status.CANCELLED},
    Status.SCHEDULED: {Status.STARTED, Status.CANCELLED, Status.FINISHED_WITH_ERROR},
    Status.STARTED: {Status.REGISTERING_FILES, Status.CANCELLED, Status.FINISHED_WITH_ERROR},
    Status.REGISTERING_FILES: {
        Status.FINISHED_SUCCESSFULLY,
        Status.FINISHED_WITH_ERROR,
        Status.CANCELLED,
    },
    Status.FINISHED_SUCCESSFULLY: set(),
    Status.FINISHED_WITH_ERROR: set(),
    Status.CANCELLED: set(),
}
TERMINAL_STATUSES = {status for status, targets in ALLOWED_TRANSITIONS.items() if not targets}


class InvalidTransition(Exception):
    """A plugin instance status change that the transition table forbids."""

    http_status = 409  # cube.exceptions answers with it

    def __init__(self, current: str, new: str):
        super().__init__(f"Can not change status from '{current}' to '{new}'.")
        self.current, self.new = current, new


# Wire name of each feed job counter and the status it counts.
JOB_COUNTERS = {
    "created_jobs": Status.CREATED,
    "waiting_jobs": Status.WAITING,
    "scheduled_jobs": Status.SCHEDULED,
    "started_jobs": Status.STARTED,
    "registering_jobs": Status.REGISTERING_FILES,
    "finished_jobs": Status.FINISHED_SUCCESSFULLY,
    "errored_jobs": Status.FINISHED_WITH_ERROR,
    "cancelled_jobs": Status.CANCELLED,
}


def job_count_annotations(relation: str = "plugin_instances") -> dict[str, models.Count]:
    """The eight job counters of the plugin instances reached through ``relation``."""
    return {
        counter: models.Count(relation, filter=models.Q(**{f"{relation}__status": status}))
        for counter, status in JOB_COUNTERS.items()
    }
