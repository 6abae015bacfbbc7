from django.db import IntegrityError, transaction

from chrisinstance.models import ChrisInstance

SINGLETON_ID = 1


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
