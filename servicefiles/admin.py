from django.contrib import admin

from cube.admin import ReadOnlyAdmin
from servicefiles.models import Service, ServiceFile


@admin.register(Service)
class ServiceAdmin(ReadOnlyAdmin):
    search_fields = ("identifier",)


@admin.register(ServiceFile)
class ServiceFileAdmin(ReadOnlyAdmin):
    list_display = ("fname", "fsize", "service", "creation_date")
    list_filter = ("service",)
    search_fields = ("fname",)
    readonly_fields = ("fsize", "creation_date")
