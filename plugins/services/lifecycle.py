"""Plugin instance statuses: the one transition table and the one function that applies it."""

import logging

from django.db import transaction
from django.utils import timezone

from cube.exceptions import InvalidTransition
from plugins.models import PluginInstance, Status

logger = logging.getLogger(__name__)

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


def set_status(instance: PluginInstance, new: Status, *, error_code: str = "", **fields) -> bool:
    """Move ``instance`` to ``new`` if nobody else changed its status first.

    The update is conditional on the status the caller read, so when two workers race
    exactly one wins; the loser gets False and leaves the instance alone.
    """
    if new not in ALLOWED_TRANSITIONS[instance.status]:
        raise InvalidTransition(instance.status, new)
    now = timezone.now()
    changes = {"status": new, "status_changed": now, **fields}
    if error_code:
        changes["error_code"] = error_code
    if new in TERMINAL_STATUSES:
        changes["end_date"] = now
    if new == Status.STARTED:
        changes["start_date"] = now
    with transaction.atomic():
        updated = PluginInstance.objects.filter(pk=instance.pk, status=instance.status).update(
            **changes
        )
    if not updated:
        logger.info(
            "instance %s: status already moved on from %s, not setting %s",
            instance.pk,
            instance.status,
            new,
        )
        instance.refresh_from_db()
        return False
    logger.info("instance %s: %s -> %s %s", instance.pk, instance.status, new, error_code)
    for name, value in changes.items():
        setattr(instance, name, value)
    return True
