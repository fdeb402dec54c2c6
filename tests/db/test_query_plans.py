"""The heavy indicator queries seek one person's rows; they never walk an index per person
(issue 23: 62-A6's `link_person_by_deadline` walked `(type, date, participant_id)` once per
person, 24 of 31 s at 1M events on SQLite). Read with `EXPLAIN QUERY PLAN` on a populated,
analysed database; SQLite only (PostgreSQL's plans are measured by bench/indicators.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.db import core
from cohort.indicators.base import Cut
from cohort.indicators.engine import compute_action
from cohort.reference import actions_of, programme_by_code
from tests.builders import action, enrol, record, register, runs

D = dt.date


@pytest.fixture
def populated(session: Session, keyring: Any, backend: str) -> Session:
    if backend != "sqlite":
        pytest.skip("EXPLAIN QUERY PLAN is SQLite's; bench/indicators.py measures PostgreSQL")
    where = runs(session, "62-A6")
    for n in range(120):
        person = register(session, keyring, ase_past=True, home_departement="62",
                          birth_date=D(2005, 1 + n % 12, 1 + n % 27))
        enrol(session, keyring, person, "62-A6", where, D(2023, 1 + n % 12, 2))
        for k in range(6):
            record(session, keyring, person, "contact", D(2023, 1 + (n + k) % 12, 3 + k),
                   mode="phone")
        if n % 3 == 0:
            record(session, keyring, person, "link_person_chosen", D(2023, 12, 10))
    session.flush()
    core(session).exec_driver_sql("ANALYZE")
    return session


def test_link_person_by_deadline_seeks_each_persons_events(populated: Session) -> None:
    session = populated
    captured: list[tuple[str, Any]] = []
    connection = core(session)

    def capture(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if "link_person_chosen" in str(parameters):
            captured.append((statement, parameters))

    sa.event.listen(connection, "before_cursor_execute", capture)
    try:
        programme = programme_by_code(session, "erbm-2023")
        a6 = next(a for a in actions_of(session, programme) if a.code == "62-A6")
        compute_action(session, programme, a6, Cut(period_from=D(2023, 1, 1),
                                                   period_to=D(2023, 12, 31),
                                                   as_of=D(2024, 1, 31)))
    finally:
        sa.event.remove(connection, "before_cursor_execute", capture)
    assert captured, "the indicator's statement was not seen"
    assert action(session, "62-A6") is not None
    for statement, parameters in captured:
        plan = [row[3] for row in connection.exec_driver_sql(
            "EXPLAIN QUERY PLAN " + statement, parameters).all()]
        # A walk: the whole table, or an index searched by type alone (every person's
        # events of that type, read again for each person).
        walks = [line for line in plan if "event_interval" not in line and (
            (line.startswith("SCAN") and "event" in line)
            or ("ix_event_type" in line and "participant_id=?" not in line))]
        assert walks == [], plan
        assert any("ix_event_type_participant_date" in line
                   and "participant_id=?" in line for line in plan), plan
