"""OpenAPI generation: the schema describes the plain-JSON shapes, not their C+J wrapping."""

import copy
import re
from collections.abc import Callable
from typing import Any

from django.urls import resolve
from drf_spectacular import openapi
from drf_spectacular.contrib.django_filters import DjangoFilterExtension
from drf_spectacular.extensions import OpenApiSerializerFieldExtension

from collectionjson.renderers import MEDIA_TYPE


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema without the Collection+JSON media type.

    C+J wraps the same fields in ``collection.items[].data``, so listing it beside
    ``application/json`` would describe the wrapped document with the plain shape.
    """

    def map_parsers(self) -> list[str]:
        return [media_type for media_type in super().map_parsers() if media_type != MEDIA_TYPE]

    def map_renderers(self, attribute: str) -> list[str]:
        renderers = super().map_renderers(attribute)
        excluded = MEDIA_TYPE if attribute == "media_type" else "collection+json"
        return [value for value in renderers if value != excluded]

    def get_operation_id(self) -> str:
        # URL names are unique (feed-list, booleanparameter-detail, ...); paths stripped of
        # their parameters are not (``/{id}/files/`` and ``/files/``).
        url_name = resolve(re.sub(r"\{\w+\}", "1", self.path)).url_name
        if not url_name:
            return super().get_operation_id()
        return f"{url_name.replace('-', '_')}_{self.method.lower()}"

    def get_tags(self) -> list[str]:
        return [type(self.view).__module__.split(".")[0]]


class FilterSetModelExtension(DjangoFilterExtension):
    """Reads the model from ``filterset_class``: most querysets here need the request's user or
    URL, which schema generation does not have. Views without a filterset take no filters."""

    priority = 1

    def get_schema_operation_parameters(self, auto_schema, *args, **kwargs) -> list[dict]:
        filterset_class = getattr(auto_schema.view, "filterset_class", None)
        if filterset_class is None:
            return []
        model = filterset_class._meta.model
        return [
            parameter
            for name, filter_field in filterset_class.base_filters.items()
            for parameter in self.resolve_filter_field(
                auto_schema, model, filterset_class, name, filter_field
            )
        ]


def extend_schema_field_by_direction(*, request: dict, response: dict) -> Callable[[type], type]:
    """``extend_schema_field`` for a field that reads one shape and writes another."""

    def decorator(field_class: type) -> type:
        class FieldSchema(OpenApiSerializerFieldExtension):
            target_class = field_class

            def map_serializer_field(self, auto_schema, direction: str) -> dict[str, Any]:
                return copy.deepcopy(request if direction == "request" else response)

        return field_class

    return decorator
