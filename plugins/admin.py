from django.contrib import admin
from django.db import models

from plugins.models import ComputeResource, Plugin, PluginInstance, PluginMeta, PluginParameter

URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


@admin.register(ComputeResource)
class ComputeResourceAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ("name", "compute_url", "compute_innetwork", "max_job_exec_seconds")
    search_fields = ("name", "description")
    readonly_fields = ("creation_date", "modification_date")
    exclude = ("compute_auth_token",)


class PluginInline(admin.TabularInline):
    model = Plugin
    fields = ("version", "dock_image", "creation_date")
    readonly_fields = fields
    extra = 0
    show_change_link = True


@admin.register(PluginMeta)
class PluginMetaAdmin(admin.ModelAdmin):
    formfield_overrides = URL_FIELDS
    list_display = ("name", "type", "category", "authors", "creation_date")
    list_filter = ("type",)
    search_fields = ("name", "title", "category")
    inlines = (PluginInline,)


class PluginParameterInline(admin.TabularInline):
    model = PluginParameter
    extra = 0


@admin.register(Plugin)
class PluginAdmin(admin.ModelAdmin):
    list_display = ("meta", "version", "dock_image", "creation_date")
    list_filter = ("meta__type", "compute_resources")
    search_fields = ("meta__name", "dock_image")
    filter_horizontal = ("compute_resources",)
    inlines = (PluginParameterInline,)


@admin.register(PluginInstance)
class PluginInstanceAdmin(admin.ModelAdmin):
    list_display = ("id", "plugin", "feed", "owner", "status", "start_date", "end_date")
    list_filter = ("status",)
    search_fields = ("title", "owner__username")
    raw_id_fields = ("previous", "plugin", "feed", "owner", "compute_resource")
