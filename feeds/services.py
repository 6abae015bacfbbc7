import logging

from django.contrib.auth.models import User
from django.db import transaction

from feeds.models import Feed, Note
from plugins.models import ACTIVE_STATUSES
from plugins.services.instances import cancel_plugin_instance
from storage import get_storage

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
    """Stop the feed's jobs, then delete its rows and every stored object of the feed."""
    roots = feed.plugin_instances.filter(previous__isnull=True)
    for root in roots:
        if feed.plugin_instances.filter(status__in=ACTIVE_STATUSES).exists():
            cancel_plugin_instance(root)
    folder = f"{feed.creator.username}/feed_{feed.pk}"
    with transaction.atomic():
        feed.delete()
        transaction.on_commit(lambda: get_storage().delete_folder(folder))
    logger.info("feed %s deleted with its folder %s", feed.pk, folder)


def update_note(note: Note, **fields) -> Note:
    """Change a feed's note."""
    for name, value in fields.items():
        setattr(note, name, value)
    note.save()
    return note
