"""Key validation shared by the backends.

The API validates names long before they reach storage; this is defence in depth, and it makes
both backends accept exactly the same keys.
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
