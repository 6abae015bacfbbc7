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


def prefix_upper_bound(value: str) -> str | None:
    """The least string above every string that starts with ``value``, in code point order.

    None when there is none (``value`` is empty or all U+10FFFF).
    """
    while value and value[-1] == "\U0010ffff":
        value = value[:-1]
    if not value:
        return None
    following = ord(value[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # no string holds a surrogate
        following = 0xE000
    return value[:-1] + chr(following)


CODE_POINT_LOCALES = {"C", "POSIX", "C.UTF-8", "C.utf8", "C.UTF8"}
_code_point_order: dict[tuple, bool] = {}


def sorts_by_code_point() -> bool:
    """The database compares text as code points: SQLite's binary collation, or a PostgreSQL
    database whose default collation is C, POSIX or C.UTF-8 (libc's and the builtin one)."""
    if connection.vendor == "sqlite":
        return True
    if connection.vendor != "postgresql":
        return False
    key = (connection.alias, connection.settings_dict.get("NAME"))
    if key not in _code_point_order:
        with connection.cursor() as cursor:
            if connection.pg_version >= 150000:
                cursor.execute(
                    "SELECT datcollate, datlocprovider FROM pg_database "
                    "WHERE datname = current_database()"
                )
                collate, provider = cursor.fetchone()
            else:
                cursor.execute(
                    "SELECT datcollate FROM pg_database WHERE datname = current_database()"
                )
                (collate,), provider = cursor.fetchone(), "c"
        _code_point_order[key] = provider in ("c", "b") and collate in CODE_POINT_LOCALES
    return _code_point_order[key]


def filter_fname_prefix(queryset: QuerySet, name: str, value: str) -> QuerySet:
    """Keys starting with ``value``, case-sensitively, as an index range where that helps.

    Where text sorts by code point (always on SQLite, whose LIKE ignores case and cannot use
    the key index; on PostgreSQL in the C locales), a prefix is the range from ``value`` up to
    ``prefix_upper_bound(value)``, which the (owner, fname) and fname indexes walk. Under
    another collation PostgreSQL keeps LIKE, whose meaning that ordering would not preserve.
    """
    if not sorts_by_code_point():
        return queryset.filter(fname__startswith=value)
    upper = prefix_upper_bound(value)
    if upper is None:
        return queryset.filter(fname__gte=value)
    return queryset.filter(fname__gte=value, fname__lt=upper)


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
