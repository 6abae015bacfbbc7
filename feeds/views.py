from django.shortcuts import get_object_or_404
from rest_framework import generics, permissions
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser

from collectionjson.mixins import CollectionJsonMixin
from collectionjson.parsers import CollectionJsonParser
from feeds import services
from feeds.filters import FeedFilter
from feeds.models import Feed, Note
from feeds.permissions import CanReadFeed, IsOwnerOrSuperuserOrReadIfPublic
from feeds.serializers import FeedSerializer, NoteSerializer
from plugins.models import PluginInstance, PluginInstanceFile
from plugins.serializers import PluginInstanceFileSerializer, PluginInstanceSerializer

ALL_PARSERS = (CollectionJsonParser, JSONParser, FormParser, MultiPartParser)

ROOT_LINKS = (
    ("chrisinstance", "chrisinstance/1/"),
    ("public_feeds", "publicfeeds/"),
    ("files", "files/"),
    ("compute_resources", "computeresources/"),
    ("plugin_metas", "plugins/metas/"),
    ("plugins", "plugins/"),
    ("plugin_instances", "plugins/instances/"),
    ("pipelines", "pipelines/"),
    ("pipeline_instances", "pipelines/instances/"),
    ("workflows", "pipelines/workflows/"),
    ("tags", "tags/"),
    ("pipelinesourcefiles", "pipelines/sourcefiles/"),
    ("uploadedfiles", "uploadedfiles/"),
    ("pacsfiles", "pacsfiles/"),
    ("servicefiles", "servicefiles/"),
    ("filebrowser", "filebrowser/"),
)


def feeds_of(user):
    return Feed.objects.visible_to(user).with_job_counts().select_related("creator", "note")


class FeedList(CollectionJsonMixin, generics.ListAPIView):
    """The API root: the caller's feeds and the links to every collection."""

    serializer_class = FeedSerializer
    permission_classes = (permissions.AllowAny,)
    filterset_class = FeedFilter
    search_view_name = "feed-list-query-search"
    filter_backends = ()
    template_fields = ()

    def get_queryset(self):
        return feeds_of(self.request.user).prefetch_related("owner")

    def get_collection_links(self):
        api = self.request.build_absolute_uri("/api/v1/")
        links = {rel: api + target for rel, target in ROOT_LINKS}
        user = self.request.user
        if user.is_authenticated:
            links["user"] = f"{api}users/{user.pk}/"
        if user.is_staff:
            links["admin"] = self.request.build_absolute_uri("/chris-admin/api/v1/")
        return links


class FeedListQuerySearch(CollectionJsonMixin, generics.ListAPIView):
    serializer_class = FeedSerializer
    filterset_class = FeedFilter
    template_fields = ()

    def get_queryset(self):
        return feeds_of(self.request.user).prefetch_related("owner")


class PublicFeedList(CollectionJsonMixin, generics.ListAPIView):
    serializer_class = FeedSerializer
    permission_classes = (permissions.AllowAny,)
    filterset_class = FeedFilter
    search_view_name = "publicfeed-list-query-search"
    filter_backends = ()
    template_fields = ()

    def get_queryset(self):
        return (
            Feed.objects.filter(public=True)
            .with_job_counts()
            .select_related("creator", "note")
            .prefetch_related("owner")
        )


class PublicFeedListQuerySearch(PublicFeedList):
    filter_backends = generics.ListAPIView.filter_backends
    search_view_name = None


class FeedDetail(CollectionJsonMixin, generics.RetrieveUpdateDestroyAPIView):
    http_method_names = ["get", "put", "delete"]
    serializer_class = FeedSerializer
    permission_classes = (IsOwnerOrSuperuserOrReadIfPublic,)
    parser_classes = ALL_PARSERS
    template_fields = ("name", "public", "owner")

    def get_queryset(self):
        return Feed.objects.with_job_counts().select_related("creator", "note")

    def update(self, request, *args, **kwargs):
        return super().update(request, *args, partial=True, **kwargs)

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        owner = data.pop("new_owner", None)
        services.update_feed(serializer.instance, new_owner=owner, **data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        services.delete_feed(instance)


class NoteDetail(CollectionJsonMixin, generics.RetrieveUpdateAPIView):
    http_method_names = ["get", "put"]
    queryset = Note.objects.select_related("feed")
    serializer_class = NoteSerializer
    permission_classes = (IsOwnerOrSuperuserOrReadIfPublic,)
    parser_classes = ALL_PARSERS
    template_fields = ("title", "content")

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj.feed)

    def update(self, request, *args, **kwargs):
        return super().update(request, *args, partial=True, **kwargs)

    def perform_update(self, serializer):
        serializer.instance = services.update_note(serializer.instance, **serializer.validated_data)


class FeedSubresource(CollectionJsonMixin, generics.ListAPIView):
    """Lists something of one feed, readable by whoever may read the feed."""

    permission_classes = (CanReadFeed,)
    template_fields = ()

    def get_feed(self) -> Feed:
        feed = get_object_or_404(Feed, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, feed)
        return feed

    def get_collection_links(self):
        return {"feed": self.link("feed-detail", pk=self.kwargs["pk"])}


class FeedFileList(FeedSubresource):
    serializer_class = PluginInstanceFileSerializer

    def get_queryset(self):
        return PluginInstanceFile.objects.filter(feed=self.get_feed())


class FeedPluginInstanceList(FeedSubresource):
    serializer_class = PluginInstanceSerializer

    def get_queryset(self):
        return PluginInstance.objects.select_related(
            "plugin__meta", "owner", "compute_resource"
        ).filter(feed=self.get_feed())
