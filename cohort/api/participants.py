"""Participants: register (identity in the body, never in a URL), read the timeline."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields

from cohort import clock
from cohort.actors import Role
from cohort.api.blueprint import Blueprint
from cohort.api.schemas import EnrolmentSchema, EventSchema, IntervalSchema
from cohort.auth import allow, current_actor
from cohort.models import Participant
from cohort.request_db import keyring, session, transaction
from cohort.schemas.common import StrictSchema
from cohort.schemas.participants import (
    EraseSchema,
    ExceptionalAccessSchema,
    IdentityRequestSchema,
    RegisterSchema,
    SearchSchema,
)
from cohort.services import erasure_requests, lifecycle, participants
from cohort.services.lookup import by_uuid
from cohort.services.timeline import timeline
from cohort.shell.limits import limited

blp = Blueprint("participants", __name__, url_prefix="/api/v1/participants",
                description="Pseudonymous participants and their pathway")


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
    @allow(Role.COORDINATOR, Role.ADMIN)
    @limited("lookup")
    @blp.arguments(RegisterSchema)
    @blp.response(201, ParticipantSchema)
    @blp.alt_response(200, schema=ParticipantSchema,
                      description="Already registered. When another structure follows the "
                                  "person, only `id` and `already_known` are returned.")
    def post(self, data: dict[str, Any]) -> Any:
        """Register a participant, or find the one already registered with that identity"""
        with transaction() as s:
            result = participants.register(s, keyring(), current_actor(), data,
                                           today=clock.today(), now=clock.now())
        if not result.visible:
            return {"uuid": result.participant.uuid, "already_known": True}, 200
        body = {field: getattr(result.participant, field) for field in _RECORD_FIELDS}
        return body | {"already_known": not result.created}, 201 if result.created else 200


@blp.route("/<uuid:participant_id>")
class ParticipantRecord(MethodView):
    @allow(Role.COORDINATOR, Role.ASE_REFERENT, Role.ADMIN)
    @blp.response(200, TimelineSchema)
    def get(self, participant_id: Any) -> Any:
        """Read a participant's pseudonymous record and timeline"""
        s = session()
        participant = by_uuid(s, Participant, participant_id, "participant_id")
        return timeline(s, current_actor(), participant, now=clock.now())


class IdentitySchema(StrictSchema):
    last_name = fields.String(dump_only=True)
    first_names = fields.String(dump_only=True)
    birth_date = fields.Date(dump_only=True)
    nir = fields.String(dump_only=True)
    caf_number = fields.String(dump_only=True)
    imilo_id = fields.String(dump_only=True)
    france_travail_id = fields.String(dump_only=True)
    phone = fields.String(dump_only=True)
    email = fields.String(dump_only=True)


class GrantSchema(StrictSchema):
    expires_at = fields.DateTime(dump_only=True)


@blp.route("/<uuid:participant_id>/identity")
class ParticipantIdentity(MethodView):
    @allow(Role.COORDINATOR, Role.ASE_REFERENT, Role.ADMIN)
    @limited("identity")
    @blp.arguments(IdentityRequestSchema)
    @blp.response(200, IdentitySchema)
    def post(self, data: dict[str, Any], participant_id: Any) -> Any:
        """Decrypt a participant's identity, stating the purpose (audited)"""
        with transaction() as s:
            participant = by_uuid(s, Participant, participant_id, "participant_id")
            return participants.reveal_identity(s, keyring(), current_actor(), participant,
                                                purpose=data["purpose"], now=clock.now())


@blp.route("/<uuid:participant_id>/exceptional-access")
class ParticipantExceptionalAccess(MethodView):
    @allow(Role.ADMIN)
    @blp.arguments(ExceptionalAccessSchema)
    @blp.response(201, GrantSchema)
    def post(self, data: dict[str, Any], participant_id: Any) -> Any:
        """Open a time-limited access to a participant outside one's scope (audited)"""
        with transaction() as s:
            participant = by_uuid(s, Participant, participant_id, "participant_id")
            return participants.grant_exceptional_access(
                s, current_actor(), participant, reason=data["reason"], now=clock.now())


class ErasureRequestSchema(StrictSchema):
    id = fields.UUID(attribute="uuid", dump_only=True)
    participant_id = fields.UUID(attribute="participant_uuid", dump_only=True)
    mode = fields.String(dump_only=True)
    reason = fields.String(dump_only=True)
    status = fields.String(dump_only=True)
    requested_at = fields.AwareDateTime(dump_only=True)
    decided_at = fields.AwareDateTime(dump_only=True, allow_none=True)
    decision_reason = fields.String(dump_only=True, allow_none=True)


class ErasureSchema(StrictSchema):
    participant_id = fields.UUID(attribute="participant_uuid", dump_only=True)
    mode = fields.String(dump_only=True)
    erased_at = fields.DateTime(dump_only=True)


@blp.route("/search")
class ParticipantSearch(MethodView):
    @allow(Role.COORDINATOR, Role.ASE_REFERENT, Role.ADMIN)
    @limited("lookup")
    @blp.arguments(SearchSchema)
    @blp.response(200, ParticipantSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Find a followed participant by identity (blind index; the identity stays in the body)"""
        s = session()
        found = lifecycle.find_by_identity(s, keyring(), current_actor(), data, now=clock.now())
        return {field: getattr(found, field) for field in _RECORD_FIELDS}


@blp.route("/<uuid:participant_id>/erase")
class ParticipantErase(MethodView):
    @allow(Role.ADMIN)
    @blp.arguments(EraseSchema)
    @blp.response(202, ErasureRequestSchema)
    @blp.alt_response(200, schema=ErasureRequestSchema,
                      description="An erasure of this person is already waiting: that one")
    def post(self, data: dict[str, Any], participant_id: Any) -> Any:
        """Ask for a participant's erasure (GDPR): another administrator approves it"""
        with transaction() as s:
            request, created = erasure_requests.request_erasure(
                s, current_actor(), participant_id, mode=data["mode"], reason=data["reason"],
                now=clock.now())
        return request, 202 if created else 200
