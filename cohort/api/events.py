"""Pathway events: record (idempotent on the client uuid), list, void, correct."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView
from marshmallow import fields

from cohort import clock
from cohort.actors import Role
from cohort.api.blueprint import Blueprint
from cohort.api.schemas import EventSchema, PageSchema
from cohort.auth import allow, current_actor
from cohort.request_db import keyring, session, transaction
from cohort.schemas.common import StrictSchema
from cohort.schemas.events import (
    CorrectionSchema,
    EventCreateSchema,
    EventListArgs,
    VoidSchema,
)
from cohort.services import access, events
from cohort.services.event_views import (
    event_list_query,
    event_view,
    event_views,
    recorded_view,
)
from cohort.shell.pagination import paginate

blp = Blueprint("events", __name__, url_prefix="/api/v1/events", description="Pathway events")


class EventPage(StrictSchema):
    items = fields.List(fields.Nested(EventSchema))
    page = fields.Nested(PageSchema)


@blp.route("")
class Events(MethodView):
    @allow(Role.COORDINATOR, Role.ADMIN)
    @blp.arguments(EventCreateSchema)
    @blp.response(201, EventSchema)
    @blp.alt_response(200, schema=EventSchema, description="Already recorded (same id, same body)")
    @blp.alt_response(409, description="Same id, different body; or a start identical to one "
                      "already recorded (same type, date and attributes, not voided): "
                      "`existing_id` names it")
    def post(self, data: dict[str, Any]) -> Any:
        """Record a pathway event; retrying with the same id returns the original"""
        with transaction() as s:
            result = events.record(s, keyring(), current_actor(), data, today=clock.today(),
                                   now=clock.now())
            body = recorded_view(s, result, data)
        return body, 201 if result.created else 200

    @allow(Role.COORDINATOR, Role.ASE_REFERENT, Role.ADMIN)
    @blp.arguments(EventListArgs, location="query")
    @blp.response(200, EventPage)
    def get(self, args: dict[str, Any]) -> Any:
        """List the events of the participants one may see, filtered and paginated"""
        s = session()
        page = paginate(s, event_list_query(current_actor(), args, now=clock.now()), args)
        page["items"] = event_views(s, page["items"], current_actor())
        return page


@blp.route("/<uuid:event_id>")
class EventItem(MethodView):
    @allow(Role.COORDINATOR, Role.ASE_REFERENT, Role.ADMIN)
    @blp.response(200, EventSchema)
    def get(self, event_id: Any) -> Any:
        """Read one event"""
        s = session()
        actor = current_actor()
        return event_view(s, access.readable_event(s, actor, event_id, now=clock.now()),
                          actor)


@blp.route("/<uuid:event_id>/void")
class EventVoid(MethodView):
    @allow(Role.COORDINATOR, Role.ADMIN)
    @blp.arguments(VoidSchema)
    @blp.response(200, EventSchema)
    def post(self, data: dict[str, Any], event_id: Any) -> Any:
        """Void an event with a reason (it stays in the timeline, marked)"""
        with transaction() as s:
            event = events.get_event(s, event_id)
            events.void(s, current_actor(), event, data["reason"], now=clock.now())
            return event_view(s, event)


@blp.route("/<uuid:event_id>/correction")
class EventCorrection(MethodView):
    @allow(Role.COORDINATOR, Role.ADMIN)
    @blp.arguments(CorrectionSchema)
    @blp.response(201, EventSchema)
    @blp.alt_response(200, schema=EventSchema,
                      description="Already corrected by this replacement (same id, same body)")
    @blp.alt_response(409, description="The event is already voided, or the replacement's id "
                      "is used by another event")
    def post(self, data: dict[str, Any], event_id: Any) -> Any:
        """Correct an event in one step: void it and record its replacement"""
        reason = data.pop("reason")
        with transaction() as s:
            result = events.correct(s, keyring(), current_actor(), event_id, data, reason,
                                    today=clock.today(), now=clock.now())
            body = event_view(s, result.event)
        return body, 201 if result.created else 200
