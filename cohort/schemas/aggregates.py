"""Aggregates: what an indicator or cohort query takes (API and pages) and what its output
looks like (API and CLI alike, dates as ISO text)."""

from __future__ import annotations

import datetime as dt

from marshmallow import fields, validate

from cohort.schemas.common import DEPARTEMENTS, QueryList, StrictSchema

# Dates a programme of this century can mean; beyond them the arithmetic on periods
# overflowed (9999-12-31 + 1 day) and wide spans held a worker for half a minute.
PLAUSIBLE = validate.Range(min=dt.date(1900, 1, 1), max=dt.date(2100, 12, 31))


EXPORT_FORMATS = ["json", "csv", "csv-fr", "xlsx"]


class CutArgs(StrictSchema):
    programme = fields.String(required=True, validate=validate.Length(min=1, max=40))
    departement = fields.String(load_default=None, validate=DEPARTEMENTS)
    period_from = fields.Date(load_default=None, validate=PLAUSIBLE)
    period_to = fields.Date(load_default=None, validate=PLAUSIBLE)
    as_of = fields.Date(load_default=None, validate=PLAUSIBLE)
    recorded_before = fields.AwareDateTime(load_default=None)
    mode = fields.String(load_default="published",
                         validate=validate.OneOf(["published", "internal"]))
    format = fields.String(load_default=None, validate=validate.OneOf(EXPORT_FORMATS), metadata={
        "description": "json (default), csv (tidy long format for machines: UTF-8, comma, "
                       "ISO dates), csv-fr (French spreadsheets: BOM, semicolon, decimal "
                       "comma), xlsx (with notes and codebook sheets)"})


class IndicatorArgs(CutArgs):
    action = fields.String(load_default=None, validate=validate.Length(min=1, max=20))


class CohortArgs(CutArgs):
    actions = QueryList(fields.String(validate=validate.Length(min=1, max=20)),
                        load_default=list,
                        metadata={"description": "Repeat the parameter or separate codes "
                                                 "with commas (62-A6,62-A5)"})
    grain = fields.String(load_default="quarter",
                          validate=validate.OneOf(["month", "quarter", "semester", "year",
                                                   "all"]))


class IndicatorOutSchema(StrictSchema):
    action = fields.String()
    code = fields.String()
    label_fr = fields.String()
    definition = fields.String()
    numerator = fields.String()
    denominator = fields.String(allow_none=True)
    value = fields.Raw(allow_none=True, metadata={"description": "null when suppressed"})
    breakdowns = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))
    details = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True))
    rate = fields.Float(allow_none=True)
    rate_of = fields.String(allow_none=True)
    target = fields.Dict(allow_none=True)
    rate_vs_target = fields.Float(allow_none=True)
    unit = fields.String(metadata={"description": "what one unit of the value is "
                                                 "(see GET /codebook)"})
    numerator_value = fields.Raw(allow_none=True, metadata={
        "description": "the rate's numerator as shown (null when suppressed or no rate)"})
    denominator_value = fields.Raw(allow_none=True, metadata={
        "description": "the rate's denominator as shown: the value of rate_of, or the "
                       "target (null when suppressed or no rate)"})
    suppressed = fields.Dict(keys=fields.String(), values=fields.String())


class ActionBlockSchema(StrictSchema):
    code = fields.String()
    title = fields.String()
    departement = fields.String()
    public = fields.String()
    territory = fields.String()
    indicators = fields.List(fields.Nested(IndicatorOutSchema))


class HeaderSchema(StrictSchema):
    programme = fields.String()
    period_from = fields.Date()
    period_to = fields.Date()
    as_of = fields.Date()
    recorded_before = fields.DateTime(allow_none=True)
    mode = fields.String()
    notice = fields.String()
    k = fields.Integer(allow_none=True)


class IndicatorReportSchema(HeaderSchema):
    actions = fields.List(fields.Nested(ActionBlockSchema))


class CohortRowSchema(StrictSchema):
    cohort = fields.String()
    horizon = fields.String()
    members = fields.Integer(allow_none=True)
    censored = fields.Integer(allow_none=True)
    observable = fields.Integer(allow_none=True)
    known = fields.Integer(allow_none=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(allow_none=True))
    shares = fields.Dict(keys=fields.String(), values=fields.Float(allow_none=True))
    suppressed = fields.Dict(keys=fields.String(), values=fields.String())


class CohortReportSchema(HeaderSchema):
    grain = fields.String()
    actions = fields.List(fields.String())
    rows = fields.List(fields.Nested(CohortRowSchema))


class CodebookArgs(StrictSchema):
    programme = fields.String(required=True, validate=validate.Length(min=1, max=40))
    mode = fields.String(load_default="published",
                         validate=validate.OneOf(["published", "internal"]))


class CodebookTargetSchema(StrictSchema):
    code = fields.String()
    label_fr = fields.String()
    value = fields.Raw(allow_none=True)
    min = fields.Raw()
    max = fields.Raw()
    unit = fields.String()


class CodebookPartSchema(StrictSchema):
    part = fields.String()
    label_fr = fields.String()


class CodebookIndicatorSchema(StrictSchema):
    action = fields.String()
    code = fields.String()
    kind = fields.String()
    label_fr = fields.String()
    definition = fields.String()
    numerator = fields.String()
    denominator = fields.String(allow_none=True)
    rate_of = fields.String(allow_none=True)
    target = fields.Nested(CodebookTargetSchema, allow_none=True)
    target_fr = fields.String()
    unit = fields.String()
    unit_fr = fields.String()
    parts = fields.List(fields.Nested(CodebookPartSchema))
    disclosure = fields.String(metadata={"description": "count, rate, volume or capacity"})
    disclosure_fr = fields.String()
    rate_disclosure_fr = fields.String(allow_none=True)


class CodebookCommonIndicatorSchema(CodebookIndicatorSchema):
    """A common indicator: declared once for the programme, reported by every action."""

    class Meta(StrictSchema.Meta):
        exclude = ("action",)

    reported_by = fields.List(fields.String(), metadata={
        "description": "the actions that report it (every action of the programme)"})


class CodebookCellSchema(StrictSchema):
    code = fields.String()
    label_fr = fields.String()
    definition = fields.String()
    unit = fields.String()
    unit_fr = fields.String()
    disclosure = fields.String()
    disclosure_fr = fields.String()


class CodebookHorizonSchema(StrictSchema):
    code = fields.String()
    label_fr = fields.String()
    definition = fields.String()


class CodebookSchema(StrictSchema):
    programme = fields.String()
    title = fields.String()
    mode = fields.String()
    k = fields.Integer(allow_none=True)
    rounding_base = fields.Integer(allow_none=True)
    indicators = fields.List(fields.Nested(CodebookIndicatorSchema), metadata={
        "description": "the indicators of each action's sheet"})
    common_indicators = fields.List(fields.Nested(CodebookCommonIndicatorSchema), metadata={
        "description": "the follow-up indicators every action reports, listed once"})
    cohort_cells = fields.List(fields.Nested(CodebookCellSchema))
    horizons = fields.List(fields.Nested(CodebookHorizonSchema))
