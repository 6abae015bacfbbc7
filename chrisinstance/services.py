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
