"""Schemas of a programme file (services.programme_file parses, these validate).

Every table refuses unknown keys, so a typo cannot silently drop a budget line or an
eligibility rule; numbers must be unquoted TOML numbers and dates TOML dates.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from cohort.domain.eligibility import FLAGS
from cohort.domain.enums import (
    Departement,
    EventType,
    Family,
    HousingType,
    Intensity,
    StructureKind,
)
from cohort.domain.indicator_kinds import FOLLOWUP_COUNTS, KINDS
from cohort.domain.pathway_status import DEFAULT_STABLE_HOUSING

IDENTIFIER = r"^[a-z][a-z0-9_]*$"


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ma.ValidationError("must not be blank")


def _text(max_length: int | None = None, **kwargs: Any) -> fields.String:
    checks: list[Any] = [_not_blank]
    if max_length is not None:
        checks.append(validate.Length(max=max_length))
    return fields.String(validate=checks, **kwargs)


def _identifier(**kwargs: Any) -> fields.String:
    return fields.String(
        validate=validate.Regexp(IDENTIFIER, error="must be a lower-case identifier (a-z, 0-9, _)"),
        **kwargs,
    )


def _unique(values: Iterable[Any]) -> None:
    seen: set[Any] = set()
    for v in values:
        if v in seen:
            raise ma.ValidationError(f"{v!r} is listed twice")
        seen.add(v)


class NonNegativeNumber(fields.Field):
    """An unquoted TOML number ≥ 0 (a quoted "42" is a mistake, not a number).

    Integral floats come back as ints so that re-loading compares equal through JSON.
    """

    def __init__(self, *, positive: bool = False, places: int | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.positive = positive
        self.places = places

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ma.ValidationError("must be a number (unquoted)")
        if isinstance(value, float) and not math.isfinite(value):
            raise ma.ValidationError("must be a finite number")
        if value < 0 or (self.positive and value == 0):
            raise ma.ValidationError("must be positive" if self.positive else "must be ≥ 0")
        if isinstance(value, float):
            if value.is_integer():
                return int(value)
            if self.places is not None and round(value, self.places) != value:
                raise ma.ValidationError(f"must have at most {self.places} decimals")
        return value


class TomlDate(fields.Field):
    """A TOML local date (``2023-01-01``) or the same as a quoted ISO string; never a datetime."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> dt.date:
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise ma.ValidationError("must be a date (YYYY-MM-DD)")


class _Strict(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class PartySchema(_Strict):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_-]+$"))
    name = _text(200, required=True)


class ProgrammeSettingsSchema(_Strict):
    followup_months = fields.Integer(strict=True, load_default=6, validate=validate.Range(1, 60))
    followup_window_before_days = fields.Integer(
        strict=True, load_default=15, validate=validate.Range(0, 366))
    followup_window_after_days = fields.Integer(
        strict=True, load_default=45, validate=validate.Range(0, 366))
    stable_housing = fields.List(
        fields.String(validate=validate.OneOf([h.value for h in HousingType])),
        load_default=lambda: list(DEFAULT_STABLE_HOUSING),
        validate=[validate.Length(min=1), _unique],
    )
    fte_hours = NonNegativeNumber(positive=True, load_default=1820)
    state_total_per_departement = NonNegativeNumber(places=2)
    # Indicators every action reports (the follow-up checks of domain.md §7, row "all").
    common_indicators = fields.List(fields.Nested(lambda: IndicatorSchema()), load_default=list)
    # Actions run in both départements for one purpose (twin sheets in 59 and 62, and the
    # joint action that follows them): the cohorts page offers to pool them (issue 19).
    poolings = fields.List(fields.Nested(lambda: PoolingSchema()), load_default=list)

    @ma.validates_schema
    def _common_indicators(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[int, Any] = {}
        codes = [item["code"] for item in data.get("common_indicators", [])]
        for i, item in enumerate(data.get("common_indicators", [])):
            if item["code"] in codes[:i]:
                errors[i] = {"code": [f"{item['code']!r} is listed twice"]}
            elif "target" in item:
                errors[i] = {"target": ["targets belong to an action"]}
            elif "rate_of" in item and item["rate_of"] not in codes:
                errors[i] = {"rate_of": [f"no common indicator {item['rate_of']!r}"]}
        if errors:
            raise ma.ValidationError({"common_indicators": errors})


class ProgrammeSchema(_Strict):
    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[a-z0-9][a-z0-9-]{0,39}$",
                                 error="must be lower-case letters, digits and dashes (≤ 40)"),
    )
    title = _text(300, required=True)
    period_start = TomlDate(required=True)
    period_end = TomlDate(required=True)
    parties = fields.List(fields.Nested(PartySchema), required=True,
                          validate=validate.Length(min=1))
    settings = fields.Nested(ProgrammeSettingsSchema,
                             load_default=lambda: ProgrammeSettingsSchema().load({}))

    @ma.validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        if data["period_end"] < data["period_start"]:
            raise ma.ValidationError("is before period_start", "period_end")
        codes = [p["code"] for p in data["parties"]]
        for i, code in enumerate(codes):
            if code in codes[:i]:
                raise ma.ValidationError({"parties": {i: {"code": [f"{code!r} is listed twice"]}}})


class RequirementSchema(_Strict):
    """One eligibility requirement (cohort.domain.eligibility): exactly one of three shapes."""

    require = fields.String(validate=validate.OneOf(list(FLAGS)))
    require_any = fields.List(fields.String(validate=validate.OneOf(list(FLAGS))),
                              validate=[validate.Length(min=1), _unique])
    age_min = fields.Integer(strict=True, validate=validate.Range(0, 120))
    age_max = fields.Integer(strict=True, validate=validate.Range(0, 120))

    @ma.validates_schema
    def _one_shape(self, data: dict[str, Any], **_: Any) -> None:
        shapes = [k for k in ("require", "require_any") if k in data]
        if "age_min" in data or "age_max" in data:
            shapes.append("age")
        if len(shapes) != 1:
            raise ma.ValidationError(
                "give exactly one of: require, require_any, or age_min and/or age_max")
        if data.get("age_min", 0) > data.get("age_max", 120):
            raise ma.ValidationError("is below age_min", "age_max")


class BudgetSchema(_Strict):
    """Budget lines in euros, as the convention's financial table names them (domain.md §8)."""

    total = NonNegativeNumber(places=2)
    state = NonNegativeNumber(places=2)
    state_effective = NonNegativeNumber(places=2)
    departement = NonNegativeNumber(places=2)
    departement_valuation = NonNegativeNumber(places=2)
    other = NonNegativeNumber(places=2)

    @ma.validates_schema
    def _valuation_within_share(self, data: dict[str, Any], **_: Any) -> None:
        # « dont valorisation »: the valuation is part of the Département's share.
        if data.get("departement_valuation", 0) > data.get("departement", math.inf):
            raise ma.ValidationError("exceeds the departement share", "departement_valuation")


class TargetSchema(_Strict):
    code = _identifier(required=True)
    label_fr = _text(300, required=True)
    value = NonNegativeNumber()
    min = NonNegativeNumber()
    max = NonNegativeNumber()
    unit = _identifier(required=True)

    @ma.validates_schema
    def _value_or_range(self, data: dict[str, Any], **_: Any) -> None:
        has_range = "min" in data or "max" in data
        if ("value" in data) == has_range:
            raise ma.ValidationError("give either value, or min and/or max")
        if data.get("min", 0) > data.get("max", math.inf):
            raise ma.ValidationError("is below min", "max")


INDICATOR_KINDS = frozenset(KINDS)
_EVENT_TYPES = [t.value for t in EventType]
INDICATOR_PARAMS: dict[str, dict[str, list[str]]] = {
    "events_in_enrolment": {"event_types": _EVENT_TYPES},
    "events_on_enrolments": {"event_types": _EVENT_TYPES},
    "people_with_interval": {"family": [f.value for f in Family]},
    "status_on_date": {"status": ["in_pathway", "durable_employment", "stably_housed",
                                  "has_resources"]},
    "followup_checks": {"count": list(FOLLOWUP_COUNTS)},
}


class IndicatorSchema(_Strict):
    """An indicator an action reports: a catalogue kind with parameters, the sheet's label,
    a one-sentence definition, and what is counted against what."""

    code = _identifier(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(sorted(INDICATOR_KINDS)))
    label_fr = _text(300, required=True)
    definition = _text(600, required=True)
    numerator = _text(300, required=True)
    denominator = _text(300)
    rate_of = _identifier()
    target = _identifier()
    breakdowns = fields.List(fields.String(validate=validate.OneOf(["rsa", "under_26"])),
                             validate=_unique)
    params = fields.Dict(keys=fields.String())

    @ma.validates_schema
    def _params_fit_kind(self, data: dict[str, Any], **_: Any) -> None:
        params = data.get("params") or {}
        needed = INDICATOR_PARAMS.get(data.get("kind", ""), {})
        for name, allowed in needed.items():
            if name not in params:
                raise ma.ValidationError(f"required for kind {data['kind']}",
                                         field_name="params")
            values = params[name] if isinstance(params[name], list) else [params[name]]
            bad = [v for v in values if v not in allowed]
            if bad:
                raise ma.ValidationError(f"{name}: unknown value(s) {bad}", field_name="params")
        unknown = set(params) - set(needed) - {"operation_kinds", "reasons"}
        if unknown:
            raise ma.ValidationError(f"unknown parameter(s) {sorted(unknown)}",
                                     field_name="params")


class ActionSettingsSchema(_Strict):
    capacity_units = NonNegativeNumber(positive=True)
    intensity_units = fields.Dict(
        keys=fields.String(validate=validate.OneOf([i.value for i in Intensity])),
        values=NonNegativeNumber(positive=True),
    )
    participant_kind = fields.String(validate=validate.OneOf(["person", "household"]))
    followup_months = fields.Integer(strict=True, validate=validate.Range(1, 60))
    followup_window_before_days = fields.Integer(strict=True, validate=validate.Range(0, 366))
    followup_window_after_days = fields.Integer(strict=True, validate=validate.Range(0, 366))


class ActionSchema(_Strict):
    code = fields.String(
        required=True,
        validate=validate.Regexp(r"^[A-Z0-9][A-Za-z0-9-]{0,19}$",
                                 error="must be letters, digits and dashes (≤ 20), e.g. 62-A1"),
    )
    departement = fields.String(required=True,
                                validate=validate.OneOf([d.value for d in Departement]))
    axis = fields.Integer(strict=True, required=True, validate=validate.OneOf([1, 2]))
    title = _text(300, required=True)
    public = _text(required=True)
    territory = _text(required=True)
    # Required, even when empty: a forgotten rule would silently open the action to anyone.
    eligibility = fields.List(fields.Nested(RequirementSchema), required=True)
    # The structure kinds that run the action (domain.md §2 "Operators"): required and
    # non-empty, so an action cannot silently be open to every structure or to none.
    operators = fields.List(
        fields.String(validate=validate.OneOf([k.value for k in StructureKind])),
        required=True, validate=[validate.Length(min=1), _unique],
    )
    budget = fields.Nested(BudgetSchema, load_default=dict)
    targets = fields.List(fields.Nested(TargetSchema), load_default=list)
    indicators = fields.List(fields.Nested(IndicatorSchema), load_default=list)
    settings = fields.Nested(ActionSettingsSchema, load_default=dict)

    @ma.validates_schema
    def _codes_unique(self, data: dict[str, Any], **_: Any) -> None:
        errors: dict[str, Any] = {}
        for key in ("targets", "indicators"):
            codes = [item["code"] for item in data[key]]
            for i, code in enumerate(codes):
                if code in codes[:i]:
                    errors.setdefault(key, {})[i] = {"code": [f"{code!r} is listed twice"]}
        targets = {t["code"] for t in data["targets"]}
        for i, indicator in enumerate(data["indicators"]):
            if "target" in indicator and indicator["target"] not in targets:
                errors.setdefault("indicators", {}).setdefault(i, {})["target"] = [
                    f"no target {indicator['target']!r} in this action"]
        if errors:
            raise ma.ValidationError(errors)


class PoolingSchema(_Strict):
    """Twin actions of the two départements (and their joint follow-up) pooled in one
    cohort table."""

    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z0-9_-]{1,40}$"))
    label_fr = _text(200, required=True)
    actions = fields.List(fields.String(), required=True,
                          validate=[validate.Length(min=2), _unique])


class ProgrammeFileSchema(_Strict):
    programme = fields.Nested(ProgrammeSchema, required=True)
    actions = fields.List(fields.Nested(ActionSchema), required=True,
                          validate=validate.Length(min=1))

    @ma.validates_schema
    def _action_codes_unique(self, data: dict[str, Any], **_: Any) -> None:
        codes = [a["code"] for a in data["actions"]]
        for i, code in enumerate(codes):
            if code in codes[:i]:
                raise ma.ValidationError({"actions": {i: {"code": [f"{code!r} is listed twice"]}}})
        known = {a["code"]: a["departement"] for a in data["actions"]}
        for i, pooling in enumerate(data["programme"]["settings"]["poolings"]):
            unknown = [code for code in pooling["actions"] if code not in known]
            covered = {known[code] for code in pooling["actions"] if code in known}
            if unknown:
                raise ma.ValidationError({"programme": {"settings": {"poolings": {i: {
                    "actions": [f"unknown action(s): {', '.join(unknown)}"]}}}}})
            if not ({"59", "62"} <= covered or "joint" in covered):
                raise ma.ValidationError({"programme": {"settings": {"poolings": {i: {
                    "actions": ["a pooling covers both départements (59 and 62, or a "
                                "joint action)"]}}}}})
        common = {item["code"] for item in data["programme"]["settings"]["common_indicators"]}
        for i, action in enumerate(data["actions"]):
            for j, item in enumerate(action["indicators"]):
                if item["code"] in common:
                    raise ma.ValidationError({"actions": {i: {"indicators": {j: {"code": [
                        f"{item['code']!r} is already a common indicator"]}}}}})
