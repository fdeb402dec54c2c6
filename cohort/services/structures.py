"""Structures (the operators) and operations (clause sites, crèche projects...)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cohort import audit
from cohort.actors import Actor
from cohort.errors import Conflict, Rejected
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


def create_operation(session: Session, actor: Actor, data: dict[str, Any]) -> Operation:
    action = by_uuid(session, Action, data["action_id"], "action_id")
    structure_id = None
    if data.get("structure_id"):
        structure_id = by_uuid(session, Structure, data["structure_id"], "structure_id").id
    _check_dates(data["start_date"], data.get("end_date"))
    operation = Operation(
        action_id=action.id, structure_id=structure_id, kind=data["kind"],
        label=data["label"].strip(), start_date=data["start_date"],
        end_date=data.get("end_date"), planned_hours=data.get("planned_hours"),
    )
    session.add(operation)
    session.flush()
    return operation


def update_operation(session: Session, actor: Actor, operation: Operation,
                     data: dict[str, Any]) -> Operation:
    for field in ("kind", "label", "start_date", "end_date", "planned_hours"):
        if field in data:
            setattr(operation, field, data[field])
    _check_dates(operation.start_date, operation.end_date)
    session.flush()
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
