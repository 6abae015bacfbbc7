import posixpath
from collections.abc import Mapping

from rest_framework import serializers

from collectionjson.fields import LinkField
from collectionjson.rows import Basename, Date, Link, Rows
from plugins.fields import CPUField, MemoryField
from plugins.models import (
    ComputeResource,
    Plugin,
    PluginInstance,
    PluginInstanceFile,
    PluginInstanceParameter,
    PluginInstanceSplit,
    PluginMeta,
    PluginParameter,
    PluginType,
)
from plugins.regexes import UnsafeRegex, check_filter_list
from plugins.services.instances import choose_compute_resource

# Each filter of a split creates an instance in the request.
MAX_SPLITS = 100


class OmitNullMixin:
    """Drops the listed fields when null: v5 leaves out values reached through a null relation."""

    omit_if_null: tuple[str, ...] = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        for name in self.omit_if_null:
            if data.get(name) is None:
                data.pop(name, None)
        return data


class ComputeResourceSerializer(serializers.HyperlinkedModelSerializer):
    compute_user = serializers.CharField(min_length=4, max_length=32, write_only=True)
    compute_password = serializers.CharField(
        min_length=8, max_length=100, write_only=True, style={"input_type": "password"}
    )
    compute_auth_token = serializers.CharField(write_only=True, required=False)

    class Meta:
        model = ComputeResource
        fields = (
            "url", "id", "creation_date", "modification_date", "name", "compute_url",
            "compute_auth_url", "compute_innetwork", "description", "max_job_exec_seconds",
            "compute_user", "compute_password", "compute_auth_token",
        )  # fmt: skip
        extra_kwargs = {"url": {"view_name": "computeresource-detail"}}


class PluginMetaSerializer(serializers.HyperlinkedModelSerializer):
    plugins = LinkField(lambda meta: ("pluginmeta-plugin-list", {"pk": meta.pk}))

    class Meta:
        model = PluginMeta
        fields = (
            "url", "id", "creation_date", "modification_date", "name", "title", "stars",
            "public_repo", "license", "type", "icon", "category", "authors", "documentation",
            "plugins",
        )  # fmt: skip
        extra_kwargs = {"url": {"view_name": "pluginmeta-detail"}}


class PluginSerializer(serializers.HyperlinkedModelSerializer):
    name = serializers.CharField(source="meta.name", read_only=True)
    public_repo = serializers.CharField(source="meta.public_repo", read_only=True)
    icon = serializers.CharField(source="meta.icon", read_only=True)
    type = serializers.CharField(source="meta.type", read_only=True)
    stars = serializers.IntegerField(source="meta.stars", read_only=True)
    authors = serializers.CharField(source="meta.authors", read_only=True)
    title = serializers.CharField(source="meta.title", read_only=True)
    category = serializers.CharField(source="meta.category", read_only=True)
    documentation = serializers.CharField(source="meta.documentation", read_only=True)
    license = serializers.CharField(source="meta.license", read_only=True)
    meta = serializers.HyperlinkedRelatedField(view_name="pluginmeta-detail", read_only=True)
    parameters = LinkField(lambda plugin: ("pluginparameter-list", {"pk": plugin.pk}))
    instances = LinkField(lambda plugin: ("plugininstance-list", {"pk": plugin.pk}))
    compute_resources = LinkField(lambda plugin: ("plugin-computeresource-list", {"pk": plugin.pk}))

    class Meta:
        model = Plugin
        fields = (
            "url", "id", "creation_date", "name", "version", "dock_image", "public_repo",
            "icon", "type", "stars", "authors", "title", "category", "description",
            "documentation", "license", "execshell", "selfpath", "selfexec",
            "min_number_of_workers", "max_number_of_workers", "min_cpu_limit", "max_cpu_limit",
            "min_memory_limit", "max_memory_limit", "min_gpu_limit", "max_gpu_limit",
            "meta", "parameters", "instances", "compute_resources",
        )  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {"url": {"view_name": "plugin-detail"}}


class PluginParameterSerializer(serializers.HyperlinkedModelSerializer):
    plugin = serializers.HyperlinkedRelatedField(view_name="plugin-detail", read_only=True)

    class Meta:
        model = PluginParameter
        fields = (
            "url", "id", "name", "type", "optional", "default", "flag", "short_flag", "action",
            "help", "ui_exposed", "plugin",
        )  # fmt: skip
        extra_kwargs = {"url": {"view_name": "pluginparameter-detail"}}


def optional_link(view_name: str, attribute: str):
    def build(obj):
        pk = getattr(obj, attribute)
        return (view_name, {"pk": pk}) if pk is not None else None

    return build


class PluginInstanceSerializer(OmitNullMixin, serializers.HyperlinkedModelSerializer):
    omit_if_null = (
        "previous_id", "compute_resource_name", "pipeline_id", "pipeline_name",
        "pipeline_inst_id", "workflow_id",
    )  # fmt: skip

    previous_id = serializers.IntegerField(read_only=True)
    compute_resource_name = serializers.CharField(
        source="compute_resource.name", read_only=True, default=None
    )
    plugin_id = serializers.IntegerField(read_only=True)
    plugin_name = serializers.CharField(source="plugin.meta.name", read_only=True)
    plugin_version = serializers.CharField(source="plugin.version", read_only=True)
    plugin_type = serializers.CharField(source="plugin.meta.type", read_only=True)
    feed_id = serializers.IntegerField(read_only=True)
    pipeline_id = serializers.IntegerField(
        source="workflow.pipeline_id", read_only=True, default=None
    )
    pipeline_name = serializers.CharField(
        source="workflow.pipeline.name", read_only=True, default=None
    )
    pipeline_inst_id = serializers.IntegerField(read_only=True)
    workflow_id = serializers.IntegerField(read_only=True)
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    previous = LinkField(optional_link("plugininstance-detail", "previous_id"), allow_null=True)
    feed = LinkField(lambda inst: ("feed-detail", {"pk": inst.feed_id}))
    plugin = LinkField(lambda inst: ("plugin-detail", {"pk": inst.plugin_id}))
    workflow = LinkField(optional_link("workflow-detail", "workflow_id"), allow_null=True)
    pipeline_inst = LinkField(
        optional_link("pipelineinstance-detail", "pipeline_inst_id"), allow_null=True
    )
    compute_resource = LinkField(
        optional_link("computeresource-detail", "compute_resource_id"), allow_null=True
    )
    descendants = LinkField(lambda inst: ("plugininstance-descendant-list", {"pk": inst.pk}))
    files = LinkField(lambda inst: ("plugininstance-file-list", {"pk": inst.pk}))
    parameters = LinkField(lambda inst: ("plugininstance-parameter-list", {"pk": inst.pk}))
    splits = LinkField(lambda inst: ("plugininstancesplit-list", {"pk": inst.pk}))

    class Meta:
        model = PluginInstance
        fields = (
            "url", "id", "title", "previous_id", "compute_resource_name", "plugin_id",
            "plugin_name", "plugin_version", "plugin_type", "feed_id", "start_date",
            "end_date", "output_path", "status", "pipeline_id", "pipeline_name",
            "pipeline_inst_id", "workflow_id", "summary", "raw", "owner_username",
            "cpu_limit", "memory_limit", "number_of_workers", "gpu_limit", "size",
            "error_code", "previous", "feed", "plugin", "workflow", "pipeline_inst",
            "compute_resource", "descendants", "files", "parameters", "splits",
        )  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {"url": {"view_name": "plugininstance-detail"}}


class PluginInstanceRows(Rows):
    """PluginInstanceSerializer's items, for list pages."""

    omit_if_null = PluginInstanceSerializer.omit_if_null
    columns = {
        "url": Link("plugininstance-detail", pk="pk"),
        "id": "id",
        "title": "title",
        "previous_id": "previous_id",
        "compute_resource_name": "compute_resource__name",
        "plugin_id": "plugin_id",
        "plugin_name": "plugin__meta__name",
        "plugin_version": "plugin__version",
        "plugin_type": "plugin__meta__type",
        "feed_id": "feed_id",
        "start_date": Date("start_date"),
        "end_date": Date("end_date"),
        "output_path": "output_path",
        "status": "status",
        "pipeline_id": "workflow__pipeline_id",
        "pipeline_name": "workflow__pipeline__name",
        "pipeline_inst_id": "pipeline_inst_id",
        "workflow_id": "workflow_id",
        "summary": "summary",
        "raw": "raw",
        "owner_username": "owner__username",
        "cpu_limit": "cpu_limit",
        "memory_limit": "memory_limit",
        "number_of_workers": "number_of_workers",
        "gpu_limit": "gpu_limit",
        "size": "size",
        "error_code": "error_code",
        "previous": Link("plugininstance-detail", pk="previous_id"),
        "feed": Link("feed-detail", pk="feed_id"),
        "plugin": Link("plugin-detail", pk="plugin_id"),
        "workflow": Link("workflow-detail", pk="workflow_id"),
        "pipeline_inst": Link("pipelineinstance-detail", pk="pipeline_inst_id"),
        "compute_resource": Link("computeresource-detail", pk="compute_resource_id"),
        "descendants": Link("plugininstance-descendant-list", pk="pk"),
        "files": Link("plugininstance-file-list", pk="pk"),
        "parameters": Link("plugininstance-parameter-list", pk="pk"),
        "splits": Link("plugininstancesplit-list", pk="pk"),
    }


class PluginInstanceCreateSerializer(PluginInstanceSerializer):
    """Validates the instance fields of a run request; parameters are validated separately."""

    title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    compute_resource_name = serializers.CharField(required=False, write_only=True)
    previous_id = serializers.IntegerField(required=False, write_only=True)
    cpu_limit = CPUField(required=False)
    memory_limit = MemoryField(required=False)
    number_of_workers = serializers.IntegerField(required=False)
    gpu_limit = serializers.IntegerField(required=False)

    class Meta(PluginInstanceSerializer.Meta):
        read_only_fields = tuple(
            name
            for name in PluginInstanceSerializer.Meta.fields
            if name
            not in (
                "title",
                "compute_resource_name",
                "previous_id",
                "cpu_limit",
                "memory_limit",
                "number_of_workers",
                "gpu_limit",
            )  # fmt: skip
        )

    def to_representation(self, instance):
        return PluginInstanceSerializer(instance, context=self.context).data

    def validate(self, attrs: dict) -> dict:
        """Resolve the request into ``create_plugin_instance``'s arguments."""
        plugin: Plugin = self.context["plugin"]
        user = self.context["request"].user
        limits = {}
        for field, low, high in (
            ("cpu_limit", plugin.min_cpu_limit, plugin.max_cpu_limit),
            ("memory_limit", plugin.min_memory_limit, plugin.max_memory_limit),
            ("number_of_workers", plugin.min_number_of_workers, plugin.max_number_of_workers),
            ("gpu_limit", plugin.min_gpu_limit, plugin.max_gpu_limit),
        ):
            if field in attrs:
                limits[field] = attrs.pop(field)
                if not low <= limits[field] <= high:
                    raise serializers.ValidationError(
                        {field: ["This field value is out of range."]}
                    )
        body = self.initial_data if isinstance(self.initial_data, Mapping) else {}
        name = attrs.pop("compute_resource_name", None)
        # caw sends compute_resource; it counts only when it names a registered resource.
        alias = body.get("compute_resource")
        if name is None and isinstance(alias, str):
            if plugin.compute_resources.filter(name=alias).exists():
                name = alias
        if name is not None and not plugin.compute_resources.filter(name=name).exists():
            raise serializers.ValidationError(
                {
                    "compute_resource_name": [
                        f"Plugin '{plugin.meta.name}' with version '{plugin.version}' has not "
                        f"been registered with compute resource '{name}'."
                    ]
                }
            )
        previous_id = attrs.pop("previous_id", None)
        previous = None
        if plugin.meta.type != PluginType.FS:
            if previous_id is None:
                raise serializers.ValidationError({"previous_id": ["This field is required."]})
            try:
                previous = owned_previous_instance(previous_id, user)
            except serializers.ValidationError as error:
                raise serializers.ValidationError({"previous_id": error.detail}) from None
        return {
            **attrs,
            "previous": previous,
            "compute_resource": choose_compute_resource(plugin, name),
            "limits": limits,
            "parameters": {
                parameter.name: body[parameter.name]
                for parameter in plugin.parameters.all()
                if parameter.name in body
            },
        }


def owned_previous_instance(previous_id: int, user) -> PluginInstance:
    """The instance a new one follows, which must be in a feed the user owns."""
    previous = PluginInstance.objects.select_related("feed").filter(pk=previous_id).first()
    if previous is None:
        raise serializers.ValidationError(
            f"Couldn't find any 'previous' plugin instance with id {previous_id}."
        )
    if not previous.feed.is_owned_by(user):
        raise serializers.ValidationError(
            f"User is not an owner of feed for previous instance with id {previous_id}."
        )
    return previous


class PluginInstanceUpdateSerializer(PluginInstanceSerializer):
    title = serializers.CharField(max_length=100, required=False, allow_blank=True)
    status = serializers.CharField(required=False)

    class Meta(PluginInstanceSerializer.Meta):
        read_only_fields = tuple(
            name for name in PluginInstanceSerializer.Meta.fields if name not in ("title", "status")
        )

    def validate_status(self, status: str) -> str:
        current = self.instance.status
        if status != "cancelled" or current in ("finishedSuccessfully", "finishedWithError"):
            raise serializers.ValidationError(
                f"Can not change status from '{current}' to '{status}'."
            )
        return status


TYPED_PARAMETER_VIEWS = {
    "string": "stringparameter-detail",
    "integer": "integerparameter-detail",
    "float": "floatparameter-detail",
    "boolean": "booleanparameter-detail",
    "path": "pathparameter-detail",
    "unextpath": "unextpathparameter-detail",
}


class PluginInstanceParameterSerializer(serializers.HyperlinkedModelSerializer):
    url = LinkField(
        lambda value: (TYPED_PARAMETER_VIEWS[value.plugin_param.type], {"pk": value.pk})
    )
    param_name = serializers.CharField(source="plugin_param.name", read_only=True)
    type = serializers.CharField(source="plugin_param.type", read_only=True)
    plugin_inst = LinkField(lambda value: ("plugininstance-detail", {"pk": value.plugin_inst_id}))
    plugin_param = LinkField(
        lambda value: ("pluginparameter-detail", {"pk": value.plugin_param_id})
    )

    class Meta:
        model = PluginInstanceParameter
        fields = ("url", "id", "param_name", "value", "type", "plugin_inst", "plugin_param")


class PluginInstanceFileSerializer(serializers.HyperlinkedModelSerializer):
    feed_id = serializers.IntegerField(read_only=True)
    plugin_inst_id = serializers.IntegerField(read_only=True)
    file_resource = LinkField(
        lambda f: ("pluginfile-resource", {"pk": f.pk, "name": posixpath.basename(f.fname)})
    )
    plugin_inst = LinkField(lambda f: ("plugininstance-detail", {"pk": f.plugin_inst_id}))

    class Meta:
        model = PluginInstanceFile
        fields = (
            "url", "id", "creation_date", "fname", "fsize", "feed_id", "plugin_inst_id",
            "file_resource", "plugin_inst",
        )  # fmt: skip
        extra_kwargs = {"url": {"view_name": "pluginfile-detail"}}


class PluginInstanceFileRows(Rows):
    """PluginInstanceFileSerializer's items, for list pages."""

    columns = {
        "url": Link("pluginfile-detail", pk="pk"),
        "id": "id",
        "creation_date": Date("creation_date"),
        "fname": "fname",
        "fsize": "fsize",
        "feed_id": "feed_id",
        "plugin_inst_id": "plugin_inst_id",
        "file_resource": Link("pluginfile-resource", pk="pk", name=Basename("fname")),
        "plugin_inst": Link("plugininstance-detail", pk="plugin_inst_id"),
    }


class PluginInstanceSplitSerializer(serializers.HyperlinkedModelSerializer):
    plugin_inst_id = serializers.IntegerField(read_only=True)
    compute_resource_name = serializers.CharField(write_only=True, required=False)
    plugin_inst = LinkField(lambda split: ("plugininstance-detail", {"pk": split.plugin_inst_id}))

    def validate_filter(self, value: str) -> str:
        """A comma list of bounded regexes; each one becomes a pl-topologicalcopy instance."""
        try:
            items = check_filter_list(value)
        except UnsafeRegex as error:
            raise serializers.ValidationError(str(error)) from None
        if len(items) > MAX_SPLITS:
            raise serializers.ValidationError(f"A split takes at most {MAX_SPLITS} filters.")
        return value

    class Meta:
        model = PluginInstanceSplit
        fields = (
            "url", "id", "creation_date", "filter", "plugin_inst_id", "created_plugin_inst_ids",
            "compute_resource_name", "plugin_inst",
        )  # fmt: skip
        read_only_fields = ("created_plugin_inst_ids",)
        extra_kwargs = {"url": {"view_name": "plugininstancesplit-detail"}}
