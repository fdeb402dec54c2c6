"""A canary followed only by the Mission Locale never shows through to others."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any

import pytest
from sqlalchemy.orm import Session

from tests.builders import person
from tests.http.conftest import jsonable

CANARY = person(last_name="Zébulonesque", first_names="Canarina", ase_past=True,
                birth_date=dt.date(2004, 11, 23), nir="2 04 11 62 193 005 80")


# What each probe below answers each user: 404 where the canary does not exist for them
# (coordinators and referents elsewhere), 403 where their role has no such function
# (evaluators and pilots see aggregates only; a referent does not void events), and 200
# for lists, which must then hold nothing of the canary. One status per probe, in order:
# participant, identity, events, events of the participant, event, enrolment, void,
# structures, operations; then registering the same identity again.
EXPECTED = {
    "coord_plie": ([404, 404, 200, 200, 404, 404, 404, 200, 200], 200),
    "evaluator": ([403, 403, 403, 403, 403, 403, 403, 200, 200], 403),
    "referent59": ([404, 404, 200, 200, 404, 404, 403, 200, 200], 403),
    "pilot62": ([403, 403, 403, 403, 403, 403, 403, 200, 200], 403),
}


def _valid_nir() -> str:
    from stdnum.fr import nir

    base = "2041162193005"
    return base + nir.calc_check_digits(base)


def test_canary_never_leaks(clients: dict[str, Any], people: dict[str, Any],
                            caplog: pytest.LogCaptureFixture, session: Session) -> None:
    ml = clients["coord_ml"]
    identity = jsonable(CANARY | {"nir": _valid_nir()})
    created = ml.post("/api/v1/participants", json=identity)
    assert created.status_code == 201, created.get_json()
    pid = created.get_json()["id"]
    programme = ml.get("/api/v1/programmes/erbm-2023").get_json()
    a6 = next(a["id"] for a in programme["actions"] if a["code"] == "62-A6")
    enrolled = ml.post("/api/v1/enrolments", json={
        "participant_id": pid, "action_id": a6,
        "structure_id": str(people["structures"]["ml"].uuid),
        "start_date": "2023-02-01", "rsa_at_entry": False})
    assert enrolled.status_code == 201, enrolled.get_json()
    enrolment = enrolled.get_json()
    recorded = ml.post("/api/v1/events", json={
        "id": str(uuid.uuid4()), "participant_id": pid, "type": "support_break",
        "date": "2023-03-01", "enrolment_id": enrolment["id"],
        "attributes": {"reason": "ne vient plus"}})
    assert recorded.status_code == 201, recorded.get_json()
    event = recorded.get_json()

    outputs: list[str] = []
    with caplog.at_level(logging.DEBUG):
        for user, (statuses, again_status) in EXPECTED.items():
            http = clients[user]
            calls = [
                http.get(f"/api/v1/participants/{pid}"),
                http.post(f"/api/v1/participants/{pid}/identity", json={"purpose": "curiosité"}),
                http.get("/api/v1/events"),
                http.get(f"/api/v1/events?participant_id={pid}"),
                http.get(f"/api/v1/events/{event['id']}"),
                http.get(f"/api/v1/enrolments/{enrolment['id']}"),
                http.post(f"/api/v1/events/{event['id']}/void", json={"reason": "test"}),
                http.get("/api/v1/structures"),
                http.get("/api/v1/operations"),
            ]
            assert [c.status_code for c in calls] == statuses, user
            outputs += [c.get_data(as_text=True) for c in calls]
            again = http.post("/api/v1/participants", json=identity)
            assert again.status_code == again_status, user
            if again_status == 200:  # a coordinator elsewhere: "already known", nothing else
                assert again.get_json() == {"id": pid, "already_known": True}
            else:
                outputs.append(again.get_data(as_text=True))
    outputs += [record.getMessage() for record in caplog.records]
    text = "\n".join(outputs)
    for secret in ("Zébulonesque", "ZEBULONESQUE", "Canarina", "CANARINA", "2004-11-23",
                   "2004-11", _valid_nir(), "ne vient plus", pid, enrolment["id"], event["id"]):
        assert secret not in text, len(secret)
