from django.contrib import admin

from uploadedfiles.models import UploadedFile


@admin.register(UploadedFile)
class UploadedFileAdmin(admin.ModelAdmin):
    list_display = ("fname", "fsize", "owner", "creation_date")
    search_fields = ("fname", "owner__username")
    readonly_fields = ("fsize", "creation_date")
    raw_id_fields = ("owner",)
