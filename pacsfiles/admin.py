from django.contrib import admin

from cube.admin import ReadOnlyAdmin
from pacsfiles.models import PACS, PACSFile


@admin.register(PACS)
class PACSAdmin(ReadOnlyAdmin):
    search_fields = ("identifier",)


@admin.register(PACSFile)
class PACSFileAdmin(ReadOnlyAdmin):
    list_display = ("fname", "fsize", "PatientID", "StudyDate", "pacs", "creation_date")
    list_filter = ("pacs",)
    search_fields = ("fname", "PatientID", "PatientName")
    readonly_fields = ("fsize", "creation_date")
