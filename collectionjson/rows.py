"""List pages serialized from ``values()`` rows, the way their DRF serializer would.

A page of a big list costs per item what its serializer fields cost: a model instance per
row and table, and a ``reverse()`` per link. ``Rows`` builds the same item dicts from plain
rows: each link is reversed once per page with placeholders and then filled in per row with
the quoting ``reverse`` applies, and datetimes are written as DRF's DateTimeField writes them.
The item bytes must stay those of the serializer the detail views keep using, which
``tests/collectionjson/test_list_pages.py`` holds them to.

Columns carry ints, strings, booleans and None only: the page is encoded with orjson, which
writes floats differently from ``json``.
"""

import functools
import re
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any, ClassVar
from urllib.parse import quote

from django.db.models import Model, QuerySet
from django.urls import get_script_prefix, get_urlconf
from django.utils.http import RFC3986_SUBDELIMS
from rest_framework import ISO_8601
from rest_framework.fields import DateTimeField
from rest_framework.reverse import preserve_builtin_query_params, reverse
from rest_framework.settings import api_settings

from collectionjson.fields import reverse_any_name

# What reverse() leaves unquoted in a path segment (RFC 3986 pchar).
SAFE = RFC3986_SUBDELIMS + "/~:@"
# Names reverse() cannot fill in as they are: no route matches them, or they are dot
# segments, which an absolute URL would resolve away.
UNUSUAL_NAMES = ("", ".", "..")
PLACEHOLDER = 987654321012345

Row = dict[str, Any]


class Column:
    """One value of an item, computed from a row."""

    def sources(self) -> tuple[str, ...]:
        raise NotImplementedError

    def compile(self, request) -> Callable[[Row], Any]:
        raise NotImplementedError


class OneColumn(Column):
    """A value computed from one row column."""

    def __init__(self, source: str) -> None:
        self.source = source

    def sources(self) -> tuple[str, ...]:
        return (self.source,)


class Date(OneColumn):
    """A datetime as DRF's DateTimeField writes it (in the current time zone, ``Z`` for UTC)."""

    def compile(self, request) -> Callable[[Row], Any]:
        source = self.source
        field = DateTimeField()
        zone, output_format = field.default_timezone(), api_settings.DATETIME_FORMAT
        if zone is None or not isinstance(output_format, str) or output_format.lower() != ISO_8601:
            return lambda row: None if row[source] is None else field.to_representation(row[source])

        def value(row: Row) -> str | None:
            # DateTimeField.to_representation for an aware datetime, with the zone looked up once.
            date = row[source]
            if date is None or date.tzinfo is None:
                return None if date is None else field.to_representation(date)
            text = date.astimezone(zone).isoformat()
            return text[:-6] + "Z" if text.endswith("+00:00") else text

        return value


class Basename(OneColumn):
    """The last segment of a path column, as ``posixpath.basename`` gives it."""

    def compile(self, request) -> Callable[[Row], Any]:
        source = self.source
        return lambda row: row[source].rpartition("/")[2]


@functools.cache
def placeholder_path(view_name: str, names: tuple[str, ...], script_prefix: str, urlconf) -> str:
    """The route's path, with ``PLACEHOLDER + index`` for each of ``names``.

    A route's path changes only with the script prefix and the URLconf, and reversing it
    costs a one-item response more than the rest of its links.
    """
    return reverse(
        view_name, kwargs={name: PLACEHOLDER + index for index, name in enumerate(names)}
    )


def absolute(path: str, request) -> str:
    """The URL ``reverse(..., request=request)`` makes of a reversed path (the API has no
    versioning, which would have DRF reverse otherwise)."""
    if request is None:
        return path
    return preserve_builtin_query_params(request.build_absolute_uri(path), request)


class Link(Column):
    """An absolute URL of a route, or None when a key is None.

    Each keyword names the route argument and the row column (or Column) that fills it.
    """

    def __init__(self, view_name: str, **kwargs: str | Column) -> None:
        self.view_name = view_name
        self.kwargs = {
            name: Value(source) if isinstance(source, str) else source
            for name, source in kwargs.items()
        }

    def sources(self) -> tuple[str, ...]:
        return tuple(name for column in self.kwargs.values() for name in column.sources())

    def compile(self, request) -> Callable[[Row], Any]:
        view_name = self.view_name
        getters = [(name, column.compile(request)) for name, column in self.kwargs.items()]
        # Placeholders that reverse() leaves as they are and that nothing else in a URL holds.
        marks = {str(PLACEHOLDER + index): index for index in range(len(getters))}
        path = placeholder_path(
            view_name, tuple(name for name, _ in getters), get_script_prefix(), get_urlconf()
        )
        pieces = re.split(f"({'|'.join(marks)})", absolute(path, request))
        parts, slots = pieces[0::2], [marks[mark] for mark in pieces[1::2]]

        def url(row: Row) -> str | None:
            values = [get(row) for _, get in getters]
            if None in values:
                return None
            texts = [str(value) for value in values]
            for index, text in enumerate(texts):
                if isinstance(values[index], int):
                    continue
                if "\n" in text or text in UNUSUAL_NAMES:
                    kwargs = {name: value for (name, _), value in zip(getters, values, strict=True)}
                    return reverse_any_name(view_name, kwargs, request)
                texts[index] = quote(text, safe=SAFE)
            url = parts[0]
            for index, part in zip(slots, parts[1:], strict=True):
                url += texts[index] + part
            return url

        column = next(iter(self.kwargs.values()))
        if len(slots) != 1 or not isinstance(column, Value):
            return url
        source, (head, tail) = column.source, parts

        def key_url(row: Row) -> str | None:
            # The common link, filled in by one key column.
            value = row[source]
            if type(value) is int:
                return f"{head}{value}{tail}"
            return None if value is None else url(row)

        key_url.key_parts = (source, head, tail)  # for Rows to fill in without a call
        return key_url


class Value(OneColumn):
    """A row column as it is."""

    def compile(self, request) -> Callable[[Row], Any]:
        return itemgetter(self.source)


class Page(list):
    """A page of items built from rows.

    ``data_names`` and ``link_names`` are the items' plain and link fields other than ``url``,
    in the items' order, so the Collection+JSON renderer need not sort each item's fields.
    """

    data_names: tuple[str, ...] = ()
    link_names: tuple[str, ...] = ()


class Rows:
    """The items of a list page, from ``values()`` rows.

    ``columns`` maps each output field, in the serializer's order, to a row column name or a
    Column; ``omit_if_null`` fields are left out when None, as the serializer leaves them.
    """

    columns: ClassVar[dict[str, str | Column]]
    omit_if_null: ClassVar[tuple[str, ...]] = ()

    def __init__(self, rows: Iterable[Row], *, request) -> None:
        self.rows = rows
        self.request = request

    @classmethod
    def source_names(cls) -> list[str]:
        """The row columns the items are computed from (the key first)."""
        names = ["pk"]
        for column in cls.columns.values():
            for name in column.sources() if isinstance(column, Column) else (column,):
                if name not in names:
                    names.append(name)
        return names

    @classmethod
    def select(cls, queryset: QuerySet) -> QuerySet:
        """The queryset's rows as the columns this page needs."""
        return queryset.values(*cls.source_names())

    @classmethod
    def item(cls, instance: Model, *, request) -> Row:
        """The item of one model instance, read from its attributes as from a row."""
        row = {name: getattr(instance, name) for name in cls.source_names()}
        return cls([row], request=request).data[0]

    @property
    def data(self) -> Page:
        names = list(self.columns)
        # One C call reads every plain column (and, as a stand-in, the key for the others);
        # the computed columns then replace their stand-ins, which keeps the serializer's order.
        sources = [column if isinstance(column, str) else "pk" for column in self.columns.values()]
        plain = itemgetter(*sources) if len(sources) > 1 else lambda row: (row[sources[0]],)
        computed, keyed = [], []
        for name, column in self.columns.items():
            if isinstance(column, Column):
                compute = column.compile(self.request)
                if parts := getattr(compute, "key_parts", None):
                    keyed.append((name, compute, *parts))
                else:
                    computed.append((name, compute))
        omit = self.omit_if_null
        page = Page()
        for row in self.rows:
            # Not strict: the getter gives one value per name by construction, and the check
            # costs a third of building the item.
            item = dict(zip(names, plain(row), strict=False))
            # Links filled in by an int key, the most common columns, are written here rather
            # than by a call each.
            for name, compute, source, head, tail in keyed:
                key = row[source]
                item[name] = f"{head}{key}{tail}" if type(key) is int else compute(row)
            for name, compute in computed:
                item[name] = compute(row)
            for name in omit:
                if item[name] is None:
                    del item[name]
            page.append(item)
        links = [name for name, column in self.columns.items() if isinstance(column, Link)]
        page.link_names = tuple(name for name in links if name != "url")
        page.data_names = tuple(name for name in names if name not in links)
        return page
