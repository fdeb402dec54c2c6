"""HTTP test helpers: a small client-side vocabulary for the API."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from tests.builders import person, token_client


def jsonable(data: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data.items()}


def assert_refused(response: Any, status: int, field: str) -> dict[str, Any]:
    """The response is `status` with a JSON body naming `field` (dotted for nesting)."""
    body: dict[str, Any] = response.get_json()
    assert response.status_code == status, body
    assert body["code"] == status
    assert body["message"]
    errors: Any = body["errors"]["json"]
    for part in field.split("."):
        assert part in errors, (field, body)
        errors = errors[part]
    return body


# A kind of structure that runs each Pas-de-Calais action (the programme's operators).
RUNS = {"62-A1": "plie", "62-A2": "plie", "62-A3": "creche", "62-A4": "cllaj",
        "62-A5": "cllaj", "62-A6": "mission_locale"}


@dataclass
class Api:
    client: Any
    actions: dict[str, str]

    def post(self, url: str, body: dict[str, Any], status: int | None = None) -> Any:
        response = self.client.post(url, json=body)
        if status is not None:
            assert response.status_code == status, response.get_json()
        return response

    def structure(self, name: str = "Mission Locale", kind: str = "mission_locale") -> str:
        body = {"name": f"{name} {uuid.uuid4().hex[:6]}", "kind": kind, "departement": "62"}
        return str(self.post("/api/v1/structures", body, 201).get_json()["id"])

    def structure_for(self, code: str) -> str:
        """A Pas-de-Calais structure of a kind that runs the action (domain.md §2)."""
        return self.structure(f"Opérateur {code}", RUNS[code])

    def participant(self, **identity: Any) -> str:
        return str(self.post("/api/v1/participants", jsonable(person(**identity))).get_json()["id"])

    def enrol(self, participant: str, code: str, structure: str, start: str = "2023-02-01",
              status: int | None = 201, **extra: Any) -> Any:
        body = {"participant_id": participant, "action_id": self.actions[code],
                "structure_id": structure, "start_date": start, "rsa_at_entry": False, **extra}
        return self.post("/api/v1/enrolments", body, status)

    def event(self, participant: str, type_: str, date: str, status: int | None = 201,
              **fields: Any) -> Any:
        body = {"id": str(fields.pop("id", uuid.uuid4())), "participant_id": participant,
                "type": type_, "date": date}
        for link in ("enrolment_id", "operation_id", "closes"):
            if link in fields:
                body[link] = fields.pop(link)
        body["attributes"] = fields
        return self.post("/api/v1/events", body, status)


@pytest.fixture
def clients(app: Any, session: Any, people: dict[str, Any]) -> dict[str, Any]:
    """A test client per user of `people`, each sending its own bearer token."""
    return {name: token_client(app, secret) for name, (_, secret) in people["users"].items()}


@pytest.fixture
def api(clients: dict[str, Any]) -> Api:
    """The API as an administrator (issue-2 tests exercise rules, not scoping)."""
    admin = clients["admin"]
    programme = admin.get("/api/v1/programmes/erbm-2023").get_json()
    return Api(admin, {a["code"]: a["id"] for a in programme["actions"]})
