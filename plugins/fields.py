"""Resource limits in CUBE's wire formats: millicores and MiB, as ints or suffixed strings."""

import re

from rest_framework import serializers

from collectionjson.schema import extend_schema_field_by_direction

CPU_PATTERN = re.compile(r"^(\d+)m$")
MEMORY_PATTERN = re.compile(r"^(\d+)(Mi|Gi)$")


def parse_cpu(value) -> int:
    """Millicores from an int or ``"<n>m"``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = CPU_PATTERN.match(str(value).strip())
    if not match:
        raise ValueError(value)
    return int(match.group(1))


def parse_memory(value) -> int:
    """MiB from an int or ``"<n>Mi"`` / ``"<n>Gi"``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    match = MEMORY_PATTERN.match(str(value).strip())
    if not match:
        raise ValueError(value)
    number, unit = int(match.group(1)), match.group(2)
    return number * 1024 if unit == "Gi" else number


@extend_schema_field_by_direction(
    request={"oneOf": [{"type": "integer"}, {"type": "string", "pattern": CPU_PATTERN.pattern}]},
    response={"type": "integer", "description": "Millicores."},
)
class CPUField(serializers.IntegerField):
    def to_internal_value(self, data) -> int:
        try:
            return parse_cpu(data)
        except ValueError:
            raise serializers.ValidationError(
                "CPU format incorrect. Format is xm where x is an integer in millicores."
            ) from None


@extend_schema_field_by_direction(
    request={"oneOf": [{"type": "integer"}, {"type": "string", "pattern": MEMORY_PATTERN.pattern}]},
    response={"type": "integer", "description": "MiB."},
)
class MemoryField(serializers.IntegerField):
    def to_internal_value(self, data) -> int:
        try:
            return parse_memory(data)
        except ValueError:
            raise serializers.ValidationError(
                "Memory format incorrect. Format is xMi or xGi where x is an integer."
            ) from None
