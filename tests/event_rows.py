"""Generated rows of an events file, good and bad, for the tests that compare the import's
compiled validation with the API's schema (tests/unit/test_compiled_schemas.py,
tests/db/test_import_validation.py)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st
from marshmallow import fields, validate

from cohort.domain.enums import EventType
from cohort.importer import events

TYPES = [t.value for t in EventType]
LINKS = ("enrolment_id", "operation_id", "closes")
HEADER = ["id", "participant_id", "type", "date", *LINKS, *events.ATTRIBUTES]
FIELDS = events._ATTRIBUTE_FIELDS
# Each type's attribute fields (two types have a "reason", of different kinds).
OWN = {t: dict(cls().fields) for t, cls in events.ATTRIBUTE_SCHEMAS.items()}
GOOD = {"child_birth_month": "2023-05", "level": "2", "hours": "12.5", "qualifying": "oui",
        "reason": "absent"}

BAD_UUIDS = ["not-a-uuid", "1234", "0" * 31, "g" * 32, "0000_0000_0000_0000_0000_0000_0000",
             "{12345678-1234-5678-1234-567812345678", "12345678-1234-5678-1234-5678123456789"]
BAD_DATES = ["2023-02-30", "20230105", "2023-1-05", "2023-01-05T00:00", "٢٠٢٣-٠١-٠٥",
             "0000-01-01", "2023/01/05", "2023-13-01", "yesterday"]
BOOLEAN_WORDS = ["true", "false", "oui", "non", "Oui", "NON", "yes", "no", "1", "0", "TRUE",
                 "On", "off", "t", "F", "maybe", "vrai", "2"]
INTEGERS = ["1", "4", "5", "0", "600", "601", "-1", "1.5", "1_0", "٣", "abc", "1e2", "+3",
            "007", "99999999999999999999999"]
DECIMALS = ["10", "10.005", "10.5", "1e3", "NaN", "Infinity", "-Infinity", "-0", "80",
            "80.001", "80.00", "0.00", "0", "10000", "10000.001", "9999.999", "abc", "1,5",
            "0.001", "0.004", "0.005", "-1", "1_000", "٣", "35.125", ".5", "5."]
TEXTS = ["absent", "x", "x" * 500, "x" * 501, "a\x00b", "été", "=cmd", "2023-05"]


def uuids() -> st.SearchStrategy[str]:
    good = st.uuids().map(str)
    return st.one_of(good, good, good, st.uuids().map(lambda u: u.hex),
                     st.uuids().map(lambda u: str(u).upper()),
                     st.uuids().map(lambda u: f"{{{u}}}"),
                     st.uuids().map(lambda u: f"urn:uuid:{u}"), st.sampled_from(BAD_UUIDS))


def dates() -> st.SearchStrategy[str]:
    good = st.dates().map(lambda d: d.isoformat())
    return st.one_of(good, good, good, st.sampled_from(BAD_DATES))


def _choices(field: fields.Field) -> list[str]:
    return next((list(v.choices) for v in field.validators if isinstance(v, validate.OneOf)),
                [])


def attribute_value(name: str, field: fields.Field | None = None
                    ) -> st.SearchStrategy[str]:
    """A cell for one attribute column: mostly what its field accepts, sometimes not."""
    field = field or FIELDS[name]
    if isinstance(field, fields.Boolean):
        return st.sampled_from(BOOLEAN_WORDS)
    if isinstance(field, fields.Integer):
        return st.one_of(st.sampled_from(INTEGERS), st.integers(-5, 700).map(str))
    if isinstance(field, fields.Decimal):
        return st.one_of(st.sampled_from(DECIMALS),
                         st.decimals(min_value=-1, max_value=10001, places=3,
                                     allow_nan=False).map(str))
    choices = _choices(field)
    if choices:
        return st.one_of(st.sampled_from(choices), st.sampled_from(choices),
                         st.sampled_from([*(c.upper() for c in choices), "other_thing"]))
    if name == "child_birth_month":
        return st.sampled_from(["2023-05", "2023-12", "2023-13", "2023-5", "abcd-01", "2023-00"])
    return st.one_of(st.sampled_from(TEXTS), st.text(min_size=1, max_size=12))


def good_value(name: str, field: fields.Field) -> st.SearchStrategy[str]:
    """A cell its field accepts, in the forms a spreadsheet gives."""
    if isinstance(field, fields.Boolean):
        return st.sampled_from(["true", "false", "oui", "non", "Oui", "NON", "1", "0", "yes"])
    if isinstance(field, fields.Integer):
        bounds = next(v for v in field.validators if isinstance(v, validate.Range))
        return st.integers(bounds.min, bounds.max).map(str)
    if isinstance(field, fields.Decimal):
        return st.decimals(min_value="0.01", max_value=80, places=2).map(str)
    choices = _choices(field)
    if choices:
        return st.sampled_from(choices)
    if name == "child_birth_month":
        return st.dates().map(lambda d: d.strftime("%Y-%m"))
    return st.text(st.characters(codec="utf-8", exclude_characters="\x00"), min_size=1,
                   max_size=30)


@st.composite
def good_cells(draw: st.DrawFn, participant: str | None = None,
               dates: st.SearchStrategy[str] | None = None,
               types: list[str] | None = None) -> dict[str, str]:
    """A row the API's schema accepts, most of the time (a fixed-term contract may lack its
    duration)."""
    type_ = draw(st.sampled_from(types or TYPES))
    out = {"id": draw(st.uuids().map(str)),
           "participant_id": participant or draw(st.uuids().map(str)),
           "type": type_,
           "date": draw(st.dates().map(lambda d: d.isoformat()) if dates is None else dates)}
    for name, field in OWN[EventType(type_)].items():
        if field.required or draw(st.booleans()):
            out[name] = draw(good_value(name, field))
    return out


@st.composite
def cells(draw: st.DrawFn, participant: str | None = None) -> dict[str, str]:
    """One row's non-empty cells by column (an absent column is an empty cell): good,
    or good but for one cell, or anything."""
    how = draw(st.integers(0, 3))
    if how < 2:
        out = draw(good_cells(participant))
        if how == 1:  # one cell made bad, or taken away, or one cell added
            name = draw(st.sampled_from(HEADER))
            if name in ("id", "participant_id", *LINKS):
                out[name] = draw(uuids())
            elif name == "date":
                out[name] = draw(dates())
            elif name == "type":
                out[name] = draw(st.sampled_from(["Contact", "unknown", *TYPES]))
            elif draw(st.booleans()):
                out.pop(name, None)
            else:
                own = OWN[EventType(out["type"])] if out.get("type") in TYPES else {}
                out[name] = draw(attribute_value(name, own.get(name)))
        return out
    out = {}
    if draw(st.integers(0, 19)):
        out["id"] = draw(uuids())
    if participant is not None:
        out["participant_id"] = participant
    elif draw(st.integers(0, 19)):
        out["participant_id"] = draw(uuids())
    type_ = draw(st.one_of(st.sampled_from(TYPES), st.sampled_from(TYPES),
                           st.sampled_from(["Contact", "unknown", "housing"])))
    if draw(st.integers(0, 19)):
        out["type"] = type_
    if draw(st.integers(0, 19)):
        out["date"] = draw(dates())
    for link in LINKS:
        if not draw(st.integers(0, 5)):
            out[link] = draw(uuids())
    own = OWN[EventType(type_)] if type_ in TYPES else {}
    for name, field in own.items():
        if draw(st.integers(0, 5)):
            out[name] = draw(attribute_value(name, field))
    if not draw(st.integers(0, 4)):
        other = draw(st.sampled_from(events.ATTRIBUTES))
        out[other] = draw(attribute_value(other))
    return out


def row_of(values: dict[str, Any]) -> list[str]:
    return [values.get(name, "") for name in HEADER]
