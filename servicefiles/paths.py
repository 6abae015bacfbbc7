"""Validation of the storage keys of files registered for a service."""

from rest_framework import serializers

from storage.keys import LINK_NAME_MESSAGE, has_bad_segment, is_link_name


def clean_service_path(path: str, *, prefix: str) -> str:
    """Strip spaces and slashes; the key must lie under ``prefix`` with no odd segments.

    A link file's name is refused: registering one would show it as an ordinary file.
    """
    path = path.strip(" ").strip("/")
    if not path.startswith(prefix):
        raise serializers.ValidationError(f"File path must start with '{prefix}'.")
    if has_bad_segment(path):
        raise serializers.ValidationError("File path may not contain empty, '.' or '..' segments.")
    if is_link_name(path):
        raise serializers.ValidationError(LINK_NAME_MESSAGE)
    return path
