from rest_framework import generics, permissions
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from collectionjson.mixins import CollectionJsonMixin
from collectionjson.parsers import CollectionJsonParser
from cube.downloads import StoredFileDownload
from servicefiles import services
from servicefiles.filters import ServiceFileFilter
from servicefiles.models import ServiceFile
from servicefiles.serializers import ServiceFileSerializer
from users.permissions import IsSuperuserOrReadOnly

FILES = ServiceFile.objects.select_related("service")


class ServiceFileList(CollectionJsonMixin, generics.ListCreateAPIView):
    queryset = FILES
    serializer_class = ServiceFileSerializer
    permission_classes = (permissions.IsAuthenticated, IsSuperuserOrReadOnly)
    parser_classes = (CollectionJsonParser, JSONParser, FormParser, MultiPartParser)
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
