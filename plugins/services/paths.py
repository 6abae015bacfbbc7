"""Which stored paths a caller may pass to ``path`` and ``unextpath`` parameters."""

import re

from django.contrib.auth.models import User
from rest_framework.exceptions import ValidationError

from cube.storage import get_storage
from storage.keys import has_bad_segment

SHARED_TREES = ("SERVICES", "PIPELINES")
FEED_SEGMENT = re.compile(r"^feed_(\d+)$")


def path_error(message: str) -> ValidationError:
    return ValidationError({"value": [message]})


def resolve_path(item: str, *, user: User) -> str:
    """Return the storage path ``item`` names, or raise a 400 naming the offending path.

    Allowed: the caller's own tree, SERVICES and PIPELINES, and ``<creator>/feed_<id>/...``
    of feeds the caller co-owns. The path must exist (an object, or a folder matched on
    ``path + '/'``). A leading-slash path outside those trees is the seed's shorthand for
    the caller's uploads: ``/DICOM/x`` means ``<caller>/uploads/DICOM/x``.
    """
    if item.startswith("/"):
        stripped = item.strip("/")
        first = stripped.split("/", 1)[0]
        if stripped and first not in (user.username, *SHARED_TREES):
            item = f"{user.username}/uploads/{stripped}"
        else:
            item = stripped
    item = item.rstrip("/")
    if not item:
        raise path_error("You do not have permission to access this path.")
    segments = item.split("/")
    if has_bad_segment(item):
        raise path_error(f"This field may not be an invalid path: '{item}'.")
    owner = segments[0]
    if owner not in (user.username, *SHARED_TREES):
        if len(segments) == 1 or segments[1] == "uploads":
            raise path_error(f"You do not have permission to access this path: '{item}'.")
        match = FEED_SEGMENT.match(segments[1])
        creator = User.objects.filter(username=owner).first() if match else None
        feed = creator.created_feeds.filter(pk=int(match.group(1))).first() if creator else None
        if feed is None:
            raise path_error(f"This field may not be an invalid path: '{item}'.")
        if not feed.is_owned_by(user):
            raise path_error(f"You do not have permission to access this path: '{item}'.")
    if not get_storage().exists(item):
        raise path_error(f"This field may not be an invalid path: '{item}' does not exist.")
    return item


def resolve_path_list(value: str, *, user: User) -> str:
    """Resolve each item of a comma-separated path list; return the stored form."""
    items = [item.strip() for item in str(value).split(",")]
    return ",".join(resolve_path(item, user=user) for item in items)
