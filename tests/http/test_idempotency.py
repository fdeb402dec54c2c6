"""Retries are safe: the same event id records once; a different body under it is a 409."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cohort import create_app
from cohort.models import Event, Participant
from tests.builders import person
from tests.conftest import admin_client, clone
from tests.http.conftest import Api, jsonable


def test_same_event_twice_records_once(api: Api) -> None:
    pid = api.participant()
    api.enrol(pid, "62-A6", api.structure())
    event_id = str(uuid.uuid4())
    first = api.event(pid, "housing_entry", "2023-03-01", id=event_id,
                      housing_type="social_rental").get_json()
    again = api.event(pid, "housing_entry", "2023-03-01", status=200, id=event_id,
                      housing_type="social_rental").get_json()
    assert again == first
    changed = api.event(pid, "housing_entry", "2023-03-02", status=409, id=event_id,
                        housing_type="social_rental").get_json()
    assert changed["errors"]["json"]["id"]
    listed = api.client.get(f"/api/v1/events?participant_id={pid}").get_json()
    assert listed["page"]["total"] == 1


def test_the_answer_to_a_post_is_the_event_as_read_back(api: Api) -> None:
    """Whatever its kind and links, a recorded event is answered as GET shows it, first
    time and on a retry (a new event that ends nothing is described without a query)."""
    pid = api.participant()
    structure = api.structure_for("62-A2")
    enrolment = api.enrol(pid, "62-A2", structure).get_json()["id"]
    operation = api.post("/api/v1/operations", {
        "action_id": api.actions["62-A2"], "kind": "clause_site", "label": "Chantier",
        "start_date": "2023-01-01", "planned_hours": "1200"}, 201).get_json()["id"]
    entry = str(uuid.uuid4())
    posts = [
        dict(type_="contact", date="2023-03-01", mode="phone"),
        dict(type_="clause_hours", date="2023-03-02", hours="35", operation_id=operation,
             enrolment_id=enrolment),
        dict(type_="support_break", date="2023-03-03", reason="absent",
             enrolment_id=enrolment),
        dict(type_="housing_entry", date="2023-03-04", id=entry, housing_type="social_rental"),
        dict(type_="housing_exit", date="2023-06-30", closes=entry, reason="other"),
        dict(type_="training_start", date="2023-04-01", qualifying=True),
        dict(type_="training_end", date="2023-05-01"),
    ]
    for fields in posts:
        event_id = str(fields.pop("id", uuid.uuid4()))
        type_, date = fields.pop("type_"), fields.pop("date")
        first = api.event(pid, type_, date, id=event_id, **dict(fields)).get_json()
        again = api.event(pid, type_, date, status=200, id=event_id, **dict(fields)).get_json()
        read = api.client.get(f"/api/v1/events/{event_id}").get_json()
        assert first == again == read, type_
    closed = api.client.get(f"/api/v1/events?participant_id={pid}&type=training_end"
                            ).get_json()["items"][0]["closed"]
    assert closed is not None  # the end found its start: the answer said so too


def _concurrent_posts(client: Any, bodies: list[tuple[str, dict[str, Any]]]) -> list[int]:
    statuses: list[int] = []
    barrier = threading.Barrier(len(bodies))

    def post(url: str, body: dict[str, Any]) -> None:
        own = clone(client)
        barrier.wait()
        statuses.append(own.post(url, json=body).status_code)

    threads = [threading.Thread(target=post, args=item) for item in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(statuses)


def test_concurrent_duplicates_leave_one_row(fresh_database_url: str, keys_file: Path) -> None:
    app = create_app({"DATABASE_URL": fresh_database_url, "KEYS_FILE": str(keys_file)})
    client = admin_client(app)
    identity = jsonable(person())
    # Two registrations of one identity race: one participant, no 5xx.
    statuses = _concurrent_posts(client, [("/api/v1/participants", identity)] * 2)
    assert statuses == [200, 201]
    pid = client.post("/api/v1/participants", json=identity).get_json()["id"]
    programme = client.get("/api/v1/programmes/erbm-2023").get_json()
    a6 = next(a["id"] for a in programme["actions"] if a["code"] == "62-A6")
    ml = client.post("/api/v1/structures", json={"name": "ML", "kind": "mission_locale",
                                                 "departement": "62"}).get_json()["id"]
    client.post("/api/v1/enrolments", json={"participant_id": pid, "action_id": a6,
                                            "structure_id": ml, "start_date": "2023-02-01",
                                            "rsa_at_entry": False})
    body = {"id": str(uuid.uuid4()), "participant_id": pid, "type": "contact",
            "date": "2023-03-01", "attributes": {"mode": "phone"}}
    statuses = _concurrent_posts(client, [("/api/v1/events", body)] * 2)
    assert statuses == [200, 201]
    engine = app.extensions["cohort.engine"]
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one() == 1
        assert conn.execute(
            sa.select(sa.func.count()).select_from(Participant)).scalar_one() == 1
    engine.dispose()
