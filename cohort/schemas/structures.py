"""Structure and operation input schemas, shared by the API and the administration pages."""

from __future__ import annotations

from marshmallow import fields, validate

from cohort.domain.enums import OperationKind, StructureKind
from cohort.schemas.common import DEPARTEMENTS, DecimalText, PageArgs, StrictSchema, one_of


class StructureCreateSchema(StrictSchema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=one_of(StructureKind))
    departement = fields.String(required=True, validate=DEPARTEMENTS)


class StructureUpdateSchema(StrictSchema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    kind = fields.String(validate=one_of(StructureKind))
    departement = fields.String(validate=DEPARTEMENTS)


class StructureListArgs(PageArgs):
    departement = fields.String(load_default=None, validate=DEPARTEMENTS)
    kind = fields.String(load_default=None, validate=one_of(StructureKind))


OPERATION_CODE = validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,39}$",
                                 error="1-40 letters, digits, '.', '_', '/' or '-'")


class OperationCreateSchema(StrictSchema):
    code = fields.String(load_default=None, validate=OPERATION_CODE, metadata={
        "description": "The code partners' files name it by (unique)"})
    action_id = fields.UUID(required=True)
    structure_id = fields.UUID(load_default=None)
    kind = fields.String(required=True, validate=one_of(OperationKind))
    label = fields.String(required=True, validate=validate.Length(min=1, max=300))
    start_date = fields.Date(required=True)
    end_date = fields.Date(load_default=None)
    planned_hours = DecimalText(load_default=None, allow_none=True, maximum=10_000_000)


class OperationUpdateSchema(StrictSchema):
    kind = fields.String(validate=one_of(OperationKind))
    label = fields.String(validate=validate.Length(min=1, max=300))
    start_date = fields.Date()
    end_date = fields.Date(allow_none=True)
    planned_hours = DecimalText(allow_none=True, maximum=10_000_000)


class OperationListArgs(PageArgs):
    action_id = fields.UUID(load_default=None)
