import secrets
import uuid

from django.conf import settings
from django.db import models


def new_job_id_prefix() -> str:
    """The configured start plus random hex, drawn once when the installation's row is made.

    Job ids are ``<prefix><plugin instance id>``. Instance ids restart at 1 in a new database,
    so without the random part a reinstalled CUBE would reuse the ids of jobs, and the
    leftovers, that an earlier installation left on a shared compute service.
    """
    return f"{settings.JOB_ID_PREFIX}{secrets.token_hex(4)}-"


class ChrisInstance(models.Model):
    """The one row describing this ChRIS installation."""

    creation_date = models.DateTimeField(auto_now_add=True)
    name = models.CharField(max_length=100, default="ChRIS instance")
    uuid = models.UUIDField(default=uuid.uuid4, editable=False)
    job_id_prefix = models.CharField(max_length=100, default=new_job_id_prefix, editable=False)
    description = models.CharField(max_length=600, blank=True)
    # When this installation wrote its uuid into its storage (services.bind_storage).
    storage_bound = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = "ChRIS instance"
        verbose_name_plural = "ChRIS instance"

    def __str__(self) -> str:
        return self.name
