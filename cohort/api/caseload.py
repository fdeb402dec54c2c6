"""The caseload ("file active"): the people one's structure follows, and a search by name
whose text is posted in the body (never in the URL)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields

from cohort import clock
from cohort.actors import Role
from cohort.api.blueprint import Blueprint
from cohort.api.schemas import PageSchema
from cohort.auth import allow, current_actor
from cohort.request_db import keyring, transaction
from cohort.schemas.caseload import CaseloadArgs, CaseloadSearchSchema
from cohort.services import caseload

blp = Blueprint("caseload", __name__, url_prefix="/api/v1/caseload",
                description="The people one's structure follows (coordinators)")


class CaseloadEnrolmentSchema(ma.Schema):
    id = fields.UUID()
    action_id = fields.UUID()
    action_code = fields.String()
    start_date = fields.Date()
    end_date = fields.Date(allow_none=True)
    exit_reason = fields.String(allow_none=True)
    cancelled = fields.Boolean(metadata={"description": "Entered by mistake: counts nowhere"})


class CaseloadPeriodSchema(ma.Schema):
    family = fields.String()
    start_date = fields.Date()
    start_event_id = fields.UUID()
    category = fields.String(allow_none=True, metadata={
        "description": "Housing type, contract… of the start event, when it has one"})


class NextFollowUpSchema(ma.Schema):
    id = fields.UUID()
    due_date = fields.Date()
    window_start = fields.Date()
    window_end = fields.Date()
    state = fields.String(metadata={"description": "upcoming, due or overdue today"})


class CaseloadItemSchema(ma.Schema):
    id = fields.UUID()
    last_name = fields.String(allow_none=True, metadata={
        "description": "null when the sealed identity could not be read"})
    first_names = fields.String(allow_none=True)
    birth_month = fields.String()
    enrolments = fields.List(fields.Nested(CaseloadEnrolmentSchema), metadata={
        "description": "One's own structure's enrolments, latest first"})
    open_periods = fields.List(fields.Nested(CaseloadPeriodSchema))
    next_followup = fields.Nested(NextFollowUpSchema, allow_none=True)
    last_event_date = fields.Date(allow_none=True)


class CaseloadPageSchema(ma.Schema):
    items = fields.List(fields.Nested(CaseloadItemSchema))
    page = fields.Nested(PageSchema)
    sort = fields.String()
    today = fields.Date()


def _answer(args: dict[str, Any], search: str | None) -> dict[str, Any]:
    today = clock.today()
    with transaction() as s:
        found = caseload.caseload(s, keyring(), current_actor(), args, today=today,
                                  now=clock.now(), search=search)
    return {"items": found.items, "sort": found.sort, "today": today,
            "page": {"page": found.page, "per_page": found.per_page, "total": found.total}}


@blp.route("")
class Caseload(MethodView):
    @allow(Role.COORDINATOR)
    @blp.arguments(CaseloadArgs, location="query")
    @blp.response(200, CaseloadPageSchema)
    def get(self, args: dict[str, Any]) -> Any:
        """List the people one's structure follows, with names (one audit entry per call)"""
        return _answer(args, None)


@blp.route("/search")
class CaseloadSearch(MethodView):
    @allow(Role.COORDINATOR)
    @blp.arguments(CaseloadSearchSchema)
    @blp.response(200, CaseloadPageSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Search one's caseload by name: the text in the body, never in the URL"""
        text = data.pop("q")
        return _answer(data, text)
