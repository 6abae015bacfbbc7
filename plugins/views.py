from functools import cached_property

from django.shortcuts import get_object_or_404
from rest_framework import generics, permissions
from rest_framework.exceptions import PermissionDenied

from collectionjson.mixins import CollectionJsonMixin, RowsListMixin
from cube.downloads import StoredFileDownload
from cube.permissions import (
    CanReadFeedOf,
    IsAuthenticatedOrReadIfFeedPublic,
    IsOwner,
    IsSuperuser,
    ReadOnly,
)
from cube.views import PartialUpdate
from plugins import filters, serializers
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
from plugins.services import instances as instance_services
from plugins.services.parameters import sort_parameter_values


def feeds_link(view) -> dict[str, str]:
    return {"feeds": view.request.build_absolute_uri("/api/v1/")}


class ComputeResourceList(CollectionJsonMixin, generics.ListAPIView):
    queryset = ComputeResource.objects.all()
    serializer_class = serializers.ComputeResourceSerializer
    filterset_class = filters.ComputeResourceFilter
    search_view_name = "computeresource-list-query-search"
    filter_backends = ()
    template_fields = ()

    def get_collection_links(self):
        return feeds_link(self)


class ComputeResourceListQuerySearch(CollectionJsonMixin, generics.ListAPIView):
    queryset = ComputeResource.objects.all()
    serializer_class = serializers.ComputeResourceSerializer
    filterset_class = filters.ComputeResourceFilter
    template_fields = ()


class ComputeResourceDetail(CollectionJsonMixin, generics.RetrieveAPIView):
    queryset = ComputeResource.objects.all()
    serializer_class = serializers.ComputeResourceSerializer
    template_fields = ()


class PluginMetaList(CollectionJsonMixin, generics.ListAPIView):
    queryset = PluginMeta.objects.all()
    serializer_class = serializers.PluginMetaSerializer
    permission_classes = (permissions.AllowAny,)
    filterset_class = filters.PluginMetaFilter
    search_view_name = "pluginmeta-list-query-search"
    filter_backends = ()

    def get_collection_links(self):
        return {**feeds_link(self), "plugins": self.link("plugin-list")}


class PluginMetaListQuerySearch(CollectionJsonMixin, generics.ListAPIView):
    queryset = PluginMeta.objects.all()
    serializer_class = serializers.PluginMetaSerializer
    permission_classes = (permissions.AllowAny,)
    filterset_class = filters.PluginMetaFilter


class PluginMetaDetail(CollectionJsonMixin, generics.RetrieveAPIView):
    queryset = PluginMeta.objects.all()
    serializer_class = serializers.PluginMetaSerializer
    permission_classes = (permissions.AllowAny,)


PLUGINS = Plugin.objects.select_related("meta")


class PluginMetaPluginList(CollectionJsonMixin, generics.ListAPIView):
    serializer_class = serializers.PluginSerializer
    permission_classes = (permissions.AllowAny,)

    def get_queryset(self):
        return PLUGINS.filter(meta=get_object_or_404(PluginMeta, pk=self.kwargs["pk"]))

    def get_collection_links(self):
        return {"meta": self.link("pluginmeta-detail", pk=self.kwargs["pk"])}


class PluginList(CollectionJsonMixin, generics.ListAPIView):
    queryset = PLUGINS
    serializer_class = serializers.PluginSerializer
    permission_classes = (permissions.AllowAny,)
    filterset_class = filters.PluginFilter
    search_view_name = "plugin-list-query-search"
    filter_backends = ()

    def get_collection_links(self):
        return {**feeds_link(self), "plugin_metas": self.link("pluginmeta-list")}


class PluginListQuerySearch(CollectionJsonMixin, generics.ListAPIView):
    queryset = PLUGINS
    serializer_class = serializers.PluginSerializer
    permission_classes = (permissions.AllowAny,)
    filterset_class = filters.PluginFilter

    def filter_queryset(self, queryset):
        # Joining compute resources may repeat a plugin.
        return super().filter_queryset(queryset).distinct()


class PluginDetail(CollectionJsonMixin, generics.RetrieveAPIView):
    queryset = PLUGINS
    serializer_class = serializers.PluginSerializer
    permission_classes = (permissions.AllowAny,)


class PluginParameterList(CollectionJsonMixin, generics.ListAPIView):
    serializer_class = serializers.PluginParameterSerializer
    permission_classes = (permissions.AllowAny,)

    def get_queryset(self):
        return get_object_or_404(Plugin, pk=self.kwargs["pk"]).parameters.all()

    def get_collection_links(self):
        return {"plugin": self.link("plugin-detail", pk=self.kwargs["pk"])}


class PluginParameterDetail(CollectionJsonMixin, generics.RetrieveAPIView):
    queryset = PluginParameter.objects.all()
    serializer_class = serializers.PluginParameterSerializer
    permission_classes = (permissions.AllowAny,)


class PluginComputeResourceList(CollectionJsonMixin, generics.ListAPIView):
    serializer_class = serializers.ComputeResourceSerializer
    template_fields = ()

    def get_queryset(self):
        return get_object_or_404(Plugin, pk=self.kwargs["pk"]).compute_resources.all()

    def get_collection_links(self):
        return {"plugin": self.link("plugin-detail", pk=self.kwargs["pk"])}


INSTANCES = PluginInstance.objects.select_related(
    "plugin__meta", "owner", "compute_resource", "feed", "workflow__pipeline"
)


class PluginInstanceList(CollectionJsonMixin, generics.ListCreateAPIView):
    """Runs a plugin (POST) and lists every instance of it (GET)."""

    serializer_class = serializers.PluginInstanceCreateSerializer

    def get_plugin(self) -> Plugin:
        return get_object_or_404(PLUGINS, pk=self.kwargs["pk"])

    def get_queryset(self):
        # plugin__id, not plugin_id: Django range-checks it, so a huge id can't overflow SQLite.
        return INSTANCES.filter(plugin__id=self.kwargs["pk"])

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.request.method == "POST":
            context["plugin"] = self.get_plugin()
        return context

    def get_collection_links(self):
        return {
            "plugin": self.link("plugin-detail", pk=self.kwargs["pk"]),
            "compute_resources": self.link("plugin-computeresource-list", pk=self.kwargs["pk"]),
        }

    def get_template_fields(self):
        fields = [
            "title", "compute_resource_name", "previous_id", "cpu_limit", "memory_limit",
            "number_of_workers", "gpu_limit",
        ]  # fmt: skip
        names = self.get_plugin().parameters.values_list("name", flat=True)
        return fields + list(names)

    def perform_create(self, serializer):
        serializer.instance = instance_services.create_plugin_instance(
            serializer.context["plugin"], owner=self.request.user, **serializer.validated_data
        )


class AllPluginInstanceList(RowsListMixin, CollectionJsonMixin, generics.ListAPIView):
    queryset = INSTANCES
    serializer_class = serializers.PluginInstanceSerializer
    rows_class = serializers.PluginInstanceRows
    filterset_class = filters.PluginInstanceFilter
    search_view_name = "allplugininstance-list-query-search"
    filter_backends = ()
    template_fields = ()

    def get_collection_links(self):
        return {"plugins": self.link("plugin-list")}


class AllPluginInstanceListQuerySearch(CollectionJsonMixin, generics.ListAPIView):
    queryset = INSTANCES
    serializer_class = serializers.PluginInstanceSerializer
    filterset_class = filters.PluginInstanceFilter
    template_fields = ()


class PluginInstanceDetail(
    PartialUpdate, CollectionJsonMixin, generics.RetrieveUpdateDestroyAPIView
):
    http_method_names = ["get", "put", "delete"]
    queryset = INSTANCES
    serializer_class = serializers.PluginInstanceUpdateSerializer
    permission_classes = (IsAuthenticatedOrReadIfFeedPublic, ReadOnly | IsOwner | IsSuperuser)
    template_fields = ("title", "status")

    def perform_update(self, serializer):
        serializer.instance = instance_services.update_plugin_instance(
            serializer.instance,
            title=serializer.validated_data.get("title"),
            status=serializer.validated_data.get("status"),
        )

    def perform_destroy(self, instance):
        if instance.plugin.meta.type == PluginType.FS:
            raise PermissionDenied("A feed's fs instance can only be deleted with its feed.")
        instance_services.delete_plugin_instance(instance)


class InstanceSubresource(CollectionJsonMixin, generics.ListAPIView):
    """Lists something of one instance, readable when the instance is."""

    permission_classes = (IsAuthenticatedOrReadIfFeedPublic,)
    template_fields = ()

    @cached_property
    def instance(self) -> PluginInstance:
        """The instance in the URL, once the caller may read it."""
        instance = get_object_or_404(INSTANCES, pk=self.kwargs["pk"])
        self.check_object_permissions(self.request, instance)
        return instance


class PluginInstanceDescendantList(InstanceSubresource):
    serializer_class = serializers.PluginInstanceSerializer

    def get_queryset(self):
        descendants = PluginInstance.objects.descendant_ids(self.instance.pk)
        return INSTANCES.filter(pk__in=descendants).order_by("id")


class PluginInstanceParameterList(InstanceSubresource):
    serializer_class = serializers.PluginInstanceParameterSerializer

    def get_queryset(self):
        values = list(self.instance.parameter_values.select_related("plugin_param"))
        return sort_parameter_values(values)


class PluginInstanceFileList(InstanceSubresource):
    serializer_class = serializers.PluginInstanceFileSerializer
    permission_classes = (CanReadFeedOf,)

    def get_queryset(self):
        return PluginInstanceFile.objects.filter(plugin_inst=self.instance)

    def list_count(self) -> int:
        return self.instance.files_count

    def get_collection_links(self):
        return {
            "feed": self.link("feed-detail", pk=self.instance.feed_id),
            "plugin_inst": self.link("plugininstance-detail", pk=self.instance.pk),
        }


class TypedParameterDetail(CollectionJsonMixin, generics.RetrieveAPIView):
    serializer_class = serializers.PluginInstanceParameterSerializer
    permission_classes = (IsAuthenticatedOrReadIfFeedPublic,)
    template_fields = ()
    parameter_type: str = ""

    def get_queryset(self):
        return PluginInstanceParameter.objects.select_related(
            "plugin_param", "plugin_inst__feed"
        ).filter(plugin_param__type=self.parameter_type)

    def check_object_permissions(self, request, obj):
        super().check_object_permissions(request, obj.plugin_inst)


class FileList(CollectionJsonMixin, generics.ListAPIView):
    serializer_class = serializers.PluginInstanceFileSerializer
    filterset_class = filters.PluginInstanceFileFilter
    search_view_name = "pluginfile-list-query-search"
    filter_backends = ()
    template_fields = ()

    def get_queryset(self):
        files = PluginInstanceFile.objects.all()
        if self.request.user.is_superuser:
            return files
        return files.filter(feed__owner=self.request.user)


class FileListQuerySearch(FileList):
    filter_backends = generics.ListAPIView.filter_backends
    search_view_name = None


class FileDetail(CollectionJsonMixin, generics.RetrieveAPIView):
    queryset = PluginInstanceFile.objects.select_related("feed")
    serializer_class = serializers.PluginInstanceFileSerializer
    permission_classes = (CanReadFeedOf,)
    template_fields = ()


class FileResource(StoredFileDownload):
    queryset = PluginInstanceFile.objects.select_related("feed")
    permission_classes = (CanReadFeedOf,)


class PluginInstanceSplitList(CollectionJsonMixin, generics.ListCreateAPIView):
    serializer_class = serializers.PluginInstanceSplitSerializer
    template_fields = ("filter", "compute_resource_name")

    def get_queryset(self):
        return get_object_or_404(PluginInstance, pk=self.kwargs["pk"]).splits.all()

    def get_collection_links(self):
        return {"plugin_inst": self.link("plugininstance-detail", pk=self.kwargs["pk"])}

    def perform_create(self, serializer):
        instance = get_object_or_404(INSTANCES, pk=self.kwargs["pk"])
        # Only the instance's owner splits it (v5 makes no exception for a superuser).
        if instance.owner_id != self.request.user.id:
            raise PermissionDenied()
        serializer.instance = instance_services.create_split(
            instance,
            owner=self.request.user,
            filter=serializer.validated_data.get("filter", ""),
            compute_resource_name=serializer.validated_data.get("compute_resource_name"),
        )


class PluginInstanceSplitDetail(CollectionJsonMixin, generics.RetrieveAPIView):
    queryset = PluginInstanceSplit.objects.all()
    serializer_class = serializers.PluginInstanceSplitSerializer
    template_fields = ()
