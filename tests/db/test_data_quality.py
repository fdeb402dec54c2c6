"""Data quality for the structure (issue 17, item 5): a scenario producing each kind of
line for a Mission Locale, and a CLLAJ following some of the same people whose lines never
show in the Mission Locale's list (nor the other way round)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import Actor, Role
from cohort.errors import Forbidden, NotFound
from cohort.models import Enrolment, Participant, Structure
from cohort.services import data_quality, enrolments, events
from tests.builders import NOW, TODAY, enrol, register, runs

D = dt.date


def coordinator(where: Structure) -> Actor:
    return Actor(Role.COORDINATOR, structure_id=where.id, departement=where.departement)


def record(session: Session, keyring: Any, actor: Actor, who: Participant, type_: str,
           date: dt.date, **attributes: Any) -> Any:
    return events.record(session, keyring, actor, {
        "id": uuid.uuid4(), "participant_id": who.uuid, "type": type_, "date": date,
        "enrolment_id": None, "operation_id": None, "closes": None,
        "attributes": attributes}, today=TODAY, now=NOW).event


def end(session: Session, actor: Actor, enrolment: Enrolment, on: dt.date,
        reason: str = "end_of_support") -> None:
    enrolments.end(session, actor, enrolment, {"end_date": on, "exit_reason": reason},
                   today=TODAY, now=NOW)


@pytest.fixture
def scene(session: Session, keyring: Any) -> dict[str, Any]:
    ml, cllaj = runs(session, "62-A6"), runs(session, "62-A4")
    me, them = coordinator(ml), coordinator(cllaj)
    people = {name: register(session, keyring) for name in
              ("stale", "lively", "overdue", "no_reason", "cancelled", "theirs")}
    for name in ("stale", "lively", "no_reason", "cancelled"):
        enrol(session, keyring, people[name], "62-A6", ml, D(2022, 9, 1))
    # A period the Mission Locale opened in January 2023 and never touched since.
    record(session, keyring, me, people["stale"], "training_start", D(2023, 1, 10),
           qualifying=True)
    # The same, with a contact this year: not stale.
    record(session, keyring, me, people["lively"], "training_start", D(2023, 1, 10),
           qualifying=False)
    record(session, keyring, me, people["lively"], "contact", D(2024, 1, 5), mode="phone")
    # Ended in June 2023: the check was due at the end of December, its window is over.
    late = enrol(session, keyring, people["overdue"], "62-A6", ml, D(2022, 1, 10))
    end(session, me, late, D(2023, 6, 30))
    # Ended with "other" as the exit reason: a reason that says nothing.
    bare = session.execute(sa.select(Enrolment).where(
        Enrolment.participant_id == people["no_reason"].id)).scalar_one()
    end(session, me, bare, D(2024, 3, 31), "other")
    # Events, then the only enrolment cancelled as a mistake.
    record(session, keyring, me, people["cancelled"], "contact", D(2023, 11, 2), mode="meeting")
    mistake = session.execute(sa.select(Enrolment).where(
        Enrolment.participant_id == people["cancelled"].id)).scalar_one()
    enrolments.cancel(session, me, mistake.uuid, "wrong person", now=NOW)

    # The CLLAJ: the "stale" youth too (a housing it opened long ago), and its own youth
    # with a stale period and an overdue check.
    enrol(session, keyring, people["stale"], "62-A4", cllaj, D(2022, 10, 1), intensity="simple")
    record(session, keyring, them, people["stale"], "housing_entry", D(2023, 1, 20),
           housing_type="youth_residence")
    own = enrol(session, keyring, people["theirs"], "62-A4", cllaj, D(2022, 2, 1),
                intensity="simple")
    record(session, keyring, them, people["theirs"], "scheme_entry", D(2022, 6, 1),
           scheme="pacea")
    end(session, them, own, D(2023, 5, 31))
    session.flush()
    return {"me": me, "them": them, "people": people}


def lines(session: Session, actor: Actor, people: dict[str, Participant]
          ) -> dict[str, list[tuple[str, Any, Any]]]:
    """Kind → [(whose line, date, detail)], names from the scenario."""
    name_of = {p.uuid: name for name, p in people.items()}
    return {g.kind: [(name_of.get(line.participant_id, "?"), line.since, line.detail)
                     for line in g.items]
            for g in data_quality.report(session, actor, today=TODAY)}


def test_each_kind_for_the_structure_and_nothing_of_another(
        session: Session, scene: dict[str, Any]) -> None:
    people = scene["people"]
    mine = lines(session, scene["me"], people)
    assert mine == {
        "stale_open_period": [("stale", D(2023, 1, 10), "training")],
        "followup_overdue": [("overdue", D(2023, 12, 30), "62-A6")],
        "ended_without_exit_reason": [("no_reason", D(2024, 3, 31), "62-A6")],
        "events_without_enrolment": [("cancelled", D(2023, 11, 2), None)],
        "link_request_pending": [],  # tests/db/test_link_requests.py files one
    }
    assert data_quality.counts(session, scene["me"], today=TODAY) == {
        "stale_open_period": 1, "followup_overdue": 1, "ended_without_exit_reason": 1,
        "events_without_enrolment": 1, "link_request_pending": 0}

    theirs = lines(session, scene["them"], people)
    assert theirs == {
        "stale_open_period": [("theirs", D(2022, 6, 1), "scheme"),
                              ("stale", D(2023, 1, 20), "housing")],
        "followup_overdue": [("theirs", D(2023, 11, 30), "62-A4")],
        "ended_without_exit_reason": [],
        "events_without_enrolment": [],
        "link_request_pending": [],
    }


def test_pages_of_one_kind_and_who_may_ask(session: Session, scene: dict[str, Any]) -> None:
    them = scene["them"]
    first = data_quality.report(session, them, today=TODAY, kind="stale_open_period",
                                per_page=1)
    second = data_quality.report(session, them, today=TODAY, kind="stale_open_period",
                                 page=2, per_page=1)
    assert [g.total for g in first] == [2]
    assert [len(g.items) for g in first + second] == [1, 1]
    assert first[0].items[0].participant_id != second[0].items[0].participant_id
    assert first[0].items[0].reference == str(first[0].items[0].participant_id)[:8].upper()
    with pytest.raises(NotFound):
        data_quality.report(session, them, today=TODAY, kind="nonsense")
    for role in (Role.EVALUATOR, Role.ASE_REFERENT, Role.PILOT):
        with pytest.raises(Forbidden):
            data_quality.counts(session, Actor(role, structure_id=them.structure_id),
                                today=TODAY)


def test_a_new_kind_is_one_registration(session: Session, scene: dict[str, Any],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """The lead's next kind (e.g. pending link requests) is a select registered once."""
    def recent_enrolments(structure_id: int, today: dt.date) -> sa.Select[Any]:
        return (sa.select(Participant.uuid.label("participant_uuid"),
                          Enrolment.uuid.label("subject_uuid"),
                          Enrolment.start_date.label("since"), sa.null().label("detail"))
                .join(Participant, Participant.id == Enrolment.participant_id)
                .where(Enrolment.structure_id == structure_id,
                       Enrolment.start_date > D(2022, 8, 31)))

    monkeypatch.setattr(data_quality, "KINDS", dict(data_quality.KINDS))
    data_quality.register(data_quality.Kind("recent", "Récentes", "recent enrolments",
                                            recent_enrolments))
    assert data_quality.counts(session, scene["me"], today=TODAY)["recent"] == 4
