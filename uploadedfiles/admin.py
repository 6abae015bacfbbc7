from django.contrib import admin

from cube.admin import ReadOnlyAdmin
from uploadedfiles.models import UploadedFile


@admin.register(UploadedFile)
class UploadedFileAdmin(ReadOnlyAdmin):
    list_display = ("fname", "fsize", "owner", "creation_date")
    search_fields = ("fname", "owner__username")
    readonly_fields = ("fsize", "creation_date")
    raw_id_fields = ("owner",)
