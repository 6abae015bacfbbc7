from django.contrib import admin

from chrisinstance.models import ChrisInstance
from cube.admin import ReadOnlyAdmin


@admin.register(ChrisInstance)
class ChrisInstanceAdmin(ReadOnlyAdmin):
    list_display = ("name", "uuid", "job_id_prefix", "creation_date")
    readonly_fields = ("uuid", "job_id_prefix", "creation_date")
