import logging

from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from pacsfiles.models import PACS, PACSFile
from servicefiles.services import ALREADY_REGISTERED, stored_size

logger = logging.getLogger(__name__)


def register_pacs_file(*, path: str, pacs_name: str, **dicom) -> PACSFile:
    """Register a DICOM object already stored under ``SERVICES/PACS/<pacs_name>/``."""
    fsize = stored_size(path)
    try:
        with transaction.atomic():
            pacs, _ = PACS.objects.get_or_create(identifier=pacs_name)
            pacs_file = PACSFile.objects.create(fname=path, fsize=fsize, pacs=pacs, **dicom)
    except IntegrityError as error:
        raise ValidationError({"path": [ALREADY_REGISTERED]}) from error
    logger.info("PACS file %s registered for %s", path, pacs_name)
    return pacs_file
