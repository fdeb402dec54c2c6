"""Aggregates for evaluators, pilots and administrators: indicators and cohorts."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any

from flask import Response, current_app
from flask.views import MethodView
from sqlalchemy.orm import Session

from cohort import clock
from cohort.actors import Role
from cohort.api.blueprint import Blueprint
from cohort.auth import allow, current_actor
from cohort.deadline import statement_deadline
from cohort.indicators import exports, queries
from cohort.request_db import statistics
from cohort.schemas.aggregates import (
    CodebookArgs,
    CodebookSchema,
    CohortArgs,
    CohortReportSchema,
    IndicatorArgs,
    IndicatorReportSchema,
)

blp = Blueprint("aggregates", __name__, url_prefix="/api/v1",
                description="Indicators and cohort statistics (aggregates only)")

AGGREGATE_ROLES = (Role.EVALUATOR, Role.PILOT, Role.ADMIN)


def _deadline(s: Session) -> AbstractContextManager[None]:
    return statement_deadline(s, current_app.config["AGGREGATE_TIMEOUT_SECONDS"])


def _file(export: exports.Export, fmt: str) -> Response:
    rendered = exports.render(export, fmt)
    return Response(rendered.content, mimetype=rendered.mimetype, headers={
        "Content-Disposition": f'attachment; filename="{rendered.filename}"'})


@blp.route("/indicators")
class Indicators(MethodView):
    @allow(*AGGREGATE_ROLES)
    @blp.arguments(IndicatorArgs, location="query")
    @blp.response(200, IndicatorReportSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Indicators of an action or a département, with targets, rates and disclosure control"""
        # Computed on the read replica when there is one; audited on the primary.
        with statistics(audited=True) as (s, writes), _deadline(s):
            report = queries.indicators(s, current_actor(), args, current_app.config,
                                        today=clock.today(), now=clock.now(),
                                        audit_session=writes)
            if args["format"] not in (None, "json"):
                book = queries.codebook(s, args["programme"], current_app.config,
                                        mode=report["mode"])
                return _file(exports.indicator_export(report, args, book), args["format"])
        return report


@blp.route("/cohorts")
class Cohorts(MethodView):
    @allow(*AGGREGATE_ROLES)
    @blp.arguments(CohortArgs, location="query")
    @blp.response(200, CohortReportSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Cohorts by entry period: shares in a pathway, employed, housed, with resources"""
        # Computed on the read replica when there is one; audited on the primary.
        with statistics(audited=True) as (s, writes), _deadline(s):
            report = queries.cohorts(s, current_actor(), args, current_app.config,
                                     today=clock.today(), now=clock.now(),
                                     audit_session=writes)
            if args["format"] not in (None, "json"):
                book = queries.codebook(s, args["programme"], current_app.config,
                                        mode=report["mode"])
                return _file(exports.cohort_export(report, args, book), args["format"])
        return report


@blp.route("/codebook")
class Codebook(MethodView):
    @allow(*AGGREGATE_ROLES)
    @blp.arguments(CodebookArgs, location="query")
    @blp.response(200, CodebookSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Every indicator and cohort cell: French label, definition, rules, unit, disclosure"""
        with statistics(audited=False) as (s, _):
            return queries.codebook(s, args["programme"], current_app.config,
                                    mode=args["mode"])
