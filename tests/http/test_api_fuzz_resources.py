"""Schemathesis on the operations that act on an existing resource, with real ids.

The stateless run (test_api_fuzz.py) sends random ids, so every operation under
`/…/{id}` answers 404 before its body is even read. Here a coordinator's structure
follows a person with an open enrolment, an ended one (and its six-month check), events
and an operation; each such operation is sent the ids of those resources, as that
coordinator, with bodies generated from the OpenAPI document — voids, corrections, ends,
cancellations, check results, identity reads… — each call in a savepoint rolled back
after it, so every example meets the same state. Every answer must be no server error, of
the documented content type, matching the documented schema; and every operation must
get past the look-up of its resource (not a 404 every time).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
)
from sqlalchemy.orm import Session

from cohort.actors import Actor, Role
from cohort.models import Event, FollowUpCheck
from cohort.services import enrolments, participants, structures
from tests.builders import NOW, TODAY, action, record
from tests.builders import person as identity

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


def _ids(session: Session, keyring: Any, people: dict[str, Any]) -> dict[str, str]:
    ml = people["structures"]["ml"]
    user = people["users"]["coord_ml"][0]
    actor = Actor(role=Role.COORDINATOR, user_id=user.id, structure_id=ml.id,
                  departement="62")
    person = participants.register(session, keyring, actor, identity(
        ase_past=True, home_departement="62", birth_date=dt.date(2005, 3, 10)),
        today=TODAY, now=NOW).participant
    open_one = enrolments.enrol(session, keyring, actor, {
        "participant_id": person.uuid, "action_id": action(session, "62-A6").uuid,
        "structure_id": ml.uuid, "start_date": dt.date(2023, 2, 1), "rsa_at_entry": False},
        today=TODAY, now=NOW)
    ended = enrolments.enrol(session, keyring, actor, {
        "participant_id": person.uuid, "action_id": action(session, "62-A3").uuid,
        "structure_id": ml.uuid, "start_date": dt.date(2023, 2, 1), "rsa_at_entry": False,
        "parent_child_0_3": True}, today=TODAY, now=NOW)
    enrolments.end(session, actor, ended, {"end_date": dt.date(2023, 6, 30),
                                           "exit_reason": "end_of_support"},
                   today=TODAY, now=NOW)
    training = record(session, keyring, person, "training_start", dt.date(2023, 3, 1),
                      qualifying=True)
    session.execute(sa.update(Event).where(Event.id == training.id)
                    .values(recorded_by_structure_id=ml.id))
    operation = structures.create_operation(session, actor, {
        "action_id": action(session, "62-A3").uuid, "kind": "creche_project",
        "label": "Crèche des Terrils", "start_date": dt.date(2023, 1, 1)}, now=NOW)
    check = session.execute(sa.select(FollowUpCheck.uuid).where(
        FollowUpCheck.enrolment_id == ended.id)).scalar_one()
    session.commit()
    return {"participant_id": str(person.uuid), "enrolment_id": str(open_one.uuid),
            "event_id": str(training.uuid), "check_id": str(check),
            "operation_id": str(operation.uuid), "structure_id": str(ml.uuid),
            "code": "erbm-2023"}


def test_operations_on_real_resources(app: Any, people: dict[str, Any], session: Session,
                                      keyring: Any, connection: Any) -> None:
    ids = _ids(session, keyring, people)
    secret = people["users"]["coord_ml"][1]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations()]
    targeted = [op for op in operations if "{" in op.path and all(
        p.name in ids for p in op.path_parameters)]
    assert len(targeted) >= 15, [op.label for op in targeted]
    statuses: dict[str, set[int]] = {}

    for operation in targeted:
        real = {p.name: ids[p.name] for p in operation.path_parameters}
        seen = statuses.setdefault(operation.label, set())

        @given(case=operation.as_strategy())
        @settings(max_examples=4, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def fuzz(case: Any) -> None:
            case.path_parameters = real  # noqa: B023 - run at once, in this iteration
            savepoint = connection.begin_nested()
            try:
                response = case.call(headers={"Authorization": f"Bearer {secret}"})
                seen.add(response.status_code)  # noqa: B023
                case.validate_response(response, checks=CHECKS)
            finally:
                if savepoint.is_active:
                    savepoint.rollback()

        fuzz()
    always_missing = sorted(label for label, seen in statuses.items() if seen == {404})
    assert always_missing == [], always_missing
