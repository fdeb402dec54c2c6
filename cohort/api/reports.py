"""The annual execution report and the effective budget amounts it checks."""

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
from cohort.report import model
from cohort.report.output import FORMATS, render
from cohort.request_db import reading, transaction
from cohort.schemas.common import DecimalText
from cohort.services.budgets import record_actual

blp = Blueprint("reports", __name__, url_prefix="/api/v1",
                description="Execution report (HTML, XLSX, CSV zip, JSON) and budget actuals")


class ReportArgs(StrictSchema):
    format = fields.String(load_default="html", validate=validate.OneOf(sorted(FORMATS)))
    mode = fields.String(load_default="published",
                         validate=validate.OneOf(["published", "internal"]))
    as_of = fields.Date(load_default=None)
    recorded_before = fields.AwareDateTime(load_default=None)


class BudgetSchema(StrictSchema):
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


@blp.route("/reports/<string:programme>/<string:departement>/<int:year>")
class Report(MethodView):
    @allow(Role.EVALUATOR, Role.PILOT, Role.ADMIN)
    @blp.arguments(ReportArgs, location="query")
    @blp.response(200, description="The report file", content_type="application/octet-stream")
    def get(self, args: dict[str, Any], programme: str, departement: str, year: int) -> Any:
        """The execution report of a programme, a département (59, 62 or joint) and a year"""
        params = {**args, "programme": programme, "departement": departement, "year": year}
        with reading() as s:
            built = model.build(s, current_actor(), params, current_app.config,
                                today=clock.today())
        with transaction() as s:
            model.record_generation(s, current_actor(), built, fmt=args["format"],
                                    now=clock.now())
        rendered = render(built, args["format"])
        disposition = "inline" if args["format"] == "html" else "attachment"
        return Response(rendered.content, mimetype=rendered.mimetype, headers={
            "Content-Disposition": f'{disposition}; filename="{rendered.filename}"'})


@blp.route("/budgets/<string:programme>/<string:action>/<int:year>")
class Budget(MethodView):
    @allow(Role.PILOT, Role.ADMIN)
    @blp.arguments(BudgetSchema)
    @blp.response(200, BudgetSchema)
    def put(self, data: dict[str, Any], programme: str, action: str, year: int) -> Any:
        """Record the effective amounts of an action for a year (idempotent; replaces all)"""
        with transaction() as s:
            result = record_actual(s, current_actor(), programme, action, year, data,
                                   now=clock.now())
            actual = result.actual
            return {"total": actual.total, "state_effective": actual.state_effective,
                    "departement": actual.departement,
                    "departement_valuation": actual.departement_valuation,
                    "other": actual.other, "version": actual.version, "year": actual.year}
