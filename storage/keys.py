"""Key validation shared by the backends, and the one rule for link-file names.

The API validates names long before they reach storage; this is defence in depth, and it makes
both backends accept exactly the same keys. Link-file names are not refused here, only by the
API routes that store a user's file (see ``is_link_name``): the compute service writes through
these backends too and keeps its own rules for links.
"""

import unicodedata

# Filesystem puts stage data in files with this name prefix; no key may use it.
TEMP_PREFIX = ".storage-put-"
# The longest file or folder name most filesystems take (ext4, XFS: bytes of UTF-8).
MAX_SEGMENT_BYTES = 255


class InvalidKey(ValueError):
    """A key no backend may store. Raised inside a request it is the caller's error: 400."""

    http_status = 400


def check_key(key: str) -> str:
    """Return ``key`` if it is a valid object or folder name, else raise InvalidKey."""
    if not isinstance(key, str) or not key:
        raise InvalidKey(f"invalid storage key {key!r}: empty")
    if key.startswith("/"):
        raise InvalidKey(f"invalid storage key {key!r}: absolute")
    if "\x00" in key:
        raise InvalidKey(f"invalid storage key {key!r}: NUL byte")
    if not is_encodable(key):
        raise InvalidKey(f"invalid storage key {key!r}: not valid Unicode")
    if has_bad_segment(key):
        raise InvalidKey(f"invalid storage key {key!r}: empty, '.' or '..' segment")
    if any(segment.startswith(TEMP_PREFIX) for segment in key.split("/")):
        raise InvalidKey(f"invalid storage key {key!r}: reserved name")
    return key


def has_bad_segment(path: str) -> bool:
    """Whether a slash-separated path has an empty, ``.`` or ``..`` segment."""
    return any(segment in ("", ".", "..") for segment in path.split("/"))


def is_encodable(text: str) -> bool:
    """False for text holding lone surrogates, which no file name or database can store."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds a control character (newline, tab, NUL, DEL, C1 controls)."""
    return any(unicodedata.category(character) == "Cc" for character in text)


def name_problem(path: str) -> str | None:
    """Why a user may not give a file or folder the name ``path``, or None if they may.

    Stricter than ``check_key``, for the names users choose (upload paths, path parameters,
    usernames, which become the first segment of their paths): no control characters, which
    break listings, headers and logs, and no segment too long for a filesystem.
    """
    if not is_encodable(path):
        return "may not contain invalid Unicode (lone surrogates)."
    if has_control_characters(path):
        return "may not contain control characters."
    if has_bad_segment(path):
        return "may not contain empty, '.' or '..' segments."
    for segment in path.split("/"):
        if segment.startswith(TEMP_PREFIX):
            return f"may not contain names starting with '{TEMP_PREFIX}'."
        if len(segment.encode()) > MAX_SEGMENT_BYTES:
            return f"may not contain names longer than {MAX_SEGMENT_BYTES} bytes."
    return None


def check_prefix(prefix: str) -> str:
    """Like check_key, but ``""`` (everything) is allowed: for listings only."""
    return prefix if prefix == "" else check_key(prefix)


# The compute service reads an object whose name ends with this as a link: when it stages a
# job's inputs it copies the path written in the object, wherever that is. So only CUBE may
# make one; no API route may store a user's file under such a name.
LINK_SUFFIX = ".chrislink"
LINK_NAME_MESSAGE = f"File names ending in '{LINK_SUFFIX}' are reserved for ChRIS links."


def is_link_name(key: str) -> bool:
    """Whether the object at ``key`` could be taken for a link file by the compute service.

    The compute service matches the suffix case-sensitively. Case variants are caught too, so a
    case-folding backend, a tool or a later compute service can't turn such a file into a link.
    """
    return key.rstrip("/").rpartition("/")[2].casefold().endswith(LINK_SUFFIX)
