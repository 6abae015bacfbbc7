"""Where large request bodies spool while they are received."""

import os

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler

# Django names a spool file tempfile's way with this suffix: ``tmpk3j5x_2a.upload.dcm``.
SPOOL_PREFIX, SPOOL_SUFFIX = "tmp", ".upload"


class SpoolFileUploadHandler(TemporaryFileUploadHandler):
    """Django's temporary-file handler, creating the spool folder when it is missing."""

    def new_file(self, *args, **kwargs) -> None:
        os.makedirs(settings.FILE_UPLOAD_TEMP_DIR, exist_ok=True)
        super().new_file(*args, **kwargs)


def is_spool_file(name: str) -> bool:
    """Whether a file name is one Django gives a spooled upload."""
    return name.startswith(SPOOL_PREFIX) and SPOOL_SUFFIX in name
