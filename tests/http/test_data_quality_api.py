"""GET /api/v1/data-quality (issue 17, item 5): a coordinator sees the lines of their own
structure only, counted per kind, a page of one kind on request; other roles are refused."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.orm import Session

from cohort import clock
from cohort.actors import SYSTEM, Actor, Role
from cohort.models import Action, Participant, Structure
from cohort.services import enrolments, events
from tests.builders import register


def stale_period(session: Session, keyring: Any, where: Structure, code: str,
                 **extra: Any) -> Participant:
    """A person enrolled by `where` two years ago, with a training it recorded 15 months
    ago and nothing since (committed: the app's sessions see it)."""
    today, now = clock.today(), dt.datetime.now(dt.UTC)
    youth = register(session, keyring, birth_date=dt.date(today.year - 20, 2, 1))
    action = session.query(Action).filter_by(code=code).one()
    enrolments.enrol(session, keyring, SYSTEM, {
        "participant_id": youth.uuid, "action_id": action.uuid, "structure_id": where.uuid,
        "start_date": today - dt.timedelta(days=730), "rsa_at_entry": True, **extra},
        today=today, now=now)
    events.record(session, keyring, Actor(Role.COORDINATOR, structure_id=where.id), {
        "id": uuid.uuid4(), "participant_id": youth.uuid, "type": "training_start",
        "date": today - dt.timedelta(days=460), "enrolment_id": None, "operation_id": None,
        "closes": None, "attributes": {"qualifying": True}}, today=today, now=now)
    session.commit()
    return youth


def test_the_structures_own_lines_only(clients: dict[str, Any], people: dict[str, Any],
                                       session: Session, keyring: Any) -> None:
    ours = stale_period(session, keyring, people["structures"]["ml"], "62-A6")
    theirs = stale_period(session, keyring, people["structures"]["plie"], "62-A1")

    answer = clients["coord_ml"].get("/api/v1/data-quality")
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["counts"]["stale_open_period"] == 1
    assert set(body["counts"]) == {"stale_open_period", "followup_overdue",
                                   "ended_without_exit_reason", "events_without_enrolment",
                                  "link_request_pending"}
    stale = next(g for g in body["groups"] if g["kind"] == "stale_open_period")
    assert [(i["participant_id"], i["detail"]) for i in stale["items"]] == [
        (str(ours.uuid), "training")]
    assert stale["items"][0]["reference"] == str(ours.uuid)[:8].upper()
    assert str(theirs.uuid) not in answer.get_data(as_text=True)

    plie = clients["coord_plie"].get("/api/v1/data-quality?kind=stale_open_period&per_page=5")
    assert plie.status_code == 200
    groups = plie.get_json()["groups"]
    assert [(g["kind"], g["per_page"], [i["participant_id"] for i in g["items"]])
            for g in groups] == [("stale_open_period", 5, [str(theirs.uuid)])]
    assert str(ours.uuid) not in plie.get_data(as_text=True)

    bad = clients["coord_ml"].get("/api/v1/data-quality?kind=everything")
    assert bad.status_code == 422
    assert "kind" in bad.get_json()["errors"]["query"]
    for role in ("evaluator", "pilot62", "referent62"):
        assert clients[role].get("/api/v1/data-quality").status_code == 403
