"""Aggregates for evaluators, pilots and administrators: indicators and cohorts."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from marshmallow import fields, validate

from cohort import clock
from cohort.actors import Role
from cohort.api.blueprint import Blueprint
from cohort.api.common import StrictSchema
from cohort.auth import allow, current_actor
from cohort.indicators import queries, tables
from cohort.request_db import transaction
from cohort.schemas.aggregates import CohortReportSchema, IndicatorReportSchema

blp = Blueprint("aggregates", __name__, url_prefix="/api/v1",
                description="Indicators and cohort statistics (aggregates only)")

AGGREGATE_ROLES = (Role.EVALUATOR, Role.PILOT, Role.ADMIN)


class CutArgs(StrictSchema):
    programme = fields.String(required=True, validate=validate.Length(min=1, max=40))
    departement = fields.String(load_default=None, validate=validate.OneOf(["59", "62", "joint"]))
    period_from = fields.Date(load_default=None)
    period_to = fields.Date(load_default=None)
    as_of = fields.Date(load_default=None)
    recorded_before = fields.AwareDateTime(load_default=None)
    mode = fields.String(load_default="published",
                         validate=validate.OneOf(["published", "internal"]))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv"]))


class IndicatorArgs(CutArgs):
    action = fields.String(load_default=None, validate=validate.Length(min=1, max=20))


class CohortArgs(CutArgs):
    actions = fields.List(fields.String(validate=validate.Length(min=1, max=20)),
                          load_default=list)
    grain = fields.String(load_default="quarter",
                          validate=validate.OneOf(["month", "quarter", "year"]))


def _csv(text: str, name: str) -> Response:
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})


@blp.route("/indicators")
class Indicators(MethodView):
    @allow(*AGGREGATE_ROLES)
    @blp.arguments(IndicatorArgs, location="query")
    @blp.response(200, IndicatorReportSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Indicators of an action or a département, with targets, rates and disclosure control"""
        with transaction() as s:  # evaluator queries write an audit entry
            report = queries.indicators(s, current_actor(), args, current_app.config,
                                        today=clock.today(), now=clock.now())
        if args["format"] == "csv":
            return _csv(tables.to_csv(tables.INDICATOR_COLUMNS, tables.indicator_rows(report),
                                      report), "indicateurs")
        return report


@blp.route("/cohorts")
class Cohorts(MethodView):
    @allow(*AGGREGATE_ROLES)
    @blp.arguments(CohortArgs, location="query")
    @blp.response(200, CohortReportSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Cohorts by entry period: shares in a pathway, employed, housed, with resources"""
        with transaction() as s:
            report = queries.cohorts(s, current_actor(), args, current_app.config,
                                     today=clock.today(), now=clock.now())
        if args["format"] == "csv":
            return _csv(tables.to_csv(tables.COHORT_COLUMNS, tables.cohort_rows(report),
                                      report), "cohortes")
        return report
