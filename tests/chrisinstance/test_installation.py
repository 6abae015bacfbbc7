"""The database and the storage of one installation belong together."""

import io

import pytest
from django.core.management import CommandError, call_command

from chrisinstance.models import ChrisInstance
from chrisinstance.services import (
    INSTALLATION_MARKER,
    InstallationMismatch,
    bind_storage,
    get_chris_instance,
)

pytestmark = pytest.mark.django_db


def marker(storage) -> str:
    return b"".join(storage.open(INSTALLATION_MARKER)).decode().strip()


def test_the_first_start_marks_the_storage_and_later_starts_accept_it(storage):
    instance = bind_storage()
    assert marker(storage) == str(instance.uuid)
    assert instance.storage_bound is not None
    assert bind_storage().storage_bound == instance.storage_bound


def test_another_installations_storage_is_refused(storage):
    storage.put(INSTALLATION_MARKER, io.BytesIO(b"5f0e-other-installation\n"))
    with pytest.raises(InstallationMismatch, match="5f0e-other-installation"):
        bind_storage()
    assert ChrisInstance.objects.get().storage_bound is None


def test_a_storage_that_lost_its_marker_is_refused(storage):
    bind_storage()
    storage.delete(INSTALLATION_MARKER)  # wiped, or another, empty storage
    with pytest.raises(InstallationMismatch, match="lost its marker"):
        bind_storage()
    assert not storage.exists(INSTALLATION_MARKER)


def test_bootstrap_stops_on_a_mismatch_with_a_clear_message(storage):
    get_chris_instance()
    storage.put(INSTALLATION_MARKER, io.BytesIO(b"another\n"))
    with pytest.raises(CommandError, match="the storage belongs to installation another"):
        call_command("bootstrap")
