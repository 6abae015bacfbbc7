from rest_framework import generics, permissions

from collectionjson.mixins import CollectionJsonMixin
from cube.downloads import StoredFileDownload
from cube.permissions import IsSuperuser, ReadOnly
from pacsfiles import services
from pacsfiles.filters import PACSFileFilter
from pacsfiles.models import PACSFile
from pacsfiles.serializers import DICOM_FIELDS, PACSFileSerializer

FILES = PACSFile.objects.select_related("pacs")


class PACSFileList(CollectionJsonMixin, generics.ListCreateAPIView):
    queryset = FILES
    serializer_class = PACSFileSerializer
    permission_classes = (permissions.IsAuthenticated, ReadOnly | IsSuperuser)
    filterset_class = PACSFileFilter
    search_view_name = "pacsfile-list-query-search"
    filter_backends = ()
    template_fields = ("path", *DICOM_FIELDS, "pacs_name")

    def perform_create(self, serializer):
        serializer.instance = services.register_pacs_file(**serializer.validated_data)


class PACSFileListQuerySearch(CollectionJsonMixin, generics.ListAPIView):
    queryset = FILES
    serializer_class = PACSFileSerializer
    filterset_class = PACSFileFilter
    template_fields = ()


class PACSFileDetail(CollectionJsonMixin, generics.RetrieveAPIView):
    queryset = FILES
    serializer_class = PACSFileSerializer
    template_fields = ()


class PACSFileResource(StoredFileDownload):
    queryset = PACSFile.objects.all()
