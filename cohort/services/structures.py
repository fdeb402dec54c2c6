"""Structures (the operators) and operations (clause sites, crèche projects...)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cohort import audit
from cohort.actors import Actor, Role
from cohort.domain import operators
from cohort.domain.enums import Departement
from cohort.errors import Conflict, Forbidden, Rejected
from cohort.models import Action, Operation, Structure
from cohort.services.lookup import by_uuid


def create_structure(session: Session, actor: Actor, data: dict[str, Any], *,
                     now: dt.datetime | None = None) -> Structure:
    """Create a structure; audited when the shell passes `now` (the API, the pages, the CLI)."""
    structure = Structure(name=data["name"].strip(), kind=data["kind"],
                          departement=data["departement"])
    try:
        with session.begin_nested():
            session.add(structure)
    except IntegrityError:
        raise Conflict("a structure with this name already exists in this département",
                       errors={"name": ["already exists"]}) from None
    if now is not None:
        audit.append(session, actor, "structure.create", now=now, target_type="structure",
                     target_id=structure.uuid, details={"kind": structure.kind,
                                                        "departement": structure.departement})
    return structure


def update_structure(session: Session, actor: Actor, structure: Structure,
                     data: dict[str, Any], *, now: dt.datetime | None = None) -> Structure:
    changed = []
    for field in ("name", "kind", "departement"):
        if field in data:
            value = data[field].strip() if field == "name" else data[field]
            if value != getattr(structure, field):
                setattr(structure, field, value)
                changed.append(field)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("a structure with this name already exists in this département",
                       errors={"name": ["already exists"]}) from None
    if now is not None and changed:
        audit.append(session, actor, "structure.update", now=now, target_type="structure",
                     target_id=structure.uuid, fields=changed,
                     details={"kind": structure.kind, "departement": structure.departement})
    return structure


def _check_dates(start: dt.date, end: dt.date | None) -> None:
    if end is not None and end < start:
        raise Rejected("end_date", "is before the start date")


def _check_operation_scope(session: Session, actor: Actor, action: Action,
                           structure_id: int | None) -> None:
    """Who may create or change an operation (issue 18): an administrator any; a pilot those
    of their département's actions (joint ones included); a coordinator those of their own
    structure, in an action the structure runs (domain.md §2, "Operators")."""
    if actor.is_admin:
        return
    if actor.role is Role.PILOT:
        if action.departement not in (actor.departement, Departement.JOINT.value):
            raise Forbidden("pilots manage the operations of their département's actions",
                            errors={"action_id": ["another département's action"]})
        return
    if actor.role is not Role.COORDINATOR or structure_id != actor.structure_id:
        raise Forbidden("coordinators manage their own structure's operations only",
                        errors={"structure_id": ["not your structure"]})
    structure = session.get(Structure, actor.structure_id)
    assert structure is not None
    if not operators.may_enrol(action_departement=action.departement,
                               operators=action.operators or (),
                               structure_kind=structure.kind,
                               structure_departement=structure.departement):
        raise Forbidden("your structure does not run this action",
                        errors={"action_id": ["not run by your structure"]})


def _audit_operation(session: Session, actor: Actor, verb: str, operation: Operation,
                     changed: list[str], now: dt.datetime) -> None:
    audit.append(session, actor, f"operation.{verb}", now=now, target_type="operation",
                 target_id=operation.uuid, fields=changed, details={
                     "action_id": operation.action_id,
                     "planned_hours": (None if operation.planned_hours is None
                                       else str(operation.planned_hours))})


def create_operation(session: Session, actor: Actor, data: dict[str, Any], *,
                     now: dt.datetime) -> Operation:
    """Create an operation; a coordinator's defaults to their own structure. Audited."""
    action = by_uuid(session, Action, data["action_id"], "action_id")
    structure_id = None
    if data.get("structure_id"):
        structure_id = by_uuid(session, Structure, data["structure_id"], "structure_id").id
    elif actor.role is Role.COORDINATOR:
        structure_id = actor.structure_id
    _check_operation_scope(session, actor, action, structure_id)
    _check_dates(data["start_date"], data.get("end_date"))
    hours = data.get("planned_hours")
    code = data.get("code")
    if code is not None and session.execute(
            sa.select(Operation.id).where(Operation.code == code)).first() is not None:
        raise Conflict("an operation with this code exists", errors={"code": ["already used"]})
    operation = Operation(
        code=code, action_id=action.id, structure_id=structure_id, kind=data["kind"],
        label=data["label"].strip(), start_date=data["start_date"],
        end_date=data.get("end_date"), planned_hours=hours,
        planned_hours_set_by_user_id=actor.user_id if hours is not None else None,
        planned_hours_set_at=now if hours is not None else None,
    )
    session.add(operation)
    session.flush()
    _audit_operation(session, actor, "create", operation,
                     [f for f in OPERATION_FIELDS if data.get(f) is not None], now)
    return operation


OPERATION_FIELDS = ("kind", "label", "start_date", "end_date", "planned_hours")


def update_operation(session: Session, actor: Actor, operation: Operation,
                     data: dict[str, Any], *, now: dt.datetime) -> Operation:
    """Change an operation within the caller's scope; the fields changed are audited, and a
    change of planned hours records who made it and when."""
    _check_operation_scope(session, actor, operation.action, operation.structure_id)
    changed = [f for f in OPERATION_FIELDS if f in data and data[f] != getattr(operation, f)]
    for field in changed:
        setattr(operation, field, data[field])
    _check_dates(operation.start_date, operation.end_date)
    if not changed:
        return operation
    if "planned_hours" in changed:
        operation.planned_hours_set_by_user_id = actor.user_id
        operation.planned_hours_set_at = now
    operation.updated_at = now
    session.flush()
    _audit_operation(session, actor, "update", operation, changed, now)
    return operation


def list_operations(*, action_uuid: Any = None) -> sa.Select[tuple[Operation]]:
    query = sa.select(Operation).order_by(Operation.start_date, Operation.id)
    if action_uuid is not None:
        query = query.join(Action).where(Action.uuid == action_uuid)
    return query


def structure_list_query(filters: dict[str, Any]) -> sa.Select[tuple[Structure]]:
    query = sa.select(Structure).order_by(Structure.departement, Structure.name)
    if filters.get("departement"):
        query = query.where(Structure.departement == filters["departement"])
    if filters.get("kind"):
        query = query.where(Structure.kind == filters["kind"])
    return query
