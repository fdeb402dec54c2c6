"""Enrolments: enrol with eligibility checked, end with a date and an exit reason, cancel
one entered by mistake."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from cohort import clock
from cohort.actors import Role
from cohort.api.blueprint import Blueprint
from cohort.api.schemas import EnrolmentSchema, OpenPeriodSchema
from cohort.auth import allow, current_actor
from cohort.models import Action, Enrolment, Structure
from cohort.request_db import keyring, session, transaction
from cohort.schemas.enrolments import CancelSchema, CorrectEndSchema, EndSchema, EnrolSchema
from cohort.services import access, enrolment_end, enrolments
from cohort.services.lookup import by_uuid
from cohort.services.timeline import as_seen_by, enrolment_view

blp = Blueprint("enrolments", __name__, url_prefix="/api/v1/enrolments",
                description="Enrolments of participants in actions")


def _view(s: Any, e: Enrolment) -> dict[str, Any]:
    action = s.get(Action, e.action_id)
    structure = s.get(Structure, e.structure_id)
    return as_seen_by(current_actor(), e, enrolment_view(e, action.uuid, action.code,
                                                         structure.uuid))


@blp.route("")
class Enrolments(MethodView):
    @allow(Role.COORDINATOR, Role.ADMIN)
    @blp.arguments(EnrolSchema)
    @blp.response(201, EnrolmentSchema)
    def post(self, data: dict[str, Any]) -> Any:
        """Enrol a participant in an action (eligibility is checked against its public)"""
        with transaction() as s:
            enrolment = enrolments.enrol(s, keyring(), current_actor(), data,
                                         today=clock.today(), now=clock.now())
            return _view(s, enrolment)


@blp.route("/<uuid:enrolment_id>")
class EnrolmentItem(MethodView):
    @allow(Role.COORDINATOR, Role.ASE_REFERENT, Role.ADMIN)
    @blp.response(200, EnrolmentSchema)
    def get(self, enrolment_id: Any) -> Any:
        """Read an enrolment"""
        s = session()
        enrolment = access.readable_enrolment(s, current_actor(), enrolment_id,
                                                  now=clock.now())
        return _view(s, enrolment)


@blp.route("/<uuid:enrolment_id>/end")
class EnrolmentEnd(MethodView):
    @allow(Role.COORDINATOR, Role.ADMIN)
    @blp.arguments(EndSchema)
    @blp.response(200, EnrolmentSchema)
    def post(self, data: dict[str, Any], enrolment_id: Any) -> Any:
        """End an enrolment (its last day of support and the exit reason), and with it,
        in the same transaction, the open periods listed in close_periods (each an end
        event recorded by the event service; one refusal writes nothing)"""
        with transaction() as s:
            enrolment = by_uuid(s, Enrolment, enrolment_id, "enrolment_id")
            enrolment_end.end(s, keyring(), current_actor(), enrolment, data,
                              today=clock.today(), now=clock.now())
            return _view(s, enrolment)


@blp.route("/<uuid:enrolment_id>/open-periods")
class EnrolmentOpenPeriods(MethodView):
    @allow(Role.COORDINATOR, Role.ADMIN)
    @blp.response(200, OpenPeriodSchema(many=True))
    def get(self, enrolment_id: Any) -> Any:
        """The participant's periods still open: those the caller's structure recorded
        (closable: true) may be listed in close_periods when ending the enrolment; the
        others are facts only (type and dates)"""
        s = session()
        enrolment = access.readable_enrolment(s, current_actor(), enrolment_id,
                                              now=clock.now())
        return enrolment_end.open_periods(s, current_actor(), enrolment.participant,
                                          now=clock.now())


@blp.route("/<uuid:enrolment_id>/correct-end")
class EnrolmentCorrectEnd(MethodView):
    @allow(Role.COORDINATOR, Role.ADMIN)
    @blp.arguments(CorrectEndSchema)
    @blp.response(200, EnrolmentSchema)
    def post(self, data: dict[str, Any], enrolment_id: Any) -> Any:
        """Correct an ended enrolment's last day (its six-month check moves), or reopen it
        with a null end_date (its waiting check is cancelled)"""
        with transaction() as s:
            enrolment = by_uuid(s, Enrolment, enrolment_id, "enrolment_id")
            enrolments.correct_end(s, current_actor(), enrolment, data, today=clock.today(),
                                   now=clock.now())
            return _view(s, enrolment)


@blp.route("/<uuid:enrolment_id>/cancellation")
class EnrolmentCancellation(MethodView):
    @allow(Role.COORDINATOR, Role.ADMIN)
    @blp.arguments(CancelSchema)
    @blp.response(200, EnrolmentSchema)
    def post(self, data: dict[str, Any], enrolment_id: Any) -> Any:
        """Cancel an enrolment entered by mistake (a reason is required): it stays in the
        history and counts nowhere; its waiting follow-up check is cancelled and its alerts
        withdrawn. Cancelling again answers the same."""
        with transaction() as s:
            enrolment = enrolments.cancel(s, current_actor(), enrolment_id, data["reason"],
                                          now=clock.now())
            return _view(s, enrolment)
