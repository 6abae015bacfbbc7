"""Collection+JSON rendering of the plain-JSON response data every view produces."""

import functools
import json
from typing import Any

import orjson
from rest_framework import renderers

from collectionjson.fields import is_link
from collectionjson.rows import Page

MEDIA_TYPE = "application/vnd.collection+json"


def error_message(data: Any) -> str:
    if isinstance(data, dict):
        if "detail" in data:
            return str(data["detail"])
        if set(data) == {"error"}:
            return str(data["error"])
    return json.dumps(data)


def link_field_names(view) -> frozenset[str]:
    get_serializer_class = getattr(view, "get_serializer_class", None)
    if get_serializer_class is None:
        return frozenset()
    try:
        serializer_class = get_serializer_class()
    except AssertionError:
        return frozenset()
    if serializer_class is None:
        return frozenset()
    return link_names(serializer_class)


@functools.cache
def link_names(serializer_class) -> frozenset[str]:
    """Which fields render as links: fixed per class, and costly to build on every request."""
    return frozenset(name for name, field in serializer_class().fields.items() if is_link(field))


def render_item(data: dict, links: set[str] | frozenset[str]) -> dict:
    item: dict[str, Any] = {
        "data": [
            {"name": name, "value": value}
            for name, value in data.items()
            if name not in links and name != "url"
        ]
    }
    if "url" in data:
        item["href"] = data["url"]
    item_links = [
        {"rel": name, "href": href}
        for name, value in data.items()
        if name in links and name != "url"
        for href in (value if isinstance(value, list) else (value,))
        if href
    ]
    if item_links:
        item["links"] = item_links
    return item


def render_page_item(data: dict, page: Page) -> dict:
    """``render_item`` for an item of a Page, whose fields are known once for the page."""
    item: dict[str, Any] = {
        # A field is missing when the row class omits it as null.
        "data": [{"name": name, "value": data[name]} for name in page.data_names if name in data]
    }
    if "url" in data:
        item["href"] = data["url"]
    # Links built from rows are single URLs or None, never lists.
    item_links = [{"rel": name, "href": href} for name in page.link_names if (href := data[name])]
    if item_links:
        item["links"] = item_links
    return item


def to_collection(data: Any, request, view, status_code: int) -> dict:
    collection: dict[str, Any] = {"version": "1.0", "href": request.build_absolute_uri()}
    if status_code >= 400:
        collection["error"] = {"message": error_message(data)}
        return {"collection": collection}
    data = dict(data)
    queries = data.pop("queries", None)
    template = data.pop("template", None)
    collection_links = data.pop("collection_links", None) or {}
    links = [{"rel": rel, "href": href} for rel, href in collection_links.items()]
    if "results" in data:
        results = data["results"]
        if isinstance(results, Page):
            collection["items"] = [render_page_item(item, results) for item in results]
        else:
            field_links = link_field_names(view)
            collection["items"] = [render_item(item, field_links) for item in results]
        links.extend(
            {"rel": rel, "href": data[rel]} for rel in ("next", "previous") if data.get(rel)
        )
    else:
        collection["items"] = [render_item(data, link_field_names(view))] if data else []
    collection["links"] = links
    if queries:
        collection["queries"] = queries
    if template:
        collection["template"] = template
    if "results" in data:
        collection["total"] = data["count"]
    return {"collection": collection}


def is_rows_page(data: Any) -> bool:
    return isinstance(data, dict) and isinstance(data.get("results"), Page)


class JSONRenderer(renderers.JSONRenderer):
    """DRF's JSON, written by orjson for list pages built from rows (see ``rows.py``).

    orjson writes what ``json.dumps`` with DRF's settings writes (compact, not ASCII-only)
    for the values rows hold, except U+2028 and U+2029, which DRF escapes for JavaScript.
    """

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return self.encode(data, is_rows_page(data), accepted_media_type, renderer_context)

    def encode(self, data, fast: bool, accepted_media_type, renderer_context) -> bytes:
        if fast and self.get_indent(accepted_media_type, renderer_context or {}) is None:
            try:
                body = orjson.dumps(data)
            except orjson.JSONEncodeError:
                pass  # a value only json writes, such as an int beyond 64 bits
            else:
                # Both separators start with this byte, which a memchr finds far faster than
                # replace() scans for the separators themselves.
                if b"\xe2" not in body:
                    return body
                return body.replace(b"\xe2\x80\xa8", b"\\u2028").replace(
                    b"\xe2\x80\xa9", b"\\u2029"
                )
        return super().render(data, accepted_media_type, renderer_context)


class CollectionJsonRenderer(JSONRenderer):
    media_type = MEDIA_TYPE
    format = "collection+json"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        renderer_context = renderer_context or {}
        response = renderer_context.get("response")
        request = renderer_context.get("request")
        if response is None or request is None or data is None:
            return super().render(data, accepted_media_type, renderer_context)
        document = to_collection(data, request, renderer_context.get("view"), response.status_code)
        fast = is_rows_page(data) and response.status_code < 400
        return self.encode(document, fast, accepted_media_type, renderer_context)


class BinaryRenderer(renderers.BaseRenderer):
    """Accepts any media type on download routes; only error bodies are rendered (as JSON)."""

    media_type = "*/*"
    format = "binary"
    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, bytes):
            return data
        return json.dumps(data).encode()
