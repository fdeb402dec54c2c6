"""Every endpoint × every role × own/other participant × method: 2xx, 401, 403 or 404."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.models import Alert, Event, FollowUpCheck, Notification
from cohort.services import enrolments
from tests.builders import NOW, TODAY, action, person, record
from tests.http.conftest import jsonable

USERS = ["coord_ml", "coord_plie", "referent62", "referent59", "evaluator", "pilot62", "admin"]


@dataclass
class World:
    """A (ASE youth of 62, followed by the Mission Locale) and B (RSA adult, PLIE)."""

    a: str
    b: str
    a_enrolment: str
    a_event: str
    ml: str
    plie: str
    actions: dict[str, str]
    a_check: str = ""  # A's follow-up check (an ended 62-A3 enrolment)
    a_alert: str = ""  # the alert of A's support break, for the referents of 62
    a_message: str = ""  # that alert in referent62's inbox
    a_housing: str = ""  # A's ended 62-A3 enrolment (an action the Mission Locale runs)


@pytest.fixture
def world(session: Session, keyring: Any, people: dict[str, Any]) -> World:
    from cohort.services import participants

    ml, plie = people["structures"]["ml"], people["structures"]["plie"]
    ml_actor = _actor(people, "coord_ml")
    plie_actor = _actor(people, "coord_plie")
    a = participants.register(session, keyring, ml_actor, person(
        ase_past=True, home_departement="62", birth_date=dt.date(2005, 3, 10)),
        today=TODAY, now=NOW).participant
    b = participants.register(session, keyring, plie_actor, person(
        ase_past=False, home_departement="62", birth_date=dt.date(1985, 6, 1)),
        today=TODAY, now=NOW).participant
    a_enrol = enrolments.enrol(session, keyring, ml_actor, {
        "participant_id": a.uuid, "action_id": action(session, "62-A6").uuid,
        "structure_id": ml.uuid, "start_date": dt.date(2023, 2, 1), "rsa_at_entry": False},
        today=TODAY, now=NOW)
    enrolments.enrol(session, keyring, plie_actor, {
        "participant_id": b.uuid, "action_id": action(session, "62-A1").uuid,
        "structure_id": plie.uuid, "start_date": dt.date(2023, 2, 1), "rsa_at_entry": True},
        today=TODAY, now=NOW)
    event = record(session, keyring, a, "contact", dt.date(2023, 3, 1), mode="phone")
    housing = enrolments.enrol(session, keyring, ml_actor, {
        "participant_id": a.uuid, "action_id": action(session, "62-A3").uuid,
        "structure_id": ml.uuid, "start_date": dt.date(2023, 2, 1), "rsa_at_entry": False,
        "parent_child_0_3": True}, today=TODAY, now=NOW)
    rupture = record(session, keyring, a, "support_break", dt.date(2023, 4, 3),
                     enrolment_id=housing.uuid, reason="absent")
    enrolments.end(session, ml_actor, housing, {"end_date": dt.date(2023, 6, 30),
                                                "exit_reason": "end_of_support"},
                   today=TODAY, now=NOW)
    session.commit()
    codes = dict(session.execute(sa.text("SELECT code, uuid FROM action")).all())
    w = World(str(a.uuid), str(b.uuid), str(a_enrol.uuid), str(event.uuid),
              str(ml.uuid), str(plie.uuid), {k: str(v) for k, v in codes.items()})
    w.a_housing = str(housing.uuid)
    w.a_check = str(session.execute(sa.select(FollowUpCheck.uuid).where(
        FollowUpCheck.enrolment_id == housing.id)).scalar_one())
    alert = session.execute(sa.select(Alert).where(Alert.event_id == rupture.id)).scalar_one()
    w.a_alert = str(alert.uuid)
    w.a_message = str(session.execute(sa.select(Notification.uuid).where(
        Notification.alert_id == alert.id)).scalar_one())
    return w


def _actor(people: dict[str, Any], login: str) -> Any:
    from cohort.auth import actor_for

    user = people["users"][login][0]
    return actor_for(user, user.structure)


@dataclass
class Case:
    name: str
    method: str
    url: Callable[[World], str]
    body: Callable[[World, str], Any] | None
    expected: dict[str, int]


def _new_event(w: World, who: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "participant_id": w.a, "type": "contact",
            "date": "2023-04-01", "attributes": {"mode": "meeting"}}


def _enrol_a(w: World, who: str) -> dict[str, Any]:
    structure = w.plie if who == "coord_plie" else w.ml
    # 62-A5: an action the Mission Locale runs (domain.md §2 "Operators"), A eligible.
    return {"participant_id": w.a, "action_id": w.actions["62-A5"], "structure_id": structure,
            "start_date": "2023-05-01", "rsa_at_entry": False}


def _operation(w: World, who: str) -> dict[str, Any]:
    return {"action_id": w.actions["62-A2"], "kind": "clause_site",
            "label": f"Chantier {who}", "start_date": "2023-01-01", "planned_hours": "1200"}


def _expect(coord_ml: int, coord_plie: int, referent62: int, referent59: int, evaluator: int,
            pilot62: int, admin: int) -> dict[str, int]:
    return dict(zip(USERS, (coord_ml, coord_plie, referent62, referent59, evaluator, pilot62,
                            admin), strict=True))


CASES = [
    Case("read own/other participant A", "GET", lambda w: f"/api/v1/participants/{w.a}", None,
         _expect(200, 404, 200, 404, 403, 403, 404)),
    Case("read participant B", "GET", lambda w: f"/api/v1/participants/{w.b}", None,
         _expect(404, 200, 404, 404, 403, 403, 404)),
    Case("reveal identity of A", "POST", lambda w: f"/api/v1/participants/{w.a}/identity",
         lambda w, u: {"purpose": "appel de suivi"}, _expect(200, 404, 200, 404, 403, 403, 404)),
    Case("exceptional access to A", "POST",
         lambda w: f"/api/v1/participants/{w.a}/exceptional-access",
         lambda w, u: {"reason": "demande du délégué à la protection des données"},
         _expect(403, 403, 403, 403, 403, 403, 201)),
    Case("register a person", "POST", lambda w: "/api/v1/participants",
         lambda w, u: jsonable(person()), _expect(201, 201, 403, 403, 403, 403, 201)),
    Case("enrol A", "POST", lambda w: "/api/v1/enrolments", _enrol_a,
         _expect(201, 404, 403, 403, 403, 403, 404)),
    Case("read A's enrolment", "GET", lambda w: f"/api/v1/enrolments/{w.a_enrolment}", None,
         _expect(200, 404, 200, 404, 403, 403, 404)),
    Case("end A's enrolment", "POST", lambda w: f"/api/v1/enrolments/{w.a_enrolment}/end",
         lambda w, u: {"end_date": "2023-12-31", "exit_reason": "end_of_support"},
         _expect(200, 404, 403, 403, 403, 403, 404)),
    Case("correct the end of A's ended enrolment", "POST",
         lambda w: f"/api/v1/enrolments/{w.a_housing}/correct-end",
         lambda w, u: {"end_date": "2023-07-31"}, _expect(200, 404, 403, 403, 403, 403, 404)),
    Case("record an event for A", "POST", lambda w: "/api/v1/events", _new_event,
         _expect(201, 404, 403, 403, 403, 403, 404)),
    Case("list events", "GET", lambda w: "/api/v1/events", None,
         _expect(200, 200, 200, 200, 403, 403, 200)),
    Case("read A's event", "GET", lambda w: f"/api/v1/events/{w.a_event}", None,
         _expect(200, 404, 200, 404, 403, 403, 404)),
    Case("void A's event", "POST", lambda w: f"/api/v1/events/{w.a_event}/void",
         lambda w, u: {"reason": "erreur de saisie"}, _expect(200, 404, 403, 403, 403, 403, 404)),
    Case("list structures", "GET", lambda w: "/api/v1/structures", None,
         _expect(200, 200, 200, 200, 200, 200, 200)),
    Case("create a structure", "POST", lambda w: "/api/v1/structures",
         lambda w, u: {"name": f"CLLAJ {u}", "kind": "cllaj", "departement": "62"},
         _expect(403, 403, 403, 403, 403, 403, 201)),
    Case("update a structure", "PATCH", lambda w: f"/api/v1/structures/{w.ml}",
         lambda w, u: {"name": "Mission Locale de Lens-Liévin (siège)"},
         _expect(403, 403, 403, 403, 403, 403, 200)),
    Case("list operations", "GET", lambda w: "/api/v1/operations", None,
         _expect(200, 200, 200, 200, 200, 200, 200)),
    Case("create an operation", "POST", lambda w: "/api/v1/operations", _operation,
         _expect(403, 201, 403, 403, 403, 201, 201)),
    Case("read the programme", "GET", lambda w: "/api/v1/programmes/erbm-2023", None,
         _expect(200, 200, 200, 200, 200, 200, 200)),
    Case("follow-up worklist", "GET", lambda w: "/api/v1/followups", None,
         _expect(200, 200, 403, 403, 403, 403, 200)),
    Case("record A's follow-up check", "POST", lambda w: f"/api/v1/followups/{w.a_check}/result",
         lambda w, u: {"expected_version": 1, "date": "2024-01-05", "outcome": "not_reached",
                       "attempts": 2},
         _expect(201, 404, 403, 403, 403, 403, 404)),
    Case("list alerts", "GET", lambda w: "/api/v1/alerts", None,
         _expect(403, 403, 200, 200, 403, 403, 200)),
    Case("acknowledge A's alert", "POST", lambda w: f"/api/v1/alerts/{w.a_alert}/acknowledge",
         lambda w, u: {}, _expect(403, 403, 200, 404, 403, 403, 200)),
    Case("close A's alert", "POST", lambda w: f"/api/v1/alerts/{w.a_alert}/close",
         lambda w, u: {"note": "jeune recontacté"}, _expect(403, 403, 200, 404, 403, 403, 200)),
    Case("read one's inbox", "GET", lambda w: "/api/v1/inbox", None,
         _expect(200, 200, 200, 200, 200, 200, 200)),
    Case("published indicators of 62", "GET",
         lambda w: "/api/v1/indicators?programme=erbm-2023&departement=62", None,
         _expect(403, 403, 403, 403, 200, 200, 200)),
    Case("exact indicators of 62", "GET",
         lambda w: "/api/v1/indicators?programme=erbm-2023&departement=62&mode=internal", None,
         _expect(403, 403, 403, 403, 403, 200, 200)),
    Case("exact indicators of 59", "GET",
         lambda w: "/api/v1/indicators?programme=erbm-2023&departement=59&mode=internal", None,
         _expect(403, 403, 403, 403, 403, 403, 200)),
    Case("published cohorts", "GET", lambda w: "/api/v1/cohorts?programme=erbm-2023", None,
         _expect(403, 403, 403, 403, 200, 200, 200)),
    Case("published report of 62", "GET",
         lambda w: "/api/v1/reports/erbm-2023/62/2023?format=json", None,
         _expect(403, 403, 403, 403, 200, 200, 200)),
    Case("exact report of 62", "GET",
         lambda w: "/api/v1/reports/erbm-2023/62/2023?format=json&mode=internal", None,
         _expect(403, 403, 403, 403, 403, 200, 200)),
    Case("record 62-A1's budget", "PUT", lambda w: "/api/v1/budgets/erbm-2023/62-A1/2023",
         lambda w, u: {"total": "84000.00", "state_effective": "42000.00"},
         _expect(403, 403, 403, 403, 403, 200, 200)),
    Case("record 59-A1's budget", "PUT", lambda w: "/api/v1/budgets/erbm-2023/59-A1/2023",
         lambda w, u: {"total": "10000.00"}, _expect(403, 403, 403, 403, 403, 403, 200)),
    Case("mark referent62's message read", "POST",
         lambda w: f"/api/v1/inbox/{w.a_message}/read", None,
         _expect(404, 404, 200, 404, 404, 404, 404)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_access_matrix(case: Case, world: World, clients: dict[str, Any], client: Any,
                       connection: sa.Connection) -> None:
    results = {}
    for user in [*USERS, "anonymous"]:
        savepoint = connection.begin_nested()  # each user meets the same world
        http = client if user == "anonymous" else clients[user]
        body = case.body(world, user) if case.body else None
        response = http.open(case.url(world), method=case.method, json=body)
        results[user] = response.status_code
        savepoint.rollback()
    assert results == case.expected | {"anonymous": 401}


def test_exceptional_access_opens_a_participant_to_an_admin(world: World,
                                                             clients: dict[str, Any]) -> None:
    admin = clients["admin"]
    assert admin.get(f"/api/v1/participants/{world.a}").status_code == 404
    granted = admin.post(f"/api/v1/participants/{world.a}/exceptional-access",
                         json={"reason": "contrôle demandé par la CNIL"})
    assert granted.status_code == 201
    assert admin.get(f"/api/v1/participants/{world.a}").status_code == 200


def test_event_list_is_scoped(world: World, clients: dict[str, Any], session: Session) -> None:
    def participants_seen(user: str) -> set[str]:
        items = clients[user].get("/api/v1/events").get_json()["items"]
        return {item["participant_id"] for item in items}

    assert participants_seen("coord_ml") == {world.a}
    assert participants_seen("coord_plie") == set()
    assert participants_seen("referent62") == {world.a}
    assert participants_seen("referent59") == set()
    assert session.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one() >= 1


