"""Serializer fields that render as Collection+JSON links."""

from collections.abc import Callable
from typing import Any

from django.urls import NoReverseMatch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.relations import HyperlinkedRelatedField, ManyRelatedField
from rest_framework.reverse import reverse


@extend_schema_field(OpenApiTypes.URI)
class LinkField(serializers.Field):
    """A read-only URL computed from the object, rendered as a link whose rel is the field name.

    ``build`` receives the object and returns ``(view_name, kwargs)``, a full URL string
    (used as-is, made absolute) or None for no link; pass ``allow_null=True`` when it may.
    """

    def __init__(self, build: Callable[[Any], tuple[str, dict] | str | None], **kwargs):
        self.build = build
        kwargs["read_only"] = True
        kwargs["source"] = "*"
        super().__init__(**kwargs)

    def to_representation(self, instance: Any) -> str | None:
        target = self.build(instance)
        if target is None:
            return None
        request = self.context.get("request")
        if isinstance(target, str):
            return request.build_absolute_uri(target) if request else target
        view_name, view_kwargs = target
        return reverse_any_name(view_name, view_kwargs, request)


def reverse_any_name(view_name: str, kwargs: dict, request) -> str:
    """``reverse``, also for names that a route's converter can't match.

    A file may be named with a newline (plugins write any name), which no route matches:
    the link then carries it percent-encoded twice, so that it still resolves (download
    routes read only the id from it).
    """
    try:
        return reverse(view_name, kwargs=kwargs, request=request)
    except NoReverseMatch:
        if not any(isinstance(value, str) and "\n" in value for value in kwargs.values()):
            raise
    escaped = {
        name: value.replace("\n", "%0A") if isinstance(value, str) else value
        for name, value in kwargs.items()
    }
    return reverse(view_name, kwargs=escaped, request=request)


def is_link(field: serializers.Field) -> bool:
    if getattr(field, "is_link", False):
        return True
    if isinstance(field, ManyRelatedField):
        return isinstance(field.child_relation, HyperlinkedRelatedField)
    return isinstance(field, HyperlinkedRelatedField | LinkField)
