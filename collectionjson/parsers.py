"""Parses a Collection+JSON write template into a plain dict, and guards every parser.

``CheckedParsers`` wraps whatever parsers a view has, so that input no route can take is a
clear 4xx before any view code sees it: a body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413; file
uploads excepted), nesting deeper than ``MAX_DEPTH``, and text holding NUL characters or lone
surrogates, which neither a file name nor PostgreSQL can store.
"""

import io
import json
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.http import QueryDict
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import BaseParser, DataAndFiles

from collectionjson.renderers import MEDIA_TYPE

VALID_FORMAT = "Valid format: {template:{data:[{name: ,value: },...]}}"
# No body of this API nests deeper than a pipeline's tree in a C+J template (about 8).
MAX_DEPTH = 32


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body is too large."
    default_code = "request_too_large"


def refuse_constant(name: str) -> None:
    raise ValueError(f"{name} is not a valid JSON value")


def check_parsed(data: Any) -> None:
    """Raise ParseError for nesting deeper than MAX_DEPTH, NUL or lone surrogates in text."""
    pending = [(data, 0)]
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise ParseError(f"The body is nested more than {MAX_DEPTH} levels deep.")
        if isinstance(value, QueryDict):
            pending.extend((item, depth + 1) for item in value.lists())
        elif isinstance(value, Mapping):
            pending.extend((item, depth + 1) for item in value.items())
        elif isinstance(value, list | tuple):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, str):
            if "\x00" in value:
                raise ParseError("Text in the body may not contain NUL characters.")
            try:
                value.encode()
            except UnicodeEncodeError:
                raise ParseError("Text in the body may not contain lone surrogates.") from None


class CheckedParser:
    """A view's parser, with the body size, depth and text checks of this module."""

    def __init__(self, parser: BaseParser) -> None:
        self.parser = parser
        self.media_type = parser.media_type

    def parse(self, stream, media_type=None, parser_context=None):
        if not self.media_type.startswith("multipart/"):
            # Files come as multipart and are spooled to disk; anything else is read here.
            limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
            body = stream.read(limit + 1) if stream is not None else b""
            if limit is not None and len(body) > limit:
                raise RequestTooLarge(f"Request body is larger than {limit} bytes.")
            stream = io.BytesIO(body)
        try:
            parsed = self.parser.parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError(f"The body is nested more than {MAX_DEPTH} levels deep.") from None
        check_parsed(parsed.data if isinstance(parsed, DataAndFiles) else parsed)
        return parsed


class CheckedParsers:
    """View mixin: every parser of the view is a CheckedParser."""

    def get_parsers(self) -> list:
        return [CheckedParser(parser) for parser in super().get_parsers()]


class CollectionJsonParser(BaseParser):
    media_type = MEDIA_TYPE

    def parse(self, stream, media_type=None, parser_context=None) -> dict:
        try:
            # NaN and Infinity are no JSON (the plain-JSON parser refuses them too).
            document = json.load(stream, parse_constant=refuse_constant)
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from error
        if not isinstance(document, dict):
            raise ParseError(f"Invalid data provided. {VALID_FORMAT}")
        if "template" not in document:
            raise ParseError(f"'template' field required. {VALID_FORMAT}")
        template = document["template"]
        if not isinstance(template, dict):
            raise ParseError(f"Template is not a dictionary. {VALID_FORMAT}")
        if "data" not in template:
            raise ParseError(f"'data' field required. {VALID_FORMAT}")
        if not isinstance(template["data"], list):
            raise ParseError(f"Invalid data provided. {VALID_FORMAT}")
        parsed = {}
        for entry in template["data"]:
            if not isinstance(entry, dict):
                raise ParseError(f"Invalid data provided. {VALID_FORMAT}")
            for key in ("name", "value"):
                if key not in entry:
                    raise ParseError(f"'{key}' field required. {VALID_FORMAT}")
            parsed[entry["name"]] = entry["value"]
        return parsed
