"""Enrolments: enrol with eligibility checked, end with a date and an exit reason."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from cohort import clock
from cohort.actors import SYSTEM
from cohort.api.common import StrictSchema, one_of
from cohort.api.schemas import EnrolmentSchema
from cohort.domain.enums import ExitReason, Intensity
from cohort.models import Action, Enrolment, Structure
from cohort.request_db import keyring, session, transaction
from cohort.services import enrolments
from cohort.services.lookup import by_uuid
from cohort.services.timeline import enrolment_view

blp = Blueprint("enrolments", __name__, url_prefix="/api/v1/enrolments",
                description="Enrolments of participants in actions")


class EnrolSchema(StrictSchema):
    participant_id = fields.UUID(required=True)
    action_id = fields.UUID(required=True)
    structure_id = fields.UUID(required=True)
    start_date = fields.Date(required=True)
    rsa_at_entry = fields.Boolean(required=True)
    parent_child_0_3 = fields.Boolean(load_default=False)
    intensity = fields.String(load_default=None, validate=one_of(Intensity))
    force = fields.Boolean(load_default=False)
    force_justification = fields.String(load_default=None, validate=validate.Length(max=2000))


class EndSchema(StrictSchema):
    end_date = fields.Date(required=True, metadata={"description": "Last day of support"})
    exit_reason = fields.String(required=True, validate=one_of(ExitReason))
    expected_version = fields.Integer(load_default=None)


def _view(s: Any, e: Enrolment) -> dict[str, Any]:
    action = s.get(Action, e.action_id)
    structure = s.get(Structure, e.structure_id)
    return enrolment_view(e, action.uuid, action.code, structure.uuid)


@blp.route("")
class Enrolments(MethodView):
    @blp.arguments(EnrolSchema)
    @blp.response(201, EnrolmentSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Enrol a participant in an action (eligibility is checked against its public)"""
        with transaction() as s:
            enrolment = enrolments.enrol(s, keyring(), SYSTEM, data,
                                         today=clock.today(), now=clock.now())
            return _view(s, enrolment)


@blp.route("/<uuid:enrolment_id>")
class EnrolmentItem(MethodView):
    @blp.response(200, EnrolmentSchema)
    def get(self, enrolment_id: Any) -> Any:
        """Read an enrolment"""
        s = session()
        return _view(s, by_uuid(s, Enrolment, enrolment_id, "enrolment_id"))


@blp.route("/<uuid:enrolment_id>/end")
class EnrolmentEnd(MethodView):
    @blp.arguments(EndSchema)
    @blp.response(200, EnrolmentSchema)
    def post(self, data: dict[str, Any], enrolment_id: Any) -> Any:
        """End an enrolment (its last day of support and the exit reason)"""
        with transaction() as s:
            enrolment = by_uuid(s, Enrolment, enrolment_id, "enrolment_id")
            enrolments.end(s, SYSTEM, enrolment, data, today=clock.today(), now=clock.now())
            return _view(s, enrolment)
