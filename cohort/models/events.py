"""Pathway events (append-only), their voids, and the resolved intervals.

Events are never updated: a correction is a void (its own row) plus a new event, so every
past figure can be explained. Intervals are derived from events by
``cohort.domain.intervals.resolve`` and materialised with a recording-time validity
(``valid_from``/``valid_to``) so indicators can read them set-based, including "as recorded
before T" for reproducible reports.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from cohort.db import Model, UUIDText, created_at, intpk
from cohort.domain.enums import EventType, Family
from cohort.models._checks import one_of


class Event(Model):
    __tablename__ = "event"
    __table_args__ = (
        one_of("type", EventType),
        sa.CheckConstraint("hours IS NULL OR hours >= 0", name="hours_positive"),
        sa.Index("ix_event_participant_date", "participant_id", "date"),
        sa.Index("ix_event_type_date", "type", "date", "participant_id"),
        # One person's events of a type: the indicators' per-person EXISTS seek it (a walk
        # of ix_event_type_date per person was quadratic at 1M events, issue 23).
        sa.Index("ix_event_type_participant_date", "type", "participant_id", "date"),
        sa.Index("ix_event_enrolment", "enrolment_id"),
        sa.Index("ix_event_operation", "operation_id"),
        # "which event corrects this one?" (the pathway; migration 0008)
        sa.Index("ix_event_corrects", "corrects_id"),
    )

    id: Mapped[intpk]  # also the recording order
    uuid: Mapped[uuid.UUID] = mapped_column(UUIDText(), unique=True)  # client-supplied
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="RESTRICT")
    )
    enrolment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("enrolment.id", ondelete="RESTRICT")
    )
    operation_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("operation.id", ondelete="RESTRICT")
    )
    type: Mapped[str] = mapped_column(sa.String(32))
    date: Mapped[dt.date]
    closes_id: Mapped[int | None] = mapped_column(sa.ForeignKey("event.id", ondelete="RESTRICT"))
    # The (voided) event this one replaces, when recorded by a correction.
    corrects_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("event.id", ondelete="RESTRICT"))
    attributes: Mapped[dict[str, Any]]
    # Promoted attributes, so indicator SQL needs no JSON functions:
    category: Mapped[str | None] = mapped_column(sa.String(32))  # housing type, contract, ...
    qualifying: Mapped[bool | None]
    via_programme: Mapped[bool | None]
    planned_months: Mapped[int | None]
    hours: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    body_sha256: Mapped[str] = mapped_column(sa.String(64))
    recorded_at: Mapped[created_at]
    # The structure whose user recorded it (domain.md §1: a structure changes only the
    # events it recorded); null before migration 0013, for imports and system jobs.
    recorded_by_structure_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("structure.id", ondelete="RESTRICT"))

    void: Mapped[EventVoid | None] = relationship(back_populates="event", uselist=False)
    closes: Mapped[Event | None] = relationship(remote_side="Event.id",
                                                foreign_keys=[closes_id])


class EventVoid(Model):
    __tablename__ = "event_void"

    id: Mapped[intpk]
    event_id: Mapped[int] = mapped_column(
        sa.ForeignKey("event.id", ondelete="RESTRICT"), unique=True
    )
    reason: Mapped[str] = mapped_column(sa.Text)
    voided_at: Mapped[created_at]

    event: Mapped[Event] = relationship(back_populates="void")


class EventInterval(Model):
    __tablename__ = "event_interval"
    __table_args__ = (
        one_of("family", Family),
        sa.CheckConstraint("end_date IS NULL OR end_date >= start_date", name="dates_ordered"),
        sa.Index("ix_event_interval_current", "family", "valid_to", "participant_id"),
        sa.Index("ix_event_interval_participant", "participant_id", "valid_to"),
        # "which interval does this end close?" (housing exits; migration 0005). Partial
        # (migration 0020): while most intervals are still open, statistics on a full index
        # made every NULL one value, and SQLite scanned the table once per exit instead.
        sa.Index("ix_event_interval_end_event", "end_event_id",
                 sqlite_where=sa.text("end_event_id IS NOT NULL"),
                 postgresql_where=sa.text("end_event_id IS NOT NULL")),
    )

    id: Mapped[intpk]
    participant_id: Mapped[int] = mapped_column(
        sa.ForeignKey("participant.id", ondelete="RESTRICT")
    )
    family: Mapped[str] = mapped_column(sa.String(20))
    start_event_id: Mapped[int] = mapped_column(sa.ForeignKey("event.id", ondelete="RESTRICT"))
    end_event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("event.id", ondelete="RESTRICT")
    )
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date | None]
    valid_from: Mapped[dt.datetime]
    valid_to: Mapped[dt.datetime | None]
