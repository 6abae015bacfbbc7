"""Admin pages for feeds: shown with their jobs' status, owners and links, never edited here.

A feed is made by running an fs plugin and removed with its files by the API; the admin site
only shows them. Tags and comments are plain records and stay editable.
"""

from django.contrib import admin
from django.db.models import Count, Q
from django.urls import reverse
from django.utils.html import format_html

from cube.admin import ReadOnlyAdmin, api_link
from feeds.models import Comment, Feed, Note, Tag
from plugins.status import Status

FAILED = (Status.FINISHED_WITH_ERROR, Status.CANCELLED)


class NoteInline(admin.StackedInline):
    model = Note
    fields = ("title", "content")
    readonly_fields = fields
    can_delete = False


@admin.register(Feed)
class FeedAdmin(ReadOnlyAdmin):
    list_display = (
        "id", "name", "creator", "owners", "public", "status", "instances", "creation_date",
    )  # fmt: skip
    list_filter = ("public",)
    list_select_related = ("creator",)
    search_fields = ("name", "creator__username", "owner__username")
    fields = (
        "name", "creator", "owners", "public", "status", "instances", "creation_date",
        "modification_date", "api",
    )  # fmt: skip
    readonly_fields = fields
    inlines = (NoteInline,)

    def get_queryset(self, request):
        instances = "plugin_instances"
        return (
            super()
            .get_queryset(request)
            .prefetch_related("owner")
            .annotate(
                job_total=Count(instances),
                job_finished=Count(
                    instances, filter=Q(plugin_instances__status=Status.FINISHED_SUCCESSFULLY)
                ),
                job_failed=Count(instances, filter=Q(plugin_instances__status__in=FAILED)),
            )
        )

    @admin.display(description="owners")
    def owners(self, obj: Feed) -> str:
        return ", ".join(user.username for user in obj.owner.all())

    @admin.display(description="status")
    def status(self, obj: Feed) -> str:
        running = obj.job_total - obj.job_finished - obj.job_failed
        return f"{obj.job_finished} finished, {running} running, {obj.job_failed} failed"

    @admin.display(description="plugin instances", ordering="job_total")
    def instances(self, obj: Feed) -> str:
        url = reverse("admin:plugins_plugininstance_changelist")
        return format_html('<a href="{}?feed__id__exact={}">{}</a>', url, obj.pk, obj.job_total)

    @admin.display(description="API")
    def api(self, obj: Feed) -> str:
        return api_link("feed-detail", obj.pk)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "color", "owner")
    search_fields = ("name", "owner__username")
    raw_id_fields = ("owner",)


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("title", "feed", "owner", "creation_date")
    raw_id_fields = ("feed", "owner")
