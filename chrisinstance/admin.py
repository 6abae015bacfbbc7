from django.contrib import admin

from chrisinstance.models import ChrisInstance


@admin.register(ChrisInstance)
class ChrisInstanceAdmin(admin.ModelAdmin):
    list_display = ("name", "uuid", "job_id_prefix", "creation_date")
    readonly_fields = ("uuid", "job_id_prefix", "creation_date")
