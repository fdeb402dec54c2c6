"""Operations are scoped and audited (issue 18, finding 5): B could PATCH A's operation,
A could create one for B's structure, and a pilot's change of planned hours left no trace
although the execution report counts them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import Role
from cohort.models import AuditEntry
from tests.http.conftest import Api

SITE = {"kind": "clause_site", "label": "Chantier Cité 12", "start_date": "2023-01-01",
        "planned_hours": "1200"}


def test_a_coordinator_manages_only_their_own_structures_operations(
        api: Api, clients: dict[str, Any], people: dict[str, Any], session: Session) -> None:
    plie, ml = clients["coord_plie"], clients["coord_ml"]
    action = api.actions["62-A2"]
    own = plie.post("/api/v1/operations", json={**SITE, "action_id": action})
    assert own.status_code == 201, own.get_json()
    body = own.get_json()
    assert body["structure_id"] == str(people["structures"]["plie"].uuid)  # defaulted
    # A Mission Locale does not run 62-A2 (PLIE and MDE do), nor may it write for the PLIE.
    refused = ml.post("/api/v1/operations", json={
        **SITE, "action_id": action, "structure_id": str(people["structures"]["plie"].uuid)})
    assert refused.status_code == 403
    assert "structure_id" in refused.get_json()["errors"]["json"]
    not_run = ml.post("/api/v1/operations", json={**SITE, "action_id": action})
    assert not_run.status_code == 403
    assert "action_id" in not_run.get_json()["errors"]["json"]
    patched = ml.patch(f"/api/v1/operations/{body['id']}", json={"planned_hours": "9000"})
    assert patched.status_code == 403
    assert clients["admin"].get(f"/api/v1/operations/{body['id']}").get_json()[
        "planned_hours"] == "1200.00"
    refusals = session.execute(sa.select(AuditEntry.details["reason"].as_string()).where(
        AuditEntry.action == "access.refused")).scalars().all()
    assert len(refusals) == 3


def test_a_pilot_changes_their_departements_operations_with_a_trace(
        api: Api, clients: dict[str, Any], people: dict[str, Any], session: Session) -> None:
    made = clients["coord_plie"].post("/api/v1/operations", json={
        **SITE, "action_id": api.actions["62-A2"]}).get_json()
    assert made["planned_hours_set_by"] == str(people["users"]["coord_plie"][0].uuid)
    changed = clients["pilot62"].patch(f"/api/v1/operations/{made['id']}",
                                       json={"planned_hours": "1500", "label": made["label"]})
    assert changed.status_code == 200
    after = changed.get_json()
    assert after["planned_hours"] == "1500.00"
    assert after["planned_hours_set_by"] == str(people["users"]["pilot62"][0].uuid)
    assert after["planned_hours_set_at"] > made["planned_hours_set_at"]
    entries = session.execute(sa.select(AuditEntry).where(
        AuditEntry.action.in_(["operation.create", "operation.update"]))
        .order_by(AuditEntry.id)).scalars().all()
    assert [(e.action, e.actor_role, e.fields) for e in entries] == [
        ("operation.create", Role.COORDINATOR.value,
         ["kind", "label", "planned_hours", "start_date"]),
        ("operation.update", Role.PILOT.value, ["planned_hours"]),  # the label did not change
    ]
    assert entries[1].details["planned_hours"] == "1500.00"
    # The execution report says who set the planned hours it counts, and when.
    report = clients["pilot62"].get("/api/v1/reports/erbm-2023/62/2023?format=json"
                                    "&mode=internal").get_json()
    a2 = next(a for a in report["actions"] if a["code"] == "62-A2")
    assert a2["planned_hours_set"] == {
        "set_at": after["planned_hours_set_at"][:10], "role": "pilot",
        "structure": people["structures"]["cd62"].name}
    # A Nord action's operation is out of a Pas-de-Calais pilot's reach.
    nord = clients["admin"].post("/api/v1/operations", json={
        **SITE, "action_id": api.actions["59-A1"]}).get_json()
    assert clients["pilot62"].patch(f"/api/v1/operations/{nord['id']}",
                                    json={"planned_hours": "1"}).status_code == 403
