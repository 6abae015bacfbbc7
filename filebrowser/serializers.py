import json
import posixpath
from functools import cache

from rest_framework import serializers

from collectionjson.fields import LinkField
from filebrowser.services import FileSource, Folder


def folder_url(folder: Folder):
    if folder.path == "":
        return ("filebrowserpath-list", {})
    return ("filebrowserpath", {"path": folder.path})


def folder_files_url(folder: Folder):
    if folder.path == "":
        return None
    return ("filebrowserpathfile-list", {"path": folder.path})


class FolderSerializer(serializers.Serializer):
    url = LinkField(folder_url)
    path = serializers.CharField(read_only=True)
    subfolders = serializers.SerializerMethodField()
    files = LinkField(folder_files_url, allow_null=True)

    def get_subfolders(self, folder: Folder) -> str:
        # v5 sends a string holding a JSON array; clients parse it.
        return json.dumps(folder.subfolders)


@cache
def file_serializer_for(source: FileSource) -> type[serializers.Serializer]:
    """A serializer whose links point at the routes of the file's own table."""

    class FolderFileSerializer(serializers.Serializer):
        url = LinkField(lambda f: (source.detail_view, {"pk": f.pk}))
        creation_date = serializers.DateTimeField(read_only=True)
        fname = serializers.CharField(read_only=True)
        fsize = serializers.IntegerField(read_only=True)
        file_resource = LinkField(
            lambda f: (source.resource_view, {"pk": f.pk, "name": posixpath.basename(f.fname)})
        )

    return FolderFileSerializer
