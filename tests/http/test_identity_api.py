"""Identity endpoints over HTTP: search, reveal (audited), link/unlink, erase."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.models import AuditEntry
from tests.builders import person
from tests.http.conftest import jsonable


def test_search_reveal_link_erase(clients: dict[str, Any], people: dict[str, Any],
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

    assert ml.post(f"/api/v1/participants/{pid}/erase", json={}).status_code == 403
    erased = admin.post(f"/api/v1/participants/{pid}/erase", json={"mode": "keep_pathway"})
    assert erased.status_code == 200, erased.get_json()
    assert ml.post("/api/v1/participants/search", json=search).status_code == 404
    assert admin.post(f"/api/v1/participants/{pid}/erase", json={}).status_code == 409
