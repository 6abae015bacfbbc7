"""Filters shared by the file collections."""

from datetime import UTC

import django_filters
from django.db import connection
from django.db.models import QuerySet, Value
from django.db.models.functions import Length, Replace


def terms_filter(lookup: str):
    """Match objects whose field contains every whitespace-separated term."""

    def apply(queryset: QuerySet, name: str, value: str) -> QuerySet:
        for term in value.split():
            queryset = queryset.filter(**{lookup: term})
        return queryset

    return apply


def filter_fname_prefix(queryset: QuerySet, name: str, value: str) -> QuerySet:
    """Keys starting with ``value``, case-sensitively, as an index range where that helps.

    SQLite's LIKE ignores case and cannot use the key index, so there a prefix becomes the
    range [value, value + U+10FFFF), which compares bytes (UTF-8 sorts as code points).
    PostgreSQL keeps LIKE, whose meaning a locale collation's ordering would not preserve.
    """
    if connection.vendor == "sqlite":
        return queryset.filter(fname__gte=value, fname__lt=value + "\U0010ffff")
    return queryset.filter(fname__startswith=value)


def filter_fname_nslashes(queryset: QuerySet, name: str, value: str) -> QuerySet:
    """``N``: keys with exactly N slashes. ``Nu``: the same, one file per parent folder."""
    value = value.strip()
    unique = value[-1:] in ("u", "U")
    number = value[:-1] if unique else value
    if not number.isdigit():
        return queryset
    queryset = queryset.annotate(
        nslashes=Length("fname") - Length(Replace("fname", Value("/"), Value(""))),
    ).filter(nslashes=int(number))
    if not unique:
        return queryset
    keep: dict[str, int] = {}
    for pk, fname in queryset.order_by("fname").values_list("pk", "fname").iterator():
        keep.setdefault(fname.rsplit("/", 1)[0], pk)
    return queryset.filter(pk__in=keep.values())


class UTCDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO-8601 datetime filter that compares in UTC.

    Python accepts UTC offsets up to ±23:59 but PostgreSQL only ±15:59, so an exotic offset
    is converted instead of reaching the database as a 500.
    """

    def filter(self, queryset, value):
        return super().filter(queryset, value.astimezone(UTC) if value else value)


class FileFilterSet(django_filters.FilterSet):
    min_creation_date = UTCDateTimeFilter(field_name="creation_date", lookup_expr="gte")
    max_creation_date = UTCDateTimeFilter(field_name="creation_date", lookup_expr="lte")
    fname = django_filters.CharFilter(method=filter_fname_prefix)
    fname_exact = django_filters.CharFilter(field_name="fname", lookup_expr="exact")
    fname_icontains = django_filters.CharFilter(field_name="fname", lookup_expr="icontains")
    fname_nslashes = django_filters.CharFilter(method=filter_fname_nslashes)
