import logging

from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from cube.storage import get_storage
from servicefiles.models import Service, ServiceFile
from storage import ObjectNotFound

logger = logging.getLogger(__name__)

ALREADY_REGISTERED = "File has already been registered."


def stored_size(fname: str) -> int:
    """The size of an object that must already be in storage, else a validation error."""
    try:
        return get_storage().size(fname)
    except ObjectNotFound:
        raise ValidationError({"path": ["Could not find this path."]}) from None


def register_service_file(*, path: str, service_name: str) -> ServiceFile:
    """Register an object already stored under ``SERVICES/<service_name>/``."""
    fsize = stored_size(path)
    try:
        with transaction.atomic():
            service, _ = Service.objects.get_or_create(identifier=service_name)
            service_file = ServiceFile.objects.create(fname=path, fsize=fsize, service=service)
    except IntegrityError as error:
        raise ValidationError({"path": [ALREADY_REGISTERED]}) from error
    logger.info("service file %s registered for %s", path, service_name)
    return service_file
