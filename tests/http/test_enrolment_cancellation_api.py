"""POST /api/v1/enrolments/{uuid}/cancellation (domain.md §4): 200 with the enrolment
marked, the same answer again, 422 without a reason, 404 out of scope, and the enrolment's
waiting check gone from the worklist."""

from __future__ import annotations

import uuid
from typing import Any

from tests.builders import person
from tests.http.conftest import assert_refused, jsonable
from tests.http.test_pathway_scenario import actions  # noqa: F401 - the fixture


def test_cancel_an_enrolment_through_the_api(clients: dict[str, Any], people: dict[str, Any],
                                             actions: dict[str, str]) -> None:  # noqa: F811
    client = clients["coord_ml"]
    youth = client.post("/api/v1/participants", json=jsonable(person(ase_past=True)))
    assert youth.status_code == 201
    body = {"participant_id": youth.get_json()["id"], "action_id": actions["62-A6"],
            "structure_id": str(people["structures"]["ml"].uuid), "start_date": "2023-02-01",
            "rsa_at_entry": False}
    enrolment = client.post("/api/v1/enrolments", json=body).get_json()
    url = f"/api/v1/enrolments/{enrolment['id']}"
    assert client.post(f"{url}/end", json={"end_date": "2023-08-31",
                                            "exit_reason": "end_of_support"}).status_code == 200

    def checks() -> list[str]:
        items = client.get("/api/v1/followups?state=upcoming&state=due&state=overdue"
                           "&per_page=100").get_json()["items"]
        return [c["id"] for c in items if c["enrolment_id"] == enrolment["id"]]

    assert len(checks()) == 1
    assert_refused(client.post(f"{url}/cancellation", json={}), 422, "reason")
    assert_refused(client.post(f"{url}/cancellation", json={"reason": "  "}), 422, "reason")
    # Another structure's coordinator does not even learn the enrolment exists.
    assert_refused(clients["coord_plie"].post(f"{url}/cancellation",
                                              json={"reason": "erreur"}), 404, "enrolment_id")
    assert client.get(url).get_json()["cancelled_at"] is None

    done = client.post(f"{url}/cancellation", json={"reason": "Mauvaise personne"})
    assert done.status_code == 200, done.get_json()
    cancelled = done.get_json()
    assert cancelled["id"] == enrolment["id"]
    assert cancelled["cancel_reason"] == "Mauvaise personne"
    assert cancelled["cancelled_at"]
    assert checks() == []
    again = client.post(f"{url}/cancellation", json={"reason": "Autre motif"})
    assert again.status_code == 200
    assert again.get_json() == cancelled  # the same answer, nothing changed
    # Nothing new may be tied to it: it counts nowhere.
    late_break = {"id": str(uuid.uuid4()), "participant_id": body["participant_id"],
                  "type": "support_break", "date": "2023-05-02",
                  "enrolment_id": enrolment["id"], "attributes": {"reason": "absent"}}
    assert_refused(client.post("/api/v1/events", json=late_break), 422, "enrolment_id")
    # Still in the history: the timeline shows it, marked.
    timeline = client.get(f"/api/v1/participants/{body['participant_id']}").get_json()
    marked = [e for e in timeline["enrolments"] if e["id"] == enrolment["id"]]
    assert marked[0]["cancel_reason"] == "Mauvaise personne"
    # A new open enrolment in the same action is accepted again.
    assert client.post("/api/v1/enrolments", json=body | {"start_date": "2023-09-01"}
                       ).status_code == 201
