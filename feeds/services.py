import logging

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from rest_framework.exceptions import NotFound, ValidationError

from feeds.models import Comment, Feed, Note, Tag, Tagging
from plugins.services.instances import delete_instances

logger = logging.getLogger(__name__)


def update_feed(
    feed: Feed,
    *,
    name: str | None = None,
    public: bool | None = None,
    new_owner: User | None = None,
) -> Feed:
    """Rename, publish or share a feed (sharing adds a co-owner)."""
    changed = []
    if name is not None:
        feed.name = name
        changed.append("name")
    if public is not None:
        feed.public = public
        changed.append("public")
    with transaction.atomic():
        if changed:
            feed.save(update_fields=changed)
        if new_owner is not None:
            feed.owner.add(new_owner)
    return feed


def delete_feed(feed: Feed) -> None:
    """Delete a feed with its plugin instances, every stored object of it and its remote jobs."""
    folder = f"{feed.creator.username}/feed_{feed.pk}"
    feed_id = feed.pk
    with transaction.atomic():
        if not Feed.objects.select_for_update().filter(pk=feed_id).exists():
            raise NotFound()  # a concurrent delete won
        delete_instances(feed.plugin_instances.all(), folder=folder)
        feed.delete()
    logger.info("feed %s deleted with its folder %s", feed_id, folder)


def update_note(note: Note, **fields) -> Note:
    """Change a feed's note."""
    for name, value in fields.items():
        setattr(note, name, value)
    note.save()
    return note


def create_comment(feed: Feed, *, owner: User, title: str = "", content: str = "") -> Comment:
    """Add a comment to a feed."""
    return Comment.objects.create(feed=feed, owner=owner, title=title, content=content)


def update_comment(comment: Comment, **fields) -> Comment:
    """Change a comment's title or content."""
    for name, value in fields.items():
        setattr(comment, name, value)
    comment.save()
    return comment


def create_tag(*, owner: User, color: str, name: str = "") -> Tag:
    """Create a private tag."""
    return Tag.objects.create(owner=owner, name=name, color=color)


def update_tag(tag: Tag, **fields) -> Tag:
    """Rename or recolor a tag."""
    for name, value in fields.items():
        setattr(tag, name, value)
    tag.save()
    return tag


def create_tagging(*, feed_id: int, tag_id: int) -> Tagging:
    """Tag a feed; the same pair twice is a validation error."""
    try:
        with transaction.atomic():
            return Tagging.objects.create(feed_id=feed_id, tag_id=tag_id)
    except IntegrityError as error:
        raise ValidationError(
            {
                "non_field_errors": [
                    f"Tagging for feed_id {feed_id} and tag_id {tag_id} already exists."
                ]
            }
        ) from error
