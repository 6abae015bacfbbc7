from django.http import Http404
from rest_framework import generics, permissions

from collectionjson.mixins import CollectionJsonMixin
from filebrowser import services
from filebrowser.serializers import FolderSerializer, file_serializer_for


class FolderView(CollectionJsonMixin):
    serializer_class = FolderSerializer
    permission_classes = (permissions.AllowAny,)
    template_fields = ()


class FolderList(FolderView, generics.ListAPIView):
    """The root folder, as a one-item list with a search query."""

    def get_queryset(self):
        return [services.get_folder(self.request.user, "")]

    def get_queries(self):
        href = self.link("filebrowserpath-list-query-search")
        return [{"href": href, "rel": "search", "data": [{"name": "path", "value": ""}]}]


class FolderListQuerySearch(FolderView, generics.ListAPIView):
    """``?path=``: the folder if the caller may see it, else an empty list."""

    def get_queryset(self):
        folder = services.get_folder(self.request.user, self.request.query_params.get("path", ""))
        return [folder] if folder is not None else []


class FolderDetail(FolderView, generics.RetrieveAPIView):
    def get_object(self):
        folder = services.get_folder(self.request.user, self.kwargs["path"])
        if folder is None or folder.path == "":
            raise Http404
        return folder


class FolderFileList(CollectionJsonMixin, generics.ListAPIView):
    """The files directly in a folder, paged by the database."""

    permission_classes = (permissions.AllowAny,)
    template_fields = ()

    def get_files(self):
        if not hasattr(self, "_files"):
            found = services.folder_files(self.request.user, self.kwargs["path"])
            if found is None:
                raise Http404
            self._files = found
        return self._files

    def get_queryset(self):
        return self.get_files()[1]

    def get_serializer_class(self):
        if getattr(self, "kwargs", None) is None or "path" not in self.kwargs:
            return file_serializer_for(services.FEEDS)
        try:
            return file_serializer_for(self.get_files()[0])
        except Http404:
            return file_serializer_for(services.FEEDS)
