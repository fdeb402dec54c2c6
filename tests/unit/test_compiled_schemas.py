"""The events import validates rows with a schema compiled per shape
(cohort.schemas.compiled): on generated good and bad rows it must accept exactly what the
API's EventCreateSchema accepts, load exactly the same values (the idempotency digest is
computed from them), and report exactly the API's messages.

Parametrised by backend so that both halves of `make test` run it: the wire form of a
prepared row (hours as REAL on SQLite) depends on the database.
"""

from __future__ import annotations

from typing import Any
from unittest import mock

import marshmallow as ma
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cohort.identity.keyring import Keyring
from cohort.importer import events
from cohort.importer.csvfile import cells_to_dict, pick
from cohort.importer.report import messages_to_errors
from cohort.schemas.compiled import CompiledSchema
from cohort.schemas.events import EventCreateSchema
from tests import event_rows

SCHEMA = EventCreateSchema()
PROPERTY = settings(max_examples=400, deadline=None, derandomize=True, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def typed(value: Any) -> Any:
    """A value with every type spelled out, dict key order included: 1 ≠ True ≠ "1"."""
    if isinstance(value, dict):
        return ("dict", [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [typed(v) for v in value])
    return (type(value).__name__, value)


def raw_of(values: dict[str, str]) -> dict[str, Any]:
    """The body the import hands to the schema, built as events.prepare builds it."""
    raw: dict[str, Any] = pick(values, ("id", "type", "date", *events.LINKS))
    raw["participant_id"] = values.get("participant_id", "00000000-0000-0000-0000-000000000000")
    raw["attributes"] = pick(values, events.ATTRIBUTES)
    return raw


def api(raw: dict[str, Any]) -> tuple[str, Any]:
    try:
        return "loaded", typed(SCHEMA.load(raw))
    except ma.ValidationError as exc:
        return "refused", exc.messages


def compiled(raw: dict[str, Any]) -> tuple[str, Any]:
    """As api(), by the compiled schema; a refusal carries no messages (the schema's are
    used then)."""
    loaded = events.COMPILED.load(raw)
    return ("refused",) if loaded is None else ("loaded", typed(loaded))


@st.composite
def unstorable(draw: st.DrawFn) -> dict[str, str]:
    """Cells with a NUL or a lone surrogate somewhere (the API refuses both)."""
    values = draw(event_rows.cells())
    if values:
        name = draw(st.sampled_from(sorted(values)))
        values[name] = values[name] + draw(st.sampled_from(["\x00", "\ud800", "é\udfff"]))
    return values


@PROPERTY
@given(values=st.one_of(event_rows.cells(), event_rows.cells(), unstorable()))
def test_compiled_load_accepts_and_loads_exactly_what_the_schema_does(
        values: dict[str, str]) -> None:
    raw = raw_of(values)
    expected = api(raw)
    assert compiled(raw) == (expected if expected[0] == "loaded" else ("refused",))


@settings(PROPERTY, max_examples=150)
@given(rows=st.lists(event_rows.cells(), min_size=1, max_size=12))
def test_prepared_rows_and_their_errors_are_the_apis(backend: str, keyring: Keyring,
                                                     rows: list[dict[str, str]]) -> None:
    """events.prepare (compiled) gives what it gave when every row went through the schema:
    the same row errors, worded as the API words them, and the same prepared rows (ids,
    dates, wire form, digest)."""
    ctx = events.Context(list(event_rows.HEADER), keyring, backend == "postgresql")
    chunk = [(n, event_rows.row_of(values)) for n, values in enumerate(rows, start=2)]
    prepared = events.prepare(ctx, chunk)
    with mock.patch.object(events, "COMPILED", mock.Mock(load=lambda raw: None)):
        reference = events.prepare(ctx, chunk)
    assert [typed(p) for p in prepared] == [typed(p) for p in reference]
    for (row, cells), result in zip(chunk, prepared, strict=True):
        values, errors = cells_to_dict(row, ctx.columns, cells, events.BOOLEANS)
        verdict = api(raw_of(values))
        if not errors and verdict[0] == "refused":  # the API's messages are all there
            assert isinstance(result, list)
            assert set(messages_to_errors(row, verdict[1])) <= set(result)


def test_every_listed_value_in_every_column_of_every_type() -> None:
    """Each value of tests/event_rows.py's lists, in each column, on a row of each type
    otherwise valid: not left to chance."""
    uuid_values = [*event_rows.BAD_UUIDS, "12345678123456781234567812345678",
                   "{12345678-1234-5678-1234-567812345678}", "URN:UUID:12345678-1234-5678-1234"
                   "-567812345678", "12345678-1234-5678-1234-567812345678\x00", "é\ud800"]
    date_values = [*event_rows.BAD_DATES, "2024-02-29", "2023-02-29", "2023-01-05\x00",
                   "2023-01-0\udfff"]
    attribute_values = sorted({*event_rows.BOOLEAN_WORDS, *event_rows.INTEGERS,
                               *event_rows.DECIMALS, *event_rows.TEXTS, "", "é\ud800",
                               *(c for own in event_rows.OWN.values() for f in own.values()
                                 for c in event_rows._choices(f))})
    cases = 0
    for type_ in event_rows.TYPES:
        base = {"id": "12345678-1234-5678-1234-567812345678", "type": type_,
                "date": "2024-01-31", "participant_id": "12345678-1234-5678-1234-56781234567a"}
        for name in ("id", "participant_id", *event_rows.LINKS):
            for value in uuid_values:
                assert_same({**base, name: value})
                cases += 1
        for value in date_values:
            assert_same({**base, "date": value})
            cases += 1
        own = event_rows.OWN[event_rows.EventType(type_)]
        required = {n: next(iter(event_rows._choices(f)), event_rows.GOOD.get(n))
                    for n, f in own.items() if f.required}
        for name in event_rows.FIELDS:
            for value in attribute_values:
                assert_same({**base, **required, name: value})
                cases += 1
    assert cases > 20_000


def assert_same(values: dict[str, str]) -> None:
    raw = raw_of(values)
    expected = api(raw)
    assert compiled(raw) == (expected if expected[0] == "loaded" else ("refused",)), values


def test_every_event_type_is_compiled() -> None:
    """No schema of an event falls back as a whole (a hook the compiler does not know)."""
    assert events.COMPILED.common.compiled
    assert all(c.compiled for c in events.COMPILED.attributes.values())


def test_a_schema_with_an_unknown_hook_is_left_to_marshmallow() -> None:
    class Hooked(EventCreateSchema):
        @ma.validates("date")
        def _no_sunday(self, value: Any, **_: Any) -> None:
            if value.weekday() == 6:
                raise ma.ValidationError("not on a Sunday")

    compiled = CompiledSchema(Hooked(), replaced_post_load=("_type_attributes",))
    assert not compiled.compiled
    assert compiled.load({"id": "x"}) is None


@pytest.mark.parametrize("hours", ["0.005", "10.125", "1e1", "80.00", "-0", "NaN"])
def test_decimal_hours_load_as_the_api_loads_them(hours: str) -> None:
    """The hours attribute is kept as the API's exact text (the digest hashes it)."""
    raw = raw_of({"id": "12345678-1234-5678-1234-567812345678", "type": "clause_hours",
                  "date": "2024-01-31", "hours": hours,
                  "operation_id": "12345678-1234-5678-1234-567812345679"})
    expected = api(raw)
    assert compiled(raw) == (expected if expected[0] == "loaded" else ("refused",))


# --- the enrolments and participants imports' schemas -------------------------------------

TEXT_CELLS = ["x", "Dupont", "Jean-Éric", "x" * 20, "x" * 21, "x" * 31, "x" * 201, "59", "2A",
              "975", "123456789", "12345678", "1 80 05 75 123 456 78", "a@b.fr", "a@b",
              "not-an-email", "é@exemple.fr", "x" * 250 + "@b.fr", "0612345678", "a\x00b",
              "é\ud800", "F", "M", "U", "m"]


def flat_cell(field: Any) -> st.SearchStrategy[str]:
    """A cell for one field of a flat schema, by the field's kind."""
    from marshmallow import fields

    if isinstance(field, fields.UUID):
        return event_rows.uuids()
    if isinstance(field, fields.Date):
        return event_rows.dates()
    if isinstance(field, fields.Boolean):
        return st.sampled_from(event_rows.BOOLEAN_WORDS)
    if isinstance(field, fields.Integer):
        return st.sampled_from(event_rows.INTEGERS)
    choices = event_rows._choices(field)
    return st.one_of(st.sampled_from(choices or TEXT_CELLS), st.sampled_from(TEXT_CELLS),
                     st.text(max_size=40))


GOOD_TEXT = {"last_name": "Dupont", "first_names": "Jean Éric", "nir": "1800575123456",
             "caf_number": "1234567", "phone": "06 12 34 56 78", "email": "a.b@exemple.fr",
             "home_departement": "2A", "home_epci": "200093201"}


def good_flat_cell(name: str, field: Any) -> st.SearchStrategy[str]:
    from marshmallow import fields

    if isinstance(field, fields.UUID):
        return st.uuids().map(str)
    if isinstance(field, fields.Date):
        return st.dates().map(lambda d: d.isoformat())
    if isinstance(field, fields.Boolean):
        return st.sampled_from(["true", "false", "1", "0", "yes", "False"])
    if isinstance(field, fields.Integer):
        return st.integers(-3, 99).map(str)
    choices = event_rows._choices(field)
    return st.sampled_from(choices or [GOOD_TEXT.get(name, "quelque chose")])


@st.composite
def flat_rows(draw: st.DrawFn, schema: ma.Schema) -> dict[str, str]:
    """Rows of a flat schema: good ones (required fields present, good values), and rows of
    anything in any field."""
    # A CSV cell is flat: the API's nested `participant` key never comes from a file; the
    # file's participant_id is always given (the import resolves its references to it).
    names = [n for n, f in schema.load_fields.items()
             if not isinstance(f, ma.fields.List | ma.fields.Nested)]
    if draw(st.booleans()):
        return {n: draw(good_flat_cell(n, schema.load_fields[n])) for n in names
                if schema.load_fields[n].required or n == "participant_id"
                or draw(st.booleans())}
    out = {n: draw(flat_cell(schema.load_fields[n])) for n in names
           if draw(st.integers(0, 3)) or schema.load_fields[n].required and draw(st.booleans())}
    if not draw(st.integers(0, 9)):
        out["unknown_column"] = "x"
    return out


def _flat_schemas() -> list[ma.Schema]:
    from cohort.importer import enrolments, participants

    return [enrolments.ENROL, enrolments.END, participants.SCHEMA]


@pytest.mark.parametrize("schema", _flat_schemas(), ids=lambda s: type(s).__name__)
def test_the_other_imports_schemas_compiled_accept_and_load_as_themselves(
        schema: ma.Schema) -> None:
    compiled_schema = CompiledSchema(schema)
    assert compiled_schema.compiled
    seen = {"loaded": 0, "refused": 0}

    @settings(max_examples=200, deadline=None, derandomize=True, database=None)
    @given(raw=flat_rows(schema))
    def check(raw: dict[str, str]) -> None:
        try:
            expected: tuple[Any, ...] = ("loaded", typed(schema.load(raw)))
        except ma.ValidationError:
            expected = ("refused",)
        loaded = compiled_schema.load(raw)
        assert (("refused",) if loaded is None else ("loaded", typed(loaded))) == expected
        seen[expected[0]] += 1

    check()
    assert min(seen.values()) > 20  # both sides of the property were exercised


def test_a_row_naming_the_person_by_a_nested_key_falls_back_to_the_schema() -> None:
    """The API's `participant` (identity or NIR, issue 22) is read by the schema itself;
    the rows that do not give it are still compiled."""
    from cohort.importer import enrolments, events

    assert events.COMPILED.common.compiled  # EventCreateSchema has the same nested key
    compiled_schema = CompiledSchema(enrolments.ENROL)
    assert compiled_schema.compiled
    row = {"participant": {"nir": "1"}, "action_id": "12345678-1234-5678-1234-56781234567a",
           "structure_id": "12345678-1234-5678-1234-56781234567b", "start_date": "2024-01-02",
           "rsa_at_entry": "false"}
    assert compiled_schema.load(row) is None
    flat = {**{k: v for k, v in row.items() if k != "participant"},
            "participant_id": "12345678-1234-5678-1234-56781234567c"}
    assert typed(compiled_schema.load(flat)) == typed(enrolments.ENROL.load(flat))
