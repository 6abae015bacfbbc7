"""Serializer machinery shared by the apps."""

import copy
import functools

from rest_framework import serializers
from rest_framework.utils.serializer_helpers import BindingDict


@functools.cache
def writable_field_names(serializer_class) -> tuple[str, ...]:
    """A serializer's writable fields: fixed per class, and costly to build on every request."""
    return tuple(name for name, field in serializer_class().fields.items() if not field.read_only)


@functools.cache
def model_validators(serializer_class) -> tuple:
    """The validators a model serializer derives from its model's unique constraints."""
    return tuple(serializers.ModelSerializer.get_validators(serializer_class()))


class DeclaredInputFields:
    """A model serializer that validates input with its declared fields alone.

    A model serializer builds all its fields, from the model, before it validates anything;
    for a small write that costs more than the rest of the validation. When every writable
    field is declared, input needs only copies of those (as ``fields`` would make them), and
    the validators the model implies are the same for every instance of the class. Output
    still builds all the fields, unless ``to_representation`` does without them.
    """

    @property
    def _writable_fields(self):
        if "fields" in self.__dict__:
            return super()._writable_fields
        return iter(self.input_fields.values())

    @functools.cached_property
    def input_fields(self) -> BindingDict:
        names = writable_field_names(type(self))
        undeclared = [name for name in names if name not in self._declared_fields]
        if undeclared:
            raise TypeError(f"{type(self).__name__} does not declare {undeclared}")
        fields = BindingDict(self)
        for name in names:
            fields[name] = copy.deepcopy(self._declared_fields[name])
        return fields

    def get_validators(self) -> list:
        meta_validators = getattr(getattr(self, "Meta", None), "validators", None)
        if meta_validators is not None:
            return list(meta_validators)
        return list(model_validators(type(self)))

    def run_validators(self, value) -> None:
        # The read-only fields' defaults, which DRF adds to what the validators see, need
        # every field built: without validators there is nothing to add them for.
        if self.validators:
            super().run_validators(value)
