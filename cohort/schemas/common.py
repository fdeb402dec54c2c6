"""Building blocks shared by the input schemas."""

from __future__ import annotations

from enum import Enum

import marshmallow as ma
from marshmallow import validate


class StrictSchema(ma.Schema):
    """Input schemas refuse unknown fields."""

    class Meta:
        unknown = ma.RAISE


def one_of(enum: type[Enum]) -> validate.OneOf:
    return validate.OneOf([m.value for m in enum])
