"""Fetch rows by their public uuid, raising NotFound that names the field."""

from __future__ import annotations

import uuid
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.errors import NotFound

T = TypeVar("T")


# One prebuilt select per model: the look-up runs several times per request, and
# building the statement cost more than running it.
_BY_UUID: dict[type, sa.Select[Any]] = {}


def not_found(field: str) -> NotFound:
    return NotFound(f"{field}: not found", errors={field: ["not found"]})


def public_uuid(value: uuid.UUID | str, field: str) -> uuid.UUID:
    """A client-supplied uuid; one that does not parse names nothing (NotFound)."""
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise not_found(field) from None


def by_uuid(session: Session, model: type[T], value: uuid.UUID | str, field: str) -> T:
    """The row of `model` with this public uuid, or NotFound naming the request field."""
    key = public_uuid(value, field)
    query = _BY_UUID.get(model)
    if query is None:
        column: Any = model.uuid  # type: ignore[attr-defined]
        query = _BY_UUID.setdefault(model, sa.select(model).where(column == sa.bindparam("key")))
    row = session.execute(query, {"key": key}).scalar_one_or_none()
    if row is None:
        raise not_found(field)
    return row
