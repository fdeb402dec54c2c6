"""Who is acting: passed to every service so rules and audit know the caller."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    COORDINATOR = "coordinator"
    ASE_REFERENT = "ase_referent"
    EVALUATOR = "evaluator"
    PILOT = "pilot"
    ADMIN = "admin"
    SYSTEM = "system"  # CLI jobs and imports run by an operator on the server


@dataclass(frozen=True)
class Actor:
    role: Role
    user_id: int | None = None
    structure_id: int | None = None
    departement: str | None = None

    @property
    def is_admin(self) -> bool:
        return self.role in (Role.ADMIN, Role.SYSTEM)


SYSTEM = Actor(role=Role.SYSTEM)
