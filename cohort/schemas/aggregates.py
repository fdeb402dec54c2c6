"""Aggregates: what an indicator or cohort query takes (API and pages) and what its output
looks like (API and CLI alike, dates as ISO text)."""

from __future__ import annotations

import datetime as dt

from marshmallow import fields, validate

from cohort.schemas.common import DEPARTEMENTS, QueryList, StrictSchema

# Dates a programme of this century can mean; beyond them the arithmetic on periods
# overflowed (9999-12-31 + 1 day) and wide spans held a worker for half a minute.
PLAUSIBLE = validate.Range(min=dt.date(1900, 1, 1), max=dt.date(2100, 12, 31))


class CutArgs(StrictSchema):
    programme = fields.String(required=True, validate=validate.Length(min=1, max=40))
    departement = fields.String(load_default=None, validate=DEPARTEMENTS)
    period_from = fields.Date(load_default=None, validate=PLAUSIBLE)
    period_to = fields.Date(load_default=None, validate=PLAUSIBLE)
    as_of = fields.Date(load_default=None, validate=PLAUSIBLE)
    recorded_before = fields.AwareDateTime(load_default=None)
    mode = fields.String(load_default="published",
                         validate=validate.OneOf(["published", "internal"]))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class IndicatorArgs(CutArgs):
    action = fields.String(load_default=None, validate=validate.Length(min=1, max=20))


class CohortArgs(CutArgs):
    actions = QueryList(fields.String(validate=validate.Length(min=1, max=20)),
                        load_default=list,
                        metadata={"description": "Repeat the parameter or separate codes "
                                                 "with commas (62-A6,62-A5)"})
    grain = fields.String(load_default="quarter",
                          validate=validate.OneOf(["month", "quarter", "year"]))


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
