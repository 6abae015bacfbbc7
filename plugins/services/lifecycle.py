"""The one function that changes a plugin instance's status, by the table in ``status``."""

import logging

from django.db import transaction
from django.utils import timezone

from plugins.models import PluginInstance
from plugins.status import ALLOWED_TRANSITIONS, TERMINAL_STATUSES, InvalidTransition, Status

logger = logging.getLogger(__name__)


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
        try:
            instance.refresh_from_db()
        except PluginInstance.DoesNotExist:
            pass  # deleted meanwhile: whoever deleted it also stopped its job
        return False
    logger.info("instance %s: %s -> %s %s", instance.pk, instance.status, new, error_code)
    for name, value in changes.items():
        setattr(instance, name, value)
    return True
