"""Celery shims of the uploaded files' services."""

from celery import shared_task

from uploadedfiles import services


@shared_task
def remove_partial_writes() -> None:
    services.remove_partial_writes()
