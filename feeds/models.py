from django.conf import settings
from django.db import models

from plugins.status import job_count_annotations


class FeedQuerySet(models.QuerySet):
    def readable_by(self, user) -> "FeedQuerySet":
        """Feeds a user may read: public and co-owned ones, all for a superuser."""
        if user.is_superuser:
            return self
        if not user.is_authenticated:
            return self.filter(public=True)
        return self.filter(models.Q(public=True) | models.Q(owner=user)).distinct()

    def visible_to(self, user) -> "FeedQuerySet":
        """Feeds a user may list: all for a superuser, co-owned ones otherwise."""
        if user.is_superuser:
            return self
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)

    def create_with_note(self, *, name: str, creator) -> "Feed":
        """A new feed whose first owner is its creator, with its empty note."""
        feed = self.create(name=name, creator=creator)
        feed.owner.add(creator)
        Note.objects.create(feed=feed)
        return feed

    def with_job_counts(self) -> "FeedQuerySet":
        """Annotate the eight job counters in the same query."""
        # Django drops Meta.ordering from GROUP BY queries, so it is restated here.
        ordering = self.query.order_by or self.model._meta.ordering
        return self.annotate(**job_count_annotations()).order_by(*ordering)


class Feed(models.Model):
    creation_date = models.DateTimeField(auto_now_add=True)
    modification_date = models.DateTimeField(auto_now_add=True)
    name = models.CharField(max_length=200, blank=True)
    public = models.BooleanField(default=False, db_index=True)
    owner = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="feed")
    # The owner of the feed's fs instance; kept here so listings need no join.
    creator = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="created_feeds"
    )

    objects = FeedQuerySet.as_manager()

    class Meta:
        ordering = ("-creation_date", "-id")

    def __str__(self) -> str:
        return self.name

    def is_readable_by(self, user) -> bool:
        """The rule of FeedQuerySet.readable_by, for one feed."""
        if self.public or user.is_superuser:
            return True
        return user.is_authenticated and self.owner.filter(pk=user.pk).exists()

    def is_owned_by(self, user) -> bool:
        return user.is_authenticated and self.owner.filter(pk=user.pk).exists()


class Note(models.Model):
    title = models.CharField(max_length=100, blank=True)
    content = models.TextField(blank=True)
    feed = models.OneToOneField(Feed, on_delete=models.CASCADE, related_name="note")


class Tag(models.Model):
    name = models.CharField(max_length=100, blank=True)
    color = models.CharField(max_length=20)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    feeds = models.ManyToManyField(Feed, related_name="tags", through="Tagging")

    class Meta:
        ordering = ("name",)


class Tagging(models.Model):
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE)
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["feed", "tag"], name="unique_tagging")]


class Comment(models.Model):
    creation_date = models.DateTimeField(auto_now_add=True)
    title = models.CharField(max_length=100, blank=True)
    content = models.TextField(blank=True)
    feed = models.ForeignKey(Feed, on_delete=models.CASCADE, related_name="comments")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    class Meta:
        ordering = ("creation_date",)
