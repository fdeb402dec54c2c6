"""Programmes and their actions (read-only over HTTP; loaded from files by the CLI)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from marshmallow import fields

from cohort.api.blueprint import Blueprint
from cohort.auth import ALL_ROLES, allow
from cohort.errors import NotFound
from cohort.models import Programme
from cohort.request_db import session
from cohort.schemas.common import StrictSchema

blp = Blueprint("programmes", __name__, url_prefix="/api/v1/programmes",
                description="Programmes (convention years) and their actions")


class ActionSchema(StrictSchema):
    id = fields.UUID(attribute="uuid", dump_only=True)
    code = fields.String(dump_only=True)
    departement = fields.String(dump_only=True)
    axis = fields.Integer(dump_only=True)
    title = fields.String(dump_only=True)
    public = fields.String(dump_only=True)
    territory = fields.String(dump_only=True)
    eligibility = fields.List(fields.Dict(), dump_only=True)
    operators = fields.List(fields.String(), dump_only=True,
                            metadata={"description": "The structure kinds that run the action"})
    budget = fields.Dict(dump_only=True)
    targets = fields.List(fields.Dict(), dump_only=True)


class ProgrammeSchema(StrictSchema):
    code = fields.String(dump_only=True)
    title = fields.String(dump_only=True)
    period_start = fields.Date(dump_only=True)
    period_end = fields.Date(dump_only=True)
    parties = fields.List(fields.Raw(), dump_only=True)
    actions = fields.List(fields.Nested(ActionSchema), dump_only=True)


@blp.route("")
class Programmes(MethodView):
    @allow(*ALL_ROLES)
    @blp.response(200, ProgrammeSchema(many=True))
    def get(self) -> Any:
        """List programmes with their actions"""
        return session().execute(sa.select(Programme).order_by(Programme.code)).scalars().all()


@blp.route("/<string:code>")
class ProgrammeItem(MethodView):
    @allow(*ALL_ROLES)
    @blp.response(200, ProgrammeSchema)
    def get(self, code: str) -> Any:
        """Read one programme and its actions"""
        programme = session().execute(
            sa.select(Programme).where(Programme.code == code)
        ).scalar_one_or_none()
        if programme is None:
            raise NotFound("programme not found", errors={"code": ["not found"]})
        return programme
