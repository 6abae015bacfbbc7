"""The path-based file browser: a read-only view over the file tables (no models of its own).

Folders are never stored. A folder's subfolders are the distinct next path segments of the
keys under ``path + '/'``, computed by the database, and its files are the keys directly under
it, paged by the database. Prefixes always end in ``/`` so ``dataset1`` never lists
``dataset10``.
"""

import re
from dataclasses import dataclass
from typing import NamedTuple

from django.apps import apps
from django.contrib.auth.models import AnonymousUser, User
from django.db.models import F, QuerySet, Value
from django.db.models.functions import StrIndex, Substr

from feeds.models import Feed
from pacsfiles.models import PACSFile
from plugins.models import PluginInstanceFile
from servicefiles.models import ServiceFile
from storage.keys import has_bad_segment, is_encodable
from uploadedfiles.models import UploadedFile

FEED_FOLDER = re.compile(r"^feed_(\d+)$")


class FileSource(NamedTuple):
    """A table of files and the routes of its items."""

    model: type
    detail_view: str
    resource_view: str


UPLOADS = FileSource(UploadedFile, "uploadedfile-detail", "uploadedfile-resource")
PACS = FileSource(PACSFile, "pacsfile-detail", "pacsfile-resource")
SERVICES = FileSource(ServiceFile, "servicefile-detail", "servicefile-resource")
FEEDS = FileSource(PluginInstanceFile, "pluginfile-detail", "pluginfile-resource")


def pipeline_source() -> FileSource | None:
    """Pipeline source files, once the pipelines app provides them."""
    try:
        model = apps.get_model("pipelines", "PipelineSourceFile")
    except LookupError:
        return None
    return FileSource(model, "pipelinesourcefile-detail", "pipelinesourcefile-resource")


@dataclass(frozen=True)
class Folder:
    path: str
    subfolders: list[str]


def clean_path(path: str) -> str | None:
    """The path without outer slashes, or None if it has empty, '.' or '..' segments.

    None too for a NUL or lone surrogate, which no stored name holds and PostgreSQL refuses
    even in a query. Other control characters are looked up: a plugin may write such names.
    """
    path = path.strip().strip("/")
    if "\x00" in path or not is_encodable(path):
        return None
    if path and has_bad_segment(path):
        return None
    return path


def under(queryset: QuerySet, prefix: str) -> QuerySet:
    """Rows whose ``fname`` starts with ``prefix``, compared case-sensitively on every backend."""
    return (
        queryset.filter(fname__startswith=prefix)
        .annotate(head=Substr("fname", 1, len(prefix)))
        .filter(head=prefix)
    )


def next_segments(queryset: QuerySet, prefix: str) -> set[str]:
    """The distinct folder names directly under ``prefix`` (which ends in '/'), in SQL."""
    rows = (
        under(queryset, prefix)
        .annotate(rest=Substr("fname", len(prefix) + 1))
        .annotate(cut=StrIndex("rest", Value("/")))
        .filter(cut__gt=0)
        .annotate(segment=Substr("rest", 1, F("cut") - 1))
        .order_by()
        .values_list("segment", flat=True)
        .distinct()
    )
    return set(rows)


def source_for(path: str) -> FileSource | None:
    """The table holding the files under ``path``."""
    segments = path.split("/")
    if segments[0] == "PIPELINES":
        return pipeline_source()
    if segments[0] == "SERVICES":
        return PACS if segments[1:2] == ["PACS"] else SERVICES
    if segments[1:2] == ["uploads"]:
        return UPLOADS
    return FEEDS


def has_files(path: str) -> bool:
    source = source_for(path)
    return source is not None and under(source.model.objects.all(), path + "/").exists()


def is_own(user: User | AnonymousUser, username: str) -> bool:
    return user.is_authenticated and (user.is_superuser or user.username == username)


def visible_feed_folders(user: User | AnonymousUser, username: str) -> set[str]:
    """``feed_<id>`` folders of ``username``'s feeds that the caller may read."""
    ids = (
        Feed.objects.readable_by(user)
        .filter(creator__username=username)
        .values_list("pk", flat=True)
    )
    return {f"feed_{pk}" for pk in ids}


def is_visible(user: User | AnonymousUser, path: str) -> bool:
    segments = path.split("/")
    top = segments[0]
    if path == "":
        return True
    if top == "PIPELINES":
        return len(segments) == 1 or has_files(path)
    if top == "SERVICES":
        if not user.is_authenticated:
            return False
        return path in ("SERVICES", "SERVICES/PACS") or has_files(path)
    if is_own(user, top):
        if user.username == top and segments[1:] in ([], ["uploads"]):
            return True
        if len(segments) == 1:
            return any(
                under(model.objects.all(), path + "/").exists()
                for model in (UploadedFile, PluginInstanceFile)
            )
        return has_files(path)
    folders = visible_feed_folders(user, top)
    if len(segments) == 1:
        return bool(folders)
    return segments[1] in folders and has_files(path)


def subfolders(user: User | AnonymousUser, path: str) -> set[str]:
    segments = path.split("/")
    top = segments[0]
    if path == "":
        return root_subfolders(user)
    if path == "SERVICES":
        return (
            {"PACS"}
            | next_segments(ServiceFile.objects.all(), "SERVICES/")
            | next_segments(PACSFile.objects.all(), "SERVICES/")
        )
    if len(segments) == 1 and top != "PIPELINES":
        found = next_segments(UploadedFile.objects.all(), path + "/") | next_segments(
            PluginInstanceFile.objects.all(), path + "/"
        )
        if user.is_authenticated and user.username == top:
            return found | {"uploads"}
        if user.is_superuser:
            return found
        return found & visible_feed_folders(user, top)
    source = source_for(path)
    if source is None:
        return set()
    return next_segments(source.model.objects.all(), path + "/")


def root_subfolders(user: User | AnonymousUser) -> set[str]:
    creators = set(
        Feed.objects.readable_by(user)
        .order_by()
        .values_list("creator__username", flat=True)
        .distinct()
    )
    if not user.is_authenticated:
        return {"PIPELINES"} | creators
    return {"PIPELINES", "SERVICES", user.username} | creators


def get_folder(user: User | AnonymousUser, path: str) -> Folder | None:
    """The folder at ``path`` if the caller may see it, else None."""
    path = clean_path(path)
    if path is None or not is_visible(user, path):
        return None
    return Folder(path=path, subfolders=sorted(subfolders(user, path)))


def folder_files(user: User | AnonymousUser, path: str) -> tuple[FileSource, QuerySet] | None:
    """The files directly in a visible folder (a lazy queryset), or None if not visible."""
    path = clean_path(path)
    if not path or not is_visible(user, path):
        return None
    source = source_for(path)
    if source is None:
        return FEEDS, PluginInstanceFile.objects.none()
    prefix = path + "/"
    files = (
        under(source.model.objects.all(), prefix)
        .annotate(rest=Substr("fname", len(prefix) + 1))
        .exclude(rest__contains="/")
        .order_by("-fname")
    )
    return source, files
