"""Building blocks shared by the input schemas: strictness, enum choices, amounts, paging."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate


class StrictSchema(ma.Schema):
    """Input schemas refuse unknown fields, and text holding a NUL character (PostgreSQL
    cannot store it, and no legitimate name, reason or label carries one)."""

    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _no_nul(self, data: Any, **_: Any) -> Any:
        if isinstance(data, Mapping):
            bad = {key: ["must not contain a NUL character"] for key, value in data.items()
                   if isinstance(value, str) and "\x00" in value}
            bad |= {key: ["must not contain a NUL character"] for key, value in data.items()
                    if isinstance(value, list)
                    and any(isinstance(v, str) and "\x00" in v for v in value)}
            if bad:
                raise ma.ValidationError(bad)
        return data


class EnumOneOf(validate.OneOf):
    """OneOf over an enum's values that remembers the enum: the pages read its French labels
    from the class itself instead of guessing it from the list of values."""

    def __init__(self, enum: type[Enum], **kwargs: Any):
        super().__init__([m.value for m in enum], **kwargs)
        self.enum = enum


def one_of(enum: type[Enum]) -> EnumOneOf:
    return EnumOneOf(enum)


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
