import io

from django.db import IntegrityError, transaction
from django.utils import timezone

from chrisinstance.models import ChrisInstance
from cube.storage import get_storage
from storage import ObjectNotFound

SINGLETON_ID = 1
# The object at the storage root that names the installation the storage belongs to.
INSTALLATION_MARKER = ".cube-installation"


class InstallationMismatch(Exception):
    """The database and the storage belong to different installations."""


def get_chris_instance() -> ChrisInstance:
    """The singleton, created on first access."""
    instance = ChrisInstance.objects.filter(pk=SINGLETON_ID).first()
    if instance is not None:
        return instance
    try:
        with transaction.atomic():
            return ChrisInstance.objects.create(pk=SINGLETON_ID)
    except IntegrityError:  # another request created it first
        return ChrisInstance.objects.get(pk=SINGLETON_ID)


def get_job_id_prefix() -> str:
    """This installation's job-id prefix, read from its row on every call.

    One primary-key read of one column, next to the compute-service request every caller
    makes anyway. A per-process cache is deliberately not kept: a worker that outlived a
    wiped database would go on naming jobs with the old installation's prefix, which is the
    very collision the stored prefix prevents.
    """
    prefix = (
        ChrisInstance.objects.filter(pk=SINGLETON_ID)
        .values_list("job_id_prefix", flat=True)
        .first()
    )
    return prefix if prefix is not None else get_chris_instance().job_id_prefix


def bind_storage() -> ChrisInstance:
    """Make sure the storage is this database's, marking it on the installation's first start.

    A database kept while its storage was wiped, or pointed at another installation's
    storage, would name files that are not there and refuse uploads of files that are: it
    must not start. The storage holds the installation's uuid, and the database remembers
    that it wrote it.
    """
    instance = get_chris_instance()
    storage = get_storage()
    expected = str(instance.uuid)
    try:
        found = b"".join(storage.open(INSTALLATION_MARKER)).decode(errors="replace").strip()
    except ObjectNotFound:
        found = None
    if found == expected:
        return instance
    if found is not None:
        raise InstallationMismatch(
            f"the storage belongs to installation {found}, the database to {expected}: "
            "point CUBE at the database and storage of one installation"
        )
    if instance.storage_bound is not None:
        raise InstallationMismatch(
            f"the storage of installation {expected} has lost its marker (wiped, or another "
            "storage): restore it, or start a fresh installation with a new database"
        )
    storage.put(INSTALLATION_MARKER, io.BytesIO(f"{expected}\n".encode()))
    ChrisInstance.objects.filter(pk=instance.pk).update(storage_bound=timezone.now())
    instance.refresh_from_db()
    return instance
