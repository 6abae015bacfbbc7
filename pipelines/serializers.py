import json
import posixpath
from typing import Any

import yaml
from django.utils.text import get_valid_filename
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from collectionjson.fields import LinkField
from pipelines.models import (
    DefaultPipingParameter,
    Pipeline,
    PipelineInstance,
    PipelineSourceFile,
    PluginPiping,
    SourceFileType,
    Workflow,
)
from pipelines.services.trees import plugin_tree_of
from plugins.fields import CPUField, MemoryField
from plugins.models import PluginInstance, PluginType
from plugins.serializers import OmitNullMixin, optional_link, owned_previous_instance
from plugins.status import JOB_COUNTERS
from storage.keys import LINK_NAME_MESSAGE, is_link_name


@extend_schema_field(
    {"oneOf": [{"type": "array", "items": {}}, {"type": "string", "description": "A JSON list."}]}
)
class JsonListField(serializers.Field):
    """A list sent as a JSON string (v5) or already decoded (python-chrisclient)."""

    def to_internal_value(self, data: Any) -> list:
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise serializers.ValidationError(f"Invalid JSON string {data}.") from None
        if not isinstance(data, list):
            raise serializers.ValidationError(f"Invalid list in {data}.")
        return data

    def to_representation(self, value: Any) -> Any:
        return value


# Typed routes for default parameters; path values are strings there, as in v5.
DEFAULT_PARAMETER_VIEWS = {
    "string": "defaultpipingstrparameter-detail",
    "path": "defaultpipingstrparameter-detail",
    "unextpath": "defaultpipingstrparameter-detail",
    "integer": "defaultpipingintparameter-detail",
    "float": "defaultpipingfloatparameter-detail",
    "boolean": "defaultpipingboolparameter-detail",
}


class PipelineSerializer(serializers.HyperlinkedModelSerializer):
    plugin_tree = JsonListField(write_only=True, required=False)
    plugin_inst_id = serializers.IntegerField(min_value=1, write_only=True, required=False)
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    plugins = LinkField(lambda pipeline: ("pipeline-plugin-list", {"pk": pipeline.pk}))
    plugin_pipings = LinkField(lambda pipeline: ("pipeline-pluginpiping-list", {"pk": pipeline.pk}))
    default_parameters = LinkField(
        lambda pipeline: ("pipeline-defaultparameter-list", {"pk": pipeline.pk})
    )
    instances = LinkField(lambda pipeline: ("pipelineinstance-list", {"pk": pipeline.pk}))
    workflows = LinkField(lambda pipeline: ("workflow-list", {"pk": pipeline.pk}))
    json_repr = LinkField(lambda pipeline: ("pipeline-customjson-detail", {"pk": pipeline.pk}))
    source_file = LinkField(
        lambda pipeline: (
            ("pipelinesourcefile-detail", {"pk": pipeline.source_file.pk})
            if hasattr(pipeline, "source_file")
            else None
        ),
        allow_null=True,
    )

    class Meta:
        model = Pipeline
        fields = (
            "url", "id", "name", "locked", "authors", "category", "description", "plugin_tree",
            "plugin_inst_id", "owner_username", "creation_date", "modification_date",
            "plugins", "plugin_pipings", "default_parameters", "instances", "workflows",
            "json_repr", "source_file",
        )  # fmt: skip
        extra_kwargs = {"url": {"view_name": "pipeline-detail"}}

    def validate_plugin_inst_id(self, plugin_inst_id: int) -> PluginInstance:
        instance = (
            PluginInstance.objects.select_related("plugin__meta", "feed")
            .filter(pk=plugin_inst_id)
            .first()
        )
        if instance is None or not instance.feed.is_readable_by(self.context["request"].user):
            raise serializers.ValidationError(
                f"Couldn't find any plugin instance with id {plugin_inst_id}."
            )
        if instance.plugin.meta.type != PluginType.DS:
            raise serializers.ValidationError(
                f"Plugin instance of {instance.plugin.meta.name} which is of type "
                f"{instance.plugin.meta.type} and therefore can not be used as the root of a "
                f"new pipeline."
            )
        return instance


class PipelineUpdateSerializer(PipelineSerializer):
    """PUT: the descriptive fields, and ``locked`` only while the pipeline is locked."""

    class Meta(PipelineSerializer.Meta):
        fields = tuple(
            name
            for name in PipelineSerializer.Meta.fields
            if name not in ("plugin_tree", "plugin_inst_id")
        )

    def get_fields(self):
        fields = super().get_fields()
        if self.instance is not None and not getattr(self.instance, "locked", True):
            fields["locked"].read_only = True
        return fields


class PipelineCustomJsonSerializer(serializers.HyperlinkedModelSerializer):
    plugin_tree = serializers.SerializerMethodField()

    class Meta:
        model = Pipeline
        fields = ("url", "name", "locked", "authors", "category", "description", "plugin_tree")
        extra_kwargs = {"url": {"view_name": "pipeline-detail"}}

    def get_plugin_tree(self, pipeline: Pipeline) -> str:
        return json.dumps(plugin_tree_of(pipeline))


class PluginPipingSerializer(OmitNullMixin, serializers.HyperlinkedModelSerializer):
    omit_if_null = ("previous_id",)

    previous_id = serializers.IntegerField(read_only=True)
    plugin_id = serializers.IntegerField(read_only=True)
    plugin_name = serializers.CharField(source="plugin.meta.name", read_only=True)
    plugin_version = serializers.CharField(source="plugin.version", read_only=True)
    pipeline_id = serializers.IntegerField(read_only=True)
    previous = LinkField(optional_link("pluginpiping-detail", "previous_id"), allow_null=True)
    plugin = LinkField(lambda piping: ("plugin-detail", {"pk": piping.plugin_id}))
    pipeline = LinkField(lambda piping: ("pipeline-detail", {"pk": piping.pipeline_id}))

    class Meta:
        model = PluginPiping
        fields = (
            "url", "id", "previous_id", "title", "plugin_id", "plugin_name", "plugin_version",
            "pipeline_id", "previous", "plugin", "pipeline",
        )  # fmt: skip
        read_only_fields = fields
        extra_kwargs = {"url": {"view_name": "pluginpiping-detail"}}


class DefaultPipingParameterSerializer(serializers.ModelSerializer):
    url = LinkField(
        lambda default: (DEFAULT_PARAMETER_VIEWS[default.plugin_param.type], {"pk": default.pk})
    )
    value = serializers.JSONField()
    type = serializers.CharField(source="plugin_param.type", read_only=True)
    plugin_piping_id = serializers.IntegerField(read_only=True)
    plugin_piping_title = serializers.CharField(source="plugin_piping.title", read_only=True)
    previous_plugin_piping_id = serializers.IntegerField(
        source="plugin_piping.previous_id", read_only=True
    )
    param_name = serializers.CharField(source="plugin_param.name", read_only=True)
    param_id = serializers.IntegerField(source="plugin_param_id", read_only=True)
    plugin_piping = LinkField(
        lambda default: ("pluginpiping-detail", {"pk": default.plugin_piping_id})
    )
    plugin_name = serializers.CharField(source="plugin_piping.plugin.meta.name", read_only=True)
    plugin_version = serializers.CharField(source="plugin_piping.plugin.version", read_only=True)
    plugin_id = serializers.IntegerField(source="plugin_piping.plugin_id", read_only=True)
    plugin_param = LinkField(
        lambda default: ("pluginparameter-detail", {"pk": default.plugin_param_id})
    )

    class Meta:
        model = DefaultPipingParameter
        fields = (
            "url", "id", "value", "type", "plugin_piping_id", "plugin_piping_title",
            "previous_plugin_piping_id", "param_name", "param_id", "plugin_piping",
            "plugin_name", "plugin_version", "plugin_id", "plugin_param",
        )  # fmt: skip


class PipelineSourceFileSerializer(serializers.HyperlinkedModelSerializer):
    fname = serializers.FileField()
    type = serializers.ChoiceField(choices=SourceFileType.choices, default=SourceFileType.YAML)
    file_resource = LinkField(
        lambda f: ("pipelinesourcefile-resource", {"pk": f.pk, "name": posixpath.basename(f.fname)})
    )
    pipeline = LinkField(lambda f: ("pipeline-detail", {"pk": f.pipeline_id}))
    owner = LinkField(lambda f: ("user-detail", {"pk": f.owner_id}))

    class Meta:
        model = PipelineSourceFile
        fields = (
            "url", "id", "creation_date", "fname", "fsize", "type", "file_resource",
            "pipeline", "owner",
        )  # fmt: skip
        read_only_fields = ("fsize",)
        extra_kwargs = {"url": {"view_name": "pipelinesourcefile-detail"}}

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["fname"] = instance.fname
        return data

    def validate(self, attrs: dict) -> dict:
        upload = attrs["fname"]
        filename = get_valid_filename(posixpath.basename(upload.name or "")) or "pipeline"
        if is_link_name(filename):  # the file is stored under PIPELINES/ by this name
            raise serializers.ValidationError({"fname": [LINK_NAME_MESSAGE]})
        representation = read_pipeline_source(upload, attrs["type"])
        pipeline = PipelineSerializer(data=representation, context=self.context)
        pipeline.is_valid(raise_exception=True)
        attrs["filename"] = filename
        attrs["pipeline_fields"] = {
            key: value for key, value in pipeline.validated_data.items() if key != "plugin_inst_id"
        }
        return attrs


def read_pipeline_source(upload, kind: str) -> dict:
    """The pipeline a YAML or JSON source file describes, with ``plugin_tree`` as a list."""
    content = upload.read()
    upload.seek(0)
    try:
        text = content.decode()
        representation = yaml.safe_load(text) if kind == "yaml" else json.loads(text)
    except (UnicodeDecodeError, ValueError, yaml.YAMLError):
        raise serializers.ValidationError(
            {"fname": [f"Invalid {kind} representation file."]}
        ) from None
    if not isinstance(representation, dict):
        raise serializers.ValidationError({"fname": [f"Invalid {kind} representation file."]})
    tree = representation.get("plugin_tree", [])
    if kind == "yaml" and isinstance(tree, list):
        tree = [yaml_node(node) for node in tree]
    representation["plugin_tree"] = tree
    return representation


def yaml_node(node: Any) -> dict:
    """``plugin: "pl-name v1.2.3"`` and a defaults mapping, in the canonical node form."""
    if not isinstance(node, dict) or not isinstance(node.get("plugin"), str):
        raise serializers.ValidationError(
            {"fname": ["A 'plugin' key is required for all plugin_tree nodes."]}
        )
    parts = node["plugin"].split()
    if len(parts) != 2 or not parts[1].startswith("v"):
        raise serializers.ValidationError(
            {"fname": [f"Missing plugin name or version in '{node['plugin']}'."]}
        )
    defaults = node.get("plugin_parameter_defaults") or {}
    if not isinstance(defaults, dict):
        raise serializers.ValidationError(
            {"fname": ["plugin_parameter_defaults must be a mapping of names to values."]}
        )
    canonical = {
        "title": node.get("title"),
        "plugin_name": parts[0],
        "plugin_version": parts[1][1:],
        "previous": node.get("previous"),
    }
    if defaults:
        canonical["plugin_parameter_defaults"] = [
            {"name": name, "default": value} for name, value in defaults.items()
        ]
    return canonical


class PipelineInstanceSerializer(serializers.HyperlinkedModelSerializer):
    previous_plugin_inst_id = serializers.IntegerField(min_value=1, write_only=True)
    pipeline_id = serializers.IntegerField(read_only=True)
    pipeline_name = serializers.CharField(source="pipeline.name", read_only=True)
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    cpu_limit = CPUField(required=False)
    memory_limit = MemoryField(required=False)
    number_of_workers = serializers.IntegerField(required=False, min_value=1)
    gpu_limit = serializers.IntegerField(required=False, min_value=0)
    pipeline = LinkField(lambda inst: ("pipeline-detail", {"pk": inst.pipeline_id}))
    plugin_instances = LinkField(
        lambda inst: ("pipelineinstance-plugininstance-list", {"pk": inst.pk})
    )

    class Meta:
        model = PipelineInstance
        fields = (
            "url", "id", "title", "previous_plugin_inst_id", "pipeline_id", "pipeline_name",
            "owner_username", "description", "cpu_limit", "memory_limit", "number_of_workers",
            "gpu_limit", "pipeline", "plugin_instances",
        )  # fmt: skip
        extra_kwargs = {"url": {"view_name": "pipelineinstance-detail"}}

    def validate_previous_plugin_inst_id(self, value: int) -> PluginInstance:
        return owned_previous_instance(value, self.context["request"].user)


class PipelineInstanceUpdateSerializer(PipelineInstanceSerializer):
    cpu_limit = serializers.IntegerField(read_only=True)
    memory_limit = serializers.IntegerField(read_only=True)
    number_of_workers = serializers.IntegerField(read_only=True)
    gpu_limit = serializers.IntegerField(read_only=True)

    class Meta(PipelineInstanceSerializer.Meta):
        fields = tuple(
            name
            for name in PipelineInstanceSerializer.Meta.fields
            if name != "previous_plugin_inst_id"
        )


class WorkflowSerializer(serializers.HyperlinkedModelSerializer):
    previous_plugin_inst_id = serializers.IntegerField(min_value=1, write_only=True)
    nodes_info = JsonListField(write_only=True, required=False, default=list)
    pipeline_id = serializers.IntegerField(read_only=True)
    pipeline_name = serializers.CharField(source="pipeline.name", read_only=True)
    owner_username = serializers.CharField(source="owner.username", read_only=True)
    created_jobs = serializers.IntegerField(read_only=True)
    waiting_jobs = serializers.IntegerField(read_only=True)
    scheduled_jobs = serializers.IntegerField(read_only=True)
    started_jobs = serializers.IntegerField(read_only=True)
    registering_jobs = serializers.IntegerField(read_only=True)
    finished_jobs = serializers.IntegerField(read_only=True)
    errored_jobs = serializers.IntegerField(read_only=True)
    cancelled_jobs = serializers.IntegerField(read_only=True)
    pipeline = LinkField(lambda workflow: ("pipeline-detail", {"pk": workflow.pipeline_id}))
    plugin_instances = LinkField(
        lambda workflow: ("workflow-plugininstance-list", {"pk": workflow.pk})
    )

    class Meta:
        model = Workflow
        fields = (
            "url", "id", "creation_date", "title", "pipeline_id", "pipeline_name",
            "owner_username", *JOB_COUNTERS, "previous_plugin_inst_id", "nodes_info",
            "pipeline", "plugin_instances",
        )  # fmt: skip
        extra_kwargs = {"url": {"view_name": "workflow-detail"}}

    def validate_previous_plugin_inst_id(self, value: int) -> PluginInstance:
        return owned_previous_instance(value, self.context["request"].user)


class WorkflowUpdateSerializer(WorkflowSerializer):
    class Meta(WorkflowSerializer.Meta):
        fields = tuple(
            name
            for name in WorkflowSerializer.Meta.fields
            if name not in ("previous_plugin_inst_id", "nodes_info")
        )
