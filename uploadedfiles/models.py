from django.conf import settings
from django.db import models


class UploadedFile(models.Model):
    creation_date = models.DateTimeField(auto_now_add=True)
    fname = models.CharField(max_length=1024, unique=True)
    fsize = models.BigIntegerField(default=0)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="uploaded_files"
    )

    class Meta:
        ordering = ("-fname",)
        # Non-superusers list their own files in fname order: one index walk, no sort. With
        # the id, a deep page's keys are found in the index alone (as for feed files).
        indexes = [models.Index(fields=["owner", "-fname", "id"], name="upload_owner_fname_id")]

    def __str__(self) -> str:
        return self.fname
