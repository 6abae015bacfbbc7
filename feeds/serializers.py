from django.contrib.auth import get_user_model
from rest_framework import serializers

from collectionjson.fields import LinkField
from collectionjson.schema import extend_schema_field_by_direction
from feeds.models import Comment, Feed, Note, Tag, Tagging
from plugins.status import JOB_COUNTERS

User = get_user_model()


@extend_schema_field_by_direction(
    request={"type": "string", "description": "Username of a user to add as co-owner."},
    response={"type": "array", "items": {"type": "string", "format": "uri"}},
)
class OwnerField(serializers.Field):
    """Reads as one link per co-owner; writes a username to add as co-owner."""

    is_link = True

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)

    def to_representation(self, feed: Feed) -> list[str]:
        request = self.context.get("request")
        return [
            request.build_absolute_uri(f"/api/v1/users/{owner.pk}/") for owner in feed.owner.all()
        ]

    def to_internal_value(self, username) -> dict:
        user = User.objects.filter(username=str(username)).first()
        if user is None:
            raise serializers.ValidationError(f"User {username} is not a registered user.")
        return {"new_owner": user}


class FeedSerializer(serializers.HyperlinkedModelSerializer):
    creator_username = serializers.CharField(source="creator.username", read_only=True)
    created_jobs = serializers.IntegerField(read_only=True)
    waiting_jobs = serializers.IntegerField(read_only=True)
    scheduled_jobs = serializers.IntegerField(read_only=True)
    started_jobs = serializers.IntegerField(read_only=True)
    registering_jobs = serializers.IntegerField(read_only=True)
    finished_jobs = serializers.IntegerField(read_only=True)
    errored_jobs = serializers.IntegerField(read_only=True)
    cancelled_jobs = serializers.IntegerField(read_only=True)
    owner = OwnerField()
    note = LinkField(lambda feed: ("note-detail", {"pk": feed.note.pk}))
    tags = LinkField(lambda feed: ("feed-tag-list", {"pk": feed.pk}))
    taggings = LinkField(lambda feed: ("feed-tagging-list", {"pk": feed.pk}))
    comments = LinkField(lambda feed: ("comment-list", {"pk": feed.pk}))
    files = LinkField(lambda feed: ("feedfile-list", {"pk": feed.pk}))
    plugin_instances = LinkField(lambda feed: ("feed-plugininstance-list", {"pk": feed.pk}))

    class Meta:
        model = Feed
        fields = (
            "url", "id", "creation_date", "modification_date", "name", "public",
            "creator_username", *JOB_COUNTERS, "owner", "note", "tags", "taggings",
            "comments", "files", "plugin_instances",
        )  # fmt: skip
        read_only_fields = ("creation_date", "modification_date")
        extra_kwargs = {"url": {"view_name": "feed-detail"}}

    def validate_name(self, name: str) -> str:
        if "/" in name:
            raise serializers.ValidationError("This field may not contain forward slashes.")
        if name == "uploads":
            raise serializers.ValidationError("This field may not be 'uploads'.")
        return name


class NoteSerializer(serializers.HyperlinkedModelSerializer):
    feed = serializers.HyperlinkedRelatedField(view_name="feed-detail", read_only=True)

    class Meta:
        model = Note
        fields = ("url", "id", "title", "content", "feed")
        extra_kwargs = {"url": {"view_name": "note-detail"}}


class CommentSerializer(serializers.HyperlinkedModelSerializer):
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    feed = serializers.HyperlinkedRelatedField(view_name="feed-detail", read_only=True)

    class Meta:
        model = Comment
        fields = ("url", "id", "title", "owner_username", "content", "feed")
        extra_kwargs = {"url": {"view_name": "comment-detail"}}


class TagSerializer(serializers.HyperlinkedModelSerializer):
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    feeds = LinkField(lambda tag: ("tag-feed-list", {"pk": tag.pk}))
    taggings = LinkField(lambda tag: ("tag-tagging-list", {"pk": tag.pk}))

    class Meta:
        model = Tag
        fields = ("url", "id", "name", "owner_username", "color", "feeds", "taggings")
        extra_kwargs = {"url": {"view_name": "tag-detail"}, "name": {"allow_blank": True}}


class TaggingSerializer(serializers.HyperlinkedModelSerializer):
    """A tag on a feed. The route fixes one side; the body names the other by id."""

    owner_username = serializers.CharField(source="tag.owner.username", read_only=True)
    tag_id = serializers.IntegerField(required=False)
    feed_id = serializers.IntegerField(required=False)
    tag = LinkField(lambda tagging: ("tag-detail", {"pk": tagging.tag_id}))
    feed = LinkField(lambda tagging: ("feed-detail", {"pk": tagging.feed_id}))

    class Meta:
        model = Tagging
        fields = ("url", "id", "owner_username", "tag_id", "feed_id", "tag", "feed")
        extra_kwargs = {"url": {"view_name": "tagging-detail"}}

    def validate_tag_id(self, tag_id: int) -> int:
        if "tag_id" in self.context:
            return self.context["tag_id"]
        user = self.context["request"].user
        tag = Tag.objects.filter(pk=tag_id).first()
        if tag is None:
            raise serializers.ValidationError(f"Couldn't find any tag with id {tag_id}.")
        if tag.owner_id != user.pk:
            raise serializers.ValidationError(f"User is not the owner of tag with tag_id {tag_id}.")
        return tag_id

    def validate_feed_id(self, feed_id: int) -> int:
        if "feed_id" in self.context:
            return self.context["feed_id"]
        user = self.context["request"].user
        feed = Feed.objects.filter(pk=feed_id).first()
        if feed is None:
            raise serializers.ValidationError(f"Couldn't find any feed with id {feed_id}.")
        if not feed.is_owned_by(user):
            raise serializers.ValidationError(
                f"User is not the owner of feed with feed_id {feed_id}."
            )
        return feed_id

    def validate(self, attrs: dict) -> dict:
        # The route supplies the other id through the serializer context.
        for name, message in (
            ("tag_id", "A tag id is required."),
            ("feed_id", "A feed id is required."),
        ):
            if name in self.context:
                attrs[name] = self.context[name]
            elif name not in attrs:
                raise serializers.ValidationError({name: [message]})
        if Tagging.objects.filter(feed_id=attrs["feed_id"], tag_id=attrs["tag_id"]).exists():
            raise serializers.ValidationError(duplicate_tagging_message(**attrs))
        return attrs


def duplicate_tagging_message(*, feed_id: int, tag_id: int) -> str:
    return f"Tagging for feed_id {feed_id} and tag_id {tag_id} already exists."
