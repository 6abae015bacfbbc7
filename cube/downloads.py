"""Streams a stored object as a download response."""

import mimetypes
import posixpath

from django.http import FileResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics

from collectionjson.renderers import BinaryRenderer, CollectionJsonRenderer, JSONRenderer
from cube.storage import get_storage

# For the ``get`` of a download view: the body is the file, its type guessed from its name.
download_schema = extend_schema(
    responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file.")}
)


def stream_stored_file(fname: str) -> FileResponse:
    """Stream the object; a file-backed one goes out through the server's ``sendfile``.

    Content-Length is the size of the object being sent, never the size recorded in the
    database: the object may have been replaced since it was registered.
    """
    basename = posixpath.basename(fname)
    content_type = mimetypes.guess_type(basename)[0] or "application/octet-stream"
    stored = get_storage().open(fname)
    response = FileResponse(stored, content_type=content_type)
    # v5's form, inline; filename="<name>", for every name a header can hold as it is;
    # names with quotes, control or non-ASCII characters are encoded (RFC 6266).
    response["Content-Disposition"] = content_disposition_header(False, basename)
    response["Content-Length"] = str(stored.size)
    return response


class StoredFileDownload(generics.GenericAPIView):
    """``GET <item>/<name>``: the item's stored object; subclasses set queryset and permissions."""

    # Errors still render as C+J or JSON when the client accepts them.
    renderer_classes = (CollectionJsonRenderer, JSONRenderer, BinaryRenderer)

    @download_schema
    def get(self, request, *args, **kwargs):
        stored_file = self.get_object()
        return stream_stored_file(stored_file.fname)
