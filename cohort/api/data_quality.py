"""Data quality of one's structure: what needs attention, by kind, each line naming the
person by an opaque reference (issue 17, item 5)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app
from flask.views import MethodView
from marshmallow import fields

from cohort import clock
from cohort.actors import Role
from cohort.api.blueprint import Blueprint
from cohort.auth import allow, current_actor
from cohort.request_db import session
from cohort.schemas.data_quality import DataQualityArgs
from cohort.services import data_quality

blp = Blueprint("data_quality", __name__, url_prefix="/api/v1/data-quality",
                description="What needs attention in one's structure's data")


class LineSchema(ma.Schema):
    participant_id = fields.UUID()
    reference = fields.String(metadata={"description": "Opaque short reference of the person"})
    subject_id = fields.UUID(metadata={"description": "The period's start event, the check, "
                                                      "the enrolment or the person"})
    since = fields.Date(allow_none=True, metadata={"description": "The date the line is about"})
    detail = fields.String(allow_none=True, metadata={"description": "A family or an action "
                                                                     "code"})


class GroupSchema(ma.Schema):
    kind = fields.String()
    description = fields.String()
    total = fields.Integer()
    page = fields.Integer()
    per_page = fields.Integer()
    items = fields.List(fields.Nested(LineSchema))


class DataQualitySchema(ma.Schema):
    today = fields.Date()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    groups = fields.List(fields.Nested(GroupSchema))


@blp.route("")
class DataQuality(MethodView):
    @allow(Role.COORDINATOR, Role.ADMIN)
    @blp.arguments(DataQualityArgs, location="query")
    @blp.response(200, DataQualitySchema)
    def get(self, args: dict[str, Any]) -> Any:
        """Counts per kind and one page of lines of each kind (or of `kind`), for the
        caller's structure"""
        s, actor, today = session(), current_actor(), clock.today()
        per_page = min(args.get("per_page") or current_app.config["PAGE_SIZE_DEFAULT"],
                       current_app.config["PAGE_SIZE_MAX"])
        groups = data_quality.report(s, actor, today=today, kind=args["kind"],
                                     page=args["page"], per_page=per_page)
        counts = (data_quality.counts(s, actor, today=today) if args["kind"]
                  else {g.kind: g.total for g in groups})
        return {"today": today, "counts": counts, "groups": groups}
