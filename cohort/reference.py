"""Programmes and their actions looked up by code: what both sides need and neither owns.

The budget service (write side) records amounts against an action named by programme and
action code; the indicators and the report (read side) compute for the same. These were
the indicator engine's, which made the write side import the read side; here they sit
below both, next to the models they read.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.errors import NotFound
from cohort.models import Action, Programme


def programme_by_code(session: Session, code: str) -> Programme:
    programme = session.execute(
        sa.select(Programme).where(Programme.code == code)).scalar_one_or_none()
    if programme is None:
        raise NotFound("programme not found", errors={"programme": ["not found"]})
    return programme


def all_programmes(session: Session) -> list[Programme]:
    """Every programme with its actions, by code (what the pages' pickers offer)."""
    return list(session.execute(sa.select(Programme).order_by(Programme.code)).scalars())


def actions_of(session: Session, programme: Programme, *, action: str | None = None,
               departement: str | None = None) -> list[Action]:
    """The programme's actions by code, or the one named (NotFound naming ``action``)."""
    query = sa.select(Action).where(Action.programme_id == programme.id).order_by(Action.code)
    if action:
        query = query.where(Action.code == action)
    if departement:
        query = query.where(Action.departement == departement)
    found = list(session.execute(query).scalars())
    if action and not found:
        raise NotFound("action not found", errors={"action": ["not found"]})
    return found
