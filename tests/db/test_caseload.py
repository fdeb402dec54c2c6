"""The caseload ("file active") of a structure, as a coordinator reads it (issue 17 item 1).

A Mission Locale follows five people (open, ended, cancelled, registered only); a PLIE
follows another one whose name also begins with "Lef". The Mission Locale's list shows its
five with their enrolments, open periods and follow-up checks; the filters and sorts do
what their names say; the name search folds accents and case, matches the beginning of any
word, and never reaches the PLIE's person; each call writes one audit entry without the
typed text. Names are compared through uuids, never printed.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import Actor, Role
from cohort.errors import Forbidden, Rejected
from cohort.models import AuditEntry, Participant
from cohort.services import access, caseload, enrolments, events
from tests.builders import NOW, TODAY, action, enrol, record, register, runs

D = dt.date


@dataclass
class World:
    ml: Actor
    plie: Actor
    people: dict[str, Participant]
    enrolments: dict[str, Any]


@pytest.fixture
def world(session: Session, keyring: Any) -> World:
    ml, plie = runs(session, "62-A6"), runs(session, "62-A1")
    people = {
        "compound": register(session, keyring, last_name="Dupont-Lefèvre",
                             first_names="Amandine"),
        "ended": register(session, keyring, last_name="Martinez", first_names="Bérénice"),
        "overdue": register(session, keyring, last_name="Zylberstein", first_names="Octave"),
        "cancelled": register(session, keyring, last_name="Quintanilla", first_names="Honorine"),
        "elsewhere": register(session, keyring, last_name="Lefebvre", first_names="Xavière"),
    }
    registered_only = register(session, keyring, last_name="Abramowicz",
                               first_names="Gwendoline")
    registered_only.registered_by_structure_id = ml.id
    people["registered"] = registered_only
    made = {
        "compound": enrol(session, keyring, people["compound"], "62-A6", ml, D(2023, 3, 1)),
        "ended": enrol(session, keyring, people["ended"], "62-A6", ml, D(2023, 2, 1)),
        "overdue": enrol(session, keyring, people["overdue"], "62-A6", ml, D(2023, 2, 1)),
        "cancelled": enrol(session, keyring, people["cancelled"], "62-A6", ml, D(2023, 5, 1)),
        "elsewhere": enrol(session, keyring, people["elsewhere"], "62-A1", plie, D(2023, 4, 1)),
    }
    # Someone else's enrolment of the PLIE's person does not bring them into the list.
    system = Actor(role=Role.SYSTEM)
    enrolments.end(session, system, made["ended"],
                   {"end_date": D(2023, 12, 15), "exit_reason": "employment"},
                   today=TODAY, now=NOW)  # check due 2024-06-15: in its window today
    enrolments.end(session, system, made["overdue"],
                   {"end_date": D(2023, 9, 1), "exit_reason": "moved_away"},
                   today=TODAY, now=NOW)  # check due 2024-03-01: overdue today
    enrolments.cancel(session, system, made["cancelled"].uuid, "saisie en double", now=NOW)

    record(session, keyring, people["compound"], "housing_entry", D(2024, 1, 10),
           housing_type="social_rental")
    record(session, keyring, people["compound"], "contact", D(2024, 6, 1), mode="phone")
    mistaken = record(session, keyring, people["compound"], "support_break", D(2024, 5, 2),
                      enrolment_id=made["compound"].uuid, reason="absent")
    events.void(session, system, mistaken, "saisi par erreur", now=NOW)
    record(session, keyring, people["ended"], "contact", D(2024, 2, 1), mode="phone")
    record(session, keyring, people["overdue"], "training_start", D(2023, 4, 3),
           qualifying=True)
    record(session, keyring, people["elsewhere"], "contact", D(2024, 6, 10), mode="phone")
    session.flush()
    return World(
        ml=Actor(role=Role.COORDINATOR, user_id=None, structure_id=ml.id),
        plie=Actor(role=Role.COORDINATOR, user_id=None, structure_id=plie.id),
        people=people, enrolments=made)


def read(session: Session, keyring: Any, actor: Actor, search: str | None = None,
         **filters: Any) -> caseload.CaseloadPage:
    return caseload.caseload(session, keyring, actor, filters, today=TODAY, now=NOW,
                             search=search)


def ids(page: caseload.CaseloadPage) -> list[Any]:
    return [item["id"] for item in page.items]


def uuids(w: World, *keys: str) -> list[Any]:
    return [w.people[k].uuid for k in keys]


def test_the_list_shows_the_structure_people_with_their_situation(
        session: Session, keyring: Any, world: World) -> None:
    page = read(session, keyring, world.ml)
    assert set(ids(page)) == set(uuids(world, "compound", "ended", "overdue", "cancelled",
                                       "registered"))
    assert page.total == 5
    rows = {item["id"]: item for item in page.items}

    compound = rows[world.people["compound"].uuid]
    assert compound["birth_month"] == "2005-03"
    assert [(e["action_code"], e["end_date"], e["cancelled"]) for e in compound["enrolments"]] \
        == [("62-A6", None, False)]
    # The voided support break is no open period; the housing entry is.
    assert [(p["family"], p["start_date"], p["category"]) for p in compound["open_periods"]] \
        == [("housing", D(2024, 1, 10), "social_rental")]
    assert compound["last_event_date"] == D(2024, 6, 1)
    assert compound["next_followup"] is None
    assert compound["last_name"] == world_name(session, keyring, world, "compound")

    ended = rows[world.people["ended"].uuid]
    assert ended["next_followup"]["state"] == "due"
    assert ended["next_followup"]["due_date"] == D(2024, 6, 15)
    assert rows[world.people["overdue"].uuid]["next_followup"]["state"] == "overdue"
    assert [p["family"] for p in rows[world.people["overdue"].uuid]["open_periods"]] \
        == ["training"]

    cancelled = rows[world.people["cancelled"].uuid]
    assert [e["cancelled"] for e in cancelled["enrolments"]] == [True]
    registered = rows[world.people["registered"].uuid]
    assert registered["enrolments"] == []
    assert registered["last_event_date"] is None


def world_name(session: Session, keyring: Any, world: World, key: str) -> str:
    from cohort.services.participants import read_identity

    return str(read_identity(keyring, world.people[key])["last_name"])


def test_the_other_structure_sees_only_its_own(session: Session, keyring: Any,
                                                world: World) -> None:
    assert ids(read(session, keyring, world.plie)) == uuids(world, "elsewhere")


def test_the_list_is_the_access_rule(session: Session, keyring: Any, world: World) -> None:
    """The caseload's union is access.visible's rule for a coordinator (not erased)."""
    for actor in (world.ml, world.plie):
        assert actor.structure_id is not None
        by_rule = set(session.execute(sa.select(Participant.id).where(
            access.visible(actor, now=NOW))).scalars())
        listed = set(session.execute(caseload.followed_ids(actor.structure_id)).scalars())
        assert listed == by_rule


def test_filters(session: Session, keyring: Any, world: World) -> None:
    a6 = action(session, "62-A6").uuid
    a1 = action(session, "62-A1").uuid
    every = {"compound", "ended", "overdue"}
    assert set(ids(read(session, keyring, world.ml, action_id=a6))) == set(uuids(world, *every))
    assert ids(read(session, keyring, world.ml, action_id=a1)) == []
    assert ids(read(session, keyring, world.ml, enrolment="open")) == uuids(world, "compound")
    assert set(ids(read(session, keyring, world.ml, enrolment="ended"))) == set(
        uuids(world, "ended", "overdue"))
    assert ids(read(session, keyring, world.ml, followup="due")) == uuids(world, "ended")
    assert ids(read(session, keyring, world.ml, followup="overdue")) == uuids(world, "overdue")
    assert ids(read(session, keyring, world.ml, open_period="housing")) == uuids(
        world, "compound")
    assert ids(read(session, keyring, world.ml, open_period="support_break")) == []
    # No event for 30 days: everyone but the one contacted on 1 June.
    assert set(ids(read(session, keyring, world.ml, inactive_days=30))) == set(
        uuids(world, "ended", "overdue", "cancelled", "registered"))
    assert set(ids(read(session, keyring, world.ml, enrolment="ended", followup="due",
                        action_id=a6))) == set(uuids(world, "ended"))
    with pytest.raises(Rejected) as unknown:
        read(session, keyring, world.ml, action_id="6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")
    assert unknown.value.field == "action_id"


def test_sorts(session: Session, keyring: Any, world: World) -> None:
    by_name = uuids(world, "registered", "compound", "ended", "cancelled", "overdue")
    assert ids(read(session, keyring, world.ml)) == by_name  # the default sort
    assert ids(read(session, keyring, world.ml, sort="-name")) == by_name[::-1]
    # Last event, latest first, people without an event last.
    assert ids(read(session, keyring, world.ml, sort="-last_event")) == uuids(
        world, "compound", "ended", "overdue", "cancelled", "registered")
    assert ids(read(session, keyring, world.ml, sort="last_event"))[:3] == uuids(
        world, "overdue", "ended", "compound")
    assert ids(read(session, keyring, world.ml, sort="due_date"))[:2] == uuids(
        world, "overdue", "ended")
    # The same order when a search (all in Python) sorts by a key of the SQL.
    assert ids(read(session, keyring, world.ml, search="a", sort="-last_event")) == uuids(
        world, "compound", "registered")
    assert ids(read(session, keyring, world.ml, search="a", sort="last_event")) == uuids(
        world, "compound", "registered")


def test_pages_of_the_list(session: Session, keyring: Any, world: World) -> None:
    seen: list[Any] = []
    for number in (1, 2, 3):
        for sort in ("name", "-last_event"):
            page = read(session, keyring, world.ml, page=number, per_page=2, sort=sort)
            assert page.total == 5
            assert len(page.items) == (1 if number == 3 else 2)
            if sort == "name":
                seen += ids(page)
    assert seen == ids(read(session, keyring, world.ml))


@pytest.mark.parametrize("typed", ["lef", "LEFE", "dupont-lef", "  Lefè  ", "amand"])
def test_the_name_search_folds_accents_and_case(session: Session, keyring: Any, world: World,
                                                typed: str) -> None:
    found = read(session, keyring, world.ml, search=typed)
    assert ids(found) == uuids(world, "compound")
    assert found.decrypted == 5  # the structure's caseload, never another's


def test_the_search_never_crosses_structures(session: Session, keyring: Any,
                                            world: World) -> None:
    assert ids(read(session, keyring, world.plie, search="lef")) == uuids(world, "elsewhere")
    assert ids(read(session, keyring, world.plie, search="dupont")) == []
    assert ids(read(session, keyring, world.ml, search="xavi")) == []
    assert ids(read(session, keyring, world.ml, search="upont")) == []  # word beginnings only
    assert ids(read(session, keyring, world.ml, search="lef", enrolment="ended")) == []


def test_a_search_needs_a_letter(session: Session, keyring: Any, world: World) -> None:
    for typed in ("--", "x" * 101):
        with pytest.raises(Rejected) as refused:
            read(session, keyring, world.ml, search=typed)
        assert refused.value.field == "q"


def test_one_audit_entry_per_view_without_the_typed_text(session: Session, keyring: Any,
                                                         world: World) -> None:
    def entries() -> list[AuditEntry]:
        return list(session.execute(sa.select(AuditEntry).where(
            AuditEntry.action == "caseload.read").order_by(AuditEntry.id)).scalars())

    before = len(entries())
    read(session, keyring, world.ml, enrolment="ended", sort="-last_event")
    read(session, keyring, world.ml, search="LEFE")
    logged = entries()[before:]
    assert len(logged) == 2
    listing, search = logged
    assert listing.details["rows"] == 2
    assert listing.details["decrypted"] == 2
    assert listing.details["filters"] == {"enrolment": "ended"}
    assert listing.details["search"] is False
    assert listing.fields == ["first_names", "last_name"]
    assert search.details["rows"] == 1
    assert search.details["decrypted"] == 5
    assert search.details["search"] is True
    for entry in logged:
        text = json.dumps([entry.details, entry.purpose, entry.target_id, entry.fields])
        assert "lefe" not in text.lower()


def test_only_coordinators_of_a_structure(session: Session, keyring: Any, world: World) -> None:
    for actor in (Actor(role=Role.COORDINATOR, user_id=None, structure_id=None),
                  Actor(role=Role.ADMIN, user_id=None, structure_id=world.ml.structure_id),
                  Actor(role=Role.EVALUATOR, user_id=None, structure_id=world.ml.structure_id)):
        with pytest.raises(Forbidden):
            read(session, keyring, actor)


def test_erased_people_leave_and_a_broken_seal_shows_unreadable(
        session: Session, keyring: Any, world: World, tmp_path: Any) -> None:
    from cohort.services import lifecycle

    admin = Actor(role=Role.ADMIN, user_id=None, structure_id=world.ml.structure_id)
    lifecycle.erase(session, admin, world.people["registered"], mode=lifecycle.KEEP_PATHWAY,
                    cause="request", now=NOW, ledger=tmp_path / "ledger.jsonl")
    # A seal copied onto another row fails authentication: never opened, shown unreadable.
    world.people["ended"].identity_sealed = world.people["overdue"].identity_sealed
    session.flush()
    page = read(session, keyring, world.ml, sort="-last_event")
    assert world.people["registered"].uuid not in ids(page)
    assert page.total == 4
    rows = {item["id"]: item for item in page.items}
    assert rows[world.people["ended"].uuid]["last_name"] is None
    assert rows[world.people["overdue"].uuid]["last_name"] is not None
    by_name = ids(read(session, keyring, world.ml))
    assert by_name[-1] == world.people["ended"].uuid  # unreadable names sort last
