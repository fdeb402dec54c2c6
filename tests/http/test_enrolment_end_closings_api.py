"""POST /api/v1/enrolments/{uuid}/end with close_periods, and GET …/open-periods (issue 17,
item 3): the periods the structure recorded close with the enrolment; a refused closing is
a 422 naming the period and writes nothing; a retry answers the same."""

from __future__ import annotations

import uuid
from typing import Any

from tests.builders import person
from tests.http.conftest import jsonable
from tests.http.test_pathway_scenario import actions  # noqa: F401 - the fixture


def test_end_an_enrolment_with_its_open_periods(clients: dict[str, Any], people: dict[str, Any],
                                                actions: dict[str, str]) -> None:  # noqa: F811
    client = clients["coord_ml"]
    youth = client.post("/api/v1/participants", json=jsonable(person(ase_past=True)))
    assert youth.status_code == 201
    youth_id = youth.get_json()["id"]
    enrolment = client.post("/api/v1/enrolments", json={
        "participant_id": youth_id, "action_id": actions["62-A6"],
        "structure_id": str(people["structures"]["ml"].uuid), "start_date": "2023-02-01",
        "rsa_at_entry": False}).get_json()
    url = f"/api/v1/enrolments/{enrolment['id']}"
    starts = {}
    for type_, date, attributes in (
            ("training_start", "2023-03-01", {"qualifying": True}),
            ("employment_start", "2023-04-03", {"contract": "cdd", "planned_months": 6})):
        made = client.post("/api/v1/events", json={
            "id": str(uuid.uuid4()), "participant_id": youth_id, "type": type_, "date": date,
            "attributes": attributes})
        assert made.status_code == 201, made.get_json()
        starts[type_] = made.get_json()["id"]

    listed = client.get(f"{url}/open-periods")
    assert listed.status_code == 200
    assert sorted((p["family"], p["closable"], p["closing_type"]) for p in listed.get_json()) == [
        ("employment", True, "employment_end"), ("training", True, "training_end")]
    assert clients["coord_plie"].get(f"{url}/open-periods").status_code == 404

    body = {"end_date": "2023-08-31", "exit_reason": "employment", "close_periods": [
        {"start_event_id": starts["training_start"], "id": str(uuid.uuid4()),
         "date": "2023-06-30", "attributes": {"completed": True}},
        {"start_event_id": starts["employment_start"], "id": str(uuid.uuid4()),
         "date": "2023-03-01"}]}
    refused = client.post(f"{url}/end", json=body)
    assert refused.status_code == 422, refused.get_json()
    answer = refused.get_json()
    assert list(answer["errors"]["json"]) == ["close_periods.1.date"]
    assert answer["close_period"] == starts["employment_start"]
    assert client.get(url).get_json()["end_date"] is None  # nothing written

    malformed = client.post(f"{url}/end", json={**body, "close_periods": [{"id": "x"}]})
    assert malformed.status_code == 422
    assert "close_periods" in malformed.get_json()["errors"]["json"]

    body["close_periods"][1]["date"] = "2023-08-31"
    done = client.post(f"{url}/end", json=body)
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["end_date"] == "2023-08-31"
    assert client.get(f"{url}/open-periods").get_json() == []
    timeline = client.get(f"/api/v1/participants/{youth_id}").get_json()
    assert sorted((iv["family"], iv["end_date"]) for iv in timeline["intervals"]) == [
        ("employment", "2023-08-31"), ("training", "2023-06-30")]

    again = client.post(f"{url}/end", json=body)  # a client retrying after a lost answer
    assert again.status_code == 200
    assert again.get_json() == done.get_json()
    events = client.get(f"/api/v1/events?participant_id={youth_id}&per_page=100").get_json()
    assert len(events["items"]) == 4
