"""One attributes schema per event type (domain.md §5), shared by API and CSV import."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from cohort.domain.enums import (
    ContactMode,
    Contract,
    EventType,
    HousingExitReason,
    HousingType,
    Resource,
    Scheme,
)
from cohort.domain.pathway_status import OPEN_ENDED_CONTRACTS
from cohort.schemas.common import DecimalText, StrictSchema
from cohort.schemas.common import one_of as _one_of


class _Attrs(StrictSchema):
    pass


class Empty(_Attrs):
    pass


class HousingEntry(_Attrs):
    housing_type = fields.String(required=True, validate=_one_of(HousingType))
    via_programme = fields.Boolean(load_default=False)


class HousingExit(_Attrs):
    reason = fields.String(required=True, validate=_one_of(HousingExitReason))


class TrainingStart(_Attrs):
    qualifying = fields.Boolean(required=True)


class TrainingEnd(_Attrs):
    completed = fields.Boolean(load_default=None)
    certified = fields.Boolean(load_default=None)


class EmploymentStart(_Attrs):
    contract = fields.String(required=True, validate=_one_of(Contract))
    planned_months = fields.Integer(load_default=None, validate=validate.Range(1, 600))
    hours_per_week = DecimalText(load_default=None, minimum=0, maximum=80)

    @ma.validates_schema
    def _fixed_term_needs_duration(self, data: dict[str, Any], **_: Any) -> None:
        if data["contract"] not in OPEN_ENDED_CONTRACTS and not data.get("planned_months"):
            raise ma.ValidationError(
                "required for a fixed-term contract", field_name="planned_months"
            )


class SchoolExit(_Attrs):
    dropout = fields.Boolean(load_default=False)


class SchemeEntry(_Attrs):
    scheme = fields.String(required=True, validate=_one_of(Scheme))


class ResourceStart(_Attrs):
    resource = fields.String(required=True, validate=_one_of(Resource))


class SupportBreak(_Attrs):
    reason = fields.String(required=True, validate=validate.Length(1, 500))


class ChildcareStart(_Attrs):
    child_birth_month = fields.String(
        required=True,
        validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="expected YYYY-MM"),
    )


class ClauseHours(_Attrs):
    hours = fields.Decimal(
        required=True, places=2, as_string=True,
        validate=validate.Range(0, 10000, min_inclusive=False),
    )


class MobilityAssessment(_Attrs):
    level = fields.Integer(required=True, validate=validate.Range(1, 4))


class Contact(_Attrs):
    mode = fields.String(required=True, validate=_one_of(ContactMode))


ATTRIBUTE_SCHEMAS: dict[EventType, type[ma.Schema]] = {
    EventType.HOUSING_ENTRY: HousingEntry,
    EventType.HOUSING_EXIT: HousingExit,
    EventType.TRAINING_START: TrainingStart,
    EventType.TRAINING_END: TrainingEnd,
    EventType.EMPLOYMENT_START: EmploymentStart,
    EventType.EMPLOYMENT_END: Empty,
    EventType.SCHOOL_ENROLMENT: Empty,
    EventType.SCHOOL_EXIT: SchoolExit,
    EventType.SCHEME_ENTRY: SchemeEntry,
    EventType.SCHEME_EXIT: Empty,
    EventType.RESOURCE_START: ResourceStart,
    EventType.RESOURCE_END: Empty,
    EventType.SUPPORT_BREAK: SupportBreak,
    EventType.SUPPORT_RESUMED: Empty,
    EventType.LINK_PERSON_CHOSEN: Empty,
    EventType.CHILDCARE_START: ChildcareStart,
    EventType.CHILDCARE_END: Empty,
    EventType.CLAUSE_HOURS: ClauseHours,
    EventType.MOBILITY_ASSESSMENT: MobilityAssessment,
    EventType.CONTACT: Contact,
}


# Schema instances are reusable and costly to build: one per type, built once.
_INSTANCES: dict[EventType, ma.Schema] = {t: cls() for t, cls in ATTRIBUTE_SCHEMAS.items()}


def schema_of(event_type: EventType) -> ma.Schema:
    """The type's attributes schema (the instance load_attributes uses)."""
    return _INSTANCES[event_type]


def stored_attributes(loaded: dict[str, Any]) -> dict[str, Any]:
    """Loaded attributes as stored: decimals become strings so that the JSON column and the
    idempotency hash are exact."""
    return {k: (str(v) if v is not None and k in ("hours", "hours_per_week") else v)
            for k, v in loaded.items()}


def load_attributes(event_type: EventType, raw: Any) -> dict[str, Any]:
    """Validate an event's attributes; errors are keyed under ``attributes``."""
    # A bulk import validates a million events with a few dozen distinct attribute sets:
    # the result of a valid set is remembered (keyed with the values' types, so 1 and
    # True stay apart) and handed out as a copy.
    key = None
    if isinstance(raw, dict) and all(type(v) in _SCALARS for v in raw.values()):
        key = (event_type, tuple(sorted((k, type(v), v) for k, v in raw.items())))
        cached = _VALID.get(key)
        if cached is not None:
            return dict(cached)
    try:
        loaded: dict[str, Any] = _INSTANCES[event_type].load(raw or {})
    except ma.ValidationError as exc:
        raise ma.ValidationError({"attributes": exc.messages}) from None
    result = stored_attributes(loaded)
    if key is not None and len(_VALID) < _VALID_MAX:
        _VALID[key] = result
        return dict(result)
    return result


_SCALARS = frozenset({str, int, bool, type(None)})  # not float: 0.0 and -0.0 are equal keys
_VALID: dict[Any, dict[str, Any]] = {}
_VALID_MAX = 10_000
