from django.conf import settings
from django.db import models

from plugins.status import ACTIVE_STATUSES, Status

MAX_INT = 2147483647


class ComputeResource(models.Model):
    creation_date = models.DateTimeField(auto_now_add=True)
    modification_date = models.DateTimeField(auto_now=True)
    name = models.CharField(max_length=100, unique=True)
    compute_url = models.URLField(max_length=300)
    compute_auth_url = models.URLField(max_length=350, blank=True)
    compute_user = models.CharField(max_length=32)
    compute_password = models.CharField(max_length=100)
    compute_auth_token = models.CharField(max_length=500, blank=True, default="initial_token")
    compute_innetwork = models.BooleanField(default=False)
    compute_requires_copy_job = models.BooleanField(default=False)
    compute_requires_upload_job = models.BooleanField(default=False)
    description = models.CharField(max_length=600, blank=True)
    max_job_exec_seconds = models.IntegerField(default=-1)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.name


class PluginType(models.TextChoices):
    FS = "fs"
    DS = "ds"
    TS = "ts"


class PluginMeta(models.Model):
    creation_date = models.DateTimeField(auto_now_add=True)
    modification_date = models.DateTimeField(auto_now=True)
    name = models.CharField(max_length=100, unique=True)
    title = models.CharField(max_length=400, blank=True)
    stars = models.IntegerField(default=0)
    public_repo = models.URLField(max_length=300, blank=True)
    license = models.CharField(max_length=50, blank=True)
    type = models.CharField(max_length=4, choices=PluginType.choices, default=PluginType.DS)
    icon = models.URLField(max_length=300, blank=True)
    category = models.CharField(max_length=100, blank=True)
    authors = models.CharField(max_length=200, blank=True)
    documentation = models.CharField(max_length=800, blank=True)

    class Meta:
        ordering = ("type", "-creation_date", "-id")

    def __str__(self) -> str:
        return self.name


class Plugin(models.Model):
    creation_date = models.DateTimeField(auto_now_add=True)
    meta = models.ForeignKey(PluginMeta, on_delete=models.CASCADE, related_name="plugins")
    version = models.CharField(max_length=10)
    dock_image = models.CharField(max_length=500)
    description = models.CharField(max_length=800, blank=True)
    execshell = models.CharField(max_length=50)
    selfpath = models.CharField(max_length=512)
    selfexec = models.CharField(max_length=50)
    min_number_of_workers = models.IntegerField(default=1)
    max_number_of_workers = models.IntegerField(default=MAX_INT)
    min_cpu_limit = models.IntegerField(default=1000)
    max_cpu_limit = models.IntegerField(default=MAX_INT)
    min_memory_limit = models.IntegerField(default=200)
    max_memory_limit = models.IntegerField(default=MAX_INT)
    min_gpu_limit = models.IntegerField(default=0)
    max_gpu_limit = models.IntegerField(default=0)
    compute_resources = models.ManyToManyField(ComputeResource, related_name="plugins")

    class Meta:
        ordering = ("meta__type", "-meta__creation_date", "-meta_id", "-creation_date", "-id")
        constraints = [
            models.UniqueConstraint(fields=["meta", "version"], name="unique_plugin_version")
        ]

    def __str__(self) -> str:
        return f"{self.meta.name} {self.version}"

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def type(self) -> str:
        return self.meta.type


class ParameterType(models.TextChoices):
    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"
    PATH = "path"
    UNEXTPATH = "unextpath"


# Order in which stored values become command-line arguments and are listed.
PARAMETER_TYPE_ORDER = [
    ParameterType.UNEXTPATH,
    ParameterType.PATH,
    ParameterType.STRING,
    ParameterType.INTEGER,
    ParameterType.FLOAT,
    ParameterType.BOOLEAN,
]


class ParameterAction(models.TextChoices):
    STORE = "store"
    STORE_TRUE = "store_true"
    STORE_FALSE = "store_false"


class PluginParameter(models.Model):
    plugin = models.ForeignKey(Plugin, on_delete=models.CASCADE, related_name="parameters")
    name = models.CharField(max_length=50)
    flag = models.CharField(max_length=52)
    short_flag = models.CharField(max_length=52, blank=True)
    action = models.CharField(
        max_length=20, choices=ParameterAction.choices, default=ParameterAction.STORE
    )
    optional = models.BooleanField(default=False)
    type = models.CharField(max_length=10, choices=ParameterType.choices)
    default = models.JSONField(null=True, blank=True)
    help = models.TextField(blank=True)
    ui_exposed = models.BooleanField(default=True)

    class Meta:
        ordering = ("plugin", "id")
        constraints = [
            models.UniqueConstraint(fields=["plugin", "name"], name="unique_parameter_name")
        ]

    def __str__(self) -> str:
        return self.name


class PluginInstanceQuerySet(models.QuerySet):
    def active(self) -> "PluginInstanceQuerySet":
        return self.filter(status__in=ACTIVE_STATUSES)

    def total_files(self) -> int:
        """How many file rows these instances have, from their kept counts."""
        return self.aggregate(total=models.Sum("files_count"))["total"] or 0

    def descendant_ids(self, root_id: int) -> list[int]:
        """The id of ``root_id`` and those of all its descendants, breadth first."""
        ids = [root_id]
        frontier = [root_id]
        while frontier:
            frontier = list(self.filter(previous_id__in=frontier).values_list("pk", flat=True))
            ids.extend(frontier)
        return ids


class PluginInstance(models.Model):
    title = models.CharField(max_length=100, blank=True)
    status = models.CharField(
        max_length=30, choices=Status.choices, default=Status.CREATED, db_index=True
    )
    start_date = models.DateTimeField(auto_now_add=True)
    end_date = models.DateTimeField(auto_now_add=True)
    previous = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="next"
    )
    plugin = models.ForeignKey(Plugin, on_delete=models.CASCADE, related_name="instances")
    feed = models.ForeignKey(
        "feeds.Feed", on_delete=models.CASCADE, related_name="plugin_instances"
    )
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    compute_resource = models.ForeignKey(
        ComputeResource,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plugin_instances",
    )
    output_path = models.CharField(max_length=1024)
    summary = models.TextField(blank=True)
    raw = models.TextField(blank=True)
    error_code = models.CharField(max_length=7, blank=True)
    size = models.BigIntegerField(default=0)
    # Its file rows, kept by the one function that inserts them (services.outputs.insert_files)
    # so that listing a feed's 100,000 files does not count them on every page.
    files_count = models.BigIntegerField(default=0)
    cpu_limit = models.IntegerField()
    memory_limit = models.IntegerField()
    number_of_workers = models.IntegerField()
    gpu_limit = models.IntegerField()
    # When the current remote job phase was last seen to change.
    status_changed = models.DateTimeField(auto_now_add=True)
    # A worker advancing the instance's job holds it until then (see services.jobs.claim);
    # a worker that died lets it go when the time passes.
    claimed_until = models.DateTimeField(null=True, blank=True)
    workflow = models.ForeignKey(
        "pipelines.Workflow",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plugin_instances",
    )
    pipeline_inst = models.ForeignKey(
        "pipelines.PipelineInstance",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="plugin_instances",
    )

    objects = PluginInstanceQuerySet.as_manager()

    class Meta:
        ordering = ("-start_date", "-id")

    def __str__(self) -> str:
        return f"{self.plugin.meta.name}_{self.pk}"


class PluginInstanceParameter(models.Model):
    """A value supplied for one plugin parameter; its type is the parameter's type."""

    plugin_inst = models.ForeignKey(
        PluginInstance, on_delete=models.CASCADE, related_name="parameter_values"
    )
    plugin_param = models.ForeignKey(
        PluginParameter, on_delete=models.CASCADE, related_name="instance_values"
    )
    value = models.JSONField()

    class Meta:
        ordering = ("id",)


class PluginInstanceFile(models.Model):
    creation_date = models.DateTimeField(auto_now_add=True)
    fname = models.CharField(max_length=1024, unique=True)
    fsize = models.BigIntegerField()
    plugin_inst = models.ForeignKey(PluginInstance, on_delete=models.CASCADE, related_name="files")
    # Denormalised from the instance so feed listings page over one index.
    feed = models.ForeignKey("feeds.Feed", on_delete=models.CASCADE, related_name="files")

    class Meta:
        ordering = ("-fname",)
        indexes = [
            # With the id, finding a deep page's keys reads only this index on PostgreSQL too
            # (SQLite's index entries carry the rowid anyway).
            models.Index(fields=["feed", "-fname", "id"], name="file_feed_fname_id"),
            models.Index(fields=["plugin_inst", "-fname"], name="file_inst_fname"),
        ]


class PluginInstanceSplit(models.Model):
    creation_date = models.DateTimeField(auto_now_add=True)
    filter = models.TextField(blank=True)
    plugin_inst = models.ForeignKey(PluginInstance, on_delete=models.CASCADE, related_name="splits")
    created_plugin_inst_ids = models.TextField(blank=True)

    class Meta:
        ordering = ("-creation_date",)
