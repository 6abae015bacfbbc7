from django.conf import settings
from django.db import models

from plugins.models import Plugin, PluginParameter
from plugins.status import job_count_annotations


class Pipeline(models.Model):
    creation_date = models.DateTimeField(auto_now_add=True)
    modification_date = models.DateTimeField(auto_now=True)
    name = models.CharField(max_length=100, unique=True)
    locked = models.BooleanField(default=True)
    authors = models.CharField(max_length=200, blank=True)
    category = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=800, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pipelines"
    )

    class Meta:
        ordering = ("category", "name")

    def __str__(self) -> str:
        return self.name

    def is_readable_by(self, user) -> bool:
        return not self.locked or user.is_superuser or self.owner_id == user.id


class PluginPiping(models.Model):
    """One node of a pipeline's plugin tree."""

    title = models.CharField(max_length=100)
    previous = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="next"
    )
    plugin = models.ForeignKey(Plugin, on_delete=models.CASCADE, related_name="pipings")
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="plugin_pipings")

    class Meta:
        ordering = ("pipeline", "id")
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "title"], name="unique_piping_title")
        ]

    def __str__(self) -> str:
        return self.title


class DefaultPipingParameter(models.Model):
    """A piping's default for one plugin parameter; its type is the parameter's type."""

    plugin_piping = models.ForeignKey(
        PluginPiping, on_delete=models.CASCADE, related_name="parameter_defaults"
    )
    plugin_param = models.ForeignKey(
        PluginParameter, on_delete=models.CASCADE, related_name="piping_defaults"
    )
    value = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ("plugin_piping", "plugin_param")
        constraints = [
            models.UniqueConstraint(
                fields=["plugin_piping", "plugin_param"], name="unique_piping_parameter"
            )
        ]


class SourceFileType(models.TextChoices):
    YAML = "yaml"
    JSON = "json"


class PipelineSourceFile(models.Model):
    creation_date = models.DateTimeField(auto_now_add=True)
    fname = models.CharField(max_length=1024, unique=True)
    fsize = models.BigIntegerField(default=0)
    type = models.CharField(max_length=4, choices=SourceFileType.choices)
    pipeline = models.OneToOneField(Pipeline, on_delete=models.CASCADE, related_name="source_file")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="pipeline_source_files"
    )

    class Meta:
        ordering = ("-fname",)

    def __str__(self) -> str:
        return self.fname


class PipelineInstance(models.Model):
    """A legacy run of a whole pipeline (v5's ``pipelines/<id>/instances/``)."""

    title = models.CharField(max_length=100, blank=True)
    description = models.CharField(max_length=600, blank=True)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="instances")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    cpu_limit = models.IntegerField(default=1000)
    memory_limit = models.IntegerField(default=200)
    number_of_workers = models.IntegerField(default=1)
    gpu_limit = models.IntegerField(default=0)

    class Meta:
        ordering = ("-id",)

    def __str__(self) -> str:
        return self.title


class WorkflowQuerySet(models.QuerySet):
    def with_job_counts(self) -> "WorkflowQuerySet":
        """Annotate the eight job counters of the member instances."""
        return self.annotate(**job_count_annotations())


class Workflow(models.Model):
    creation_date = models.DateTimeField(auto_now_add=True)
    title = models.CharField(max_length=100, blank=True)
    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="workflows")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)

    objects = WorkflowQuerySet.as_manager()

    class Meta:
        ordering = ("-creation_date", "-id")

    def __str__(self) -> str:
        return self.title
