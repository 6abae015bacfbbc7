"""Adds the document-level parts of a response (links, queries, template) to every view."""

from typing import Any

from rest_framework.reverse import reverse

from collectionjson.parsers import CheckedParsers
from collectionjson.rows import Rows
from collectionjson.serializers import writable_field_names


class CollectionJsonMixin(CheckedParsers):
    """Derives ``collection_links``, ``queries`` and ``template`` for GET responses.

    - links come from ``get_collection_links()`` (rel -> absolute URL);
    - queries come from ``filterset_class`` and ``search_view_name`` (list views only);
    - the template comes from the serializer's writable fields, or ``template_fields``;
      ``template_fields = ()`` turns it off.
    """

    search_view_name: str | None = None
    template_fields: tuple[str, ...] | None = None

    def get_collection_links(self) -> dict[str, str]:
        return {}

    def link(self, view_name: str, **kwargs: Any) -> str:
        return reverse(view_name, kwargs=kwargs, request=self.request)

    def get_queries(self) -> list[dict] | None:
        filterset_class = getattr(self, "filterset_class", None)
        if self.search_view_name is None or filterset_class is None:
            return None
        href = self.link(self.search_view_name, **self.kwargs)
        data = [{"name": name, "value": ""} for name in filterset_class.base_filters]
        return [{"href": href, "rel": "search", "data": data}]

    def get_template_fields(self) -> list[str]:
        if self.template_fields is not None:
            return list(self.template_fields)
        names = writable_field_names(self.get_serializer_class())
        return [name for name in names if name != "url"]

    def get_template(self) -> dict | None:
        fields = self.get_template_fields()
        if not fields:
            return None
        return {"data": [{"name": name, "value": ""} for name in fields]}

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        data = getattr(response, "data", None)
        if request.method != "GET" or response.status_code >= 300 or not isinstance(data, dict):
            return response
        if "results" in data:
            queries = self.get_queries()
            if queries:
                data["queries"] = queries
            links = self.get_collection_links()
            if links:
                data["collection_links"] = links
        template = self.get_template()
        if template:
            data["template"] = template
        return response


class RowsListMixin:
    """GET list pages serialized from ``values_list()`` rows by ``rows_class`` (see ``rows.py``).

    The view's serializer still serves everything else, and must give the same items.
    """

    rows_class: type[Rows] | None = None

    def paginate_queryset(self, queryset):
        if self.rows_class is not None and self.request.method == "GET":
            queryset = self.rows_class.select(queryset)
        return super().paginate_queryset(queryset)

    def get_serializer(self, *args, **kwargs):
        if self.rows_class is not None and kwargs.get("many") and self.request.method == "GET":
            return self.rows_class(args[0], request=self.request)
        return super().get_serializer(*args, **kwargs)
