import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from plugins.models import ComputeResource
from plugins.serializers import ComputeResourceSerializer, PluginSerializer


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]}
)
class ComputeNamesField(serializers.Field):
    """Comma-separated compute resource names (or a list of them)."""

    def to_representation(self, value):
        return value

    def to_internal_value(self, data) -> list[str]:
        items = data if isinstance(data, list) else str(data).split(",")
        names = [str(item).strip() for item in items if str(item).strip()]
        if not names:
            raise serializers.ValidationError("At least one compute resource name is required.")
        return names


@extend_schema_field(
    {
        "oneOf": [
            {"type": "object", "additionalProperties": True},
            {"type": "string", "format": "binary", "description": "JSON text or a JSON file."},
        ]
    }
)
class DescriptorField(serializers.Field):
    """A plugin's JSON description: an uploaded file, a JSON string or an object."""

    def to_representation(self, value):
        return value

    def to_internal_value(self, data) -> dict:
        if hasattr(data, "read"):
            data = data.read()
        try:
            descriptor = json.loads(data) if isinstance(data, str | bytes) else data
        except ValueError:
            raise serializers.ValidationError("Invalid JSON representation file.") from None
        if not isinstance(descriptor, dict):
            raise serializers.ValidationError("Invalid JSON representation file.")
        return descriptor


class PluginAdminSerializer(PluginSerializer):
    fname = DescriptorField(write_only=True, required=False)
    compute_names = ComputeNamesField(write_only=True)
    plugin_store_url = serializers.URLField(write_only=True, required=False)

    class Meta(PluginSerializer.Meta):
        fields = (*PluginSerializer.Meta.fields, "fname", "compute_names", "plugin_store_url")

    def validate(self, attrs: dict) -> dict:
        if self.instance is None and "fname" not in attrs and "plugin_store_url" not in attrs:
            raise serializers.ValidationError(
                "At least one of the fields 'fname' or 'plugin_store_url' must be provided."
            )
        return attrs


class ComputeResourceAdminSerializer(ComputeResourceSerializer):
    class Meta(ComputeResourceSerializer.Meta):
        model = ComputeResource
        extra_kwargs = {"url": {"view_name": "admin-computeresource-detail"}}
        read_only_fields = ("compute_innetwork",)
