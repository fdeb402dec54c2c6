"""Input schemas compiled per shape, for imports: ``Schema.load`` at a fraction of its cost.

An import file holds up to millions of rows of a few shapes (the set of keys a row gives).
For each shape the schema-level work is done once: which keys are unknown, which required
fields are missing, which defaults apply, in which order the loaded dict is built. Each row
then only runs one converter per value (uuid, ISO date, choice, boolean, text…) and the
schema's ``validates_schema`` hooks.

A compiled schema never reports errors itself: ``load`` returns the loaded dict, identical
to ``schema.load``'s (same keys, order, types and values), or None whenever anything is not
certainly valid (an unknown or missing field, a value a converter refuses, a text check
failing, a value that is not text); the caller then runs the schema itself, which gives the
API's messages (bad rows are rare, so that costs nothing). What cannot be compiled exactly
(a field class without a fast converter) is delegated to the field's own ``deserialize``,
and a schema with hooks this module does not know is never compiled (every row falls back):
the result is the marshmallow result or the fallback, never something else
(tests/unit/test_compiled_schemas.py checks it on generated rows).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Collection, Mapping
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from marshmallow.utils import missing

from cohort.domain.enums import EventType
from cohort.schemas.common import ISO_DATE, StrictSchema
from cohort.schemas.event_attributes import schema_of as attributes_schema_of
from cohort.schemas.event_attributes import stored_attributes

Convert = Callable[[Any], Any]
# A step of a shape's plan: (output key, input key or None for a default, converter or
# default value, whether the default is to be called).
Step = tuple[str, str | None, Any, bool]
MAX_SHAPES = 4096  # beyond this many distinct shapes, plans are built per row (still exact)

_SURROGATE = re.compile("[\ud800-\udfff]")
# The text and date checks of StrictSchema's pre_load hook, replicated below.
_STRICT_PRE_LOAD = "_storable_text_and_iso_dates"
# Fields whose value depends on more than their own cell: never compiled.
_USE_THE_ROW = (fields.Method, fields.Function, fields.Nested, fields.Pluck)
_ERRORS = (ma.ValidationError, ValueError, TypeError, AttributeError, OverflowError, KeyError)


class _Refused(Exception):
    """A value the compiled converter does not certainly accept: the schema decides."""


def _storable(value: str) -> str:
    """StrictSchema's text check (NUL, lone surrogates) for one text value."""
    if "\x00" in value or (not value.isascii() and _SURROGATE.search(value)):
        raise _Refused
    return value


def _validators(field: fields.Field) -> Callable[[Any], Any]:
    """The field's validators as one call that raises when marshmallow would refuse."""
    checks: list[Callable[[Any], Any]] = []
    for validator in field.validators:
        choices = getattr(validator, "choices", None)
        if (isinstance(validator, validate.OneOf)
                and type(validator).__call__ is validate.OneOf.__call__
                and all(type(c) is str for c in choices)):
            def one_of(value: Any, allowed: frozenset[str] = frozenset(choices)) -> None:
                if value not in allowed:
                    raise _Refused

            checks.append(one_of)
        else:
            checks.append(validator)
    if not checks:
        return lambda value: value

    def check(value: Any) -> Any:
        for c in checks:
            c(value)
        return value

    return check


def _converter(name: str, field: fields.Field) -> Convert:
    """A converter for one field of text input, with exactly the field's acceptance."""
    generic = bool(field.pre_load or field.post_load)
    kind = type(field)
    check = _validators(field)
    if not generic and kind is fields.UUID:
        def to_uuid(value: Any) -> Any:
            if type(value) is not str:
                raise _Refused
            return check(uuid.UUID(_storable(value)))
        return to_uuid
    if not generic and kind is fields.Date and field.format in (None, "iso", "iso8601"):
        def to_date(value: Any) -> Any:
            if type(value) is not str or not ISO_DATE.fullmatch(value):
                raise _Refused
            return check(dt.date.fromisoformat(_storable(value)))
        return to_date
    if not generic and kind is fields.String:
        def to_text(value: Any) -> Any:
            if type(value) is not str:
                raise _Refused
            return check(_storable(value))
        return to_text
    if not generic and kind is fields.Boolean and field.truthy:
        words = {w: True for w in field.truthy if isinstance(w, str)}
        words |= {w: False for w in field.falsy if isinstance(w, str) and w not in words}

        def to_bool(value: Any) -> Any:
            if type(value) is not str:
                raise _Refused
            return check(words[_storable(value)])
        return to_bool
    if (not generic and kind is fields.Dict and field.value_field is None
            and (field.key_field is None
                 or (type(field.key_field) is fields.String and not field.key_field.validators
                     and not field.key_field.pre_load and not field.key_field.post_load))):
        def to_dict(value: Any) -> Any:
            if type(value) is not dict or any(type(k) is not str for k in value):
                raise _Refused
            return check(dict(value))
        return to_dict

    def delegated(value: Any) -> Any:  # the field itself: exact by construction
        if type(value) is not str:
            raise _Refused
        return field.deserialize(_storable(value), name, None)
    return delegated


class CompiledSchema:
    """``schema.load`` for flat text input, compiled per shape (see the module docstring).

    ``replaced_post_load``: names of the schema's post_load hooks that the caller applies
    itself to the result; any other hook the schema has makes every row fall back.
    """

    def __init__(self, schema: ma.Schema, replaced_post_load: Collection[str] = ()):
        self.schema = schema
        self._plans: dict[tuple[str, ...], tuple[Step, ...] | None] = {}
        self._validators: list[Callable[[dict[str, Any]], Any]] = []
        self._by_schema: frozenset[str] = frozenset()
        self.compiled = self._compilable(schema, replaced_post_load)
        self._converters = {name: _converter(name, field)
                            for name, field in schema.load_fields.items()
                            if name not in self._by_schema}

    def _compilable(self, schema: ma.Schema, replaced_post_load: Collection[str]) -> bool:
        hooks = schema._hooks
        if (schema.many or schema.partial or schema.unknown != ma.RAISE
                or schema.dict_class is not dict
                or any(f.data_key is not None or f.attribute is not None
                       for f in schema.load_fields.values())):
            return False
        if not isinstance(schema, StrictSchema) or [h[0] for h in hooks["pre_load"]] != [
                _STRICT_PRE_LOAD]:
            return False
        if hooks["validates"]:
            return False
        # A field that reads more than its cell (the API's nested `participant` key) is not
        # compiled: a row that gives it falls back to the schema, the others need not.
        self._by_schema = frozenset(name for name, f in schema.load_fields.items()
                                    if isinstance(f, _USE_THE_ROW))
        if any(name not in replaced_post_load for name, _, _ in hooks["post_load"]):
            return False
        # As _do_load runs them for one object: the pass_collection hooks, then the others.
        for collection in (True, False):
            for name, hook_many, kwargs in hooks["validates_schema"]:
                if hook_many != collection:
                    continue
                if kwargs.get("pass_original"):
                    return False
                self._validators.append(self._schema_validator(getattr(schema, name)))
        return True

    def _schema_validator(self, method: Callable[..., Any]) -> Callable[[dict[str, Any]], Any]:
        partial, unknown = self.schema.partial, self.schema.unknown

        def run(data: dict[str, Any]) -> None:
            method(data, partial=partial, many=False, unknown=unknown)
        return run

    def _plan(self, keys: tuple[str, ...]) -> tuple[Step, ...] | None:
        """The shape's steps in the schema's field order, or None: the schema refuses it."""
        load_fields = self.schema.load_fields
        if any(key not in load_fields or key in self._by_schema for key in keys):
            return None  # an unknown field, or one only the schema reads
        given = set(keys)
        steps: list[Step] = []
        for name, field in load_fields.items():
            if name in given:
                steps.append((name, name, self._converters[name], False))
            elif field.required:
                return None
            elif field.load_default is not missing:
                default = field.load_default
                steps.append((name, None, default, callable(default)))
        return tuple(steps)

    def load(self, raw: Mapping[str, Any]) -> dict[str, Any] | None:
        """What ``schema.load(raw)`` returns, or None when the schema must decide."""
        if not self.compiled:
            return None
        keys = tuple(raw)
        try:
            plan = self._plans[keys]
        except KeyError:
            plan = self._plan(keys)
            if len(self._plans) < MAX_SHAPES:
                self._plans[keys] = plan
        if plan is None:
            return None
        out: dict[str, Any] = {}
        try:
            for name, key, how, call in plan:
                if key is None:
                    out[name] = how() if call else how
                else:
                    out[name] = how(raw[key])
            for validator in self._validators:
                validator(out)
        except (_Refused, *_ERRORS):
            return None
        return out

    def validated(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        """``schema.load(raw)``: compiled, or by the schema itself (which raises the API's
        ValidationError) when the compiled checks do not certainly accept the row."""
        data = self.load(raw)
        return self.schema.load(raw) if data is None else data


class CompiledEventCreate:
    """EventCreateSchema compiled: the common fields, then the type's attributes schema,
    as its post_load does (``load_attributes``)."""

    def __init__(self, schema: ma.Schema):
        self.common = CompiledSchema(schema, replaced_post_load=("_type_attributes",))
        self.attributes = {t: CompiledSchema(attributes_schema_of(t)) for t in EventType}
        self._types = {t.value: t for t in EventType}

    def load(self, raw: Mapping[str, Any]) -> dict[str, Any] | None:
        data = self.common.load(raw)
        if data is None:
            return None
        attributes = self.attributes[self._types[data["type"]]].load(
            data.get("attributes") or {})
        if attributes is None:
            return None
        data["attributes"] = stored_attributes(attributes)
        return data
