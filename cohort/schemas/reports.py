"""Execution report and budget input schemas, shared by the API and the evaluation pages."""

from __future__ import annotations

from marshmallow import fields, validate

from cohort.report.output import FORMATS
from cohort.schemas.common import DEPARTEMENTS, DecimalText, StrictSchema


class ReportArgs(StrictSchema):
    format = fields.String(load_default="html", validate=validate.OneOf(sorted(FORMATS)))
    mode = fields.String(load_default="published",
                         validate=validate.OneOf(["published", "internal"]))
    as_of = fields.Date(load_default=None)
    recorded_before = fields.AwareDateTime(load_default=None)


class ReportPageArgs(ReportArgs):
    """The report's address parts, which the API takes from its path, as page fields."""

    programme = fields.String(required=True, validate=validate.Length(min=1, max=40))
    departement = fields.String(required=True, validate=DEPARTEMENTS)
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))


class BudgetSchema(StrictSchema):
    """The effective amounts of an action for a year: taken (with the version read) and
    given back (with the new version) in the same shape."""

    total = DecimalText(load_default=None, allow_none=True)
    state_effective = DecimalText(load_default=None, allow_none=True)
    departement = DecimalText(load_default=None, allow_none=True)
    departement_valuation = DecimalText(load_default=None, allow_none=True)
    other = DecimalText(load_default=None, allow_none=True)
    expected_version = fields.Integer(load_default=None, load_only=True,
                                      metadata={"description": "the version you read; "
                                                "a stale one gets 409"})
    version = fields.Integer(dump_only=True)
    year = fields.Integer(dump_only=True)
