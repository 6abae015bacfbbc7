from django.contrib import admin

from cube.admin import ReadOnlyAdmin
from pipelines.models import Pipeline, PipelineSourceFile, Workflow


@admin.register(Pipeline)
class PipelineAdmin(ReadOnlyAdmin):
    list_display = ("id", "name", "owner", "locked", "category", "creation_date")
    search_fields = ("name", "category", "authors")


@admin.register(PipelineSourceFile)
class PipelineSourceFileAdmin(ReadOnlyAdmin):
    list_display = ("id", "fname", "type", "pipeline", "owner")


@admin.register(Workflow)
class WorkflowAdmin(ReadOnlyAdmin):
    list_display = ("id", "title", "pipeline", "owner", "creation_date")
