"""The annual execution report and the effective budget amounts it checks."""

from __future__ import annotations

from typing import Any

from flask import Response, current_app
from flask.views import MethodView

from cohort import clock
from cohort.actors import Role
from cohort.api.blueprint import Blueprint
from cohort.auth import allow, current_actor
from cohort.report import model
from cohort.report.output import render
from cohort.request_db import statistics, transaction
from cohort.schemas.reports import BudgetSchema, ReportArgs
from cohort.services.budgets import record_actual

blp = Blueprint("reports", __name__, url_prefix="/api/v1",
                description="Execution report (HTML, XLSX, CSV zip, JSON) and budget actuals")


@blp.route("/reports/<string:programme>/<string:departement>/<int:year>")
class Report(MethodView):
    @allow(Role.EVALUATOR, Role.PILOT, Role.ADMIN)
    @blp.arguments(ReportArgs, location="query")
    @blp.response(200, description="The report file", content_type="application/octet-stream")
    def get(self, args: dict[str, Any], programme: str, departement: str, year: int) -> Any:
        """The execution report of a programme, a département (59, 62 or joint) and a year"""
        params = {**args, "programme": programme, "departement": departement, "year": year}
        with statistics(audited=False) as (s, _):  # on the read replica when there is one
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
