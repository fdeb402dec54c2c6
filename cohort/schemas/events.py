"""Event input schemas: a new event (common fields, then the type's own attributes schema),
its voiding, and the list's filters."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from cohort.domain.enums import EventType
from cohort.schemas.common import PageArgs, StrictSchema
from cohort.schemas.enrolments import ParticipantKeySchema
from cohort.schemas.event_attributes import load_attributes


class EventCreateSchema(StrictSchema):
    id = fields.UUID(required=True, metadata={"description": "Client-supplied; retries reuse it"})
    # Absent unless given (no default): the body digest of an event naming its participant
    # by uuid stays what it always was.
    participant_id = fields.UUID(metadata={
        "description": "The participant's uuid, or leave it out and give participant"})
    participant = fields.Nested(ParticipantKeySchema, metadata={
        "description": "The participant by identity (last_name, first_names, birth_date) "
                       "or by nir, instead of participant_id; the event is fingerprinted "
                       "with the participant's uuid"})
    type = fields.String(required=True, validate=validate.OneOf([t.value for t in EventType]))
    date = fields.Date(required=True)
    enrolment_id = fields.UUID(load_default=None)
    operation_id = fields.UUID(load_default=None)
    closes = fields.UUID(load_default=None, metadata={"description": "The start event it ends"})
    attributes = fields.Dict(
        keys=fields.String(), load_default=dict,
        metadata={"description": "The type's own fields (domain.md §5)"},
    )

    @ma.validates_schema
    def _one_participant(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("participant_id") is None and data.get("participant") is None:
            raise ma.ValidationError("Missing data for required field.", "participant_id")
        if data.get("participant_id") is not None and data.get("participant") is not None:
            raise ma.ValidationError("give participant_id or participant, not both",
                                     "participant")

    @ma.post_load
    def _type_attributes(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        data["attributes"] = load_attributes(EventType(data["type"]), data.get("attributes"))
        return data


class VoidSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class CorrectionSchema(EventCreateSchema):
    """The replacement event (its own new client id) and why the old one was wrong."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000),
                           metadata={"description": "Why the corrected event is voided"})


class EventListArgs(PageArgs):
    participant_id = fields.UUID(load_default=None)
    type = fields.String(load_default=None, validate=validate.OneOf([t.value for t in EventType]))
    date_from = fields.Date(load_default=None)
    date_to = fields.Date(load_default=None)
