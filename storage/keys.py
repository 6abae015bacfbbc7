"""Key validation shared by the backends, and the one rule for link-file names.

The API validates names long before they reach storage; this is defence in depth, and it makes
both backends accept exactly the same keys. Link-file names are not refused here, only by the
API routes that store a user's file (see ``is_link_name``): the compute service writes through
these backends too and keeps its own rules for links.
"""

# Filesystem puts stage data in files with this name prefix; no key may use it.
TEMP_PREFIX = ".storage-put-"


def check_key(key: str) -> str:
    """Return ``key`` if it is a valid object or folder name, else raise ValueError."""
    if not isinstance(key, str) or not key:
        raise ValueError(f"invalid storage key {key!r}: empty")
    if key.startswith("/"):
        raise ValueError(f"invalid storage key {key!r}: absolute")
    if "\x00" in key:
        raise ValueError(f"invalid storage key {key!r}: NUL byte")
    for segment in key.split("/"):
        if segment in ("", ".", ".."):
            raise ValueError(f"invalid storage key {key!r}: empty, '.' or '..' segment")
        if segment.startswith(TEMP_PREFIX):
            raise ValueError(f"invalid storage key {key!r}: reserved name")
    return key


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
