"""Enrolment input schemas (enrol, end, cancel), shared by the API, the pages and the CSV
import."""

from __future__ import annotations

import marshmallow as ma
from marshmallow import fields, validate

from cohort.domain.enums import ExitReason, Intensity
from cohort.schemas.common import StrictSchema, one_of


class ParticipantKeySchema(StrictSchema):
    """A participant named as partners name them (issue 22): by the identity triple, or by
    the NIR. Resolved through the blind indexes; only ever in a body, never in a URL."""

    last_name = fields.String(validate=validate.Length(min=1, max=200))
    first_names = fields.String(validate=validate.Length(min=1, max=200))
    birth_date = fields.Date()
    nir = fields.String(validate=validate.Length(min=13, max=21))

    @ma.validates_schema
    def _triple_or_nir(self, data: dict[str, object], **_: object) -> None:
        triple = [name for name in ("last_name", "first_names", "birth_date") if name in data]
        if "nir" in data:
            if triple:
                raise ma.ValidationError("give the NIR or the identity, not both", "nir")
            return
        missing = [n for n in ("last_name", "first_names", "birth_date") if n not in triple]
        if missing:
            raise ma.ValidationError({name: ["Missing data for required field."]
                                      for name in missing})


class EnrolSchema(StrictSchema):
    participant_id = fields.UUID(load_default=None, metadata={
        "description": "The participant's uuid, or leave it out and give participant"})
    participant = fields.Nested(ParticipantKeySchema, load_default=None, metadata={
        "description": "The participant by identity (last_name, first_names, birth_date) "
                       "or by nir, instead of participant_id"})
    action_id = fields.UUID(required=True)
    structure_id = fields.UUID(required=True)
    start_date = fields.Date(required=True)
    rsa_at_entry = fields.Boolean(required=True)
    parent_child_0_3 = fields.Boolean(load_default=False)
    intensity = fields.String(load_default=None, validate=one_of(Intensity))
    force = fields.Boolean(load_default=False)
    force_justification = fields.String(load_default=None, validate=validate.Length(max=2000))
    end_date = fields.Date(load_default=None, metadata={
        "description": "Enrol an enrolment already ended: its last day of support (with "
                       "exit_reason)"})
    exit_reason = fields.String(load_default=None, validate=one_of(ExitReason), metadata={
        "description": "With end_date"})

    @ma.validates_schema
    def _one_participant(self, data: dict[str, object], **_: object) -> None:
        if data.get("participant_id") is None and data.get("participant") is None:
            raise ma.ValidationError("Missing data for required field.", "participant_id")
        if data.get("participant_id") is not None and data.get("participant") is not None:
            raise ma.ValidationError("give participant_id or participant, not both",
                                     "participant")

    @ma.validates_schema
    def _end_with_reason(self, data: dict[str, object], **_: object) -> None:
        if data.get("end_date") is not None and data.get("exit_reason") is None:
            raise ma.ValidationError("required with end_date", "exit_reason")
        if data.get("exit_reason") is not None and data.get("end_date") is None:
            raise ma.ValidationError("required with exit_reason", "end_date")


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
