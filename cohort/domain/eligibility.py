"""Eligibility of an enrolment against an action's public, declared as data (domain.md §4).

A programme file gives each action a list of requirements, all of which must hold:
``{require = "ase_past"}``, ``{require_any = ["rsa_at_entry", "under_26"]}`` or an age range
``{age_min = 16, age_max = 21}`` (completed years at enrolment start, both bounds inclusive).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

FLAGS: dict[str, str] = {
    "rsa_at_entry": "RSA recipient at entry",
    "under_26": "under 26 at entry",
    "ase_past": "ASE past (child welfare)",
    "parent_child_0_3": "parent of a child aged 0-3",
}


@dataclass(frozen=True)
class Facts:
    """What is true at enrolment start."""

    age: int
    rsa_at_entry: bool
    ase_past: bool
    parent_child_0_3: bool

    def flag(self, name: str) -> bool:
        if name == "under_26":
            return self.age < 26
        return bool(getattr(self, name))


@dataclass(frozen=True)
class Eligibility:
    ok: bool
    reasons: list[str] = field(default_factory=list)


def describe(requirement: Mapping[str, Any]) -> str:
    """One English sentence naming a requirement (used in refusals)."""
    if "require" in requirement:
        return f"requires: {FLAGS[requirement['require']]}"
    if "require_any" in requirement:
        return "requires one of: " + " or ".join(FLAGS[f] for f in requirement["require_any"])
    lo, hi = requirement.get("age_min"), requirement.get("age_max")
    if lo is not None and hi is not None:
        return f"requires an age between {lo} and {hi} at entry"
    if lo is not None:
        return f"requires an age of at least {lo} at entry"
    return f"requires an age of at most {hi} at entry"


def holds(requirement: Mapping[str, Any], facts: Facts) -> bool:
    if "require" in requirement:
        return facts.flag(requirement["require"])
    if "require_any" in requirement:
        return any(facts.flag(f) for f in requirement["require_any"])
    lo, hi = requirement.get("age_min"), requirement.get("age_max")
    return (lo is None or facts.age >= lo) and (hi is None or facts.age <= hi)


def check(requirements: Sequence[Mapping[str, Any]], facts: Facts) -> Eligibility:
    """Check every requirement; the reasons name each one that failed."""
    failed = [describe(r) for r in requirements if not holds(r, facts)]
    return Eligibility(ok=not failed, reasons=failed)
