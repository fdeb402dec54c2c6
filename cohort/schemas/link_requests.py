"""Input schemas of the registration's duplicate check, link requests and the
administrators' duplicates report, shared by the API and the pages."""

from __future__ import annotations

from marshmallow import fields, validate

from cohort.schemas.common import PageArgs, StrictSchema

_REASON = validate.Length(min=10, max=2000)
_NIR = validate.Length(min=13, max=21)
_NAME = validate.Length(min=1, max=200)
STATUSES = ("pending", "accepted", "rejected")


class PossibleDuplicatesSchema(StrictSchema):
    """The identity about to be registered (in the body, never in a URL)."""

    last_name = fields.String(required=True, validate=_NAME)
    first_names = fields.String(required=True, validate=_NAME)
    birth_date = fields.Date(required=True)
    nir = fields.String(load_default=None, validate=_NIR)


class LinkRequestCreateSchema(StrictSchema):
    participant_id = fields.UUID(required=True, metadata={
        "description": "The participant your structure registered"})
    reason = fields.String(required=True, validate=_REASON, metadata={
        "description": "Why the two records may be one person (no identity in it)"})
    nir = fields.String(load_default=None, validate=_NIR, metadata={
        "description": "The NIR refused at registration as held by another record: the "
                       "request then names that record"})


class LinkRequestListArgs(PageArgs):
    status = fields.String(load_default="pending", validate=validate.OneOf(STATUSES))


class AcceptSchema(StrictSchema):
    reason = fields.String(load_default=None, validate=validate.Length(max=2000), metadata={
        "description": "Why the link is made (the request's reason when left out)"})


class RejectSchema(StrictSchema):
    reason = fields.String(required=True, validate=_REASON)


class OpenPairSchema(StrictSchema):
    """Opening two sealed identities (exceptional access, audited with the purpose)."""

    purpose = fields.String(required=True, validate=validate.Length(min=10, max=500))


class DuplicatesArgs(StrictSchema):
    after = fields.String(load_default=None, validate=validate.Length(max=40), metadata={
        "description": "The `next` cursor of the previous page"})
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))
    min_shared = fields.Integer(load_default=1, validate=validate.Range(min=1, max=7), metadata={
        "description": "Only pairs sharing at least this many stored buckets (2: the "
                       "strongest pairs first, without day/month swaps)"})


class DismissalSchema(StrictSchema):
    first_id = fields.UUID(required=True)
    second_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=_REASON)


class PairSchema(StrictSchema):
    """Two participants, for the report page's review and link forms."""

    first_id = fields.UUID(required=True)
    second_id = fields.UUID(required=True)


class RegistrationChoiceSchema(StrictSchema):
    """The registration page's second step: what the coordinator chose after the
    suggestions (register a new person, and possibly request a link)."""

    decision = fields.String(load_default="check",
                             validate=validate.OneOf(["check", "new", "request",
                                                      "nir_request"]))
    reason = fields.String(load_default=None, validate=_REASON)
