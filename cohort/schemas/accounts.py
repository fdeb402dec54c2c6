"""Account input schemas (users, API tokens) and the audit log's filters, for the
administration pages."""

from __future__ import annotations

from marshmallow import fields, validate

from cohort.actors import Role
from cohort.schemas.common import PageArgs, StrictSchema

USER_ROLES = [role for role in Role if role is not Role.SYSTEM]
_ROLE = validate.OneOf([r.value for r in USER_ROLES])


class UserCreateSchema(StrictSchema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    structure_id = fields.UUID(required=True)
    role = fields.String(required=True, validate=_ROLE)
    password = fields.String(required=True, validate=validate.Length(max=500))


class RoleSchema(StrictSchema):
    role = fields.String(required=True, validate=_ROLE)


class ActiveSchema(StrictSchema):
    active = fields.Boolean(required=True)


class PasswordSchema(StrictSchema):
    password = fields.String(required=True, validate=validate.Length(max=500))


class TokenSchema(StrictSchema):
    label = fields.String(required=True, validate=validate.Length(min=1, max=200))
    days = fields.Integer(required=True)


class UserFilterArgs(PageArgs):
    role = fields.String(validate=_ROLE)
    structure_id = fields.UUID()
    active = fields.Boolean()


class AuditFilterArgs(PageArgs):
    action = fields.String(validate=validate.Length(max=60))
    user = fields.UUID()
    target_type = fields.String(validate=validate.Length(max=40))
    target_id = fields.String(validate=validate.Length(max=64))
    result = fields.String(validate=validate.Length(max=20))
    date_from = fields.Date()
    date_to = fields.Date()
