"""Effective budget amounts of an action for a year, recorded by a pilot or administrator.

The programme file holds the planned budget (pre-notified State credit and the partners'
shares); what was actually spent is known later and entered here, so the execution
report can check the convention's rules against actual amounts.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cohort.db import Model, intpk

AMOUNTS = ("total", "state_effective", "departement", "departement_valuation", "other")


class BudgetActual(Model):
    __tablename__ = "budget_actual"
    __table_args__ = (
        sa.UniqueConstraint("action_id", "year"),
        *(sa.CheckConstraint(f"{name} IS NULL OR {name} >= 0", name=f"{name}_positive")
          for name in AMOUNTS),
        sa.CheckConstraint("departement_valuation IS NULL OR departement IS NULL "
                           "OR departement_valuation <= departement", name="valuation_in_share"),
    )

    id: Mapped[intpk]
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("action.id", ondelete="RESTRICT"))
    year: Mapped[int]
    total: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    state_effective: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    departement: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    departement_valuation: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    other: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 2))
    recorded_at: Mapped[dt.datetime]
    recorded_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="RESTRICT"))
    version: Mapped[int] = mapped_column(default=1)
