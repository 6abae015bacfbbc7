"""The queries an upload runs to find a conflicting path, compiled once (see cube.queries)
per database and per number of folders above the key."""

import functools

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import QuerySet

from collectionjson.filters import filter_fname_prefix, prefix_upper_bound, sorts_by_code_point
from cube.queries import compiled
from uploadedfiles.models import UploadedFile


@functools.cache
def registered_among_sql(alias: str, count: int) -> str:
    # Distinct values: an IN list drops duplicates.
    placeholders = [str(index) for index in range(count)]
    files = UploadedFile.objects.using(alias).filter(fname__in=placeholders).order_by()
    return compiled(files.values_list("fname", flat=True)[:1], placeholders)[0]


@functools.cache
def registered_in_range_sql(alias: str) -> str:
    placeholders = ["from", "to"]
    files = UploadedFile.objects.using(alias).filter(fname__gte="from", fname__lt="to").order_by()
    return compiled(files.values_list("fname", flat=True)[:1], placeholders)[0]


def registered_among(fnames: list[str]) -> str | None:
    """One of ``fnames`` that is a registered file's, if any is."""
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(registered_among_sql(DEFAULT_DB_ALIAS, len(fnames)), fnames)
        row = cursor.fetchone()
    return None if row is None else row[0]


def registered_beneath(prefix: str) -> bool:
    """Whether a registered file's key starts with ``prefix`` (which ends in a slash)."""
    upper = prefix_upper_bound(prefix)
    if upper is None or not sorts_by_code_point():
        files: QuerySet = UploadedFile.objects.all()
        return filter_fname_prefix(files, "fname", prefix).exists()
    with connections[DEFAULT_DB_ALIAS].cursor() as cursor:
        cursor.execute(registered_in_range_sql(DEFAULT_DB_ALIAS), [prefix, upper])
        return cursor.fetchone() is not None
