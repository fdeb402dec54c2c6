"""GET /api/v1/caseload and POST /api/v1/caseload/search: a coordinator's list of the
people their structure follows, searched by a text that travels in the body only."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from cohort.models import AuditEntry
from tests.builders import person
from tests.http.conftest import jsonable
from tests.http.test_pathway_scenario import actions  # noqa: F401 - the fixture


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.dumps({k: str(v) for k, v in vars(record).items()}))


@pytest.fixture
def captured(app: Any) -> Iterator[Captured]:
    handler = Captured()
    loggers = [logging.getLogger(), logging.getLogger("cohort"), app.logger,
               logging.getLogger("werkzeug"), logging.getLogger("sqlalchemy")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler
    for logger in loggers:
        logger.removeHandler(handler)


def followed(client: Any, structure: Any, code: str, action_id: str,
             **identity: Any) -> str:
    made = client.post("/api/v1/participants", json=jsonable(person(**identity)))
    assert made.status_code == 201
    participant = made.get_json()["id"]
    enrolled = client.post("/api/v1/enrolments", json={
        "participant_id": participant, "action_id": action_id,
        "structure_id": str(structure.uuid), "start_date": "2023-02-01",
        "rsa_at_entry": False})
    assert enrolled.status_code == 201, enrolled.get_json()
    return str(participant)


def refused_fields(response: Any, status: int, location: str) -> set[str]:
    body = response.get_json()
    assert response.status_code == status, body
    return set(body["errors"][location])


def test_the_caseload_through_the_api(clients: dict[str, Any], people: dict[str, Any],
                                      actions: dict[str, str],  # noqa: F811
                                      session: Any, captured: Captured) -> None:
    ml, plie = clients["coord_ml"], clients["coord_plie"]
    mine = followed(ml, people["structures"]["ml"], "62-A6", actions["62-A6"],
                    last_name="Dupont-Lefèvre", first_names="Anastasie")
    other = followed(ml, people["structures"]["ml"], "62-A6", actions["62-A6"],
                     last_name="Kowalczyk", first_names="Philippine")
    theirs = followed(plie, people["structures"]["plie"], "62-A1", actions["62-A1"],
                      last_name="Lefebvre", first_names="Corentine")

    listed = ml.get("/api/v1/caseload?sort=name&enrolment=open")
    assert listed.status_code == 200, listed.get_json()
    body = listed.get_json()
    assert [item["id"] for item in body["items"]] == [mine, other]
    assert body["page"] == {"page": 1, "per_page": 50, "total": 2}
    first = body["items"][0]
    assert first["birth_month"] == "2005-03"
    assert [e["action_code"] for e in first["enrolments"]] == ["62-A6"]
    assert first["last_name"]
    assert first["open_periods"] == []
    assert first["next_followup"] is None

    before = session.execute(sa.select(sa.func.count()).select_from(AuditEntry).where(
        AuditEntry.action == "caseload.read")).scalar_one()
    for typed in ("lef", "LEFE"):
        found = ml.post("/api/v1/caseload/search", json={"q": typed, "action_id": actions["62-A6"]})
        assert found.status_code == 200, found.get_json()
        assert [item["id"] for item in found.get_json()["items"]] == [mine]
    assert [item["id"] for item in plie.post("/api/v1/caseload/search",
                                             json={"q": "lef"}).get_json()["items"]] == [theirs]
    assert plie.post("/api/v1/caseload/search", json={"q": "dupont"}).get_json()["items"] == []
    session.expire_all()
    entries = session.execute(sa.select(AuditEntry).where(
        AuditEntry.action == "caseload.read").order_by(AuditEntry.id)).scalars().all()
    assert len(entries) == before + 4  # one per call
    for entry in entries:
        assert "lef" not in json.dumps([entry.details, entry.purpose]).lower()
    assert not [line for line in captured.lines if "lefe" in line.lower()
                or "LEF" in line]


def test_refusals_name_the_field(clients: dict[str, Any], people: dict[str, Any]) -> None:
    ml = clients["coord_ml"]
    assert refused_fields(ml.get("/api/v1/caseload?sort=age"), 422, "query") == {"sort"}
    assert refused_fields(ml.get("/api/v1/caseload?followup=late"), 422, "query") == {"followup"}
    assert refused_fields(ml.get("/api/v1/caseload?open_period=villa"), 422, "query") == {
        "open_period"}
    assert refused_fields(ml.get("/api/v1/caseload?per_page=101&inactive_days=0"), 422,
                          "query") == {"per_page", "inactive_days"}
    assert refused_fields(ml.get("/api/v1/caseload?q=lef"), 422, "query") == {"q"}
    assert refused_fields(ml.get("/api/v1/caseload?action_id=62-A6"), 422, "query") == {
        "action_id"}
    unknown = ml.get("/api/v1/caseload?action_id=6c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f")
    assert refused_fields(unknown, 422, "json") == {"action_id"}
    search = "/api/v1/caseload/search"
    assert refused_fields(ml.post(search, json={}), 422, "json") == {"q"}
    assert refused_fields(ml.post(search, json={"q": ""}), 422, "json") == {"q"}
    assert refused_fields(ml.post(search, json={"q": "x" * 101}), 422, "json") == {"q"}
    punctuation = ml.post(search, json={"q": "-·-"})
    assert refused_fields(punctuation, 422, "json") == {"q"}
    assert "-·-" not in punctuation.get_data(as_text=True)


@pytest.mark.parametrize("login", ["admin", "evaluator", "pilot62", "referent62"])
def test_coordinators_only(clients: dict[str, Any], login: str) -> None:
    assert clients[login].get("/api/v1/caseload").status_code == 403
    assert clients[login].post("/api/v1/caseload/search", json={"q": "lef"}).status_code == 403
