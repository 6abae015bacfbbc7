import os

from django.apps import AppConfig
from django.conf import settings


class UploadedFilesConfig(AppConfig):
    name = "uploadedfiles"
    verbose_name = "Uploaded files"

    def ready(self) -> None:
        # Large uploads spool here (FILE_UPLOAD_TEMP_DIR, a folder of the var dir by default);
        # Django's checks and its upload handler both need it to exist.
        os.makedirs(settings.FILE_UPLOAD_TEMP_DIR, exist_ok=True)
