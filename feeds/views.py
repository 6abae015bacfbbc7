from django.shortcuts import get_object_or_404
from rest_framework import generics, permissions

from collectionjson.mixins import CollectionJsonMixin, RowsListMixin
from cube.permissions import IsAuthenticatedOrReadIfFeedPublic, IsOwner, IsSuperuser, ReadOnly
from cube.views import PartialUpdate
from feeds import services
from feeds.filters import CommentFilter, FeedFilter, TagFilter
from feeds.models import Comment, Feed, Note, Tag, Tagging
from feeds.permissions import (
    CanReadFeed,
    IsFeedOwnerOrSuperuser,
    IsOwnerOrSuperuserOrReadIfPublic,
    IsTagOwnerOrSuperuser,
)
from feeds.serializers import (
    CommentSerializer,
    FeedSerializer,
    NoteSerializer,
    TaggingSerializer,
    TagSerializer,
)
from plugins.models import PluginInstance, PluginInstanceFile
from plugins.serializers import (
    PluginInstanceFileRows,
    PluginInstanceFileSerializer,
    PluginInstanceSerializer,
)

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


class FeedDetail(PartialUpdate, CollectionJsonMixin, generics.RetrieveUpdateDestroyAPIView):
    http_method_names = ["get", "put", "delete"]
    serializer_class = FeedSerializer
    permission_classes = (IsOwnerOrSuperuserOrReadIfPublic,)
    template_fields = ("name", "public", "owner")

    def get_queryset(self):
        return Feed.objects.with_job_counts().select_related("creator", "note")

    def perform_update(self, serializer):
        data = dict(serializer.validated_data)
        owner = data.pop("new_owner", None)
        services.update_feed(serializer.instance, new_owner=owner, **data)
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance):
        services.delete_feed(instance)


class NoteDetail(PartialUpdate, CollectionJsonMixin, generics.RetrieveUpdateAPIView):
    http_method_names = ["get", "put"]
    queryset = Note.objects.select_related("feed")
    serializer_class = NoteSerializer
    permission_classes = (IsOwnerOrSuperuserOrReadIfPublic,)
    template_fields = ("title", "content")

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj.feed)

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


class FeedFileList(RowsListMixin, FeedSubresource):
    serializer_class = PluginInstanceFileSerializer
    rows_class = PluginInstanceFileRows

    def get_queryset(self):
        return PluginInstanceFile.objects.filter(feed=self.get_feed())

    def list_count(self) -> int:
        return PluginInstance.objects.filter(feed_id=self.kwargs["pk"]).total_files()


class FeedPluginInstanceList(FeedSubresource):
    serializer_class = PluginInstanceSerializer

    def get_queryset(self):
        return PluginInstance.objects.select_related(
            "plugin__meta", "owner", "compute_resource", "workflow__pipeline"
        ).filter(feed=self.get_feed())


class FeedScoped:
    """A view under ``<feed id>/``; the feed must pass the view's object permissions."""

    def get_feed(self) -> Feed:
        feed = get_object_or_404(Feed, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, feed)
        return feed

    def get_collection_links(self):
        return {"feed": self.link("feed-detail", pk=self.kwargs["pk"])}


class FeedCommentList(FeedScoped, CollectionJsonMixin, generics.ListCreateAPIView):
    serializer_class = CommentSerializer
    permission_classes = (IsOwnerOrSuperuserOrReadIfPublic,)
    filterset_class = CommentFilter
    search_view_name = "comment-list-query-search"
    filter_backends = ()
    template_fields = ("title", "content")

    def get_queryset(self):
        return Comment.objects.select_related("owner").filter(feed=self.get_feed())

    def post(self, request, *args, **kwargs):
        self.get_feed()  # 404/403 before the body is validated
        return super().post(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.create_comment(
            self.get_feed(), owner=self.request.user, **serializer.validated_data
        )


class FeedCommentListQuerySearch(FeedCommentList):
    """Searches a feed's comments; unlike v5 it checks feed-read first."""

    http_method_names = ["get"]
    filter_backends = generics.ListAPIView.filter_backends
    search_view_name = None
    template_fields = ()

    def get_collection_links(self):
        return {}


class CommentDetail(PartialUpdate, CollectionJsonMixin, generics.RetrieveUpdateDestroyAPIView):
    http_method_names = ["get", "put", "delete"]
    queryset = Comment.objects.select_related("owner", "feed")
    serializer_class = CommentSerializer
    permission_classes = (IsAuthenticatedOrReadIfFeedPublic, ReadOnly | IsOwner | IsSuperuser)
    template_fields = ("title", "content")

    def perform_update(self, serializer):
        serializer.instance = services.update_comment(
            serializer.instance, **serializer.validated_data
        )


class VisibleTags:
    def get_queryset(self):
        tags = Tag.objects.select_related("owner")
        if self.request.user.is_superuser:
            return tags
        return tags.filter(owner=self.request.user)


class TagList(VisibleTags, CollectionJsonMixin, generics.ListCreateAPIView):
    serializer_class = TagSerializer
    filterset_class = TagFilter
    search_view_name = "tag-list-query-search"
    filter_backends = ()
    template_fields = ("name", "color")

    def get_collection_links(self):
        return {"feeds": self.link("feed-list")}

    def perform_create(self, serializer):
        serializer.instance = services.create_tag(
            owner=self.request.user, **serializer.validated_data
        )


class TagListQuerySearch(VisibleTags, CollectionJsonMixin, generics.ListAPIView):
    """Searches the caller's tags (all for a superuser); v5 searched everyone's."""

    serializer_class = TagSerializer
    filterset_class = TagFilter
    template_fields = ()


class TagDetail(PartialUpdate, CollectionJsonMixin, generics.RetrieveUpdateDestroyAPIView):
    http_method_names = ["get", "put", "delete"]
    queryset = Tag.objects.select_related("owner")
    serializer_class = TagSerializer
    permission_classes = (permissions.IsAuthenticated, IsOwner | IsSuperuser)
    template_fields = ("name", "color")

    def perform_update(self, serializer):
        serializer.instance = services.update_tag(serializer.instance, **serializer.validated_data)


class TagScoped:
    """A view under ``tags/<tag id>/``, for the tag's owner or a superuser."""

    permission_classes = (permissions.IsAuthenticated, IsOwner | IsSuperuser)

    def get_tag(self) -> Tag:
        tag = get_object_or_404(Tag, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, tag)
        return tag

    def get_collection_links(self):
        return {"tag": self.link("tag-detail", pk=self.kwargs["pk"])}


class TagFeedList(TagScoped, CollectionJsonMixin, generics.ListAPIView):
    serializer_class = FeedSerializer
    template_fields = ()

    def get_queryset(self):
        tagged = Tagging.objects.filter(tag=self.get_tag()).values("feed_id")
        return (
            Feed.objects.filter(pk__in=tagged)
            .with_job_counts()
            .select_related("creator", "note")
            .prefetch_related("owner")
        )


TAGGINGS = Tagging.objects.select_related("tag__owner")


class TagTaggingList(TagScoped, CollectionJsonMixin, generics.ListCreateAPIView):
    serializer_class = TaggingSerializer
    template_fields = ("feed_id",)

    def get_queryset(self):
        return TAGGINGS.filter(tag=self.get_tag())

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "tag_id": self.kwargs["pk"]}

    def post(self, request, *args, **kwargs):
        self.get_tag()  # 404/403 before the body is validated
        return super().post(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.create_tagging(**serializer.validated_data)


class FeedTagList(FeedScoped, CollectionJsonMixin, generics.ListAPIView):
    """The feed's tags that the caller owns."""

    serializer_class = TagSerializer
    permission_classes = (permissions.IsAuthenticated, IsFeedOwnerOrSuperuser)
    template_fields = ()

    def get_queryset(self):
        tagged = Tagging.objects.filter(feed=self.get_feed()).values("tag_id")
        return Tag.objects.select_related("owner").filter(pk__in=tagged, owner=self.request.user)


class FeedTaggingList(FeedScoped, CollectionJsonMixin, generics.ListCreateAPIView):
    """The feed's taggings whose tag the caller owns."""

    serializer_class = TaggingSerializer
    permission_classes = (permissions.IsAuthenticated, IsFeedOwnerOrSuperuser)
    template_fields = ("tag_id",)

    def get_queryset(self):
        return TAGGINGS.filter(feed=self.get_feed(), tag__owner=self.request.user)

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "feed_id": self.kwargs["pk"]}

    def post(self, request, *args, **kwargs):
        self.get_feed()  # 404/403 before the body is validated
        return super().post(request, *args, **kwargs)

    def perform_create(self, serializer):
        serializer.instance = services.create_tagging(**serializer.validated_data)


class TaggingDetail(CollectionJsonMixin, generics.RetrieveDestroyAPIView):
    http_method_names = ["get", "delete"]
    queryset = TAGGINGS
    serializer_class = TaggingSerializer
    permission_classes = (permissions.IsAuthenticated, IsTagOwnerOrSuperuser)
    template_fields = ()
