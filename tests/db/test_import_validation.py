"""Import validation ≡ API validation, through the whole events import on each database:
files of generated good and bad rows are imported with the compiled per-shape validation
and again with every row validated by the API's EventCreateSchema; the outcome must be the
same (the same row errors, worded alike, or the same events stored with the same digests),
and every row the schema refuses carries the schema's own messages.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from unittest import mock

import marshmallow as ma
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from cohort.domain.event_types import Boundary, kind_of
from cohort.identity.keyring import Keyring
from cohort.importer import events
from cohort.importer.csvfile import cells_to_dict, pick
from cohort.importer.events import import_events
from cohort.importer.report import ImportFailed, messages_to_errors
from cohort.models import Event
from tests import event_rows
from tests.builders import TODAY, enrol, register, structure
from tests.db.test_import import run, write

ENROLLED = dt.date(2023, 2, 1)
# Types a clean file uses: no link to name, nothing to close.
FREE = [t for t in event_rows.TYPES if kind_of(t).boundary is not Boundary.END
        and not kind_of(t).needs_enrolment and not kind_of(t).needs_operation]
_STORED = (Event.uuid, Event.type, Event.date, Event.attributes, Event.category,
           Event.qualifying, Event.via_programme, Event.planned_months, Event.hours,
           Event.body_sha256)


def _outcome(session: Session, keyring: Keyring, path: Path) -> tuple[Any, ...]:
    nested = session.begin_nested()
    try:
        result = run(import_events, session, keyring, path)
        stored = session.execute(sa.select(*_STORED).order_by(Event.id)).all()
        return ("recorded", result.created, result.unchanged, [tuple(r) for r in stored])
    except ImportFailed as exc:
        return ("refused", [(e.row, e.column, e.reason) for e in exc.row_errors])
    finally:
        nested.rollback()


def _files(participant: str) -> st.SearchStrategy[list[dict[str, str]]]:
    in_range = st.dates(ENROLLED, TODAY).map(lambda d: d.isoformat())
    clean = event_rows.good_cells(participant, dates=in_range, types=FREE)
    return st.one_of(st.lists(clean, min_size=1, max_size=12),
                     st.lists(event_rows.cells(participant), min_size=1, max_size=12))


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_the_import_refuses_and_records_as_the_api_schema_does(
        session: Session, keyring: Keyring, tmp_path: Path, data: st.DataObject) -> None:
    outer = session.begin_nested()
    try:
        youth = register(session, keyring, birth_date=dt.date(2005, 3, 10))
        enrol(session, keyring, youth, "62-A6", structure(session), ENROLLED)
        rows = [{k: v.replace("\x00", "") for k, v in r.items()}
                for r in data.draw(_files(str(youth.uuid)))]
        path = write(tmp_path / "events.csv", event_rows.HEADER,
                     [event_rows.row_of(r) for r in rows])
        compiled = _outcome(session, keyring, path)
        with mock.patch.object(events, "COMPILED", mock.Mock(load=lambda raw: None)):
            assert _outcome(session, keyring, path) == compiled
        for row, values in enumerate(rows, start=2):
            cells, problems = cells_to_dict(row, event_rows.HEADER, event_rows.row_of(values),
                                            events.BOOLEANS)
            raw: dict[str, Any] = pick(cells, ("id", "type", "date", *events.LINKS))
            raw["participant_id"] = cells["participant_id"]
            raw["attributes"] = pick(cells, events.ATTRIBUTES)
            try:
                events.SCHEMA.load(raw)
            except ma.ValidationError as exc:
                assert compiled[0] == "refused"
                expected = {(e.row, e.column, e.reason)
                            for e in messages_to_errors(row, exc.messages)}
                assert expected <= set(compiled[1])
    finally:
        outer.rollback()
