"""Validation of the storage keys users may upload to."""

import posixpath

from django.utils.text import get_valid_filename
from rest_framework.exceptions import ValidationError

from storage.keys import LINK_NAME_MESSAGE, is_link_name, name_problem


def clean_upload_path(upload_path: str, *, username: str) -> str:
    """Return the storage key for ``upload_path``, or raise ValidationError saying why not.

    The key must lie under ``<username>/uploads/`` and follow ``name_problem``'s rules (no
    empty, ``.`` or ``..`` segments, no control characters, no overlong names), with no commas
    (path parameters are comma-separated lists). The file name is made safe, and may not be
    a link file's name.
    """
    prefix = f"{username}/uploads/"
    path = upload_path.strip().strip("/")
    segments = path.split("/")
    problem = name_problem(path)
    if problem is not None:
        raise ValidationError({"upload_path": [f"File path {problem}"]})
    if "," in path:
        raise ValidationError({"upload_path": ["File path may not contain commas."]})
    if not path.startswith(prefix) or len(segments) < 3:
        raise ValidationError({"upload_path": [f"File path must start with '{prefix}'."]})
    directory, basename = posixpath.split(path)
    try:
        safe_name = get_valid_filename(basename)
    except Exception as error:  # Django raises SuspiciousFileOperation for '', '.', '..'
        raise ValidationError({"upload_path": ["File name is not valid."]}) from error
    # Checked on the name that is stored: making it safe drops characters, and so could
    # turn "x.chris$link" into a link file's name (or "$.storage-put-x" into a reserved one).
    if is_link_name(safe_name):
        raise ValidationError({"upload_path": [LINK_NAME_MESSAGE]})
    if name_problem(safe_name) is not None:
        raise ValidationError({"upload_path": ["File name is not valid."]})
    return f"{directory}/{safe_name}"
