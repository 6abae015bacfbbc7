"""Parses a Collection+JSON write template into a plain dict."""

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser

from collectionjson.renderers import MEDIA_TYPE

VALID_FORMAT = "Valid format: {template:{data:[{name: ,value: },...]}}"


class CollectionJsonParser(BaseParser):
    media_type = MEDIA_TYPE

    def parse(self, stream, media_type=None, parser_context=None) -> dict:
        try:
            document = json.load(stream)
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
