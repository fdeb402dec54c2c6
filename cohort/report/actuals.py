"""The effective budget amounts recorded for a year: a read of what the budget service
wrote, so it lives with the report that reads it, not in the service."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.models import BudgetActual


def actuals_for(session: Session, action_ids: list[int], year: int) -> dict[int, BudgetActual]:
    rows = session.execute(sa.select(BudgetActual).where(
        BudgetActual.action_id.in_(action_ids), BudgetActual.year == year)).scalars()
    return {row.action_id: row for row in rows}
