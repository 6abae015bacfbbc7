"""The beat task's sweep over active plugin instances."""

import logging

from django.db import transaction

from plugins.models import PluginInstance, Status
from plugins.services.instances import run_if_ready
from plugins.services.jobs import check_plugin_instance

logger = logging.getLogger(__name__)


def poll_plugin_instances() -> None:
    """Promote or cancel waiting instances, and advance every submitted one by a step.

    Rows are locked with ``skip_locked`` where the database supports it, so two pollers
    never work on the same instance at once; status changes are compare-and-set anyway.
    Only the instance row is locked (``of=("self",)``): PostgreSQL refuses FOR UPDATE on the
    nullable side of the outer joins that ``select_related`` makes for ``previous``.
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
    active = (Status.SCHEDULED, Status.STARTED, Status.REGISTERING_FILES)
    for pk in PluginInstance.objects.filter(status__in=active).values_list("pk", flat=True):
        with transaction.atomic():
            instance = (
                PluginInstance.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("plugin__meta", "compute_resource", "owner", "previous")
                .filter(pk=pk, status__in=active)
                .first()
            )
            if instance is None:
                continue
            try:
                check_plugin_instance(instance, follow=False)
            except Exception:
                # One broken instance must not stop the sweep over the others.
                logger.exception("instance %s: poll step failed", pk)
