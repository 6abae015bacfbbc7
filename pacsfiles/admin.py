from django.contrib import admin

from pacsfiles.models import PACS, PACSFile


@admin.register(PACS)
class PACSAdmin(admin.ModelAdmin):
    search_fields = ("identifier",)


@admin.register(PACSFile)
class PACSFileAdmin(admin.ModelAdmin):
    list_display = ("fname", "fsize", "PatientID", "StudyDate", "pacs", "creation_date")
    list_filter = ("pacs",)
    search_fields = ("fname", "PatientID", "PatientName")
    readonly_fields = ("fsize", "creation_date")
