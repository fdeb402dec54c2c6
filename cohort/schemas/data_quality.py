"""Query arguments of the data-quality list (API and page)."""

from __future__ import annotations

from marshmallow import fields, validate

from cohort.schemas.common import PageArgs
from cohort.services.data_quality import KINDS


class DataQualityArgs(PageArgs):
    kind = fields.String(load_default=None, validate=validate.OneOf(list(KINDS)),
                         metadata={"description": "Only this kind of line (default: every "
                                                  "kind, one page of each)"})
