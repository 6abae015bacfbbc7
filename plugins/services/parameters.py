"""Checking a plugin instance's parameter values, and the order they are passed in."""

import math
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from rest_framework.exceptions import ValidationError

from plugins.models import (
    PARAMETER_TYPE_ORDER,
    ParameterType,
    Plugin,
    PluginInstance,
    PluginParameter,
    PluginType,
)
from plugins.regexes import UnsafeRegex, check_filter_list
from plugins.services.paths import resolve_path_list
from storage.keys import name_problem

MAX_STRING_LENGTH = 600
MAX_PATH_LENGTH = 16000


def value_error(message: str) -> ValidationError:
    return ValidationError({"value": [message]})


def clean_parameter_value(parameter: PluginParameter, value: Any, *, user: User | None) -> Any:
    """Check a value against the parameter's type and rules, and return it typed.

    With ``user``, path values are resolved against what that user may read; without one (a
    pipeline's defaults) they stay as given, and are resolved when a workflow runs them.
    """
    kind = parameter.type
    if kind == ParameterType.BOOLEAN:
        if isinstance(value, bool):
            return value
        if str(value).lower() in ("true", "false"):
            return str(value).lower() == "true"
        raise value_error(f"'{value}' is not a valid boolean for parameter {parameter.name}.")
    if kind == ParameterType.INTEGER:
        if isinstance(value, bool):
            raise value_error(f"'{value}' is not a valid integer for parameter {parameter.name}.")
        try:
            number = float(value) if isinstance(value, float) else int(str(value).strip())
            whole = int(number)
        except (ValueError, OverflowError):
            raise value_error(
                f"'{value}' is not a valid integer for parameter {parameter.name}."
            ) from None
        if number != whole:
            raise value_error(f"'{value}' is not a valid integer for parameter {parameter.name}.")
        return whole
    if kind == ParameterType.FLOAT:
        try:
            if isinstance(value, bool):
                raise ValueError
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            number = math.nan
        # A non-finite float can't be stored as JSON, nor passed on a command line.
        if not math.isfinite(number):
            raise value_error(f"'{value}' is not a valid float for parameter {parameter.name}.")
        return number
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise value_error(f"Parameter {parameter.name} takes a string.")
    value = str(value)
    if kind in (ParameterType.PATH, ParameterType.UNEXTPATH):
        if len(value) > MAX_PATH_LENGTH:
            raise value_error(f"Parameter {parameter.name} is longer than {MAX_PATH_LENGTH}.")
        for item in value.split(","):
            # Empty, '.' and '..' segments are for the path rules to report.
            names = [name for name in item.strip().split("/") if name not in ("", ".", "..")]
            problem = name_problem("/".join(names)) if names else None
            if problem is not None:
                raise value_error(f"Path '{item.strip()}' {problem}")
        return value if user is None else resolve_path_list(value, user=user)
    if len(value) > MAX_STRING_LENGTH:
        raise value_error(f"Parameter {parameter.name} is longer than {MAX_STRING_LENGTH}.")
    if parameter.name == "filter" and parameter.plugin.meta.type == PluginType.TS:
        # A ts plugin's filters are regexes CUBE itself matches when it copies the outputs.
        try:
            check_filter_list(value)
        except UnsafeRegex as error:
            raise value_error(str(error)) from None
    return value


def clean_parameters(plugin: Plugin, data: Mapping[str, Any], *, user: User) -> list:
    """Validate the body's parameter values in the plugin's order; unknown keys are ignored."""
    cleaned = []
    for parameter in plugin.parameters.all():
        if parameter.name not in data:
            if not parameter.optional:
                raise ValidationError({parameter.name: ["This field is required."]})
            continue
        cleaned.append(
            (parameter, clean_parameter_value(parameter, data[parameter.name], user=user))
        )
    return cleaned


def sort_parameter_values(values: list) -> list:
    """Parameter values in the order they are listed and passed: by type, then by id."""
    return sorted(values, key=lambda v: (PARAMETER_TYPE_ORDER.index(v.plugin_param.type), v.pk))


def check_topology(previous: PluginInstance, cleaned: list) -> list:
    """A ts instance's ``plugininstances`` must include its previous and share its feed."""
    result = []
    for parameter, value in cleaned:
        if parameter.name == "plugininstances" and value:
            try:
                ids = [int(item) for item in value.split(",")]
            except ValueError:
                raise value_error(
                    "plugininstances must be a comma-separated list of ids."
                ) from None
            if previous.pk not in ids:
                raise value_error(f"plugininstances must contain the previous id {previous.pk}.")
            found = PluginInstance.objects.filter(pk__in=ids, feed_id=previous.feed_id).count()
            if found != len(set(ids)):
                raise value_error("Every plugin instance must exist and be in the same feed.")
            value = ",".join(str(item) for item in ids)
        elif parameter.name == "filter" and value:
            value = ",".join(item.strip() for item in value.split(","))
        result.append((parameter, value))
    return result
