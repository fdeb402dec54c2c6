"""Published aggregates computed once (issue 20, part 4): `cohort publish` stores the
protected indicator sets and cohort tables of the standard cuts, and an evaluator's
request for exactly such a cut is answered from the store, the same JSON as live, while
no write since can change its figures (migration 0024's change log: a write dated after
the cut's as-of date leaves it current); anything else is computed live."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort import clock
from cohort.actors import SYSTEM, Actor, Role
from cohort.indicators import queries
from cohort.indicators.cli import publish_command
from cohort.models import AuditEntry, Participant, Programme, PublishedAggregate
from cohort.services import enrolments
from tests.builders import enrol, record, register, runs

INDICATORS = "/api/v1/indicators?programme=erbm-2023&departement=62"
COHORTS = "/api/v1/cohorts?programme=erbm-2023&departement=62"


@pytest.fixture
def world(session: Session, keyring: Any, people: dict[str, Any],
          monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    monkeypatch.setattr(clock, "today", lambda: dt.date(2024, 2, 20))
    who = []
    for i in range(12):
        who.append(register(session, keyring, birth_date=dt.date(1970 + i, 1, 1),
                            ase_past=False))
        enrol(session, keyring, who[-1], "62-A2", runs(session, "62-A2"),
              dt.date(2023, 1 + i, 1), rsa_at_entry=True)
    session.commit()
    return who


def publish(app: Any) -> Any:
    result = app.test_cli_runner().invoke(publish_command, ["--programme", "erbm-2023"])
    assert result.exit_code == 0, result.output
    return result


def stored_rows(session: Session) -> int:
    session.expire_all()
    return session.execute(sa.select(sa.func.count(PublishedAggregate.id))).scalar_one()


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which indicator statements ran: the live computation, spied on."""
    calls: list[str] = []
    compute_action, cohort_table = queries.compute_action, queries.cohort_table

    def spy_indicators(*args: Any, **kwargs: Any) -> Any:
        calls.append("indicators")
        return compute_action(*args, **kwargs)

    def spy_cohorts(*args: Any, **kwargs: Any) -> Any:
        calls.append("cohorts")
        return cohort_table(*args, **kwargs)

    monkeypatch.setattr(queries, "compute_action", spy_indicators)
    monkeypatch.setattr(queries, "cohort_table", spy_cohorts)
    return calls


def last_audit(session: Session) -> dict[str, Any]:
    session.expire_all()
    return session.execute(sa.select(AuditEntry.details).where(
        AuditEntry.action.in_(("indicators.query", "cohorts.query")))
        .order_by(AuditEntry.id.desc()).limit(1)).scalar_one()


def test_a_published_cut_is_served_as_stored_the_same_json_as_live(
        world: list[Any], app: Any, clients: dict[str, Any], session: Session,
        computed: list[str]) -> None:
    evaluator = clients["evaluator"]
    live = {url: evaluator.get(url) for url in (INDICATORS, COHORTS)}
    assert all(r.status_code == 200 for r in live.values()), live
    assert set(computed) == {"indicators", "cohorts"}

    result = publish(app)
    assert "written" in result.output
    assert stored_rows(session) > 0
    computed.clear()
    for url, before in live.items():
        served = evaluator.get(url)
        assert served.status_code == 200
        assert served.get_json() == before.get_json()
        assert last_audit(session)["source"] == "published"
    assert computed == []  # no indicator statement ran
    audit = last_audit(session)
    assert (audit["mode"], audit["departement"]) == ("published", "62")


def test_a_rerun_on_the_same_data_writes_nothing(world: list[Any], app: Any,
                                                  session: Session) -> None:
    publish(app)
    rows = stored_rows(session)
    again = publish(app)
    assert "nothing written" in again.output
    assert stored_rows(session) == rows


def test_a_new_event_makes_the_stored_cut_stale_until_the_next_run(
        world: list[Any], app: Any, clients: dict[str, Any], session: Session,
        keyring: Any, computed: list[str]) -> None:
    publish(app)
    rows = stored_rows(session)
    record(session, keyring, world[0], "contact", dt.date(2023, 3, 1), mode="phone")
    session.commit()
    computed.clear()
    response = clients["evaluator"].get(INDICATORS)
    assert response.status_code == 200
    assert set(computed) == {"indicators"}  # computed live, not served stale
    assert "source" not in last_audit(session)

    again = publish(app)
    assert "nothing written" not in again.output
    assert stored_rows(session) == rows  # each stale body replaced by its new one
    computed.clear()
    assert clients["evaluator"].get(INDICATORS).get_json() == response.get_json()
    assert computed == []


def test_requests_that_match_no_stored_cut_are_live(
        world: list[Any], app: Any, clients: dict[str, Any], session: Session,
        computed: list[str]) -> None:
    publish(app)
    computed.clear()
    for url in (f"{INDICATORS}&as_of=2023-12-31",        # another as-of date
                f"{COHORTS}&as_of=2023-12-31",           # another as-of date
                f"{COHORTS}&actions=62-A2",              # another set of actions
                f"{INDICATORS}&period_from=2023-02-01"):  # another period
        response = clients["evaluator"].get(url)
        assert response.status_code == 200, (url, response.get_json())
        assert computed, url
        assert "source" not in last_audit(session)
        computed.clear()
    # Exact figures are always computed.
    exact = clients["pilot62"].get(f"{INDICATORS}&mode=internal")
    assert exact.status_code == 200, exact.get_json()
    assert computed == ["indicators"] * len(exact.get_json()["actions"])


def test_the_suppression_preview_reads_the_stored_tables_of_every_grain(
        world: list[Any], app: Any, session: Session, computed: list[str]) -> None:
    evaluator = Actor(Role.EVALUATOR)
    args = {"programme": "erbm-2023", "departement": "62"}
    live = queries.suppression_preview(session, evaluator, args, app.config,
                                       today=clock.today())
    publish(app)
    session.expire_all()
    computed.clear()
    served = queries.suppression_preview(session, evaluator, args, app.config,
                                         today=clock.today())
    assert served == live
    assert len([p for p in live if p["available"]]) >= 3
    assert computed == []  # every available grain was published


def end(session: Session, person: Any, day: dt.date) -> None:
    enrolments.end(session, SYSTEM, person.enrolments[0],
                   {"end_date": day, "exit_reason": "employment"},
                   today=dt.date(2024, 2, 20), now=dt.datetime(2024, 2, 20, 9, tzinfo=dt.UTC))


def served_from_store(clients: dict[str, Any], session: Session, computed: list[str]) -> bool:
    computed.clear()
    response = clients["evaluator"].get(INDICATORS)
    assert response.status_code == 200
    return computed == [] and last_audit(session).get("source") == "published"


def test_writes_dated_after_the_as_of_date_leave_the_stored_cut_current(
        world: list[Any], app: Any, clients: dict[str, Any], session: Session,
        keyring: Any, computed: list[str]) -> None:
    """Published as of 2024-01-31 (the end of the last complete month on 20 February):
    this month's events and enrolment ends cannot change its figures, an earlier one can."""
    publish(app)
    record(session, keyring, world[1], "contact", dt.date(2024, 2, 12), mode="phone")
    end(session, world[2], dt.date(2024, 2, 15))
    session.commit()
    assert served_from_store(clients, session, computed)

    end(session, world[3], dt.date(2024, 1, 15))
    session.commit()
    assert not served_from_store(clients, session, computed)


def test_committed_writes_against_a_stored_cut_on_a_real_database(
        backend: str, fresh_database_url: str, keyring: Any) -> None:
    """With real commits (marks numbered as they commit on SQLite): a write dated after
    the as-of date leaves every stored cut current, an earlier one makes them stale. On
    PostgreSQL the earlier one is in flight while `cohort publish` runs: not in the
    stored figures, it must count once committed (SQLite writers do not overlap)."""
    from cohort.config import load_settings
    from cohort.db import make_engine
    from cohort.indicators import published

    engine = make_engine(fresh_database_url)
    settings = load_settings({"DATABASE_URL": fresh_database_url}, env={})
    with Session(engine) as setup, setup.begin():
        person = register(setup, keyring, birth_date=dt.date(1975, 1, 1), ase_past=False)
        enrol(setup, keyring, person, "62-A2", runs(setup, "62-A2"), dt.date(2023, 1, 1),
              rsa_at_entry=True)
        pid = person.id

    def current_cuts() -> int:
        with Session(engine) as reader:
            programme = reader.execute(sa.select(Programme)).scalar_one()
            keys = reader.execute(sa.select(PublishedAggregate.cut_key)).scalars().all()
            return sum(published.current(reader, programme, key) is not None
                       for key in keys)

    def publish_now() -> int:
        with Session(engine) as publisher, publisher.begin():
            return len(queries.publish(publisher, "erbm-2023", settings,
                                       today=dt.date(2024, 2, 20),
                                       now=dt.datetime(2024, 2, 20, 3, tzinfo=dt.UTC)
                                       )["written"])

    def contact(session: Session, day: dt.date) -> None:
        record(session, keyring, session.get(Participant, pid), "contact", day,
               mode="phone")

    stored = publish_now()
    assert stored > 0
    assert current_cuts() == stored
    with Session(engine) as writer, writer.begin():
        contact(writer, dt.date(2024, 2, 12))  # after 2024-01-31, every cut's as-of
    assert current_cuts() == stored

    if backend == "postgresql":
        with Session(engine) as writer:
            contact(writer, dt.date(2023, 6, 1))
            writer.flush()  # written, not committed
            assert publish_now() == 0  # still current: the write is not committed
            writer.commit()
    else:
        with Session(engine) as writer, writer.begin():
            contact(writer, dt.date(2023, 6, 1))
    assert current_cuts() == 0  # the event is dated before every cut's as-of
    assert publish_now() == stored
    assert current_cuts() == stored
    engine.dispose()
