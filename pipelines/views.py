from django.db.models import Q
from django.shortcuts import get_object_or_404
from rest_framework import generics, permissions
from rest_framework.parsers import FormParser, MultiPartParser

from collectionjson.mixins import CollectionJsonMixin
from cube.downloads import StoredFileDownload
from cube.permissions import IsOwner, IsSuperuser, ReadOnly
from cube.views import PartialUpdate
from pipelines import filters, serializers
from pipelines.models import (
    DefaultPipingParameter,
    Pipeline,
    PipelineInstance,
    PipelineSourceFile,
    PluginPiping,
    Workflow,
)
from pipelines.permissions import CanChangeDefaults, CanReadPipeline
from pipelines.services import runs, sourcefiles, trees
from plugins.models import Plugin, PluginInstance
from plugins.serializers import PluginInstanceSerializer, PluginSerializer

PIPELINES = Pipeline.objects.select_related("owner", "source_file")
PLUGIN_INSTANCES = PluginInstance.objects.select_related(
    "plugin__meta", "owner", "compute_resource", "feed", "workflow__pipeline"
)


def visible_pipelines(user):
    """Unlocked pipelines and the caller's own; a superuser sees all."""
    if user.is_superuser:
        return PIPELINES
    if not user.is_authenticated:
        return PIPELINES.filter(locked=False)
    return PIPELINES.filter(Q(locked=False) | Q(owner=user))


class VisiblePipelines:
    def get_queryset(self):
        return visible_pipelines(self.request.user)


class PipelineList(VisiblePipelines, CollectionJsonMixin, generics.ListCreateAPIView):
    serializer_class = serializers.PipelineSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    filterset_class = filters.PipelineFilter
    search_view_name = "pipeline-list-query-search"
    filter_backends = ()
    template_fields = (
        "name", "authors", "category", "description", "locked", "plugin_tree", "plugin_inst_id",
    )  # fmt: skip

    def get_collection_links(self):
        return {"plugins": self.link("plugin-list")}

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        serializer.instance = trees.create_pipeline(
            owner=self.request.user,
            plugin_instance=fields.pop("plugin_inst_id", None),
            **fields,
        )


class PipelineListQuerySearch(VisiblePipelines, CollectionJsonMixin, generics.ListAPIView):
    serializer_class = serializers.PipelineSerializer
    permission_classes = (permissions.AllowAny,)
    filterset_class = filters.PipelineFilter
    template_fields = ()


class PipelineDetail(PartialUpdate, CollectionJsonMixin, generics.RetrieveUpdateDestroyAPIView):
    http_method_names = ["get", "put", "delete"]
    queryset = PIPELINES
    serializer_class = serializers.PipelineUpdateSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly, CanReadPipeline)

    def get_template_fields(self):
        fields = ["name", "authors", "category", "description"]
        if self.get_object().locked:
            fields.append("locked")
        return fields

    def perform_update(self, serializer):
        serializer.instance = trees.update_pipeline(
            serializer.instance, **serializer.validated_data
        )


class PipelineSubresource(CollectionJsonMixin, generics.ListAPIView):
    """Lists something of one pipeline, readable when the pipeline is."""

    permission_classes = (permissions.AllowAny,)
    template_fields = ()

    def get_pipeline(self) -> Pipeline:
        pipeline = get_object_or_404(PIPELINES, pk=self.kwargs["pk"])
        if not pipeline.is_readable_by(self.request.user):
            self.permission_denied(self.request)
        return pipeline

    def get_collection_links(self):
        return {"pipeline": self.link("pipeline-detail", pk=self.kwargs["pk"])}


class PipelineCustomJsonDetail(CollectionJsonMixin, generics.RetrieveAPIView):
    queryset = PIPELINES
    serializer_class = serializers.PipelineCustomJsonSerializer
    permission_classes = (CanReadPipeline,)
    template_fields = ()


class PipelinePluginList(PipelineSubresource):
    serializer_class = PluginSerializer

    def get_queryset(self):
        pipeline = self.get_pipeline()
        return Plugin.objects.select_related("meta").filter(pipings__pipeline=pipeline).distinct()


class PipelinePipingList(PipelineSubresource):
    serializer_class = serializers.PluginPipingSerializer

    def get_queryset(self):
        return self.get_pipeline().plugin_pipings.select_related("plugin__meta")


DEFAULTS = DefaultPipingParameter.objects.select_related(
    "plugin_param", "plugin_piping__plugin__meta", "plugin_piping__pipeline"
)


class PipelineDefaultParameterList(PipelineSubresource):
    serializer_class = serializers.DefaultPipingParameterSerializer

    def get_queryset(self):
        return DEFAULTS.filter(plugin_piping__pipeline=self.get_pipeline())


class PluginPipingDetail(CollectionJsonMixin, generics.RetrieveAPIView):
    queryset = PluginPiping.objects.select_related("plugin__meta", "pipeline")
    serializer_class = serializers.PluginPipingSerializer
    permission_classes = (CanReadPipeline,)
    template_fields = ()


class DefaultPipingParameterDetail(CollectionJsonMixin, generics.RetrieveUpdateAPIView):
    http_method_names = ["get", "put"]
    serializer_class = serializers.DefaultPipingParameterSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly, CanChangeDefaults)
    template_fields = ("value",)
    parameter_types: tuple[str, ...] = ()

    def get_queryset(self):
        return DEFAULTS.filter(plugin_param__type__in=self.parameter_types)

    def perform_update(self, serializer):
        trees.update_default_parameter(
            serializer.instance, value=serializer.validated_data["value"]
        )


class PipelineSourceFileList(CollectionJsonMixin, generics.ListCreateAPIView):
    queryset = PipelineSourceFile.objects.select_related("owner")
    serializer_class = serializers.PipelineSourceFileSerializer
    permission_classes = (permissions.IsAuthenticatedOrReadOnly,)
    parser_classes = (MultiPartParser, FormParser)
    filterset_class = filters.PipelineSourceFileFilter
    search_view_name = "pipelinesourcefile-list-query-search"
    filter_backends = ()
    template_fields = ("type", "fname")

    def perform_create(self, serializer):
        serializer.instance = sourcefiles.create_pipeline_source_file(
            owner=self.request.user,
            filename=serializer.validated_data["filename"],
            stream=serializer.validated_data["fname"],
            type=serializer.validated_data["type"],
            pipeline_fields=serializer.validated_data["pipeline_fields"],
        )


class PipelineSourceFileListQuerySearch(CollectionJsonMixin, generics.ListAPIView):
    queryset = PipelineSourceFile.objects.select_related("owner")
    serializer_class = serializers.PipelineSourceFileSerializer
    permission_classes = (permissions.AllowAny,)
    filterset_class = filters.PipelineSourceFileFilter
    template_fields = ()


class PipelineSourceFileDetail(CollectionJsonMixin, generics.RetrieveAPIView):
    queryset = PipelineSourceFile.objects.all()
    serializer_class = serializers.PipelineSourceFileSerializer
    permission_classes = (permissions.AllowAny,)
    template_fields = ()


class PipelineSourceFileResource(StoredFileDownload):
    queryset = PipelineSourceFile.objects.all()
    permission_classes = (permissions.AllowAny,)


PIPELINE_INSTANCES = PipelineInstance.objects.select_related("pipeline", "owner")


class PipelineInstanceList(PipelineSubresource, generics.ListCreateAPIView):
    """Runs a pipeline the legacy way (POST) and lists its legacy runs (GET)."""

    serializer_class = serializers.PipelineInstanceSerializer
    permission_classes = (permissions.IsAuthenticated,)

    def get_queryset(self):
        return PIPELINE_INSTANCES.filter(pipeline=self.get_pipeline())

    def get_template_fields(self):
        fields = [
            "previous_plugin_inst_id", "title", "description", "cpu_limit", "memory_limit",
            "number_of_workers", "gpu_limit",
        ]  # fmt: skip
        defaults = DEFAULTS.filter(plugin_piping__pipeline_id=self.kwargs["pk"]).order_by(
            "plugin_piping_id", "plugin_param_id"
        )
        for default in defaults:
            piping = default.plugin_piping
            fields.append(
                f"{piping.plugin_id}_{piping.pk}_{piping.previous_id or 'null'}_"
                f"{default.plugin_param.name}"
            )
        return fields

    def perform_create(self, serializer):
        fields = dict(serializer.validated_data)
        serializer.instance = runs.create_pipeline_instance(
            self.get_pipeline(),
            owner=self.request.user,
            previous=fields.pop("previous_plugin_inst_id"),
            data=dict(self.request.data.items()),
            **fields,
        )


class AllPipelineInstanceList(CollectionJsonMixin, generics.ListAPIView):
    queryset = PIPELINE_INSTANCES
    serializer_class = serializers.PipelineInstanceSerializer
    filterset_class = filters.PipelineInstanceFilter
    search_view_name = "allpipelineinstance-list-query-search"
    filter_backends = ()
    template_fields = ()

    def get_collection_links(self):
        return {"pipelines": self.link("pipeline-list")}


class AllPipelineInstanceListQuerySearch(CollectionJsonMixin, generics.ListAPIView):
    queryset = PIPELINE_INSTANCES
    serializer_class = serializers.PipelineInstanceSerializer
    filterset_class = filters.PipelineInstanceFilter
    template_fields = ()


class PipelineInstanceDetail(
    PartialUpdate, CollectionJsonMixin, generics.RetrieveUpdateDestroyAPIView
):
    http_method_names = ["get", "put", "delete"]
    queryset = PIPELINE_INSTANCES
    serializer_class = serializers.PipelineInstanceUpdateSerializer
    permission_classes = (permissions.IsAuthenticated, ReadOnly | IsOwner | IsSuperuser)
    template_fields = ("title", "description")

    def perform_update(self, serializer):
        serializer.instance = runs.update_pipeline_instance(
            serializer.instance, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        runs.delete_pipeline_instance(instance)


class PipelineInstancePluginInstanceList(CollectionJsonMixin, generics.ListAPIView):
    serializer_class = PluginInstanceSerializer
    template_fields = ()

    def get_queryset(self):
        pipeline_instance = get_object_or_404(PipelineInstance, pk=self.kwargs["pk"])
        return PLUGIN_INSTANCES.filter(pipeline_inst=pipeline_instance).order_by("id")


WORKFLOWS = Workflow.objects.select_related("pipeline", "owner").with_job_counts()


class WorkflowList(PipelineSubresource, generics.ListCreateAPIView):
    """Runs a pipeline after an existing instance (POST) and lists its runs (GET)."""

    serializer_class = serializers.WorkflowSerializer
    permission_classes = (permissions.IsAuthenticated,)
    template_fields = ("previous_plugin_inst_id", "title", "nodes_info")

    def get_queryset(self):
        return WORKFLOWS.filter(pipeline=self.get_pipeline())

    def perform_create(self, serializer):
        workflow = runs.create_workflow(
            self.get_pipeline(),
            owner=self.request.user,
            previous=serializer.validated_data["previous_plugin_inst_id"],
            nodes_info=serializer.validated_data["nodes_info"],
            title=serializer.validated_data.get("title", ""),
        )
        serializer.instance = WORKFLOWS.get(pk=workflow.pk)


class AllWorkflowList(CollectionJsonMixin, generics.ListAPIView):
    queryset = WORKFLOWS
    serializer_class = serializers.WorkflowSerializer
    filterset_class = filters.WorkflowFilter
    search_view_name = "allworkflow-list-query-search"
    filter_backends = ()
    template_fields = ()

    def get_collection_links(self):
        return {"pipelines": self.link("pipeline-list")}


class AllWorkflowListQuerySearch(CollectionJsonMixin, generics.ListAPIView):
    queryset = WORKFLOWS
    serializer_class = serializers.WorkflowSerializer
    filterset_class = filters.WorkflowFilter
    template_fields = ()


class WorkflowDetail(PartialUpdate, CollectionJsonMixin, generics.RetrieveUpdateDestroyAPIView):
    http_method_names = ["get", "put", "delete"]
    queryset = WORKFLOWS
    serializer_class = serializers.WorkflowUpdateSerializer
    permission_classes = (permissions.IsAuthenticated, ReadOnly | IsOwner | IsSuperuser)
    template_fields = ("title",)

    def perform_update(self, serializer):
        serializer.instance = runs.update_workflow(
            serializer.instance, title=serializer.validated_data.get("title")
        )

    def perform_destroy(self, instance):
        runs.delete_workflow(instance)


class WorkflowPluginInstanceList(CollectionJsonMixin, generics.ListAPIView):
    serializer_class = PluginInstanceSerializer
    template_fields = ()

    def get_queryset(self):
        workflow = get_object_or_404(Workflow, pk=self.kwargs["pk"])
        return PLUGIN_INSTANCES.filter(workflow=workflow).order_by("id")
