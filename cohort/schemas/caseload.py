"""Caseload input schemas: the filters, sort and page of the list (query string), and the
name search, whose typed text travels in the body only (never in a URL or a log line)."""

from __future__ import annotations

from marshmallow import fields, validate

from cohort.domain.enums import Family
from cohort.schemas.common import StrictSchema, one_of
from cohort.services.caseload import (
    DEFAULT_SORT,
    ENROLMENT_STATES,
    FOLLOWUP_STATES,
    PAGE_SIZE_MAX,
    SEARCH_MAX_LENGTH,
    SORTS,
)


class CaseloadArgs(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1, max=PAGE_SIZE_MAX),
                              metadata={"description": "50 when left out"})
    action_id = fields.UUID(load_default=None, metadata={
        "description": "People with an enrolment (not cancelled) of one's structure in "
                       "this action"})
    enrolment = fields.String(load_default=None, validate=validate.OneOf(ENROLMENT_STATES),
                              metadata={"description": "open: an enrolment of one's "
                                                       "structure is open; ended: all ended"})
    followup = fields.String(load_default=None, validate=validate.OneOf(FOLLOWUP_STATES),
                             metadata={"description": "A waiting six-month check of one's "
                                                      "structure due (in its window) or "
                                                      "overdue today"})
    open_period = fields.String(load_default=None, validate=one_of(Family),
                                metadata={"description": "A period of this family open today"})
    inactive_days = fields.Integer(load_default=None, validate=validate.Range(min=1, max=3650),
                                   metadata={"description": "No event dated in the last N "
                                                            "days (or none at all)"})
    sort = fields.String(load_default=DEFAULT_SORT, validate=validate.OneOf(SORTS),
                         metadata={"description": "name, last_event or due_date; a leading "
                                                  "minus sorts descending (nulls last)"})


class CaseloadSearchSchema(CaseloadArgs):
    q = fields.String(required=True, validate=validate.Length(min=1, max=SEARCH_MAX_LENGTH),
                      metadata={"description": "Beginning of any word of the last or first "
                                               "names (accents and case ignored)"})
