from django.contrib import admin

from chrisinstance.models import ChrisInstance


@admin.register(ChrisInstance)
class ChrisInstanceAdmin(admin.ModelAdmin):
    list_display = ("name", "uuid", "creation_date")
    readonly_fields = ("uuid", "creation_date")
