"""The API's contract: documented, JSON errors for bad input (never a 5xx), bounded pages."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

from openapi_spec_validator import validate

from cohort import create_app
from tests.builders import person
from tests.conftest import admin_client, clone
from tests.http.conftest import Api, assert_refused, jsonable


def test_openapi_document_and_offline_docs(client: Any) -> None:
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["info"]["title"] == "cohort"
    for path in ("/api/v1/participants", "/api/v1/enrolments", "/api/v1/events",
                 "/api/v1/events/{event_id}/void", "/api/v1/structures", "/api/v1/operations"):
        assert path in spec["paths"], path
    assert spec["paths"]["/api/v1/events"]["post"]["summary"].startswith("Record a pathway event")
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert b"/api/v1/docs/static/swagger-ui-bundle.js" in page.data
    script = client.get("/api/v1/docs/static/swagger-ui-bundle.js")
    assert script.status_code == 200
    script.close()


def test_the_openapi_document_is_valid(client: Any) -> None:
    """Issue 18: `maximum: "80.00"` (a string) made the document invalid, and schemathesis
    then generated no case for the follow-up result."""
    spec = client.get("/api/v1/openapi.json").get_json()
    validate(spec)
    attributes = spec["components"]["schemas"]["EmploymentStart"]["properties"]
    assert attributes["hours_per_week"]["type"] == "string"  # a decimal carried as text


def test_malformed_bodies_get_4xx_json(api: Api) -> None:
    client = api.client
    broken = client.post("/api/v1/participants", data=b"{not json",
                         content_type="application/json")
    assert 400 <= broken.status_code < 500
    assert broken.get_json()["message"]
    not_object = client.post("/api/v1/events", json=[1, 2, 3])
    assert not_object.status_code == 422
    nul = client.post("/api/v1/participants",
                      json=jsonable(person(last_name="Nul\x00Byte")))
    body = assert_refused(nul, 422, "last_name")  # PostgreSQL could not even store it
    assert body["errors"]["json"]["last_name"] == ["must not contain a NUL character"]
    assert client.get("/api/v1/participants/not-a-uuid").status_code == 404
    assert client.delete("/api/v1/events").status_code == 405
    assert "Allow" in client.delete("/api/v1/events").headers


def test_oversized_body_is_413(api: Api) -> None:
    client = api.client
    huge = {"last_name": "x" * 2_000_000, "first_names": "y", "birth_date": "2000-01-01"}
    response = client.post("/api/v1/participants", json=huge)
    assert response.status_code == 413
    assert response.get_json()["code"] == 413


def test_lists_paginate_and_filter(api: Api) -> None:
    pid = api.participant()
    api.enrol(pid, "62-A6", api.structure())
    for day in range(1, 8):
        api.event(pid, "contact", f"2023-03-{day:02d}", mode="phone")
    api.event(pid, "mobility_assessment", "2023-03-09", level=3)
    page = api.client.get(f"/api/v1/events?participant_id={pid}&per_page=3&page=2").get_json()
    assert page["page"] == {"page": 2, "per_page": 3, "total": 8}
    assert [e["date"] for e in page["items"]] == ["2023-03-04", "2023-03-05", "2023-03-06"]
    typed = api.client.get(f"/api/v1/events?participant_id={pid}&type=mobility_assessment")
    assert typed.get_json()["page"]["total"] == 1
    ranged = api.client.get(
        f"/api/v1/events?participant_id={pid}&date_from=2023-03-06&date_to=2023-03-07")
    assert ranged.get_json()["page"]["total"] == 2
    assert api.client.get("/api/v1/events?per_page=0").status_code == 422
    assert api.client.get("/api/v1/events?per_page=100000").status_code == 422
    assert api.client.get("/api/v1/events?type=party").status_code == 422


def test_two_coordinators_ending_one_enrolment(fresh_database_url: str, keys_file: Path) -> None:
    app = create_app({"DATABASE_URL": fresh_database_url, "KEYS_FILE": str(keys_file)})
    client = admin_client(app)
    pid = client.post("/api/v1/participants", json=jsonable(person())).get_json()["id"]
    programme = client.get("/api/v1/programmes/erbm-2023").get_json()
    a6 = next(a["id"] for a in programme["actions"] if a["code"] == "62-A6")
    ml = client.post("/api/v1/structures", json={"name": f"ML {uuid.uuid4().hex[:4]}",
                                                 "kind": "mission_locale",
                                                 "departement": "62"}).get_json()["id"]
    enrolment = client.post("/api/v1/enrolments", json={
        "participant_id": pid, "action_id": a6, "structure_id": ml,
        "start_date": "2023-02-01", "rsa_at_entry": False}).get_json()
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def end(reason: str) -> None:
        c = clone(client)
        barrier.wait()
        statuses.append(c.post(f"/api/v1/enrolments/{enrolment['id']}/end", json={
            "end_date": "2023-12-31", "exit_reason": reason,
            "expected_version": enrolment["version"]}).status_code)

    threads = [threading.Thread(target=end, args=(r,)) for r in ("employment", "training")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200, 409]
    app.extensions["cohort.engine"].dispose()
