"""Response schemas reused by several API blueprints (input schemas live in cohort.schemas)."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields


class PageSchema(ma.Schema):
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


class EnrolmentSchema(ma.Schema):
    id = fields.UUID()
    action_id = fields.UUID()
    action_code = fields.String()
    structure_id = fields.UUID()
    start_date = fields.Date()
    end_date = fields.Date(allow_none=True)
    exit_reason = fields.String(allow_none=True)
    rsa_at_entry = fields.Boolean()
    age_at_entry = fields.Integer()
    under_26 = fields.Boolean()
    ase_past = fields.Boolean()
    parent_child_0_3 = fields.Boolean()
    intensity = fields.String(allow_none=True)
    forced = fields.Boolean()
    cancelled_at = fields.DateTime(allow_none=True)
    cancel_reason = fields.String(allow_none=True, metadata={
        "description": "null on another structure's enrolment (need-to-know)"})
    own = fields.Boolean(metadata={"description": "held by the caller's structure"})
    version = fields.Integer()


class OpenPeriodSchema(ma.Schema):
    """A period still open when an enrolment ends (cohort.services.enrolment_end)."""

    start_event_id = fields.UUID()
    family = fields.String()
    start_type = fields.String()
    start_date = fields.Date()
    closable = fields.Boolean(attribute="own", metadata={
        "description": "Recorded by the caller's structure: it may end it"})
    closing_type = fields.String()


class EventSchema(ma.Schema):
    id = fields.UUID()
    participant_id = fields.UUID()
    type = fields.String()
    date = fields.Date()
    attributes = fields.Dict()
    enrolment_id = fields.UUID(allow_none=True)
    operation_id = fields.UUID(allow_none=True)
    closes = fields.UUID(allow_none=True, metadata={"description": "The start this end named"})
    closed = fields.UUID(
        allow_none=True, metadata={"description": "The start this end actually closes"}
    )
    recorded_at = fields.DateTime()
    voided = fields.Boolean()
    void_reason = fields.String(allow_none=True, metadata={
        "description": "null on another structure's event (need-to-know, domain.md §1)"})
    own = fields.Boolean(metadata={
        "description": "recorded by the caller's structure; otherwise a fact only, without "
                       "its free text"})
    voided_at = fields.DateTime(allow_none=True)
    corrects = fields.UUID(
        allow_none=True, metadata={"description": "The voided event this one corrects"})
    corrected_by = fields.UUID(
        allow_none=True, metadata={"description": "The event that corrects this voided one"})


class IntervalSchema(ma.Schema):
    family = fields.String()
    start_event_id = fields.UUID()
    end_event_id = fields.UUID(allow_none=True)
    start_date = fields.Date()
    end_date = fields.Date(allow_none=True, metadata={"description": "Exclusive"})
    attributes = fields.Dict()
