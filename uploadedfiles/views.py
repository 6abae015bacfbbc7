from collections.abc import Mapping

from rest_framework import generics, permissions
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser

from collectionjson.mixins import CollectionJsonMixin, RowsListMixin
from cube.downloads import StoredFileDownload
from cube.permissions import IsOwner, IsSuperuser
from uploadedfiles import services
from uploadedfiles.filters import UploadedFileFilter
from uploadedfiles.models import UploadedFile
from uploadedfiles.serializers import (
    UploadedFileMoveSerializer,
    UploadedFileRows,
    UploadedFileSerializer,
)


class VisibleUploadedFiles:
    def get_queryset(self):
        queryset = UploadedFile.objects.select_related("owner")
        if self.request.user.is_superuser:
            return queryset
        return queryset.filter(owner=self.request.user)


class UploadedFileList(
    VisibleUploadedFiles, RowsListMixin, CollectionJsonMixin, generics.ListCreateAPIView
):
    serializer_class = UploadedFileSerializer
    rows_class = UploadedFileRows
    parser_classes = (MultiPartParser, FormParser)
    filterset_class = UploadedFileFilter
    search_view_name = "uploadedfile-list-query-search"
    template_fields = ("upload_path", "fname")

    filter_backends = ()  # filters belong to search/

    def perform_create(self, serializer):
        upload = serializer.validated_data["fname"]
        serializer.instance = services.create_uploaded_file(
            owner=self.request.user,
            upload_path=serializer.validated_data["upload_path"],
            stream=upload,
        )


class UploadedFileListQuerySearch(
    VisibleUploadedFiles, RowsListMixin, CollectionJsonMixin, generics.ListAPIView
):
    serializer_class = UploadedFileSerializer
    rows_class = UploadedFileRows
    filterset_class = UploadedFileFilter


class UploadedFileDetail(CollectionJsonMixin, generics.RetrieveUpdateDestroyAPIView):
    http_method_names = ["get", "put", "delete"]
    queryset = UploadedFile.objects.select_related("owner")
    serializer_class = UploadedFileMoveSerializer
    permission_classes = (permissions.IsAuthenticated, IsOwner | IsSuperuser)
    template_fields = ("upload_path",)

    def update(self, request, *args, **kwargs):
        if not isinstance(request.data, Mapping) or "upload_path" not in request.data:
            raise ValidationError({"upload_path": ["This field is required."]})
        return super().update(request, *args, partial=True, **kwargs)

    def perform_update(self, serializer):
        serializer.instance = services.move_uploaded_file(
            serializer.instance, upload_path=serializer.validated_data["upload_path"]
        )

    def perform_destroy(self, instance):
        services.delete_uploaded_file(instance)


class UploadedFileResource(StoredFileDownload):
    queryset = UploadedFile.objects.all()
    permission_classes = (permissions.IsAuthenticated, IsOwner | IsSuperuser)
