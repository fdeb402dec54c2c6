"""Participant input schemas (registration, search, identity, erasure, links), shared by
the API, the pages and the CSV import."""

from __future__ import annotations

from marshmallow import fields, validate

from cohort.domain.enums import Sex
from cohort.schemas.common import PageArgs, StrictSchema, one_of

_NAME = validate.Length(min=1, max=200)


class RegisterSchema(StrictSchema):
    last_name = fields.String(required=True, validate=_NAME)
    first_names = fields.String(required=True, validate=_NAME)
    birth_date = fields.Date(required=True)
    sex = fields.String(load_default="U", validate=one_of(Sex))
    nir = fields.String(load_default=None, validate=validate.Length(min=13, max=21))
    caf_number = fields.String(load_default=None, validate=validate.Length(max=20))
    imilo_id = fields.String(load_default=None, validate=validate.Length(max=30))
    france_travail_id = fields.String(load_default=None, validate=validate.Length(max=30))
    phone = fields.String(load_default=None, validate=validate.Length(max=30))
    email = fields.Email(load_default=None, validate=validate.Length(max=254))
    home_departement = fields.String(
        load_default=None, validate=validate.Regexp(r"^(\d{2}|2A|2B|97\d)$")
    )
    home_epci = fields.String(load_default=None, validate=validate.Regexp(r"^\d{9}$"))
    ase_past = fields.Boolean(load_default=False)


class SearchSchema(StrictSchema):
    """The three fields of the blind index: last name, first names, birth date."""

    last_name = fields.String(required=True, validate=_NAME)
    first_names = fields.String(required=True, validate=_NAME)
    birth_date = fields.Date(required=True)


class IdentityRequestSchema(StrictSchema):
    purpose = fields.String(required=True, validate=validate.Length(min=5, max=500),
                            metadata={"description": "Why the identity is needed (audited)"})


class ExceptionalAccessSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=10, max=2000))


class EraseSchema(StrictSchema):
    mode = fields.String(load_default="keep_pathway",
                         validate=validate.OneOf(["keep_pathway", "delete_pathway"]),
                         metadata={"description": "Keep the pseudonymous pathway countable, "
                                                  "or delete it too"})
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000),
                           metadata={"description": "Why (the request received, its date): "
                                                    "at least 10 characters, no identity"})


class ErasureDecisionSchema(StrictSchema):
    reason = fields.String(load_default=None, validate=validate.Length(max=1000),
                           metadata={"description": "Required to reject"})


class ErasureRequestListArgs(PageArgs):
    status = fields.String(load_default="pending",
                           validate=validate.OneOf(["pending", "approved", "rejected", "all"]))


class ErasureRequestSchema(EraseSchema):
    """The erasure as the administration page asks for it: the person's pseudonymous id, the
    reason (audited) and the explicit confirmation of the second step."""

    participant_id = fields.UUID(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=10, max=500))
    confirm = fields.Boolean(load_default=False)


class LinkCreateSchema(StrictSchema):
    absorbed_id = fields.UUID(required=True, metadata={"description": "The duplicate"})
    survivor_id = fields.UUID(required=True, metadata={"description": "The participant kept"})
    reason = fields.String(required=True, validate=validate.Length(min=10, max=2000))


class UnlinkSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=10, max=2000))
