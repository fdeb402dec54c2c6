"""Ending an enrolment closes, in the same unit of work, the open periods the structure
recorded (issue 17, item 3): a training and a CDD open at the exit are no longer "en cours";
a refused closing undoes the end; another structure's periods are shown, never closable."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import Actor, Role
from cohort.domain import pathway_status
from cohort.errors import Conflict, Rejected
from cohort.models import Enrolment, Event, FollowUpCheck, Participant, Structure
from cohort.services import enrolment_end, events, followups
from cohort.services.timeline import timeline
from tests.builders import NOW, TODAY, enrol, register, runs

D = dt.date
END = D(2024, 5, 31)


def coordinator(where: Structure) -> Actor:
    return Actor(Role.COORDINATOR, structure_id=where.id, departement=where.departement)


def record(session: Session, keyring: Any, actor: Actor, youth: Participant, type_: str,
           date: dt.date, *, enrolment: Enrolment | None = None, **attributes: Any) -> Any:
    return events.record(session, keyring, actor, {
        "id": uuid.uuid4(), "participant_id": youth.uuid, "type": type_, "date": date,
        "enrolment_id": enrolment.uuid if enrolment else None, "operation_id": None,
        "closes": None, "attributes": attributes}, today=TODAY, now=NOW).event


@pytest.fixture
def pathway(session: Session, keyring: Any) -> dict[str, Any]:
    """A youth followed by the Mission Locale in 62-A6 since January 2024, with a
    qualifying training, a six-month CDD and a support break the Mission Locale recorded,
    and a housing entry recorded by a CLLAJ that follows them in 62-A4."""
    ml, cllaj = runs(session, "62-A6"), runs(session, "62-A4")
    youth = register(session, keyring)
    a6 = enrol(session, keyring, youth, "62-A6", ml, D(2024, 1, 10))
    enrol(session, keyring, youth, "62-A4", cllaj, D(2024, 1, 20), intensity="simple")
    me, them = coordinator(ml), coordinator(cllaj)
    training = record(session, keyring, me, youth, "training_start", D(2024, 2, 1),
                      qualifying=True)
    cdd = record(session, keyring, me, youth, "employment_start", D(2024, 3, 1),
                 contract="cdd", planned_months=6)
    pause = record(session, keyring, me, youth, "support_break", D(2024, 4, 2), enrolment=a6,
                   reason="ne vient plus aux rendez-vous")
    housing = record(session, keyring, them, youth, "housing_entry", D(2024, 2, 15),
                     housing_type="youth_residence")
    return {"youth": youth, "a6": a6, "me": me, "them": them, "training": training,
            "cdd": cdd, "pause": pause, "housing": housing}


def end_body(*starts: Any, **dates: dt.date) -> dict[str, Any]:
    return {"end_date": END, "exit_reason": "training",
            "close_periods": [{"start_event_id": s.uuid, "id": uuid.uuid4(),
                               "date": dates.get(str(s.uuid)), "attributes": {}}
                              for s in starts]}


def open_families(session: Session, actor: Actor, youth: Participant) -> set[str]:
    return {p.family.value for p in enrolment_end.open_periods(session, actor, youth, now=NOW)}


def test_ending_closes_the_training_and_the_cdd(session: Session, keyring: Any,
                                                pathway: dict[str, Any]) -> None:
    youth, me = pathway["youth"], pathway["me"]
    periods = enrolment_end.open_periods(session, me, youth, now=NOW)
    assert {(p.family.value, p.own) for p in periods} == {
        ("training", True), ("employment", True), ("support_break", True),
        ("housing", False)}

    body = end_body(pathway["training"], pathway["cdd"], pathway["pause"])
    ended = enrolment_end.end(session, keyring, me, pathway["a6"], body, today=TODAY, now=NOW)

    assert ended.end_date == END
    assert ended.exit_reason == "training"
    view = timeline(session, me, youth, now=NOW)
    closed = {iv["family"]: iv["end_date"] for iv in view["intervals"]}
    assert closed == {"training": END, "employment": END, "support_break": END,
                      "housing": None}  # the CLLAJ's housing is theirs to end
    assert open_families(session, me, youth) == {"housing"}
    # The status derived on the exit day: no longer in a pathway nor in employment.
    intervals, starts, _ = followups.resolved_starts(session, youth.id)
    before = pathway_status.status_at(intervals, starts, END - dt.timedelta(days=1))
    after = pathway_status.status_at(intervals, starts, END)
    assert (before.in_pathway, before.durable_employment) == (True, True)
    assert (after.in_pathway, after.durable_employment) == (False, False)
    closings = {e["type"]: e for e in view["events"] if e["date"] == END}
    assert set(closings) == {"training_end", "employment_end", "support_resumed"}
    assert closings["support_resumed"]["enrolment_id"] == pathway["a6"].uuid
    # Recorded by the event service as the Mission Locale's own events.
    recorders = session.execute(sa.select(Event.recorded_by_structure_id).where(
        Event.participant_id == youth.id, Event.date == END)).scalars().all()
    assert set(recorders) == {me.structure_id}
    assert session.execute(sa.select(FollowUpCheck).where(
        FollowUpCheck.enrolment_id == pathway["a6"].id)).scalar_one()


def test_a_refused_closing_writes_nothing(session: Session, keyring: Any,
                                          pathway: dict[str, Any]) -> None:
    youth, me, a6 = pathway["youth"], pathway["me"], pathway["a6"]
    before = session.execute(sa.select(sa.func.count(Event.id))).scalar_one()
    # The CDD cannot end before it started: nothing open to close on that date.
    body = end_body(pathway["training"], pathway["cdd"],
                    **{str(pathway["cdd"].uuid): D(2024, 2, 20)})
    with pytest.raises(Rejected) as refused:
        enrolment_end.end(session, keyring, me, a6, body, today=TODAY, now=NOW)
    assert refused.value.errors == {
        "close_periods.1.date": ["no open interval of this family to close on this date"]}
    assert refused.value.details["close_period"] == str(pathway["cdd"].uuid)

    session.refresh(a6)
    assert a6.end_date is None
    assert a6.exit_reason is None
    assert session.execute(sa.select(sa.func.count(Event.id))).scalar_one() == before
    assert session.execute(sa.select(FollowUpCheck).where(
        FollowUpCheck.enrolment_id == a6.id)).first() is None
    assert open_families(session, me, youth) == {"training", "employment", "support_break",
                                                 "housing"}
    # A resumption dated after the enrolment's last day is refused by the event rules too.
    late = end_body(pathway["pause"], **{str(pathway["pause"].uuid): D(2024, 6, 10)})
    with pytest.raises(Rejected) as outside:
        enrolment_end.end(session, keyring, me, a6, late, today=TODAY, now=NOW)
    assert outside.value.code == "outside_enrolment"
    assert list(outside.value.errors) == ["close_periods.0.date"]
    session.refresh(a6)
    assert a6.end_date is None


def test_another_structures_period_is_not_closable(session: Session, keyring: Any,
                                                   pathway: dict[str, Any]) -> None:
    me, them, youth = pathway["me"], pathway["them"], pathway["youth"]
    with pytest.raises(Rejected) as refused:
        enrolment_end.end(session, keyring, me, pathway["a6"],
                          end_body(pathway["training"], pathway["housing"]),
                          today=TODAY, now=NOW)
    assert refused.value.errors == {"close_periods.1.start_event_id": [
        "recorded by another structure: only it may end this period"]}
    session.refresh(pathway["a6"])
    assert pathway["a6"].end_date is None
    # Seen from the CLLAJ, it is the other way round.
    theirs = {p.family.value: p.own
              for p in enrolment_end.open_periods(session, them, youth, now=NOW)}
    assert theirs == {"housing": True, "training": False, "employment": False,
                      "support_break": False}


def test_a_retry_answers_the_same_and_writes_nothing(session: Session, keyring: Any,
                                                     pathway: dict[str, Any]) -> None:
    me, a6 = pathway["me"], pathway["a6"]
    body = end_body(pathway["training"], pathway["cdd"])
    enrolment_end.end(session, keyring, me, a6, body, today=TODAY, now=NOW)
    count = session.execute(sa.select(sa.func.count(Event.id))).scalar_one()

    again = enrolment_end.end(session, keyring, me, a6, body, today=TODAY, now=NOW)
    assert again.end_date == END
    assert session.execute(sa.select(sa.func.count(Event.id))).scalar_one() == count
    # Another end of an ended enrolment is still a conflict.
    with pytest.raises(Conflict):
        enrolment_end.end(session, keyring, me, a6, {**body, "exit_reason": "other"},
                          today=TODAY, now=NOW)
    with pytest.raises(Conflict):
        enrolment_end.end(session, keyring, me, a6, {**body, "close_periods": []},
                          today=TODAY, now=NOW)
    # A retry carrying a closing the first request did not have writes nothing either.
    more = end_body(pathway["pause"])
    with pytest.raises(Conflict):
        enrolment_end.end(session, keyring, me, a6,
                          {**body, "close_periods": body["close_periods"]
                           + more["close_periods"]}, today=TODAY, now=NOW)
    assert session.execute(sa.select(sa.func.count(Event.id))).scalar_one() == count


def test_a_period_listed_twice_or_unknown_is_refused(session: Session, keyring: Any,
                                                     pathway: dict[str, Any]) -> None:
    me, a6 = pathway["me"], pathway["a6"]
    with pytest.raises(Rejected) as twice:
        enrolment_end.end(session, keyring, me, a6,
                          end_body(pathway["training"], pathway["training"]),
                          today=TODAY, now=NOW)
    assert list(twice.value.errors) == ["close_periods.1.start_event_id"]
    unknown = end_body(pathway["training"])
    unknown["close_periods"][0]["start_event_id"] = uuid.uuid4()
    with pytest.raises(Rejected) as refused:
        enrolment_end.end(session, keyring, me, a6, unknown, today=TODAY, now=NOW)
    assert refused.value.errors == {
        "close_periods.0.start_event_id": ["not an open period of the participant"]}
    session.refresh(a6)
    assert a6.end_date is None
