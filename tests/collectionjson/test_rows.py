"""Row columns give what the serializer fields they stand in for give, value by value."""

import datetime as dt
import zoneinfo

import pytest
from rest_framework.fields import DateTimeField
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from collectionjson.fields import reverse_any_name
from collectionjson.rows import Basename, Date, Link, Rows, Sources
from plugins.models import PluginInstance
from plugins.serializers import PluginInstanceRows

NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
DATES = [
    None,
    dt.datetime(2024, 1, 2, 3, 4, 5, 123456, tzinfo=dt.UTC),
    dt.datetime(2024, 6, 1, 12, 0, 0, tzinfo=dt.UTC),
    dt.datetime(2024, 3, 10, 6, 59, 59, tzinfo=dt.UTC),  # a second before New York's DST
    dt.datetime(2024, 11, 3, 1, 30, tzinfo=NEW_YORK),  # stored in another zone
    dt.datetime(2024, 7, 4, 9, 30),  # naive: the field makes it aware in the current zone
]


@pytest.fixture
def request_():
    return Request(APIRequestFactory().get("/api/v1/"))


def column_values(column, rows, names, request):
    return column.values(Sources(rows, names), request)


@pytest.mark.parametrize("zone", ["UTC", "America/New_York", "Europe/London", "Asia/Kolkata"])
def test_dates_are_written_as_the_datetime_field_writes_them(settings, request_, zone):
    settings.TIME_ZONE = zone
    rows = [(index, date) for index, date in enumerate(DATES)]
    expected = [None if date is None else DateTimeField().to_representation(date) for date in DATES]
    assert column_values(Date("date"), rows, ["pk", "date"], request_) == expected
    if zone == "UTC":
        assert expected[1] == "2024-01-02T03:04:05.123456Z"


def test_dates_follow_a_custom_output_format(settings, request_):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DATETIME_FORMAT": "%Y-%m-%d %H:%M"}
    rows = [(index, date) for index, date in enumerate(DATES)]
    values = column_values(Date("date"), rows, ["pk", "date"], request_)
    assert values[:3] == [None, "2024-01-01 22:04", "2024-06-01 08:00"]


def test_dates_without_time_zones_are_written_as_they_are(settings, request_):
    settings.USE_TZ = False
    naive = dt.datetime(2024, 7, 4, 9, 30, 1)
    values = column_values(Date("date"), [(1, naive), (2, None)], ["pk", "date"], request_)
    assert values == ["2024-07-04T09:30:01", None]


def test_links_are_those_reverse_gives(request_):
    rows = [(1, 7), (2, None)]
    values = column_values(Link("feed-detail", pk="key"), rows, ["pk", "key"], request_)
    assert values == ["http://testserver/api/v1/7/", None]
    keys = [7, "7", "a b", "ünï/cødé", "100%", "new\nline", ".", "..", "a/../b", True]
    rows = [(index, key) for index, key in enumerate(keys)]
    values = column_values(Link("filebrowserpath", path="key"), rows, ["pk", "key"], request_)
    assert values[2] == "http://testserver/api/v1/filebrowser/a%20b/"
    for key, value in zip(keys, values, strict=True):
        assert value == reverse_any_name("filebrowserpath", {"path": key}, request_), key


def test_links_with_two_keys_fill_in_both(request_):
    fnames = ["alice/feed_1/data/a b.txt", "alice/feed_1/data/new\nline", "alice/..", None]
    rows = [(index, fname) for index, fname in enumerate(fnames)]
    link = Link("pluginfile-resource", pk="pk", name=Basename("fname"))
    values = column_values(link, rows[:3], ["pk", "fname"], request_)
    assert values[0] == "http://testserver/api/v1/files/0/a%20b.txt"
    for index, value in enumerate(values):
        kwargs = {"pk": index, "name": fnames[index].rpartition("/")[2]}
        assert value == reverse_any_name("pluginfile-resource", kwargs, request_)
    link = Link("pluginfile-resource", pk="pk", name="fname")
    assert column_values(link, rows[3:], ["pk", "fname"], request_) == [None]


class NoteRows(Rows):
    omit_if_null = ("title",)
    columns = {
        "url": Link("feed-detail", pk="pk"),
        "title": "title",
        "size": "size",
        "created": Date("created"),
        "creator": Link("user-detail", pk="creator_id"),
    }


def test_items_keep_the_field_order_and_omit_null_fields(request_):
    created = dt.datetime(2024, 6, 1, 12, 0, 0, tzinfo=dt.UTC)
    assert NoteRows.source_names() == ["pk", "title", "size", "created", "creator_id"]
    rows = [(1, "one", 10, created, 5), (2, None, None, None, None)]
    page = NoteRows(rows, request=request_).data
    assert page == [
        {
            "url": "http://testserver/api/v1/1/",
            "title": "one",
            "size": 10,
            "created": "2024-06-01T08:00:00-04:00",
            "creator": "http://testserver/api/v1/users/5/",
        },
        {"url": "http://testserver/api/v1/2/", "size": None, "created": None, "creator": None},
    ]
    assert list(page[0]) == list(NoteRows.columns)
    assert page.data_names == ("title", "size", "created")
    assert page.link_names == ("creator",)
    assert NoteRows([], request=request_).data == []


@pytest.mark.django_db
def test_selected_rows_are_tuples_with_the_key_first():
    rows = PluginInstanceRows.select(PluginInstance.objects.all())
    assert rows.query.values_select[0] == "pk"
    assert list(rows.query.values_select) == PluginInstanceRows.source_names()
