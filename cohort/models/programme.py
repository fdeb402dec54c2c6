"""Programme (a convention year), its actions, the structures and the operations."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cohort.db import Model, created_at, intpk, public_uuid
from cohort.domain.enums import Departement, OperationKind, StructureKind
from cohort.models._checks import one_of

if TYPE_CHECKING:
    from cohort.models.accounts import User


class Programme(Model):
    __tablename__ = "programme"
    __table_args__ = (
        sa.CheckConstraint("period_end >= period_start", name="period_ordered"),
    )

    id: Mapped[intpk]
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    period_start: Mapped[dt.date]
    period_end: Mapped[dt.date]
    parties: Mapped[list[Any]]
    settings: Mapped[dict[str, Any]]
    source_sha256: Mapped[str] = mapped_column(sa.String(64))
    loaded_at: Mapped[created_at]

    actions: Mapped[list[Action]] = relationship(back_populates="programme", order_by="Action.code")


class Action(Model):
    __tablename__ = "action"
    __table_args__ = (
        sa.UniqueConstraint("programme_id", "code"),
        one_of("departement", Departement),
        sa.CheckConstraint("axis IN (1, 2)", name="axis_valid"),
    )

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    programme_id: Mapped[int] = mapped_column(sa.ForeignKey("programme.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(sa.String(20))
    departement: Mapped[str] = mapped_column(sa.String(5))
    axis: Mapped[int]
    title: Mapped[str] = mapped_column(sa.String(300))
    public: Mapped[str] = mapped_column(sa.Text)
    territory: Mapped[str] = mapped_column(sa.Text)
    eligibility: Mapped[list[Any]]
    # The structure kinds that run the action (domain.md §2 "Operators").
    operators: Mapped[list[Any]] = mapped_column(default=list)
    budget: Mapped[dict[str, Any]]
    targets: Mapped[list[Any]]
    indicators: Mapped[list[Any]]
    settings: Mapped[dict[str, Any]]

    programme: Mapped[Programme] = relationship(back_populates="actions")


class Structure(Model):
    __tablename__ = "structure"
    __table_args__ = (
        one_of("kind", StructureKind),
        one_of("departement", Departement),
        sa.UniqueConstraint("name", "departement"),
    )

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(30))
    departement: Mapped[str] = mapped_column(sa.String(5))
    created_at: Mapped[created_at]


class Operation(Model):
    """A countable thing an action runs that is not a person (a clause site, a crèche...)."""

    __tablename__ = "operation"
    __table_args__ = (
        one_of("kind", OperationKind),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        sa.CheckConstraint("planned_hours IS NULL OR planned_hours >= 0", name="hours_positive"),
        sa.Index("ix_operation_action_dates", "action_id", "start_date", "end_date"),
    )

    id: Mapped[intpk]
    uuid: Mapped[public_uuid]
    # The code partners name it by in their files (issue 22); unique when given.
    code: Mapped[str | None] = mapped_column(sa.String(40), unique=True)
    action_id: Mapped[int] = mapped_column(sa.ForeignKey("action.id", ondelete="RESTRICT"))
    structure_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("structure.id", ondelete="RESTRICT")
    )
    kind: Mapped[str] = mapped_column(sa.String(30))
    label: Mapped[str] = mapped_column(sa.String(300))
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date | None]
    planned_hours: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    # Who last set the planned hours, and when: the execution report counts them.
    planned_hours_set_by_user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id", ondelete="RESTRICT"))
    planned_hours_set_at: Mapped[dt.datetime | None]
    created_at: Mapped[created_at]
    updated_at: Mapped[dt.datetime | None]

    action: Mapped[Action] = relationship()
    structure: Mapped[Structure | None] = relationship()
    planned_hours_setter: Mapped[User | None] = relationship()

    @property
    def structure_uuid(self) -> uuid.UUID | None:
        return self.structure.uuid if self.structure else None

    @property
    def planned_hours_set_by(self) -> uuid.UUID | None:
        return self.planned_hours_setter.uuid if self.planned_hours_setter else None

    @property
    def action_uuid(self) -> uuid.UUID:
        return self.action.uuid
