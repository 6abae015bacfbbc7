from django.contrib import admin

from servicefiles.models import Service, ServiceFile


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    search_fields = ("identifier",)


@admin.register(ServiceFile)
class ServiceFileAdmin(admin.ModelAdmin):
    list_display = ("fname", "fsize", "service", "creation_date")
    list_filter = ("service",)
    search_fields = ("fname",)
    readonly_fields = ("fsize", "creation_date")
