from django.db import models


class Service(models.Model):
    identifier = models.CharField(max_length=20, unique=True)

    class Meta:
        ordering = ("identifier",)

    def __str__(self) -> str:
        return self.identifier


class ServiceFile(models.Model):
    """A file already in storage under ``SERVICES/<service>/``."""

    creation_date = models.DateTimeField(auto_now_add=True)
    fname = models.CharField(max_length=1024, unique=True)
    # Read once from storage at registration; listings never ask storage again.
    fsize = models.BigIntegerField()
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="files")

    class Meta:
        ordering = ("-fname",)

    def __str__(self) -> str:
        return self.fname
