"""Follow-up input schemas: a check's result (validated like events), alert handling, and
the filters of the worklist, the alerts and the inbox."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from cohort.domain.enums import HousingType, Resource, Scheme
from cohort.domain.followup import AlertCause, AlertStatus, CheckState, Outcome
from cohort.schemas.common import PageArgs, QueryList, StrictSchema, one_of
from cohort.schemas.event_attributes import EmploymentStart, TrainingStart
from cohort.services.followups import SORTS


def _unique(values: list[Any]) -> None:
    if len(set(values)) != len(values):
        raise ma.ValidationError("a value is listed twice")


class SituationSchema(StrictSchema):
    """The situation on the check date. Leave a key out when it was not asked; null (or
    false, or []) says "not in it"; a value says "in it"."""

    employment = fields.Nested(EmploymentStart, allow_none=True,
                               metadata={"description": "Contract held, or null: no job"})
    training = fields.Nested(TrainingStart, allow_none=True,
                             metadata={"description": "Training followed, or null: none"})
    school = fields.Boolean(metadata={"description": "At school (true) or not (false)"})
    scheme = fields.String(allow_none=True, validate=one_of(Scheme),
                           metadata={"description": "Scheme followed, or null: none"})
    housing_type = fields.String(validate=one_of(HousingType))
    resources = fields.List(fields.String(validate=one_of(Resource)), validate=_unique,
                            metadata={"description": "Every resource received ([]: none)"})

    @ma.validates_schema
    def _something(self, data: dict[str, Any], **_: Any) -> None:
        if not data:
            raise ma.ValidationError("give at least one element of the situation")

    @ma.post_load
    def _plain(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        # Decimals become strings: the situation is stored as JSON and hashed exactly.
        job = data.get("employment")
        if job is not None:
            data["employment"] = {k: str(v) if isinstance(v, Decimal) else v
                                  for k, v in job.items()}
        return data


class ResultSchema(StrictSchema):
    expected_version = fields.Integer(required=True, validate=validate.Range(min=1),
                                      metadata={"description": "The check's version as read"})
    date = fields.Date(required=True, metadata={"description": "When the check was made"})
    outcome = fields.String(required=True, validate=one_of(Outcome))
    attempts = fields.Integer(load_default=None, validate=validate.Range(1, 100),
                              metadata={"description": "Contact attempts (required when "
                                                       "not reached)"})
    situation = fields.Nested(SituationSchema, load_default=None)

    @ma.validates_schema
    def _fits_outcome(self, data: dict[str, Any], **_: Any) -> None:
        outcome = data.get("outcome")
        if outcome == Outcome.REACHED and not data.get("situation"):
            raise ma.ValidationError("required when the participant was reached", "situation")
        if outcome != Outcome.REACHED and data.get("situation") is not None:
            raise ma.ValidationError("only when the participant was reached", "situation")
        if outcome == Outcome.NOT_REACHED and data.get("attempts") is None:
            raise ma.ValidationError("required when the participant was not reached",
                                     "attempts")


class AcknowledgeSchema(StrictSchema):
    expected_version = fields.Integer(load_default=None, validate=validate.Range(min=1))


class CloseSchema(StrictSchema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=4000),
                         metadata={"description": "What was done (no identity, please)"})
    expected_version = fields.Integer(load_default=None, validate=validate.Range(min=1))


class WorklistArgs(PageArgs):
    state = QueryList(fields.String(validate=one_of(CheckState)), load_default=None,
                      metadata={"description": "Repeat, or separate with commas, to ask for "
                                               "several states (default: all but cancelled)"})
    action_id = fields.UUID(load_default=None)
    sort = fields.String(load_default="due_date", validate=validate.OneOf(list(SORTS)))


class AlertListArgs(PageArgs):
    status = QueryList(fields.String(validate=one_of(AlertStatus)), load_default=None,
                       metadata={"description": "Repeat, or separate with commas"})
    cause = fields.String(load_default=None, validate=one_of(AlertCause))


class InboxArgs(PageArgs):
    unread = fields.Boolean(load_default=False)
