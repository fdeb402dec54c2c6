"""Concurrency on both databases, through the API with real commits.

- 8 clients post events at once, every request sent twice with the same id (a retry after
  a lost answer): exactly one event per id, no 5xx;
- two coordinators end the same enrolment, or record the same six-month check, at once:
  one wins, the other gets 409;
- the same identity registered by 8 clients at once: one participant.

Bounded so that the suite stays short: 8 × 40 events (640 requests) per database. The
issue's full size, 8 × 500 events (8,000 requests), is run by hand with
`COHORT_TEST_EVENTS_EACH=500 pytest tests/http/test_concurrency.py -k eight_clients`
(results in docs/performance.md).
"""

from __future__ import annotations

import datetime as dt
import os
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from cohort import create_app
from cohort.actors import SYSTEM
from cohort.db import unit_of_work
from cohort.models import Event, FollowUpCheck, Participant
from cohort.services import accounts, structures
from tests.builders import person, token_client
from tests.conftest import clone
from tests.http.conftest import jsonable

CLIENTS = 8
EVENTS_EACH = int(os.environ.get("COHORT_TEST_EVENTS_EACH", "40"))


@pytest.fixture
def setting(fresh_database_url: str, keys_file: Path) -> Iterator[Any]:
    yield from make_setting(fresh_database_url, keys_file)


def make_setting(url: str, keys_file: Path) -> Iterator[Any]:
    """An app on ``url`` (also reached through PgBouncer: tests/scenarios/test_pooler.py),
    a Mission Locale, two of its coordinators with their clients, the actions' ids."""
    app = create_app({"DATABASE_URL": url, "KEYS_FILE": str(keys_file)})
    now = dt.datetime.now(dt.UTC)
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        ml = structures.create_structure(s, SYSTEM, {
            "name": "Mission Locale de Lens-Liévin", "kind": "mission_locale",
            "departement": "62"})
        secrets = []
        for n in range(2):
            user = accounts.create_user(s, SYSTEM, {
                "email": f"coord{n}@example.org", "display_name": f"coord{n}",
                "structure_id": ml.uuid, "role": "coordinator", "password": None}, now=now)
            secrets.append(accounts.create_token(s, SYSTEM, user, label="t", days=1,
                                                 now=now).secret)
        ml_id = str(ml.uuid)
    coordinators = [token_client(app, secret) for secret in secrets]
    actions = {a["code"]: a["id"] for a in coordinators[0].get(
        "/api/v1/programmes/erbm-2023").get_json()["actions"]}
    yield app, coordinators, ml_id, actions
    app.extensions["cohort.engine"].dispose()


def at_once(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls in threads released together; their results in order."""
    results: list[Any] = [None] * len(calls)
    barrier = threading.Barrier(len(calls))

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def _youth(client: Any, ml: str, actions: dict[str, str]) -> tuple[str, str]:
    pid = client.post("/api/v1/participants", json=jsonable(person())).get_json()["id"]
    enrolment = client.post("/api/v1/enrolments", json={
        "participant_id": pid, "action_id": actions["62-A6"], "structure_id": ml,
        "start_date": "2023-02-01", "rsa_at_entry": False}).get_json()["id"]
    return pid, enrolment


def test_eight_clients_with_retries_record_each_event_once(setting: Any) -> None:
    app, (coordinator, _), ml, actions = setting
    youths = [_youth(coordinator, ml, actions)[0] for _ in range(CLIENTS)]

    def client_work(pid: str) -> Callable[[], Counter[int]]:
        def work() -> Counter[int]:
            own = clone(coordinator)
            statuses: Counter[int] = Counter()
            for k in range(EVENTS_EACH):
                body = {"id": str(uuid.uuid4()), "participant_id": pid, "type": "contact",
                        "date": (dt.date(2023, 3, 1) + dt.timedelta(days=k)).isoformat(),
                        "attributes": {"mode": "phone"}}
                for _ in range(2):  # the retry of a request whose answer was lost
                    statuses[own.post("/api/v1/events", json=body).status_code] += 1
            return statuses

        return work

    totals = sum(at_once([client_work(pid) for pid in youths]), Counter())
    assert totals == {201: CLIENTS * EVENTS_EACH, 200: CLIENTS * EVENTS_EACH}
    with app.extensions["cohort.engine"].connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one()
    assert stored == CLIENTS * EVENTS_EACH


def test_the_same_event_sent_at_once_is_recorded_once(setting: Any) -> None:
    """Requests with one id that all pass the replay check before any commits: the insert
    of all but one does nothing, and each answers as a replay (200) or a conflict (409)."""
    app, (coordinator, _), ml, actions = setting
    pid, _ = _youth(coordinator, ml, actions)
    body = {"id": str(uuid.uuid4()), "participant_id": pid, "type": "contact",
            "date": "2023-03-01", "attributes": {"mode": "phone"}}
    statuses = at_once([lambda: clone(coordinator).post("/api/v1/events", json=body).status_code
                        for _ in range(CLIENTS)])
    assert sorted(statuses) == [200] * (CLIENTS - 1) + [201]

    other = {"id": str(uuid.uuid4()), "participant_id": pid, "type": "contact",
             "date": "2023-03-02"}
    bodies = [dict(other, attributes={"mode": mode})
              for mode in ("phone", "meeting") * (CLIENTS // 2)]
    answers = at_once([lambda b=b: clone(coordinator).post("/api/v1/events", json=b)
                       for b in bodies])
    created = [a for a in answers if a.status_code == 201]
    assert len(created) == 1
    mode = created[0].get_json()["attributes"]["mode"]
    assert sorted(a.status_code for a in answers) == [200] * (CLIENTS // 2 - 1) + [201] + [
        409] * (CLIENTS // 2)
    assert all(a.get_json()["attributes"]["mode"] == mode
               for a in answers if a.status_code == 200)
    with app.extensions["cohort.engine"].connect() as conn:
        stored = conn.execute(sa.select(sa.func.count()).select_from(Event).where(
            Event.uuid.in_([uuid.UUID(body["id"]), uuid.UUID(other["id"])]))).scalar_one()
    assert stored == 2


def test_two_coordinators_one_enrolment_one_check(setting: Any) -> None:
    app, coordinators, ml, actions = setting
    _, enrolment = _youth(coordinators[0], ml, actions)
    url = f"/api/v1/enrolments/{enrolment}/end"
    version = coordinators[0].get(f"/api/v1/enrolments/{enrolment}").get_json()["version"]
    bodies = [{"end_date": "2023-08-31", "exit_reason": "end_of_support",
               "expected_version": version},
              {"end_date": "2023-09-15", "exit_reason": "moved_away",
               "expected_version": version}]
    ended = at_once([lambda c=c, b=b: c.post(url, json=b).status_code
                     for c, b in zip(coordinators, bodies, strict=True)])
    assert sorted(ended) == [200, 409]

    with app.extensions["cohort.engine"].connect() as conn:
        check = conn.execute(sa.select(FollowUpCheck.uuid, FollowUpCheck.version)).one()
    result = {"expected_version": check.version, "date": "2024-03-01",
              "outcome": "not_reached", "attempts": 2}
    other = dict(result, outcome="refused", attempts=None)
    recorded = at_once([lambda c=c, b=b: c.post(f"/api/v1/followups/{check.uuid}/result",
                                                 json=b).status_code
                        for c, b in zip(coordinators, [result, other], strict=True)])
    assert sorted(recorded) == [201, 409]


def test_the_same_identity_registered_at_once_is_one_participant(setting: Any) -> None:
    app, (coordinator, _), _, _ = setting
    identity = jsonable(person())
    statuses = at_once([lambda: clone(coordinator).post("/api/v1/participants",
                                                        json=identity).status_code
                        for _ in range(CLIENTS)])
    assert sorted(statuses) == [200] * (CLIENTS - 1) + [201]
    with app.extensions["cohort.engine"].connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Participant)).scalar_one() == 1


def test_tokens_are_checked_while_another_client_is_writing(setting: Any) -> None:
    """Authentication only reads: a bad token is answered 401 at once, even while another
    client holds a write transaction open (on SQLite, the database's one write lock; it
    used to wait for it, then fail with a 500 when the busy timeout ran out)."""
    from cohort.models import Structure

    app, coordinators, _, _ = setting
    stranger = token_client(app, "cohort_not-a-real-token")
    engine = app.extensions["cohort.engine"]
    with engine.connect() as writer, writer.begin():
        writer.execute(sa.update(Structure).values(name=Structure.name))
        answer = stranger.get("/api/v1/structures")
        assert answer.status_code == 401, answer.get_json()
    assert coordinators[0].get("/api/v1/structures").status_code == 200
