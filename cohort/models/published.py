"""Published aggregates computed once (issue 20): the protected output of a standard cut,
stored by ``cohort publish`` and served to evaluators while its data version holds."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from cohort.db import Model, created_at, intpk


class PublishedAggregate(Model):
    __tablename__ = "published_aggregate"
    __table_args__ = (
        sa.UniqueConstraint("cut_key", "data_version"),
        sa.CheckConstraint("kind IN ('indicators', 'cohorts')", name="kind_valid"),
    )

    id: Mapped[intpk]
    programme_id: Mapped[int] = mapped_column(
        sa.ForeignKey("programme.id", ondelete="CASCADE"), index=True)
    # "indicators" | "cohorts"
    kind: Mapped[str] = mapped_column(sa.String(12))
    # Everything that makes two requests the same cut: kind, programme, actions, period,
    # as-of, grain and disclosure rules (see cohort.indicators.published.cut_key).
    cut_key: Mapped[str] = mapped_column(sa.String(400))
    as_of: Mapped[dt.date]
    # The digest of the programme file and the watermark the payload was computed at.
    data_version: Mapped[str] = mapped_column(sa.String(64))
    # Where the data change log stood (cohort.indicators.published.watermark): the
    # PostgreSQL snapshot, or on SQLite the highest mark seen. Null before migration 0024.
    watermark: Mapped[str | None] = mapped_column(sa.Text)
    # The protected output (JSON text): what the read service returns, header aside.
    payload: Mapped[str] = mapped_column(sa.Text)
    computed_at: Mapped[created_at]


class DataChange(Model):
    """What each write to a table the indicators read can change: the earliest date whose
    figures it alters (0001-01-01: any). Written by database triggers (migration 0024),
    read to tell whether a stored cut is still current."""

    __tablename__ = "data_change"
    # Writes since a watermark, with their day: read without the table (index only).
    __table_args__ = (sa.Index("ix_data_change_mark", "mark", "day"),)

    id: Mapped[intpk]
    day: Mapped[dt.date]
    # PostgreSQL: the writing transaction's id; SQLite: a counter raised by each write.
    mark: Mapped[int] = mapped_column(sa.BigInteger)
