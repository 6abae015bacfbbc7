"""Streams a stored object as a download response."""

import mimetypes
import posixpath

from django.http import StreamingHttpResponse

from storage import get_storage


def stream_stored_file(fname: str, fsize: int | None) -> StreamingHttpResponse:
    basename = posixpath.basename(fname)
    content_type = mimetypes.guess_type(basename)[0] or "application/octet-stream"
    response = StreamingHttpResponse(get_storage().open(fname), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{basename}"'
    if fsize is not None:
        response["Content-Length"] = str(fsize)
    return response
