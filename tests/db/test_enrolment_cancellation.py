"""A cancelled enrolment disappears from every figure (domain.md §4).

The data set of tests/db/test_indicators.py, its figures computed (indicators, cohorts,
follow-up counts, the execution report, the follow-up worklist); then an enrolment entered
by mistake — an ASE youth's earlier 62-A4 enrolment, ended, with a support break (an alert)
and an overdue six-month check (another alert) — changes them; cancelling it gives back
every figure of the world without it, and a cut recorded before the cancellation gives back
the figures with it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM, Actor, Role
from cohort.domain.followup import AlertStatus, CheckStatus
from cohort.errors import Conflict, Forbidden, NotFound, Rejected
from cohort.indicators.base import Cut
from cohort.indicators.cohorts import cohort_table
from cohort.indicators.followup_counts import followup_counts
from cohort.models import Alert, AuditEntry, Enrolment
from cohort.reference import actions_of, programme_by_code
from cohort.report import model
from cohort.services import enrolments, followups
from tests.builders import NOW, TODAY, action, enrol, record, register, runs, structure
from tests.db.test_indicators import P, values, world  # noqa: F401 - the shared data set

D = dt.date
ENROLLED = NOW + dt.timedelta(hours=1)  # the mistake is recorded
BETWEEN = NOW + dt.timedelta(hours=1, minutes=30)
CANCELLED = NOW + dt.timedelta(hours=2)  # and cancelled
LATER = NOW + dt.timedelta(hours=3)
REPORT = {"programme": "erbm-2023", "departement": "62", "year": 2023,
          "as_of": D(2024, 1, 31), "mode": "internal"}
SETTINGS = {"DISCLOSURE_K": 5, "DISCLOSURE_ROUNDING_BASE": 5}


def figures(session: Session, recorded_before: dt.datetime | None = None) -> dict[str, Any]:
    """Every figure a user reads: indicators, cohorts, follow-up counts, the report."""
    session.flush()
    cut = Cut(P.period_from, P.period_to, P.as_of, recorded_before)
    programme = programme_by_code(session, "erbm-2023")
    ids = [a.id for a in actions_of(session, programme, departement="62")]
    report = model.build(session, SYSTEM, {**REPORT, "recorded_before": recorded_before},
                         SETTINGS, today=TODAY)
    report.pop("header")  # parameters and fingerprint: the data changed, the figures not
    return {
        "indicators": values(session, cut),
        "cohorts": cohort_table(session, ids, cut),
        "followups": followup_counts(session, action_ids=ids, period_from=cut.period_from,
                                     period_to=cut.period_to, as_of=cut.as_of,
                                     recorded_before=recorded_before),
        "report": report,
    }


def worklist(session: Session) -> set[Any]:
    query = followups.worklist_query(SYSTEM, {"state": ["upcoming", "due", "overdue", "done"]},
                                     today=TODAY)
    return {c.uuid for c in session.execute(query).scalars()}


def the_mistake(session: Session, keyring: Any, youth: Any) -> Enrolment:
    """An earlier 62-A4 enrolment of the youth (followed in 62-A6 from March 2023), ended,
    with a support break and an overdue check, both alerting the ASE referents."""
    operator = runs(session, "62-A4")
    mistake = enrolments.enrol(session, keyring, SYSTEM, {
        "participant_id": youth.uuid, "action_id": action(session, "62-A4").uuid,
        "structure_id": operator.uuid, "start_date": D(2022, 10, 1), "rsa_at_entry": False,
        "intensity": "simple"},
        today=TODAY, now=ENROLLED)
    record(session, keyring, youth, "support_break", D(2022, 11, 15),
           enrolment_id=mistake.uuid, reason="absent", now=ENROLLED)
    enrolments.end(session, SYSTEM, mistake, {"end_date": D(2022, 12, 31),
                                              "exit_reason": "other"},
                   today=TODAY, now=ENROLLED)
    followups.sweep(session, today=TODAY, now=ENROLLED)  # its check is overdue: an alert
    return mistake


def test_a_cancelled_enrolment_disappears_from_every_figure(
        world: dict[str, Any], session: Session, keyring: Any) -> None:  # noqa: F811
    without = figures(session)
    listed = worklist(session)
    youth = world["y4"]

    mistake = the_mistake(session, keyring, youth)
    check = followups.live_check(session, mistake.id)
    assert check is not None
    assert check.status == CheckStatus.SCHEDULED
    alerts = session.execute(sa.select(Alert).where(Alert.enrolment_id == mistake.id)
                             ).scalars().all()
    assert sorted(a.cause for a in alerts) == ["overdue_check", "support_break"]
    assert all(a.status == AlertStatus.OPEN for a in alerts)
    with_mistake = figures(session)
    assert with_mistake != without
    a4 = action(session, "62-A4").id
    assert with_mistake["followups"][a4]["due"] == without["followups"][a4]["due"] + 1
    assert with_mistake["followups"][a4]["overdue"] == without["followups"][a4]["overdue"] + 1
    assert with_mistake["cohorts"] != without["cohorts"]  # the youth enters in 2022-Q4
    assert worklist(session) == listed | {check.uuid}
    sent = figures(session, recorded_before=BETWEEN)  # a report sent before the cancellation
    assert sent["followups"][a4] == with_mistake["followups"][a4]  # the mistake counts in it

    cancelled = enrolments.cancel(session, SYSTEM, mistake.uuid, "mauvaise personne",
                                  now=CANCELLED)
    assert (cancelled.cancelled_at, cancelled.cancel_reason) == (CANCELLED, "mauvaise personne")
    assert figures(session) == without  # every figure: as if it had never been entered
    # Its check is cancelled and out of the worklist; its alerts are withdrawn.
    session.refresh(check)
    assert (check.status, check.cancel_reason) == (CheckStatus.CANCELLED, "enrolment_cancelled")
    assert worklist(session) == listed
    for alert in alerts:
        session.refresh(alert)
        assert (alert.status, alert.closed_at) == (AlertStatus.CLOSED, CANCELLED)
        assert alert.note
    # The daily sweep schedules no new check for it, and raises nothing.
    followups.sweep(session, today=TODAY, now=LATER)
    assert followups.live_check(session, mistake.id) is None
    assert figures(session) == without
    # A cut recorded before the cancellation reproduces the figures sent with the mistake.
    assert figures(session, recorded_before=BETWEEN) == sent
    # Still in the history, marked; audited once; cancelling again answers the same.
    again = enrolments.cancel(session, SYSTEM, mistake.uuid, "autre motif", now=LATER)
    assert (again.cancelled_at, again.cancel_reason) == (CANCELLED, "mauvaise personne")
    audits = session.execute(sa.select(AuditEntry.target_id).where(
        AuditEntry.action == "enrolment.cancel")).scalars().all()
    assert audits == [str(mistake.uuid)]


def test_a_done_check_of_a_cancelled_enrolment_counts_nowhere(
        world: dict[str, Any], session: Session, keyring: Any) -> None:  # noqa: F811
    without = figures(session)
    youth = world["y4"]
    mistake = the_mistake(session, keyring, youth)
    check = followups.live_check(session, mistake.id)
    assert check is not None
    followups.record_result(session, keyring, SYSTEM, check.uuid, {
        "expected_version": check.version, "date": D(2023, 7, 1), "outcome": "not_reached",
        "attempts": 2, "situation": None}, today=TODAY, now=ENROLLED)
    assert figures(session) != without
    enrolments.cancel(session, SYSTEM, mistake.uuid, "doublon", now=CANCELLED)
    session.refresh(check)
    assert check.status == CheckStatus.DONE  # what happened stays in the history
    assert check.uuid not in worklist(session)
    assert figures(session) == without


@pytest.fixture
def opened(session: Session, keyring: Any) -> dict[str, Any]:
    ml, other = structure(session), structure(session)
    youth = register(session, keyring, birth_date=D(2005, 3, 10), ase_past=True)
    e = enrol(session, keyring, youth, "62-A6", ml, D(2023, 2, 1))
    return {"ml": ml, "other": other, "youth": youth, "enrolment": e}


def test_a_cancelled_enrolment_no_longer_holds_the_open_place(
        opened: dict[str, Any], session: Session, keyring: Any) -> None:
    youth, ml = opened["youth"], opened["ml"]
    with pytest.raises(Conflict):
        enrol(session, keyring, youth, "62-A6", ml, D(2023, 3, 1))
    enrolments.cancel(session, SYSTEM, opened["enrolment"].uuid, "mauvaise action", now=NOW)
    again = enrol(session, keyring, youth, "62-A6", ml, D(2023, 3, 1))
    assert again.cancelled_at is None


def test_cancellation_rules(opened: dict[str, Any], session: Session) -> None:
    e = opened["enrolment"]
    other = Actor(Role.COORDINATOR, user_id=None, structure_id=opened["other"].id)
    own = Actor(Role.COORDINATOR, user_id=None, structure_id=opened["ml"].id)
    referent = Actor(Role.ASE_REFERENT, user_id=None, departement="62")
    for reason in ("", "   ", None):
        with pytest.raises(Rejected) as refused:
            enrolments.cancel(session, own, e.uuid, reason, now=NOW)
        assert list(refused.value.errors) == ["reason"]
    with pytest.raises(NotFound):  # another structure's person: not even its existence
        enrolments.cancel(session, other, e.uuid, "pas à nous", now=NOW)
    with pytest.raises(Forbidden):
        enrolments.cancel(session, referent, e.uuid, "lecture seule", now=NOW)
    assert e.cancelled_at is None
    enrolments.cancel(session, own, e.uuid, "saisie en double", now=NOW)
    # A cancelled enrolment is neither ended nor reopened.
    with pytest.raises(Conflict):
        enrolments.end(session, own, e, {"end_date": D(2023, 5, 1), "exit_reason": "other"},
                       today=TODAY, now=NOW)
