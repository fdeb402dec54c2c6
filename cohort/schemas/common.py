"""Building blocks shared by the input schemas: strictness, enum choices, amounts, paging."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import Enum
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _text_problem(value: Any) -> str | None:
    """Why a text cannot be stored, if it cannot: PostgreSQL refuses NUL, and a lone UTF-16
    surrogate (JSON "\\ud800") is no character at all — stored, it broke every page that
    printed it."""
    if not isinstance(value, str):
        return None
    if "\x00" in value:
        return "must not contain a NUL character"
    if any("\ud800" <= ch <= "\udfff" for ch in value):
        return "must not contain an unpaired surrogate (not a character)"
    return None


class StrictSchema(ma.Schema):
    """Input schemas refuse unknown fields, text that cannot be stored (NUL, unpaired
    surrogates), and dates in any form but YYYY-MM-DD (Python also reads "20230105", which
    a person means as nothing of the kind)."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _storable_text_and_iso_dates(self, data: Any, **_: Any) -> Any:
        if not isinstance(data, Mapping):
            return data
        bad: dict[str, list[str]] = {}
        for key, value in data.items():
            values = value if isinstance(value, list) else [value]
            problem = next(filter(None, map(_text_problem, values)), None)
            if problem is None and isinstance(key, str):
                problem = self._date_problem(key, values)
            if problem:
                bad[key] = [problem]
        if bad:
            raise ma.ValidationError(bad)
        return data

    def _date_problem(self, key: str, values: list[Any]) -> str | None:
        field = self.fields.get(key) or next(
            (f for f in self.fields.values() if f.data_key == key), None)
        if isinstance(field, fields.List):
            field = field.inner
        if isinstance(field, fields.Date) and any(
                isinstance(v, str) and not ISO_DATE.fullmatch(v) for v in values):
            return "Not a valid date (expected YYYY-MM-DD)."
        return None


class EnumOneOf(validate.OneOf):
    """OneOf over an enum's values that remembers the enum: the pages read its French labels
    from the class itself instead of guessing it from the list of values."""

    def __init__(self, enum: type[Enum], **kwargs: Any):
        super().__init__([m.value for m in enum], **kwargs)
        self.enum = enum


def one_of(enum: type[Enum]) -> EnumOneOf:
    return EnumOneOf(enum)


class QueryList(fields.List):
    """A list in a query string, given either way a client writes it: the parameter
    repeated (``actions=62-A6&actions=62-A5``) or once with commas (``actions=62-A6,62-A5``),
    or both; empty items are dropped. Only for values that never hold a comma."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> list[Any]:
        items = value if isinstance(value, list | tuple) else [value]
        split = [part.strip() for item in items
                 for part in (item.split(",") if isinstance(item, str) else [item])]
        return super()._deserialize([p for p in split if p != ""], attr, data, **kwargs)


class PageArgs(StrictSchema):
    """Which page of a list (the size is bounded by settings)."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1, max=500))


DEPARTEMENTS = validate.OneOf(["59", "62", "joint"])


class DecimalText(fields.Decimal):
    """An amount carried as text ("1200.50") so that JSON loses no cent; documented as a
    decimal string, its bounds in the description (OpenAPI bounds are for numbers)."""

    def __init__(self, *, minimum: int = 0, maximum: int | None = None, **kwargs: Any):
        self.minimum, self.maximum = minimum, maximum
        bounds = f"≥ {minimum}" + (f" and ≤ {maximum}" if maximum is not None else "")
        metadata = {"type": "string", "format": "decimal", "example": "1200.50",
                    "pattern": r"^-?\d+(\.\d+)?$", "description": f"A decimal, {bounds}",
                    **kwargs.pop("metadata", {})}
        super().__init__(places=2, as_string=True, metadata=metadata, **kwargs)

    def _validated(self, value: Any) -> Any:
        number = super()._validated(value)
        if number is not None and (number < self.minimum
                                   or (self.maximum is not None and number > self.maximum)):
            bounds = f"at least {self.minimum}" + (
                f" and at most {self.maximum}" if self.maximum is not None else "")
            raise self.make_error("range", bounds=bounds)
        return number

    default_error_messages = {**fields.Decimal.default_error_messages,
                              "range": "Must be {bounds}."}
