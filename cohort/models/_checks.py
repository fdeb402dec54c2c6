"""Helpers that turn enums into named CHECK constraints."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa


def one_of(column: str, enum: type[StrEnum], name: str | None = None) -> sa.CheckConstraint:
    values = ", ".join(f"'{m.value}'" for m in enum)
    return sa.CheckConstraint(f"{column} IN ({values})", name=name or f"{column}_valid")
