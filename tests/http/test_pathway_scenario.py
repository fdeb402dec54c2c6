"""Issue acceptance: an ASE youth's pathway recorded through the API, on both databases."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.builders import person


def _post(client: Any, url: str, body: dict[str, Any], status: int) -> dict[str, Any]:
    response = client.post(url, json=body)
    assert response.status_code == status, response.get_json()
    result: dict[str, Any] = response.get_json()
    return result


@pytest.fixture
def actions(clients: dict[str, Any]) -> dict[str, str]:
    programme = clients["coord_ml"].get("/api/v1/programmes/erbm-2023").get_json()
    return {a["code"]: a["id"] for a in programme["actions"]}


def _jsonable(identity: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in identity.items()}


def test_ase_youth_pathway_end_to_end(clients: dict[str, Any], people: dict[str, Any],
                                      actions: dict[str, str]) -> None:
    client, plie_client = clients["coord_ml"], clients["coord_plie"]
    mission_locale = {"id": str(people["structures"]["ml"].uuid)}
    plie = {"id": str(people["structures"]["plie"].uuid)}

    identity = person(last_name="Dupont-Martin", first_names="Éloïse", ase_past=True)
    first = _post(client, "/api/v1/participants", _jsonable(identity), 201)
    assert first["already_known"] is False
    assert first["birth_month"] == identity["birth_date"].strftime("%Y-%m")
    assert "last_name" not in first
    assert "birth_date" not in first
    # The PLIE registers the same youth, spelled differently: the same participant, and
    # "already known" with nothing else (no attribute, enrolment or event of the ML's).
    respelled = dict(identity, last_name="DUPONT MARTIN", first_names="eloise")
    second = _post(plie_client, "/api/v1/participants", _jsonable(respelled), 200)
    assert second == {"id": first["id"], "already_known": True}
    assert plie_client.get(f"/api/v1/participants/{first['id']}").status_code == 404

    enrolment = _post(client, "/api/v1/enrolments", {
        "participant_id": first["id"], "action_id": actions["62-A6"],
        "structure_id": mission_locale["id"], "start_date": "2023-02-01", "rsa_at_entry": False,
    }, 201)
    assert enrolment["age_at_entry"] == 17
    assert enrolment["under_26"] is True

    def event(type_: str, date: str, status: int = 201, **attributes: Any) -> dict[str, Any]:
        body = {"id": str(uuid.uuid4()), "participant_id": first["id"], "type": type_,
                "date": date, "attributes": attributes}
        for link in ("enrolment_id", "closes"):
            if link in attributes:
                body[link] = attributes.pop(link)
        return _post(client, "/api/v1/events", body, status)

    youth_home = event("housing_entry", "2023-02-10", housing_type="youth_residence")
    social = event("housing_entry", "2023-06-01", housing_type="social_rental",
                   via_programme=True)
    training = event("training_start", "2023-03-01", qualifying=True)
    allowance = event("resource_start", "2023-02-01", resource="young_adult_allowance")
    event("link_person_chosen", "2023-04-15")
    mistaken = event("employment_start", "2023-05-02", contract="cdi")
    # The implicit end closes the latest-starting open housing interval (the social rental).
    leave = event("housing_exit", "2023-09-30", reason="moved_by_choice")
    assert leave["closed"] == social["id"]
    event("training_end", "2023-07-01", completed=True, certified=True)
    event("resource_end", "2023-12-31", closes=allowance["id"])

    voided = client.post(f"/api/v1/events/{mistaken['id']}/void",
                         json={"reason": "saisie sur le mauvais jeune"})
    assert voided.status_code == 200
    assert voided.get_json()["voided"] is True

    ended = _post(client, f"/api/v1/enrolments/{enrolment['id']}/end",
                  {"end_date": "2024-01-31", "exit_reason": "end_of_support"}, 200)
    assert ended["end_date"] == "2024-01-31"

    timeline = client.get(f"/api/v1/participants/{first['id']}").get_json()
    dates = [e["date"] for e in timeline["events"]]
    assert dates == sorted(dates)
    assert [e["type"] for e in timeline["events"]][:3] == [
        "resource_start", "housing_entry", "training_start"]
    marked = {e["id"]: e for e in timeline["events"]}
    assert marked[mistaken["id"]]["voided"] is True
    assert marked[mistaken["id"]]["void_reason"] == "saisie sur le mauvais jeune"
    intervals = {(i["family"], i["start_date"]): i for i in timeline["intervals"]}
    assert intervals[("housing", "2023-06-01")]["end_date"] == "2023-09-30"
    assert intervals[("housing", "2023-02-10")]["end_date"] is None  # youth residence still open
    assert intervals[("training", "2023-03-01")]["end_date"] == "2023-07-01"
    assert intervals[("resource", "2023-02-01")]["end_date"] == "2023-12-31"
    assert ("employment", "2023-05-02") not in intervals  # voided start: no interval
    assert youth_home["id"] in {i["start_event_id"] for i in timeline["intervals"]}
    assert training["id"] == intervals[("training", "2023-03-01")]["start_event_id"]
    assert timeline["enrolments"][0]["exit_reason"] == "end_of_support"

    # The same person enrolled by the PLIE is the same participant (one row basin-wide).
    plie_enrolment = _post(plie_client, "/api/v1/enrolments", {
        "participant_id": second["id"], "action_id": actions["62-A1"],
        "structure_id": plie["id"], "start_date": "2024-02-01", "rsa_at_entry": False,
    }, 201)
    assert plie_enrolment["age_at_entry"] == 18
    # Once it enrols the youth, the PLIE follows them too.
    assert plie_client.get(f"/api/v1/participants/{first['id']}").status_code == 200


def test_correcting_an_end_moves_the_six_month_check(clients: dict[str, Any],
                                                     people: dict[str, Any],
                                                     actions: dict[str, str]) -> None:
    client = clients["coord_ml"]
    youth = _post(client, "/api/v1/participants", _jsonable(person(ase_past=True)), 201)
    enrolment = _post(client, "/api/v1/enrolments", {
        "participant_id": youth["id"], "action_id": actions["62-A6"],
        "structure_id": str(people["structures"]["ml"].uuid), "start_date": "2023-02-01",
        "rsa_at_entry": False}, 201)
    url = f"/api/v1/enrolments/{enrolment['id']}"
    _post(client, f"{url}/end", {"end_date": "2023-08-31", "exit_reason": "end_of_support"}, 200)

    def checks() -> list[dict[str, Any]]:
        items = client.get("/api/v1/followups?state=upcoming&state=due&state=overdue"
                           "&per_page=100").get_json()["items"]
        return [c for c in items if c["enrolment_id"] == enrolment["id"]]

    assert [c["due_date"] for c in checks()] == ["2024-02-29"]  # 31 August + 6 months
    moved = _post(client, f"{url}/correct-end", {"end_date": "2023-09-30"}, 200)
    assert moved["end_date"] == "2023-09-30"
    assert [c["due_date"] for c in checks()] == ["2024-03-30"]
    _post(client, f"{url}/correct-end", {"end_date": None}, 200)  # reopened
    assert checks() == []
    refused = client.post(f"{url}/correct-end", json={"end_date": "2022-01-01"})
    assert refused.status_code == 409  # an open enrolment has no end to correct
    assert "end_date" in refused.get_json()["errors"]["json"]
