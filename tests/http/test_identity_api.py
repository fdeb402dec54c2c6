"""Identity endpoints over HTTP: search, reveal (audited), link/unlink, erase."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM
from cohort.models import AuditEntry
from tests.builders import person
from tests.http.conftest import jsonable


def _second_admin(app: Any, session: Any, people: dict[str, Any]) -> Any:
    from cohort.services import accounts
    from tests.builders import token_client

    colleague = accounts.create_user(session, SYSTEM, {
        "email": "admin2@example.org", "display_name": "admin2",
        "structure_id": people["structures"]["cd62"].uuid, "role": "admin", "password": None},
        now=dt.datetime.now(dt.UTC))
    secret = accounts.create_token(session, SYSTEM, colleague, label="tests", days=1,
                                   now=dt.datetime.now(dt.UTC)).secret
    session.commit()
    return token_client(app, secret)


def test_search_reveal_link_erase(app: Any, clients: dict[str, Any], people: dict[str, Any],
                                  session: Session) -> None:
    ml, admin = clients["coord_ml"], clients["admin"]
    identity = jsonable(person(last_name="Rechercheenom", first_names="Inesquelle",
                               birth_date=dt.date(2004, 5, 6)))
    pid = ml.post("/api/v1/participants", json=identity).get_json()["id"]
    search = {k: identity[k] for k in ("last_name", "first_names", "birth_date")}
    found = ml.post("/api/v1/participants/search", json=dict(search, last_name="RECHERCHEENOM"))
    assert found.status_code == 200
    assert found.get_json()["id"] == pid
    assert clients["coord_plie"].post("/api/v1/participants/search",
                                      json=search).status_code == 404
    assert ml.post("/api/v1/participants/search", json={"last_name": "x"}).status_code == 422

    revealed = ml.post(f"/api/v1/participants/{pid}/identity",
                       json={"purpose": "rappeler le jeune"})
    assert revealed.get_json()["last_name"] == "Rechercheenom"
    assert revealed.headers["Cache-Control"] == "no-store"  # no proxy or browser keeps it
    entry = session.execute(sa.select(AuditEntry).where(
        AuditEntry.action == "participant.identity_read")).scalars().one()
    assert entry.purpose == "rappeler le jeune"
    assert "last_name" in entry.fields
    assert "Rechercheenom" not in str(entry.details)

    twin = admin.post("/api/v1/participants", json=jsonable(person())).get_json()["id"]
    link = admin.post("/api/v1/links", json={"absorbed_id": twin, "survivor_id": pid,
                                             "reason": "doublon constaté en commission"})
    assert link.status_code == 201
    assert ml.post("/api/v1/links", json={"absorbed_id": twin, "survivor_id": pid,
                                          "reason": "doublon constaté"}).status_code == 403
    undone = admin.post(f"/api/v1/links/{link.get_json()['id']}/unlink",
                        json={"reason": "deux personnes distinctes"})
    assert undone.status_code == 200
    assert undone.get_json()["unlinked_at"]

    reason = {"mode": "keep_pathway", "reason": "Demande écrite reçue le 2 mai"}
    assert ml.post(f"/api/v1/participants/{pid}/erase", json=reason).status_code == 403
    # Four-eyes (issue 18): out of scope is a 404 on every verb, as on GET — no oracle.
    assert admin.get(f"/api/v1/participants/{pid}").status_code == 404
    assert admin.post(f"/api/v1/participants/{pid}/erase", json=reason).status_code == 404
    assert admin.post(f"/api/v1/participants/{pid}/exceptional-access",
                      json={"reason": "demande d'effacement reçue"}).status_code in (200, 201)
    no_reason = admin.post(f"/api/v1/participants/{pid}/erase", json={"mode": "keep_pathway"})
    assert no_reason.status_code == 422
    assert "reason" in no_reason.get_json()["errors"]["json"]
    asked = admin.post(f"/api/v1/participants/{pid}/erase", json=reason)
    assert asked.status_code == 202, asked.get_json()
    request = asked.get_json()
    assert (request["status"], request["participant_id"]) == ("pending", pid)
    assert admin.post(f"/api/v1/participants/{pid}/erase", json=reason).get_json()[
        "id"] == request["id"]  # asked again: the same request
    own = admin.post(f"/api/v1/erasure-requests/{request['id']}/approve", json={})
    assert own.status_code == 403
    assert ml.post("/api/v1/participants/search", json=search).status_code == 200
    second = _second_admin(app, session, people)
    assert [r["id"] for r in second.get("/api/v1/erasure-requests").get_json()["items"]] == [
        request["id"]]
    approved = second.post(f"/api/v1/erasure-requests/{request['id']}/approve", json={})
    assert approved.status_code == 200, approved.get_json()
    assert approved.get_json()["request"]["status"] == "approved"
    assert approved.get_json()["erasure"]["mode"] == "keep_pathway"
    assert ml.post("/api/v1/participants/search", json=search).status_code == 404
    again = second.post(f"/api/v1/erasure-requests/{request['id']}/approve", json={})
    assert (again.status_code, again.get_json()["erasure"]) == (200, None)
