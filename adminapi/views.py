from rest_framework import generics, permissions

from adminapi import services
from adminapi.serializers import ComputeResourceAdminSerializer, PluginAdminSerializer
from collectionjson.mixins import CollectionJsonMixin
from plugins.models import ComputeResource, Plugin
from plugins.services.registry import register_plugin, save_compute_resource

PLUGINS = Plugin.objects.select_related("meta")


class StaffView(CollectionJsonMixin):
    permission_classes = (permissions.IsAdminUser,)


class PluginAdminList(StaffView, generics.ListCreateAPIView):
    """Every plugin; POST registers one from a JSON description or a plugin store URL."""

    queryset = PLUGINS
    serializer_class = PluginAdminSerializer
    template_fields = ("fname", "compute_names", "plugin_store_url")

    def get_collection_links(self):
        return {"compute_resources": self.link("admin-computeresource-list")}

    def perform_create(self, serializer):
        data = serializer.validated_data
        descriptor = data.get("fname")
        if descriptor is None:
            descriptor = services.fetch_store_descriptor(data["plugin_store_url"])
        serializer.instance = register_plugin(descriptor, compute_names=data["compute_names"])


class PluginAdminDetail(StaffView, generics.RetrieveUpdateDestroyAPIView):
    http_method_names = ["get", "put", "delete"]
    queryset = PLUGINS
    serializer_class = PluginAdminSerializer
    template_fields = ("compute_names",)

    def perform_update(self, serializer):
        serializer.instance = services.set_plugin_compute_resources(
            serializer.instance, compute_names=serializer.validated_data["compute_names"]
        )

    def perform_destroy(self, instance):
        services.delete_plugin(instance)


class ComputeResourceAdminList(StaffView, generics.ListCreateAPIView):
    queryset = ComputeResource.objects.all()
    serializer_class = ComputeResourceAdminSerializer
    template_fields = (
        "name", "compute_url", "compute_auth_url", "compute_user", "compute_password",
        "compute_auth_token", "compute_innetwork", "description", "max_job_exec_seconds",
    )  # fmt: skip

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = save_compute_resource(
            name=data["name"],
            compute_url=data["compute_url"],
            compute_user=data["compute_user"],
            compute_password=data["compute_password"],
            compute_auth_url=data.get("compute_auth_url", ""),
            description=data.get("description", ""),
            max_job_exec_seconds=data.get("max_job_exec_seconds", -1),
        )


class ComputeResourceAdminDetail(StaffView, generics.RetrieveDestroyAPIView):
    http_method_names = ["get", "delete"]
    queryset = ComputeResource.objects.all()
    serializer_class = ComputeResourceAdminSerializer
    template_fields = ()

    def perform_destroy(self, instance):
        services.delete_compute_resource(instance)
