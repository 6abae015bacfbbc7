"""The beat task's sweep over waiting and active plugin instances."""

import logging

from django.db import transaction

from plugins.models import PluginInstance
from plugins.services.instances import run_if_ready
from plugins.services.jobs import advance_plugin_instance
from plugins.status import SUBMITTED_STATUSES, Status

logger = logging.getLogger(__name__)


def poll_plugin_instances() -> None:
    """Promote or cancel waiting instances, and advance every submitted one by a step.

    Waiting instances change only in the database, under a row lock (``skip_locked``: two
    pollers never work on the same one). Submitted ones are claimed first and advanced
    outside any transaction (``jobs.advance_plugin_instance``), since that talks to the
    compute service and storage. Only the instance row is locked (``of=("self",)``):
    PostgreSQL refuses FOR UPDATE on the nullable side of an outer join.
    """
    for pk in PluginInstance.objects.filter(status=Status.WAITING).values_list("pk", flat=True):
        with transaction.atomic():
            instance = (
                PluginInstance.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("plugin__meta")
                .filter(pk=pk, status=Status.WAITING)
                .first()
            )
            if instance is not None:
                run_if_ready(instance)
    submitted = PluginInstance.objects.filter(status__in=SUBMITTED_STATUSES)
    for pk in submitted.values_list("pk", flat=True):
        try:
            advance_plugin_instance(pk, follow=False)
        except Exception:
            # One broken instance must not stop the sweep over the others.
            logger.exception("instance %s: poll step failed", pk)
