"""The one rule for names the compute service would follow as links."""

import pytest

from storage.keys import is_link_name


@pytest.mark.parametrize(
    "key",
    [
        "x.chrislink",
        "alice/uploads/x.chrislink",
        "alice/uploads/x.ChrisLink",
        "alice/uploads/X.CHRISLINK",
        "alice/uploads/x.chrislink/",
        ".chrislink",
    ],
)
def test_link_names(key):
    assert is_link_name(key)


@pytest.mark.parametrize(
    "key",
    [
        "alice/uploads/x.chrislink.txt",
        "alice/uploads/x.chrislink/y.txt",
        "alice/uploads/chrislink",
        "alice/uploads/x_chrislink",
        "alice.chrislink/uploads/x.txt",
        "",
    ],
)
def test_other_names(key):
    assert not is_link_name(key)
