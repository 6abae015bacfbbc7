from django.contrib.auth import get_user_model
from rest_framework import serializers

from collectionjson.fields import LinkField
from feeds.models import Feed, Note
from plugins.models import JOB_COUNTERS

User = get_user_model()


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
    owner = OwnerField()
    note = LinkField(lambda feed: ("note-detail", {"pk": feed.note.pk}))
    tags = LinkField(lambda feed: f"/api/v1/{feed.pk}/tags/")
    taggings = LinkField(lambda feed: f"/api/v1/{feed.pk}/taggings/")
    comments = LinkField(lambda feed: f"/api/v1/{feed.pk}/comments/")
    files = LinkField(lambda feed: ("feedfile-list", {"pk": feed.pk}))
    plugin_instances = LinkField(lambda feed: ("feed-plugininstance-list", {"pk": feed.pk}))

    class Meta:
        model = Feed
        fields = (
            "url", "id", "creation_date", "modification_date", "name", "public",
            "creator_username", *JOB_COUNTERS, "owner", "note", "tags", "taggings",
            "comments", "files", "plugin_instances",
        )  # fmt: skip
        read_only_fields = ("creation_date", "modification_date", *JOB_COUNTERS)
        extra_kwargs = {"url": {"view_name": "feed-detail"}}

    def get_fields(self):
        fields = super().get_fields()
        for counter in JOB_COUNTERS:
            fields[counter] = serializers.IntegerField(read_only=True)
        return fields

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
