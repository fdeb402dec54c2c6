"""Event input schemas: a new event (common fields, then the type's own attributes schema),
its voiding, and the list's filters."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from cohort.domain.enums import EventType
from cohort.schemas.common import PageArgs, StrictSchema
from cohort.schemas.event_attributes import load_attributes


class EventCreateSchema(StrictSchema):
    id = fields.UUID(required=True, metadata={"description": "Client-supplied; retries reuse it"})
    participant_id = fields.UUID(required=True)
    type = fields.String(required=True, validate=validate.OneOf([t.value for t in EventType]))
    date = fields.Date(required=True)
    enrolment_id = fields.UUID(load_default=None)
    operation_id = fields.UUID(load_default=None)
    closes = fields.UUID(load_default=None, metadata={"description": "The start event it ends"})
    attributes = fields.Dict(
        keys=fields.String(), load_default=dict,
        metadata={"description": "The type's own fields (domain.md §5)"},
    )

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
