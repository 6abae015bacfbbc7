"""Streams a stored object as a download response."""

import mimetypes
import posixpath

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.renderers import JSONRenderer

from collectionjson.renderers import BinaryRenderer, CollectionJsonRenderer
from storage import get_storage

# For the ``get`` of a download view: the body is the file, its type guessed from its name.
download_schema = extend_schema(
    responses={(200, "*/*"): OpenApiResponse(OpenApiTypes.BINARY, description="The file.")}
)


def stream_stored_file(fname: str, fsize: int | None) -> FileResponse:
    """Stream the object; a file-backed one goes out through the server's ``sendfile``."""
    basename = posixpath.basename(fname)
    content_type = mimetypes.guess_type(basename)[0] or "application/octet-stream"
    response = FileResponse(get_storage().open(fname), content_type=content_type)
    response["Content-Disposition"] = f'inline; filename="{basename}"'
    if fsize is not None:
        response["Content-Length"] = str(fsize)
    return response


class StoredFileDownload(generics.GenericAPIView):
    """``GET <item>/<name>``: the item's stored object; subclasses set queryset and permissions."""

    # Errors still render as C+J or JSON when the client accepts them.
    renderer_classes = (CollectionJsonRenderer, JSONRenderer, BinaryRenderer)

    @download_schema
    def get(self, request, *args, **kwargs):
        stored_file = self.get_object()
        return stream_stored_file(stored_file.fname, stored_file.fsize)
