"""The API without detours (issue 22, part 7): a 404 that says to register first, an
enrolment created already ended, natural keys in bodies, list parameters with commas."""

from __future__ import annotations

from typing import Any

from tests.builders import person
from tests.http.conftest import assert_refused, jsonable
from tests.http.test_pathway_scenario import actions  # noqa: F401 - the fixture


def _body(people: dict[str, Any], codes: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {"action_id": codes["62-A6"], "structure_id": str(people["structures"]["ml"].uuid),
            "start_date": "2023-02-01", "rsa_at_entry": False, **extra}


def test_enrolling_someone_not_followed_says_to_register_first(
        clients: dict[str, Any], people: dict[str, Any],
        actions: dict[str, str]) -> None:  # noqa: F811
    youth = jsonable(person(ase_past=True))
    plie = clients["coord_plie"].post("/api/v1/participants", json=youth)
    assert plie.status_code == 201
    ml = clients["coord_ml"]
    followed_elsewhere = ml.post("/api/v1/enrolments", json=_body(
        people, actions, participant_id=plie.get_json()["id"]))
    unknown = ml.post("/api/v1/enrolments", json=_body(
        people, actions, participant_id="6f1c1c55-0000-4000-8000-000000000000"))
    by_identity = ml.post("/api/v1/enrolments", json=_body(people, actions, participant={
        k: youth[k] for k in ("last_name", "first_names", "birth_date")}))
    for response in (followed_elsewhere, unknown):
        assert_refused(response, 404, "participant_id")
        assert "register the person first" in response.get_json()["message"]
    assert_refused(by_identity, 404, "participant")
    # The same answer whether the person exists elsewhere or not at all: nothing revealed.
    assert followed_elsewhere.get_json() == unknown.get_json()
    assert youth["last_name"] not in by_identity.get_data(as_text=True)


def test_enrol_by_identity_already_ended_in_one_call(
        clients: dict[str, Any], people: dict[str, Any],
        actions: dict[str, str]) -> None:  # noqa: F811
    client = clients["coord_ml"]
    youth = jsonable(person(ase_past=True))
    registered = client.post("/api/v1/participants", json=youth)
    assert registered.status_code == 201
    key = {k: youth[k] for k in ("last_name", "first_names", "birth_date")}
    assert_refused(client.post("/api/v1/enrolments", json=_body(
        people, actions, participant=key, end_date="2023-08-31")), 422, "exit_reason")
    assert_refused(client.post("/api/v1/enrolments", json=_body(
        people, actions, participant=key, end_date="2023-01-01",
        exit_reason="employment")), 422, "end_date")
    done = client.post("/api/v1/enrolments", json=_body(
        people, actions, participant=key, end_date="2023-08-31", exit_reason="employment"))
    assert done.status_code == 201, done.get_json()
    enrolment = done.get_json()
    assert (enrolment["end_date"], enrolment["exit_reason"]) == ("2023-08-31", "employment")
    checks = client.get("/api/v1/followups?state=upcoming,due,overdue&per_page=100").get_json()
    assert [c["enrolment_id"] for c in checks["items"]] == [enrolment["id"]]
    # Ended already, so a new open enrolment in the same action is accepted.
    again = client.post("/api/v1/enrolments", json=_body(
        people, actions, participant=key, start_date="2023-10-01"))
    assert again.status_code == 201
    both = client.post("/api/v1/enrolments", json=_body(
        people, actions, participant=key, participant_id=registered.get_json()["id"]))
    assert_refused(both, 422, "participant")


def test_list_parameters_take_commas_and_repeats(clients: dict[str, Any]) -> None:
    client = clients["evaluator"]
    url = "/api/v1/cohorts?programme=erbm-2023"
    comma = client.get(f"{url}&actions=62-A6,62-A5")
    repeated = client.get(f"{url}&actions=62-A6&actions=62-A5")
    assert comma.status_code == 200, comma.get_json()
    assert comma.get_json() == repeated.get_json()
    assert sorted(comma.get_json()["actions"]) == ["62-A5", "62-A6"]


def test_an_event_names_its_participant_by_identity_or_nir(
        clients: dict[str, Any], people: dict[str, Any],
        actions: dict[str, str]) -> None:  # noqa: F811
    client = clients["coord_ml"]
    youth = jsonable(person(ase_past=True))
    registered = client.post("/api/v1/participants", json=youth)
    assert registered.status_code == 201
    key = {k: youth[k] for k in ("last_name", "first_names", "birth_date")}
    assert client.post("/api/v1/enrolments", json=_body(
        people, actions, participant=key)).status_code == 201
    body = {"id": "2f0c5d8e-6b1a-4c3e-9f7d-0a1b2c3d4e01", "type": "contact",
            "date": "2024-01-10", "attributes": {"mode": "phone"}}
    done = client.post("/api/v1/events", json={**body, "participant": key})
    assert done.status_code == 201, done.get_json()
    assert done.get_json()["participant_id"] == registered.get_json()["id"]
    # The same event by uuid is a retry of the same body (one digest either way).
    same = client.post("/api/v1/events", json={
        **body, "participant_id": registered.get_json()["id"]})
    assert same.status_code == 200, same.get_json()
    stranger = {**key, "last_name": "Inconnu-Ailleurs"}
    unknown = client.post("/api/v1/events", json={
        **body, "id": "2f0c5d8e-6b1a-4c3e-9f7d-0a1b2c3d4e02", "participant": stranger})
    assert_refused(unknown, 404, "participant")
    assert "Inconnu-Ailleurs" not in unknown.get_data(as_text=True)
    assert_refused(client.post("/api/v1/events", json={
        **body, "participant": {"nir": "123"}}), 422, "participant")
