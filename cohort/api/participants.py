"""Participants: register (identity in the body, never in a URL), read the timeline."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import fields, validate

from cohort import clock
from cohort.actors import SYSTEM
from cohort.api.common import StrictSchema, one_of
from cohort.api.schemas import EnrolmentSchema, EventSchema, IntervalSchema
from cohort.domain.enums import Sex
from cohort.models import Participant
from cohort.request_db import keyring, session, transaction
from cohort.services import participants
from cohort.services.lookup import by_uuid
from cohort.services.timeline import timeline

blp = Blueprint("participants", __name__, url_prefix="/api/v1/participants",
                description="Pseudonymous participants and their pathway")

_NAME = validate.Length(min=1, max=200)


class RegisterSchema(StrictSchema):
    last_name = fields.String(required=True, validate=_NAME)
    first_names = fields.String(required=True, validate=_NAME)
    birth_date = fields.Date(required=True)
    sex = fields.String(load_default="U", validate=one_of(Sex))
    nir = fields.String(load_default=None, validate=validate.Length(min=13, max=21))
    caf_number = fields.String(load_default=None, validate=validate.Length(max=20))
    imilo_id = fields.String(load_default=None, validate=validate.Length(max=30))
    france_travail_id = fields.String(load_default=None, validate=validate.Length(max=30))
    phone = fields.String(load_default=None, validate=validate.Length(max=30))
    email = fields.Email(load_default=None, validate=validate.Length(max=254))
    home_departement = fields.String(
        load_default=None, validate=validate.Regexp(r"^(\d{2}|2A|2B|97\d)$")
    )
    home_epci = fields.String(load_default=None, validate=validate.Regexp(r"^\d{9}$"))
    ase_past = fields.Boolean(load_default=False)


class ParticipantSchema(StrictSchema):
    """The pseudonymous record: clear attributes only, never the identity."""

    id = fields.UUID(attribute="uuid", dump_only=True)
    birth_month = fields.String(dump_only=True)
    sex = fields.String(dump_only=True)
    home_departement = fields.String(dump_only=True, allow_none=True)
    home_epci = fields.String(dump_only=True, allow_none=True)
    ase_past = fields.Boolean(dump_only=True)
    created_at = fields.DateTime(dump_only=True)
    already_known = fields.Boolean(dump_only=True)


class TimelineSchema(StrictSchema):
    participant = fields.Nested(ParticipantSchema, dump_only=True)
    enrolments = fields.List(fields.Nested(EnrolmentSchema), dump_only=True)
    events = fields.List(fields.Nested(EventSchema), dump_only=True)
    intervals = fields.List(fields.Nested(IntervalSchema), dump_only=True)


_RECORD_FIELDS = ("uuid", "birth_month", "sex", "home_departement", "home_epci", "ase_past",
                  "created_at")


@blp.route("")
class Participants(MethodView):
    @blp.arguments(RegisterSchema)
    @blp.response(201, ParticipantSchema)
    @blp.alt_response(200, schema=ParticipantSchema, description="Already registered")
    def post(self, data: dict[str, Any]) -> Any:
        """Register a participant, or find the one already registered with that identity"""
        with transaction() as s:
            result = participants.register(s, keyring(), SYSTEM, data, today=clock.today())
        body = {field: getattr(result.participant, field) for field in _RECORD_FIELDS}
        return body | {"already_known": not result.created}, 201 if result.created else 200


@blp.route("/<uuid:participant_id>")
class ParticipantRecord(MethodView):
    @blp.response(200, TimelineSchema)
    def get(self, participant_id: Any) -> Any:
        """Read a participant's pseudonymous record and timeline"""
        s = session()
        participant = by_uuid(s, Participant, participant_id, "participant_id")
        return timeline(s, participant)
