"""Six-month follow-up checks on both databases, with `today` passed in (time travel).

Scheduling at end + 6 months (31 August → 29 February), the state boundaries (the day
before, of and after each), moves on correction and reopening, cancellation on erasure,
recording a result (events written only where the status differs, nothing when not
reached), optimistic locking, the overdue sweep and its alerts, and the indicator counts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from cohort.actors import SYSTEM, Actor
from cohort.auth import actor_for
from cohort.db import make_engine, make_sessionmaker, unit_of_work
from cohort.domain.followup import CheckState, state_on
from cohort.errors import Conflict, Forbidden, NotFound, Rejected
from cohort.indicators.followup_counts import followup_counts
from cohort.models import Alert, Enrolment, Event, EventInterval, FollowUpCheck, Notification
from cohort.services import enrolments, followups, lifecycle, notify
from tests.builders import NOW, TODAY, action, enrol, record, register, structure

EXIT = dt.date(2023, 8, 31)


def _actor(people: dict[str, Any], login: str) -> Actor:
    user = people["users"][login][0]
    return actor_for(user, user.structure)


def _ended(session: Session, keyring: Any, where: Any, *, end: dt.date = EXIT,
           code: str = "62-A6", **identity: Any) -> tuple[Any, Enrolment, FollowUpCheck]:
    """An ASE youth of the Pas-de-Calais enrolled on 1 Feb 2023 and ended on `end`."""
    identity.setdefault("home_departement", "62")
    youth = register(session, keyring, **identity)
    enrolment = enrol(session, keyring, youth, code, where, dt.date(2023, 2, 1))
    enrolments.end(session, SYSTEM, enrolment, {"end_date": end, "exit_reason": "end_of_support"},
                   today=TODAY, now=NOW)
    check = followups.live_check(session, enrolment.id)
    assert check is not None
    return youth, enrolment, check


def _result(check: FollowUpCheck, outcome: str = "reached", date: str = "2024-03-01",
            **extra: Any) -> dict[str, Any]:
    return {"expected_version": check.version, "date": dt.date.fromisoformat(date),
            "outcome": outcome, "attempts": extra.pop("attempts", None),
            "situation": extra.pop("situation", None), **extra}


def _intervals(session: Session, participant_id: int) -> set[tuple[str, dt.date, dt.date | None]]:
    rows = session.execute(
        sa.select(EventInterval.family, EventInterval.start_date, EventInterval.end_date)
        .where(EventInterval.participant_id == participant_id, EventInterval.valid_to.is_(None))
    ).all()
    return {(r.family, r.start_date, r.end_date) for r in rows}


# --- scheduling ----------------------------------------------------------------------------

def test_an_exit_on_31_august_is_followed_up_on_29_february(session: Session,
                                                           keyring: Any) -> None:
    _, enrolment, check = _ended(session, keyring, structure(session))
    assert check.due_date == dt.date(2024, 2, 29)
    assert check.window_start == dt.date(2024, 2, 14)  # −15 days
    assert check.window_end == dt.date(2024, 4, 14)  # +45 days
    assert (check.status, check.structure_id, check.action_id) == (
        "scheduled", enrolment.structure_id, enrolment.action_id)


@pytest.mark.parametrize(("today", "state"), [
    ("2024-02-13", CheckState.UPCOMING),  # the day before the window opens
    ("2024-02-14", CheckState.DUE),  # the day it opens
    ("2024-02-15", CheckState.DUE),
    ("2024-02-29", CheckState.DUE),  # the due date itself
    ("2024-04-13", CheckState.DUE),
    ("2024-04-14", CheckState.DUE),  # due + 45 days: still due
    ("2024-04-15", CheckState.OVERDUE),  # the day after
])
def test_the_state_moves_at_the_window_boundaries(session: Session, keyring: Any,
                                                  people: dict[str, Any], today: str,
                                                  state: CheckState) -> None:
    day = dt.date.fromisoformat(today)
    coordinator = _actor(people, "coord_ml")
    _, _, check = _ended(session, keyring, people["structures"]["ml"])
    assert state_on(check.status, check.window_start, check.window_end, day) is state
    counts = followups.state_counts(session, coordinator, {}, today=day)
    assert counts[state.value] == 1
    assert sum(counts.values()) == 1
    listed = session.execute(followups.worklist_query(
        coordinator, {"state": [state.value]}, today=day)).scalars().all()
    assert [c.id for c in listed] == [check.id]
    assert followups.check_views(session, listed, today=day)[0]["state"] == state.value


def test_the_window_comes_from_the_action_then_the_programme(session: Session,
                                                             keyring: Any) -> None:
    a6 = action(session, "62-A6")
    a6.settings = {**a6.settings, "followup_months": 3, "followup_window_after_days": 30}
    a6.programme.settings = {**a6.programme.settings, "followup_window_before_days": 10}
    session.flush()
    _, _, check = _ended(session, keyring, structure(session), end=dt.date(2023, 11, 30))
    assert check.due_date == dt.date(2024, 2, 29)  # 30 Nov + 3 months, clamped
    assert check.window_start == dt.date(2024, 2, 19)
    assert check.window_end == dt.date(2024, 3, 30)


def test_correcting_the_end_moves_the_check_and_reopening_cancels_it(session: Session,
                                                                     keyring: Any) -> None:
    _, enrolment, check = _ended(session, keyring, structure(session))
    enrolments.correct_end(session, SYSTEM, enrolment, {"end_date": dt.date(2023, 9, 30)},
                           today=TODAY, now=NOW)
    assert followups.live_check(session, enrolment.id) is check
    assert (check.due_date, check.window_start, check.window_end) == (
        dt.date(2024, 3, 30), dt.date(2024, 3, 15), dt.date(2024, 5, 14))
    assert enrolment.exit_reason == "end_of_support"

    enrolments.correct_end(session, SYSTEM, enrolment, {"end_date": None}, today=TODAY, now=NOW)
    assert (check.status, check.cancel_reason) == ("cancelled", "reopened")
    assert followups.live_check(session, enrolment.id) is None

    enrolments.end(session, SYSTEM, enrolment, {"end_date": dt.date(2023, 12, 15),
                                                "exit_reason": "employment"},
                   today=TODAY, now=NOW)
    again = followups.live_check(session, enrolment.id)
    assert again is not None
    assert again.id != check.id
    assert again.due_date == dt.date(2024, 6, 15)


def test_a_done_check_stays_where_it_was_done(session: Session, keyring: Any,
                                              people: dict[str, Any]) -> None:
    _, enrolment, check = _ended(session, keyring, people["structures"]["ml"])
    followups.record_result(session, keyring, _actor(people, "coord_ml"), check.uuid,
                            _result(check, "refused"), today=TODAY, now=NOW)
    enrolments.correct_end(session, SYSTEM, enrolment, {"end_date": dt.date(2023, 9, 30)},
                           today=TODAY, now=NOW)
    assert (check.status, check.due_date) == ("done", dt.date(2024, 2, 29))


def test_erasure_cancels_the_checks_or_deletes_them_with_the_pathway(
        session: Session, keyring: Any) -> None:
    where = structure(session)
    kept, _, kept_check = _ended(session, keyring, where)
    lifecycle.erase(session, SYSTEM, kept, mode=lifecycle.KEEP_PATHWAY, cause="request",
                    now=NOW, ledger=None)
    assert (kept_check.status, kept_check.cancel_reason) == ("cancelled", "erased")

    gone, enrolment, _ = _ended(session, keyring, where)
    record(session, keyring, gone, "support_break", dt.date(2023, 5, 2),
           enrolment_id=enrolment.uuid, reason="absent")
    gone_id = gone.id
    lifecycle.erase(session, SYSTEM, gone, mode=lifecycle.DELETE_PATHWAY, cause="request",
                    now=NOW, ledger=None)
    for model in (FollowUpCheck, Alert):
        assert session.execute(sa.select(sa.func.count()).select_from(model).where(
            model.participant_id == gone_id)).scalar_one() == 0

    # The sweep never schedules a check for an erased participant.
    assert followups.sweep(session, today=TODAY, now=NOW).scheduled == 0


# --- recording a result --------------------------------------------------------------------

def test_a_reached_check_writes_only_what_differs_and_changes_the_status(
        session: Session, keyring: Any, people: dict[str, Any]) -> None:
    youth, _, check = _ended(session, keyring, people["structures"]["ml"])
    record(session, keyring, youth, "housing_entry", dt.date(2023, 2, 10),
           housing_type="youth_residence")
    record(session, keyring, youth, "training_start", dt.date(2023, 3, 1), qualifying=True)
    record(session, keyring, youth, "resource_start", dt.date(2023, 2, 1),
           resource="young_adult_allowance")
    before = _intervals(session, youth.id)
    assert before == {("housing", dt.date(2023, 2, 10), None),
                      ("training", dt.date(2023, 3, 1), None),
                      ("resource", dt.date(2023, 2, 1), None)}

    day = dt.date(2024, 3, 1)
    situation = {"employment": {"contract": "cdi", "planned_months": None,
                                "hours_per_week": None},
                 "training": None, "housing_type": "social_rental",
                 "resources": ["young_adult_allowance"]}
    result = followups.record_result(session, keyring, _actor(people, "coord_ml"), check.uuid,
                                     _result(check, situation=situation), today=TODAY, now=NOW)
    assert result.created

    written = session.execute(sa.select(Event.type, Event.date, Event.category).where(
        Event.uuid.in_([uuid.UUID(e) for e in check.event_ids]))).all()
    assert sorted(written) == [("employment_start", day, "cdi"),
                               ("housing_entry", day, "social_rental"),
                               ("training_end", day, None)]
    assert _intervals(session, youth.id) == {
        ("housing", dt.date(2023, 2, 10), None),  # still open: the new entry is the latest
        ("housing", day, None),
        ("training", dt.date(2023, 3, 1), day),  # closed on the check date
        ("resource", dt.date(2023, 2, 1), None),  # already matched: untouched
        ("employment", day, None),
    }
    assert (check.status, check.outcome, check.checked_on) == ("done", "reached", day)
    assert (check.in_pathway, check.durable_employment, check.stably_housed,
            check.has_resources) == (True, True, True, True)


def test_a_situation_that_already_matches_writes_nothing(session: Session, keyring: Any,
                                                         people: dict[str, Any]) -> None:
    youth, _, check = _ended(session, keyring, people["structures"]["ml"])
    record(session, keyring, youth, "training_start", dt.date(2023, 9, 1), qualifying=False)
    record(session, keyring, youth, "housing_entry", dt.date(2023, 9, 1), housing_type="family")
    events_before = session.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one()
    intervals_before = _intervals(session, youth.id)
    situation = {"employment": None, "training": {"qualifying": False}, "school": False,
                 "scheme": None, "housing_type": "family", "resources": []}
    followups.record_result(session, keyring, _actor(people, "coord_ml"), check.uuid,
                            _result(check, situation=situation), today=TODAY, now=NOW)
    assert session.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one() == (
        events_before)
    assert _intervals(session, youth.id) == intervals_before
    assert check.event_ids == []
    assert (check.in_pathway, check.durable_employment, check.stably_housed,
            check.has_resources) == (True, False, False, False)


@pytest.mark.parametrize(("outcome", "attempts"), [("not_reached", 3), ("refused", None)])
def test_a_check_that_did_not_reach_writes_no_event(session: Session, keyring: Any,
                                                    people: dict[str, Any], outcome: str,
                                                    attempts: int | None) -> None:
    youth, _, check = _ended(session, keyring, people["structures"]["ml"])
    events_before = session.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one()
    followups.record_result(session, keyring, _actor(people, "coord_ml"), check.uuid,
                            _result(check, outcome, attempts=attempts), today=TODAY, now=NOW)
    assert session.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one() == (
        events_before)
    assert (check.status, check.outcome, check.attempts, check.situation) == (
        "done", outcome, attempts, None)
    assert check.in_pathway is None


def test_the_check_date_is_inside_the_window_and_not_in_the_future(
        session: Session, keyring: Any, people: dict[str, Any]) -> None:
    _, _, check = _ended(session, keyring, people["structures"]["ml"])
    coordinator = _actor(people, "coord_ml")
    with pytest.raises(Rejected) as early:
        followups.record_result(session, keyring, coordinator, check.uuid,
                                _result(check, "refused", date="2024-02-13"),
                                today=TODAY, now=NOW)
    assert early.value.field == "date"
    with pytest.raises(Rejected):
        followups.record_result(session, keyring, coordinator, check.uuid,
                                _result(check, "refused", date="2024-06-16"),
                                today=TODAY, now=NOW)


def test_two_coordinators_cannot_both_record_a_check(session: Session, keyring: Any,
                                                     people: dict[str, Any]) -> None:
    _, _, check = _ended(session, keyring, people["structures"]["ml"])
    first = _actor(people, "coord_ml")
    read_version = check.version
    situation = {"employment": {"contract": "cdi", "planned_months": None,
                                "hours_per_week": None}}
    body = _result(check, situation=situation)
    followups.record_result(session, keyring, first, check.uuid, body, today=TODAY, now=NOW)
    assert check.version == read_version + 1

    # The same result sent again by the same person (a retry) is not recorded twice.
    replay = followups.record_result(session, keyring, first, check.uuid, dict(body),
                                     today=TODAY, now=NOW)
    assert not replay.created

    with pytest.raises(Conflict) as conflict:
        followups.record_result(session, keyring, first, check.uuid,
                                _result(check, "refused") | {"expected_version": read_version},
                                today=TODAY, now=NOW)
    assert conflict.value.status == 409

    _, _, other = _ended(session, keyring, people["structures"]["ml"])
    with pytest.raises(Conflict):
        followups.record_result(session, keyring, first, other.uuid,
                                _result(other, "refused") | {"expected_version": 7},
                                today=TODAY, now=NOW)


def test_the_version_column_refuses_a_lost_update(fresh_database_url: str, keyring: Any) -> None:
    engine = make_engine(fresh_database_url)
    factory = make_sessionmaker(engine)
    try:
        with unit_of_work(factory) as s:
            _, _, check = _ended(s, keyring, structure(s))
            check_id = check.id
        with factory() as one, factory() as two:
            # Both read version 1 (one transaction at a time: SQLite writers queue).
            b = two.get(FollowUpCheck, check_id)
            two.commit()
            a = one.get(FollowUpCheck, check_id)
            assert a is not None
            assert b is not None
            a.attempts = 1
            one.commit()
            b.attempts = 2
            with pytest.raises(StaleDataError):
                two.commit()
    finally:
        engine.dispose()


def test_checks_are_scoped_to_the_structure(session: Session, keyring: Any,
                                            people: dict[str, Any]) -> None:
    _, _, check = _ended(session, keyring, people["structures"]["ml"])
    with pytest.raises(NotFound):
        followups.record_result(session, keyring, _actor(people, "coord_plie"), check.uuid,
                                _result(check, "refused"), today=TODAY, now=NOW)
    assert followups.state_counts(session, _actor(people, "coord_plie"), {},
                                  today=TODAY)["overdue"] == 0
    with pytest.raises(Forbidden):
        followups.worklist_query(_actor(people, "referent62"), {}, today=TODAY)
    with pytest.raises(Forbidden):
        followups.record_result(session, keyring, _actor(people, "evaluator"), check.uuid,
                                _result(check, "refused"), today=TODAY, now=NOW)


# --- sweep, alerts, digests -------------------------------------------------------------------

def test_the_sweep_alerts_on_overdue_ase_checks_once(session: Session, keyring: Any,
                                                     people: dict[str, Any]) -> None:
    where = people["structures"]["ml"]
    _, _, ase_check = _ended(session, keyring, where)
    _, _, adult_check = _ended(session, keyring, people["structures"]["plie"], code="62-A1",
                               ase_past=False)
    # An enrolment ended outside the service (a CSV import) gets its check from the sweep.
    youth = register(session, keyring, home_departement="62")
    imported = enrol(session, keyring, youth, "62-A6", where, dt.date(2023, 2, 1))
    imported.end_date, imported.exit_reason = EXIT, "lost_contact"
    session.flush()

    last_due_day = dt.date(2024, 4, 14)
    assert followups.sweep(session, today=last_due_day, now=NOW) == followups.Swept(1, 0)
    swept = followups.sweep(session, today=last_due_day + dt.timedelta(days=1), now=NOW)
    assert swept == followups.Swept(0, 2)  # the two ASE youths, not the adult
    assert followups.sweep(session, today=TODAY, now=NOW) == followups.Swept(0, 0)
    alerts = session.execute(sa.select(Alert).where(Alert.cause == "overdue_check")
                             ).scalars().all()
    assert {a.check_id for a in alerts} == {ase_check.id,
                                            followups.live_check(session, imported.id).id}
    assert adult_check.id not in {a.check_id for a in alerts}
    assert {a.departement for a in alerts} == {"62"}
    referent62 = people["users"]["referent62"][0]
    messages = session.execute(sa.select(Notification).where(
        Notification.alert_id.in_([a.id for a in alerts]))).scalars().all()
    assert {m.recipient_user_id for m in messages} == {referent62.id}


def test_a_support_break_alerts_the_youths_departement(session: Session, keyring: Any,
                                                       people: dict[str, Any]) -> None:
    where = people["structures"]["ml"]
    youth = register(session, keyring, home_departement=None)
    enrolment = enrol(session, keyring, youth, "62-A6", where, dt.date(2023, 2, 1))
    event = record(session, keyring, youth, "support_break", dt.date(2023, 5, 2),
                   enrolment_id=enrolment.uuid, reason="ne vient plus")
    alert = session.execute(sa.select(Alert).where(Alert.event_id == event.id)).scalar_one()
    assert (alert.departement, alert.cause, alert.status) == ("62", "support_break", "open")

    adult = register(session, keyring, ase_past=False, birth_date=dt.date(1990, 1, 1))
    adult_enrolment = enrol(session, keyring, adult, "62-A1", people["structures"]["plie"],
                            dt.date(2023, 2, 1),
                            rsa_at_entry=True)
    quiet = record(session, keyring, adult, "support_break", dt.date(2023, 5, 2),
                   enrolment_id=adult_enrolment.uuid, reason="absent")
    assert session.execute(sa.select(Alert).where(Alert.event_id == quiet.id)).first() is None


def test_a_digest_goes_once_a_day_to_the_structures_coordinators(
        session: Session, keyring: Any, people: dict[str, Any]) -> None:
    _, _, check = _ended(session, keyring, people["structures"]["ml"])
    opening = check.window_start
    assert notify.digests(session, today=opening - dt.timedelta(days=1), now=NOW) == []
    made = notify.digests(session, today=opening, now=NOW)
    assert [m.recipient_user_id for m in made] == [people["users"]["coord_ml"][0].id]
    assert str(check.uuid) in made[0].body
    assert notify.digests(session, today=opening, now=NOW) == []
    overdue_day = check.window_end + dt.timedelta(days=1)
    later = notify.digests(session, today=overdue_day, now=NOW)
    assert len(later) == 1
    assert "Passés en retard : 1" in later[0].body


# --- indicator counts ------------------------------------------------------------------------

def test_followup_counts_per_action_and_period(session: Session, keyring: Any,
                                               people: dict[str, Any]) -> None:
    where = people["structures"]["ml"]
    coordinator = _actor(people, "coord_ml")
    checks = [_ended(session, keyring, where)[2] for _ in range(4)]
    late = _ended(session, keyring, where, end=dt.date(2023, 12, 31))[2]  # due 2024-06-30
    situation = {"employment": {"contract": "cdd", "planned_months": 6, "hours_per_week": None},
                 "housing_type": "street", "resources": []}
    followups.record_result(session, keyring, coordinator, checks[0].uuid,
                            _result(checks[0], situation=situation), today=TODAY, now=NOW)
    followups.record_result(session, keyring, coordinator, checks[1].uuid,
                            _result(checks[1], "not_reached", attempts=2), today=TODAY, now=NOW)
    followups.record_result(session, keyring, coordinator, checks[2].uuid,
                            _result(checks[2], "reached", date="2024-05-02",
                                    situation={"training": {"qualifying": True}}),
                            today=TODAY, now=NOW)
    a6 = action(session, "62-A6").id

    def counts(as_of: str) -> dict[str, int]:
        return followup_counts(session, action_ids=[a6], period_from=dt.date(2024, 1, 1),
                               period_to=dt.date(2024, 3, 31),
                               as_of=dt.date.fromisoformat(as_of))[a6]

    assert late.due_date == dt.date(2024, 6, 30)  # outside the period
    on_time = counts("2024-04-14")
    assert (on_time["due"], on_time["done"], on_time["overdue"]) == (4, 2, 0)
    final = counts("2024-06-15")
    assert (final["due"], final["done"], final["overdue"]) == (4, 3, 1)
    assert (final["reached"], final["not_reached"], final["refused"]) == (2, 1, 0)
    assert (final["in_pathway"], final["durable_employment"], final["stably_housed"],
            final["has_resources"]) == (2, 1, 0, 0)
    assert followup_counts(session, action_ids=[action(session, "62-A1").id],
                           period_from=dt.date(2024, 1, 1), period_to=dt.date(2024, 3, 31),
                           as_of=TODAY) == {action(session, "62-A1").id: {
        k: 0 for k in final}}
