from rest_framework import generics, permissions

from collectionjson.mixins import CollectionJsonMixin
from cube.downloads import StoredFileDownload
from cube.permissions import IsSuperuser, ReadOnly
from servicefiles import services
from servicefiles.filters import ServiceFileFilter
from servicefiles.models import ServiceFile
from servicefiles.serializers import ServiceFileSerializer

FILES = ServiceFile.objects.select_related("service")


class ServiceFileList(CollectionJsonMixin, generics.ListCreateAPIView):
    queryset = FILES
    serializer_class = ServiceFileSerializer
    permission_classes = (permissions.IsAuthenticated, ReadOnly | IsSuperuser)
    filterset_class = ServiceFileFilter
    search_view_name = "servicefile-list-query-search"
    filter_backends = ()
    template_fields = ("path", "service_name")

    def perform_create(self, serializer):
        serializer.instance = services.register_service_file(**serializer.validated_data)


class ServiceFileListQuerySearch(CollectionJsonMixin, generics.ListAPIView):
    queryset = FILES
    serializer_class = ServiceFileSerializer
    filterset_class = ServiceFileFilter
    template_fields = ()


class ServiceFileDetail(CollectionJsonMixin, generics.RetrieveAPIView):
    queryset = FILES
    serializer_class = ServiceFileSerializer
    template_fields = ()


class ServiceFileResource(StoredFileDownload):
    queryset = ServiceFile.objects.all()
