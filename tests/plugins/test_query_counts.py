"""List views cost a constant number of queries, whatever the page holds."""

import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plugins.services.instances import create_plugin_instance

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/",
        "/api/v1/search/?name=pl-dircopy",
        "/api/v1/plugins/instances/",
        "/api/v1/plugins/instances/search/?plugin_name=dircopy",
    ],
)
def test_lists_do_not_query_per_item(superuser_client, superuser, dircopy, storage, url):
    def add_feeds(count: int) -> None:
        for index in range(count):
            key = f"chris/uploads/q{index}/f.txt"
            storage.put(key, io.BytesIO(b"x"))
            create_plugin_instance(
                dircopy, owner=superuser, parameters={"dir": f"chris/uploads/q{index}"}
            )

    add_feeds(2)
    few = queries_for(superuser_client, url)
    add_feeds(6)
    assert queries_for(superuser_client, url) == few
