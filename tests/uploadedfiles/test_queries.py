import pytest

from uploadedfiles import queries
from uploadedfiles.models import UploadedFile

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered(user):
    for fname in ("alice/uploads/a.txt", "alice/uploads/d/b.txt", "alice/uploads/d0"):
        UploadedFile.objects.create(owner=user, fname=fname)


def test_registered_among_finds_a_registered_file(registered):
    ancestors = ["alice", "alice/uploads", "alice/uploads/a.txt", "alice/uploads/a.txt/c"]
    assert queries.registered_among(ancestors) == "alice/uploads/a.txt"
    assert queries.registered_among(["alice", "alice/uploads", "alice/uploads/d"]) is None


def test_registered_among_takes_any_number_of_keys(registered):
    for count in (1, 2, 5, 40):
        fnames = [f"alice/uploads/{index}" for index in range(count - 1)]
        assert queries.registered_among([*fnames, "alice/uploads/d0"]) == "alice/uploads/d0"
        assert queries.registered_among([*fnames, "alice/uploads/d"]) is None


@pytest.mark.parametrize(
    ("prefix", "expected"),
    [
        ("alice/uploads/d/", True),
        ("alice/uploads/", True),
        ("alice/uploads/a.txt/", False),  # a file, not a folder
        ("alice/uploads/D/", False),  # keys are compared case-sensitively
        ("alice/uploads/b/", False),
        ("alice/uploads/d0/", False),  # d0 sorts just above d/'s range
    ],
)
def test_registered_beneath_is_a_folder_test(registered, prefix, expected):
    assert queries.registered_beneath(prefix) is expected
    fnames = UploadedFile.objects.values_list("fname", flat=True)
    assert any(fname.startswith(prefix) for fname in fnames) is expected
