"""Enrolment input schemas (enrol, end, cancel), shared by the API, the pages and the CSV
import."""

from __future__ import annotations

from marshmallow import fields, validate

from cohort.domain.enums import ExitReason, Intensity
from cohort.schemas.common import StrictSchema, one_of


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


class CorrectEndSchema(StrictSchema):
    end_date = fields.Date(required=True, allow_none=True,
                           metadata={"description": "The corrected last day; null reopens"})
    exit_reason = fields.String(load_default=None, validate=one_of(ExitReason))
    expected_version = fields.Integer(load_default=None)


class ClosePeriodSchema(StrictSchema):
    """One open period to end with the enrolment: its start event, the closing event's
    client uuid (a retry reuses it), its date and the closing type's attributes."""

    start_event_id = fields.UUID(required=True,
                                 metadata={"description": "The start event of the period"})
    id = fields.UUID(required=True,
                     metadata={"description": "Client-supplied id of the closing event"})
    date = fields.Date(load_default=None,
                       metadata={"description": "Default: the enrolment's last day"})
    attributes = fields.Dict(keys=fields.String(), load_default=dict,
                             metadata={"description": "The closing type's own fields, e.g. a "
                                                      "housing exit's reason"})


class EndSchema(StrictSchema):
    end_date = fields.Date(required=True, metadata={"description": "Last day of support"})
    exit_reason = fields.String(required=True, validate=one_of(ExitReason))
    expected_version = fields.Integer(load_default=None)
    close_periods = fields.List(
        fields.Nested(ClosePeriodSchema), load_default=list,
        validate=validate.Length(max=50),
        metadata={"description": "Open periods of the participant that the structure "
                                 "recorded, ended in the same transaction (issue 17)"})


class CancelSchema(StrictSchema):
    """Cancel an enrolment entered by mistake: why (required, kept and audited)."""

    reason = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"description": "Why the enrolment was a mistake"})
