"""List pages serialized from ``values_list()`` rows, the way their DRF serializer would.

A page of a big list costs per item what its serializer fields cost: a model instance per
row and table, and a ``reverse()`` per link. ``Rows`` builds the same item dicts from plain
rows: each link is reversed once per page with placeholders and then filled in per row with
the quoting ``reverse`` applies, and datetimes are written as DRF's DateTimeField writes them.
The item bytes must stay those of the serializer the detail views keep using, which
``tests/collectionjson/test_list_pages.py`` holds them to.

A page is computed a column at a time, each column by one comprehension over the page's
rows, and the items are then zipped from the columns: a row costs a few steps per field
inside those comprehensions rather than a Python call per field.

Columns carry ints, strings, booleans and None only: the page is encoded with orjson, which
writes floats differently from ``json``.
"""

import functools
import re
from collections.abc import Sequence
from itertools import repeat
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
PLACEHOLDER = 987654321012345


def is_unusual(text: str) -> bool:
    """A name that reverse() must fill in itself: no route matches it (it is empty or holds a
    newline), or it may hold dot segments, which an absolute URL would resolve away."""
    return not text or "\n" in text or text.startswith(".") or "/." in text


class Sources(dict):
    """The values of each row column over a page of rows, by column name, read when first used."""

    def __init__(self, rows: Sequence[tuple], names: Sequence[str]) -> None:
        super().__init__()
        self.rows = rows
        self.positions = {name: position for position, name in enumerate(names)}

    def __missing__(self, name: str) -> list[Any]:
        values = self[name] = list(map(itemgetter(self.positions[name]), self.rows))
        return values


class Column:
    """One value of an item, computed from row columns."""

    def sources(self) -> tuple[str, ...]:
        raise NotImplementedError

    def values(self, sources: Sources, request) -> list[Any]:
        """The value of each row of the page, in order."""
        raise NotImplementedError


class OneColumn(Column):
    """A value computed from one row column."""

    def __init__(self, source: str) -> None:
        self.source = source

    def sources(self) -> tuple[str, ...]:
        return (self.source,)


class Date(OneColumn):
    """A datetime as DRF's DateTimeField writes it (in the current time zone, ``Z`` for UTC)."""

    def values(self, sources: Sources, request) -> list[Any]:
        dates = sources[self.source]
        field = DateTimeField()
        zone, output_format = field.default_timezone(), api_settings.DATETIME_FORMAT
        if zone is None or not isinstance(output_format, str) or output_format.lower() != ISO_8601:
            return [None if date is None else field.to_representation(date) for date in dates]
        # DateTimeField.to_representation, with the zone looked up once per page; a naive
        # datetime is left to the field, which first makes it aware in that zone.
        texts = [
            None
            if date is None
            else field.to_representation(date)
            if date.tzinfo is None
            else date.astimezone(zone).isoformat()
            for date in dates
        ]
        return [text[:-6] + "Z" if text and text.endswith("+00:00") else text for text in texts]


class Basename(OneColumn):
    """The last segment of a path column, as ``posixpath.basename`` gives it."""

    def values(self, sources: Sources, request) -> list[Any]:
        return [path.rpartition("/")[2] for path in sources[self.source]]


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

    def values(self, sources: Sources, request) -> list[Any]:
        view_name, names = self.view_name, list(self.kwargs)
        # Placeholders that reverse() leaves as they are and that nothing else in a URL holds.
        marks = {str(PLACEHOLDER + index): index for index in range(len(names))}
        path = placeholder_path(view_name, tuple(names), get_script_prefix(), get_urlconf())
        pieces = re.split(f"({'|'.join(marks)})", absolute(path, request))
        parts, slots = pieces[0::2], [marks[mark] for mark in pieces[1::2]]

        def url(values: tuple) -> str | None:
            if None in values:
                return None
            texts = [str(value) for value in values]
            for index, text in enumerate(texts):
                if isinstance(values[index], int):
                    continue
                if is_unusual(text):
                    return reverse_any_name(
                        view_name, dict(zip(names, values, strict=True)), request
                    )
                texts[index] = quote(text, safe=SAFE)
            url = parts[0]
            for index, part in zip(slots, parts[1:], strict=True):
                url += texts[index] + part
            return url

        keys = [column.values(sources, request) for column in self.kwargs.values()]
        if len(slots) != 1:
            return [url(values) for values in zip(*keys, strict=True)]
        # The common link, filled in by one key, is written here when the key is an int.
        head, tail = parts
        return [
            f"{head}{key}{tail}" if type(key) is int else None if key is None else url((key,))
            for key in keys[0]
        ]


class Value(OneColumn):
    """A row column as it is."""

    def values(self, sources: Sources, request) -> list[Any]:
        return sources[self.source]


class Page(list):
    """A page of items built from rows.

    ``data_names`` and ``link_names`` are the items' plain and link fields other than ``url``,
    in the items' order, so the Collection+JSON renderer need not sort each item's fields.
    """

    data_names: tuple[str, ...] = ()
    link_names: tuple[str, ...] = ()


class Rows:
    """The items of a list page, from the rows of ``select()``.

    ``columns`` maps each output field, in the serializer's order, to a row column name or a
    Column; ``omit_if_null`` fields are left out when None, as the serializer leaves them.
    """

    columns: ClassVar[dict[str, str | Column]]
    omit_if_null: ClassVar[tuple[str, ...]] = ()

    def __init__(self, rows: Sequence[tuple], *, request) -> None:
        self.rows = rows
        self.request = request

    @classmethod
    def source_names(cls) -> list[str]:
        """The row columns the page needs, the key (as ``pk``) first."""
        names = ["pk"]
        for column in cls.columns.values():
            for name in column.sources() if isinstance(column, Column) else (column,):
                if name not in names:
                    names.append(name)
        return names

    @classmethod
    def select(cls, queryset: QuerySet) -> QuerySet:
        """The queryset's rows as tuples of ``source_names()``."""
        return queryset.values_list(*cls.source_names())

    @classmethod
    def item(cls, instance: Model, *, request) -> dict:
        """The item of one model instance, read from its attributes as from a row."""
        row = tuple(getattr(instance, name) for name in cls.source_names())
        return cls([row], request=request).data[0]

    @property
    def data(self) -> Page:
        sources = Sources(self.rows, self.source_names())
        fields = {
            name: sources[column]
            if isinstance(column, str)
            else column.values(sources, self.request)
            for name, column in self.columns.items()
        }
        names = list(fields)
        # Each item is dict(zip(names, row)) over the rows of the columns, called from C rather
        # than from a loop. Not strict: a row holds one value per name by construction.
        rows = zip(*fields.values(), strict=True)
        page = Page(map(dict, map(zip, repeat(names), rows)))
        for name in self.omit_if_null:
            for item, value in zip(page, fields[name], strict=True):
                if value is None:
                    del item[name]
        links = [name for name, column in self.columns.items() if isinstance(column, Link)]
        page.link_names = tuple(name for name in links if name != "url")
        page.data_names = tuple(name for name in names if name not in links)
        return page
