"""Need-to-know between structures (domain.md §1; issue 18, finding 1), row by row.

A Mission Locale follows a young person; a PLIE that knows the name and birth date
registers them ("already known"), enrols them in one of its actions (allowed, audited),
and from then on follows them too. The PLIE sees the facts of the Mission Locale's part
(types, dates, the attributes the indicators use), never its free text (a support break's
reason, a void's reason, a cancellation's reason), and can void, correct or end nothing of
it; and the other way round.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.models import AuditEntry
from tests.builders import person
from tests.http.conftest import jsonable
from tests.web.conftest import post_form, sign_in

PRIVATE = "rupture familiale évoquée en entretien"  # a free text only ML may read
VOIDED = "saisie en double chez nous"


def _text(answer: Any) -> str:
    """The JSON answer as text with its accents (the API escapes them as \\u00e9)."""
    return json.dumps(answer.get_json(), ensure_ascii=False)


def _event(client: Any, pid: str, type_: str, date: str, status: int = 201,
           **fields: Any) -> Any:
    body = {"id": str(uuid.uuid4()), "participant_id": pid, "type": type_, "date": date,
            "enrolment_id": fields.pop("enrolment_id", None),
            "closes": fields.pop("closes", None), "attributes": fields}
    answer = client.post("/api/v1/events", json=body)
    assert answer.status_code == status, answer.get_json()
    return answer.get_json()


@pytest.fixture
def shared(clients: dict[str, Any], people: dict[str, Any], session: Session) -> dict[str, Any]:
    ml, plie, admin = clients["coord_ml"], clients["coord_plie"], clients["admin"]
    actions = {a["code"]: a["id"] for a in
               admin.get("/api/v1/programmes/erbm-2023").get_json()["actions"]}
    identity = jsonable(person(ase_past=True, home_departement="62"))
    pid = ml.post("/api/v1/participants", json=identity).get_json()["id"]
    ml_enrolment = ml.post("/api/v1/enrolments", json={
        "participant_id": pid, "action_id": actions["62-A6"],
        "structure_id": str(people["structures"]["ml"].uuid), "start_date": "2023-02-01",
        "rsa_at_entry": False}).get_json()["id"]
    brk = _event(ml, pid, "support_break", "2023-03-01", enrolment_id=ml_enrolment,
                 reason=PRIVATE)
    training = _event(ml, pid, "training_start", "2023-04-03", qualifying=True)
    twice = _event(ml, pid, "contact", "2023-04-05", mode="phone")
    assert ml.post(f"/api/v1/events/{twice['id']}/void",
                   json={"reason": VOIDED}).status_code == 200

    known = plie.post("/api/v1/participants", json=identity)
    assert known.get_json() == {"id": pid, "already_known": True}
    joined = plie.post("/api/v1/enrolments", json={
        "participant_id": pid, "action_id": actions["62-A1"],
        "structure_id": str(people["structures"]["plie"].uuid), "start_date": "2023-05-02",
        "rsa_at_entry": True})
    assert joined.status_code == 201, joined.get_json()
    own = _event(plie, pid, "employment_start", "2023-06-01", contract="cdi")
    return {"pid": pid, "break": brk["id"], "training": training["id"], "voided": twice["id"],
            "ml_enrolment": ml_enrolment, "plie_enrolment": joined.get_json()["id"],
            "plie_event": own["id"]}


def test_another_structures_events_are_facts_without_their_free_text(
        clients: dict[str, Any], shared: dict[str, Any]) -> None:
    plie, ml, admin = clients["coord_plie"], clients["coord_ml"], clients["admin"]
    pid = shared["pid"]
    for answer in (plie.get(f"/api/v1/participants/{pid}"),
                   plie.get(f"/api/v1/events?participant_id={pid}"),
                   plie.get(f"/api/v1/events/{shared['break']}")):
        assert answer.status_code == 200
        assert PRIVATE not in _text(answer)
        assert VOIDED not in _text(answer)
    events = {e["id"]: e for e in plie.get(f"/api/v1/events?participant_id={pid}")
              .get_json()["items"]}
    brk = events[shared["break"]]
    assert (brk["type"], brk["date"], brk["own"]) == ("support_break", "2023-03-01", False)
    assert "reason" not in brk["attributes"]
    assert events[shared["training"]]["attributes"] == {"qualifying": True}  # an indicator's
    assert events[shared["voided"]]["voided"] is True  # the fact stays
    assert events[shared["voided"]]["void_reason"] is None
    assert events[shared["plie_event"]]["own"] is True
    # The Mission Locale reads its own part whole, and the PLIE's as facts.
    mine = {e["id"]: e for e in ml.get(f"/api/v1/events?participant_id={pid}")
            .get_json()["items"]}
    assert mine[shared["break"]]["attributes"]["reason"] == PRIVATE
    assert mine[shared["voided"]]["void_reason"] == VOIDED
    assert mine[shared["plie_event"]]["own"] is False
    # An administrator under an exceptional access sees everything (audited).
    assert admin.post(f"/api/v1/participants/{pid}/exceptional-access",
                      json={"reason": "contrôle demandé par la CNIL"}).status_code in (200, 201)
    assert PRIVATE in _text(admin.get(f"/api/v1/events/{shared['break']}"))


def test_a_structure_changes_only_what_it_recorded(
        clients: dict[str, Any], shared: dict[str, Any], session: Session) -> None:
    plie, pid = clients["coord_plie"], shared["pid"]
    refusals = [
        plie.post(f"/api/v1/events/{shared['training']}/void", json={"reason": "erreur"}),
        plie.post(f"/api/v1/events/{shared['training']}/correction", json={
            "reason": "erreur", "id": str(uuid.uuid4()), "participant_id": pid,
            "type": "training_start", "date": "2023-04-04",
            "attributes": {"qualifying": False}}),
        plie.post(f"/api/v1/enrolments/{shared['ml_enrolment']}/end",
                  json={"end_date": "2023-12-31", "exit_reason": "end_of_support"}),
        plie.post(f"/api/v1/enrolments/{shared['ml_enrolment']}/cancellation",
                  json={"reason": "pas chez nous"}),
    ]
    assert [r.status_code for r in refusals] == [403, 403, 403, 403]
    # Ending the Mission Locale's training, named or not, and a break on its support.
    named = _event(plie, pid, "training_end", "2023-09-01", status=403,
                   closes=shared["training"])
    assert "closes" in named["errors"]["json"]
    implicit = _event(plie, pid, "training_end", "2023-09-01", status=403)
    assert "closes" in implicit["errors"]["json"]
    on_theirs = _event(plie, pid, "support_break", "2023-09-02", status=403,
                       enrolment_id=shared["ml_enrolment"], reason="absent")
    assert "enrolment_id" in on_theirs["errors"]["json"]
    # Its own part it changes freely.
    assert plie.post(f"/api/v1/events/{shared['plie_event']}/void",
                     json={"reason": "erreur"}).status_code == 200
    audited = session.execute(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "access.refused")).scalar_one()
    assert audited >= 7


def test_the_pages_show_the_same_facts_and_offer_no_change(
        app: Any, people: dict[str, Any], shared: dict[str, Any]) -> None:
    page = sign_in(app.test_client(), people["users"]["coord_plie"][0])
    html = page.get(f"/personnes/{shared['pid']}").get_data(as_text=True)
    assert PRIVATE not in html
    assert VOIDED not in html
    assert f"/evenements/{shared['training']}/correction" not in html
    assert f"/evenements/{shared['plie_event']}/correction" in html
    assert f"/accompagnements/{shared['ml_enrolment']}/fin" not in html
    assert page.get(f"/personnes/{shared['pid']}/evenements/{shared['training']}/correction"
                    ).status_code == 403
    voided = post_form(page, f"/personnes/{shared['pid']}/evenements/{shared['training']}"
                             "/annulation", {"reason": "erreur"})
    assert voided.status_code == 403
    ml = sign_in(app.test_client(), people["users"]["coord_ml"][0])
    assert PRIVATE in ml.get(f"/personnes/{shared['pid']}").get_data(as_text=True)


def test_joining_is_audited_and_the_structure_already_following_is_told(
        clients: dict[str, Any], people: dict[str, Any], shared: dict[str, Any],
        session: Session) -> None:
    import datetime as dt

    from cohort.services import notify

    joined = session.execute(sa.select(AuditEntry).where(
        AuditEntry.action == "participant.join")).scalars().all()
    assert [(e.target_id, e.details["structures_told"]) for e in joined] == [
        (shared["pid"], 1)]
    inbox = clients["coord_ml"].get("/api/v1/inbox").get_json()["items"]
    [told] = [m for m in inbox if m["kind"] == "shared_follow"]
    assert "PLIE de Lens-Hénin-Carvin suit désormais une personne" in told["body"]
    assert f"/personnes/{shared['pid']}" in told["body"]
    assert "62-A1" in told["body"]
    assert clients["coord_plie"].get("/api/v1/inbox").get_json()["items"] == []
    # The same line in the Mission Locale's next daily digest (e-mailed), without a name.
    today = dt.datetime.now(dt.UTC).date()
    digests = notify.digests(session, today=today, now=dt.datetime.now(dt.UTC))
    ml_users = {u.id for u, _ in people["users"].values()
                if u.structure_id == people["structures"]["ml"].id}
    [digest] = [d for d in digests if d.recipient_user_id in ml_users]
    assert f"/personnes/{shared['pid']}" in digest.body
    assert "suivi(s) partagé(s)" in digest.subject
    identity = clients["coord_ml"].post(f"/api/v1/participants/{shared['pid']}/identity",
                                        json={"purpose": "vérifier le message"}).get_json()
    for text in (told["body"], told["subject"], digest.body, digest.subject):
        assert identity["last_name"] not in text
        assert identity["first_names"] not in text
