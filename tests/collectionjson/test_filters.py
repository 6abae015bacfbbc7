"""The fname prefix filter matches exactly the names that start with the prefix."""

import pytest

from collectionjson.filters import prefix_upper_bound
from uploadedfiles.models import UploadedFile

pytestmark = pytest.mark.django_db

NAMES = [
    "alice/uploads/a", "alice/uploads/a/b", "alice/uploads/ab", "alice/uploads/b",
    "alice/uploads/A", "alice/uploads0", "alice/uploads/\ud7ff", "alice/uploads/\ud7ffx",
    "alice/uploads/\ue000", "alice/uploads/\U0010ffff", "alice/uploads/\U0010ffffz",
    "alice/uploads/\U0010fffe", "alice/uploads/ü", "alice/uploads/日本", "alice/uploadsé",
]  # fmt: skip


@pytest.mark.parametrize(
    "prefix",
    [
        "alice/", "alice/uploads/", "alice/uploads/a", "alice/uploads/\ud7ff",
        "alice/uploads/\U0010ffff", "alice/uploads/\U0010fffe", "alice/uploads/日",
        "alice/uploads/%", "alice/uploads/_",
    ],
)  # fmt: skip
def test_fname_prefix_matches_exactly_the_names_that_start_with_it(client, user, prefix):
    UploadedFile.objects.bulk_create(UploadedFile(owner=user, fname=name) for name in NAMES)
    response = client.get(
        "/api/v1/uploadedfiles/search/",
        {"fname": prefix, "limit": 100},
        HTTP_ACCEPT="application/json",
    )
    found = {item["fname"] for item in response.json()["results"]}
    assert found == {name for name in NAMES if name.startswith(prefix)}


def test_prefix_upper_bound():
    assert prefix_upper_bound("ab") == "ac"
    assert prefix_upper_bound("a\ud7ff") == "a\ue000"
    assert prefix_upper_bound("a\U0010ffff\U0010ffff") == "b"
    assert prefix_upper_bound("\U0010ffff") is None
