"""Follow-up checks (the coordinators' worklist), alerts (ASE referents) and the inbox."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask.views import MethodView
from marshmallow import fields

from cohort import audit, clock
from cohort.actors import Role
from cohort.api.blueprint import Blueprint
from cohort.api.schemas import PageSchema
from cohort.auth import ALL_ROLES, allow, current_actor
from cohort.request_db import keyring, session, transaction
from cohort.schemas.common import StrictSchema
from cohort.schemas.followups import (
    AcknowledgeSchema,
    AlertListArgs,
    CloseSchema,
    InboxArgs,
    ResultSchema,
    WorklistArgs,
)
from cohort.services import alerts, followups, notify
from cohort.shell.pagination import paginate

blp = Blueprint("followups", __name__, url_prefix="/api/v1",
                description="Six-month follow-up checks, alerts to ASE referents, inbox")


# --- response schemas (inputs are in cohort.schemas.followups) ----------------------------

class StatusAtCheckSchema(ma.Schema):
    in_pathway = fields.Boolean()
    durable_employment = fields.Boolean()
    stably_housed = fields.Boolean()
    has_resources = fields.Boolean()


class CheckSchema(ma.Schema):
    id = fields.UUID()
    enrolment_id = fields.UUID()
    participant_id = fields.UUID()
    ase_past = fields.Boolean()
    action_id = fields.UUID()
    action_code = fields.String()
    enrolment_end_date = fields.Date()
    due_date = fields.Date()
    window_start = fields.Date()
    window_end = fields.Date()
    status = fields.String(metadata={"description": "scheduled, done or cancelled"})
    state = fields.String(metadata={"description": "upcoming, due, overdue, done or "
                                                   "cancelled, on today's date"})
    outcome = fields.String(allow_none=True)
    attempts = fields.Integer(allow_none=True)
    checked_on = fields.Date(allow_none=True)
    situation = fields.Dict(allow_none=True)
    status_at_check = fields.Nested(StatusAtCheckSchema, allow_none=True)
    event_ids = fields.List(fields.UUID(), metadata={"description": "Events the result wrote"})
    recorded_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class CountsSchema(ma.Schema):
    upcoming = fields.Integer()
    due = fields.Integer()
    overdue = fields.Integer()
    done = fields.Integer()
    cancelled = fields.Integer()


class WorklistPage(ma.Schema):
    items = fields.List(fields.Nested(CheckSchema))
    page = fields.Nested(PageSchema)
    counts = fields.Nested(CountsSchema)
    today = fields.Date()


class AlertSchema(ma.Schema):
    id = fields.UUID()
    participant_id = fields.UUID()
    enrolment_id = fields.UUID(allow_none=True)
    action_code = fields.String(allow_none=True)
    departement = fields.String()
    cause = fields.String()
    event_id = fields.UUID(allow_none=True)
    event_date = fields.Date(allow_none=True)
    check_id = fields.UUID(allow_none=True)
    check_due_date = fields.Date(allow_none=True)
    status = fields.String()
    note = fields.String(allow_none=True)
    created_at = fields.DateTime()
    acknowledged_at = fields.DateTime(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)
    version = fields.Integer()


class AlertPage(ma.Schema):
    items = fields.List(fields.Nested(AlertSchema))
    page = fields.Nested(PageSchema)


class NotificationSchema(ma.Schema):
    id = fields.UUID()
    kind = fields.String()
    day = fields.Date()
    subject = fields.String()
    body = fields.String()
    alert_id = fields.UUID(allow_none=True)
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)
    email_state = fields.String()


class InboxPage(StrictSchema):
    items = fields.List(fields.Nested(NotificationSchema))
    page = fields.Nested(PageSchema)


# --- follow-up checks ------------------------------------------------------------------------

@blp.route("/followups")
class Worklist(MethodView):
    @allow(Role.COORDINATOR, Role.ADMIN)
    @blp.arguments(WorklistArgs, location="query")
    @blp.response(200, WorklistPage)
    def get(self, args: dict[str, Any]) -> Any:
        """List the follow-up checks of one's structure, with counts per state"""
        s, actor, today = session(), current_actor(), clock.today()
        page = paginate(s, followups.worklist_query(actor, args, today=today), args)
        page["items"] = followups.check_views(s, page["items"], today=today)
        page["counts"] = followups.state_counts(s, actor, args, today=today)
        page["today"] = today
        return page


@blp.route("/followups/<uuid:check_id>/result")
class CheckResult(MethodView):
    @allow(Role.COORDINATOR, Role.ADMIN)
    @blp.arguments(ResultSchema)
    @blp.response(201, CheckSchema)
    @blp.alt_response(200, schema=CheckSchema, description="Already recorded (same result)")
    @blp.alt_response(409, description="Recorded by someone else, or stale expected_version")
    def post(self, data: dict[str, Any], check_id: Any) -> Any:
        """Record a check's result; a reached participant's situation is written as events"""
        today = clock.today()
        with transaction() as s:
            result = followups.record_result(s, keyring(), current_actor(), check_id, data,
                                             today=today, now=clock.now())
            body = followups.check_views(s, [result.check], today=today)[0]
        return body, 201 if result.created else 200


# --- alerts --------------------------------------------------------------------------------

@blp.route("/alerts")
class Alerts(MethodView):
    @allow(Role.ASE_REFERENT, Role.ADMIN)
    @blp.arguments(AlertListArgs, location="query")
    @blp.response(200, AlertPage)
    def get(self, args: dict[str, Any]) -> Any:
        """List the alerts of one's département, newest first"""
        actor = current_actor()
        with transaction() as s:
            page = paginate(s, alerts.alert_query(actor, args), args)
            page["items"] = alerts.alert_views(s, page["items"])
            if actor.role is Role.ADMIN:
                audit.append(s, actor, "alert.list", now=clock.now(), target_type="alert")
        return page


@blp.route("/alerts/<uuid:alert_id>/acknowledge")
class AlertAcknowledge(MethodView):
    @allow(Role.ASE_REFERENT, Role.ADMIN)
    @blp.arguments(AcknowledgeSchema)
    @blp.response(200, AlertSchema)
    def post(self, data: dict[str, Any], alert_id: Any) -> Any:
        """Acknowledge an alert (a referent takes it in hand)"""
        with transaction() as s:
            alert = alerts.acknowledge(s, current_actor(), alert_id, data, now=clock.now())
            return alerts.alert_views(s, [alert])[0]


@blp.route("/alerts/<uuid:alert_id>/close")
class AlertClose(MethodView):
    @allow(Role.ASE_REFERENT, Role.ADMIN)
    @blp.arguments(CloseSchema)
    @blp.response(200, AlertSchema)
    def post(self, data: dict[str, Any], alert_id: Any) -> Any:
        """Close an alert with a note saying what was done"""
        with transaction() as s:
            alert = alerts.close(s, current_actor(), alert_id, data, now=clock.now())
            return alerts.alert_views(s, [alert])[0]


# --- inbox ---------------------------------------------------------------------------------

@blp.route("/inbox")
class Inbox(MethodView):
    @allow(*ALL_ROLES)
    @blp.arguments(InboxArgs, location="query")
    @blp.response(200, InboxPage)
    def get(self, args: dict[str, Any]) -> Any:
        """List one's own messages (digests and alerts), newest first"""
        s = session()
        page = paginate(s, notify.inbox_query(current_actor(), unread=args["unread"]), args)
        page["items"] = notify.notification_views(s, page["items"])
        return page


@blp.route("/inbox/<uuid:notification_id>/read")
class InboxRead(MethodView):
    @allow(*ALL_ROLES)
    @blp.response(200, NotificationSchema)
    def post(self, notification_id: Any) -> Any:
        """Mark one of one's messages read"""
        with transaction() as s:
            notification = notify.mark_read(s, current_actor(), notification_id,
                                            now=clock.now())
            return notify.notification_views(s, [notification])[0]
