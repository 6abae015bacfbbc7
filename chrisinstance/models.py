import uuid

from django.db import models


class ChrisInstance(models.Model):
    """The one row describing this ChRIS installation."""

    creation_date = models.DateTimeField(auto_now_add=True)
    name = models.CharField(max_length=100, default="ChRIS instance")
    uuid = models.UUIDField(default=uuid.uuid4, editable=False)
    description = models.CharField(max_length=600, blank=True)

    def __str__(self) -> str:
        return self.name
