from django.contrib import admin

from feeds.models import Comment, Feed, Note, Tag


class NoteInline(admin.StackedInline):
    model = Note
    can_delete = False


@admin.register(Feed)
class FeedAdmin(admin.ModelAdmin):
    list_display = ("id", "name", "creator", "public", "creation_date")
    list_filter = ("public",)
    search_fields = ("name", "creator__username")
    filter_horizontal = ("owner",)
    raw_id_fields = ("creator",)
    inlines = (NoteInline,)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ("name", "color", "owner")
    search_fields = ("name", "owner__username")


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("title", "feed", "owner", "creation_date")
    raw_id_fields = ("feed", "owner")
