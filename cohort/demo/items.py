"""The demo plan as data: what will be recorded, when and by whom, and its summary.

A plan is a tuple of steps in recording order; the writer replays them through the
services. The summary counts what a sequence of items records and never names anyone.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from cohort.demo.territory import STRUCTURES
from cohort.errors import CohortError, Conflict


class DatabaseNotEmpty(Conflict):
    """Demo data goes into an empty database only, so it never mixes with real records."""

    code = "not_empty"


class DemoError(CohortError):
    """The generator broke one of its own invariants (a bug, never user input)."""

    status = 500
    code = "demo"


@dataclass(frozen=True)
class CreateOperation:
    key: str
    action: str
    kind: str
    label: str
    structure: str | None
    start: dt.date
    end: dt.date | None
    planned_hours: Decimal | None


@dataclass(frozen=True)
class Register:
    person: int
    structure: str
    identity: dict[str, Any]
    creates: bool  # False: a repeat registration that must find the same participant


@dataclass(frozen=True)
class Enrol:
    key: int
    person: int
    action: str
    structure: str
    start: dt.date
    rsa_at_entry: bool
    parent_child_0_3: bool
    intensity: str | None


@dataclass(frozen=True)
class EndEnrolment:
    enrolment: int
    structure: str
    end: dt.date
    reason: str


@dataclass(frozen=True)
class Record:
    id: uuid.UUID
    person: int
    structure: str
    type: str
    date: dt.date
    enrolment: int | None
    operation: str | None
    closes: uuid.UUID | None
    attributes: dict[str, Any]


@dataclass(frozen=True)
class Void:
    event: uuid.UUID
    structure: str
    reason: str


@dataclass(frozen=True)
class CheckResult:
    """A coordinator records the six-month check of an ended enrolment (domain.md §6).

    The situation of a reached participant is read back from their pathway when written,
    so that the check confirms what the events say and writes no event of its own.
    """

    enrolment: int
    structure: str
    date: dt.date
    outcome: str
    attempts: int | None


Item = CreateOperation | Register | Enrol | EndEnrolment | Record | Void | CheckResult


@dataclass(frozen=True)
class Step:
    at: dt.datetime  # recording time (aware UTC); the services get it as `now`
    seq: int
    item: Item


@dataclass(frozen=True)
class DemoSummary:
    """Counts only (never an identity): what the demo recorded."""

    structures: int
    operations: dict[str, int]
    participants: int
    registrations: int
    duplicate_registrations: int
    enrolments: dict[str, int]
    enrolments_ended: int
    exit_reasons: dict[str, int]
    people_in_several_actions: int
    re_entries: int
    events: dict[str, int]
    voided: int
    followup_results: dict[str, int]
    after_load: tuple[str, ...] = field(default=(), compare=False)  # the sweep's outcome

    def lines(self) -> list[str]:
        """Human-readable lines for the CLI."""
        def fmt(counts: Mapping[str, int]) -> str:
            return ", ".join(f"{k} {v}" for k, v in counts.items()) or "none"

        return [
            f"structures: {self.structures}",
            f"operations: {sum(self.operations.values())} ({fmt(self.operations)})",
            f"participants: {self.participants} (registrations {self.registrations}, "
            f"of which repeat registrations matched {self.duplicate_registrations})",
            f"enrolments: {sum(self.enrolments.values())} ({fmt(self.enrolments)})",
            f"enrolments ended: {self.enrolments_ended} ({fmt(self.exit_reasons)})",
            f"people in several actions: {self.people_in_several_actions}; "
            f"re-entries: {self.re_entries}",
            f"events: {sum(self.events.values())}, voided {self.voided}",
            *(f"  {k}: {v}" for k, v in self.events.items()),
            f"follow-up results recorded: {sum(self.followup_results.values())} "
            f"({fmt(self.followup_results)})",
            *self.after_load,
        ]


def summarise(items: Iterable[Item]) -> DemoSummary:
    """Count what a sequence of plan items records (the plan's and the writer's view)."""
    items = list(items)
    ops = Counter(i.action for i in items if isinstance(i, CreateOperation))
    regs = [i for i in items if isinstance(i, Register)]
    enrols = [i for i in items if isinstance(i, Enrol)]
    ends = [i for i in items if isinstance(i, EndEnrolment)]
    records = [i for i in items if isinstance(i, Record)]
    by_person: dict[int, list[str]] = {}
    for e in enrols:
        by_person.setdefault(e.person, []).append(e.action)
    return DemoSummary(
        structures=len(STRUCTURES),
        operations=dict(sorted(ops.items())),
        participants=sum(1 for r in regs if r.creates),
        registrations=len(regs),
        duplicate_registrations=sum(1 for r in regs if not r.creates),
        enrolments=dict(sorted(Counter(e.action for e in enrols).items())),
        enrolments_ended=len(ends),
        exit_reasons=dict(sorted(Counter(e.reason for e in ends).items())),
        people_in_several_actions=sum(1 for a in by_person.values() if len(set(a)) > 1),
        re_entries=sum(len(a) - len(set(a)) for a in by_person.values()),
        events=dict(sorted(Counter(r.type for r in records).items())),
        voided=sum(1 for i in items if isinstance(i, Void)),
        followup_results=dict(sorted(Counter(
            i.outcome for i in items if isinstance(i, CheckResult)).items())),
    )


@dataclass(frozen=True)
class DemoPlan:
    seed: int
    participants: int
    today: dt.date
    steps: tuple[Step, ...]  # in recording order
    showcase: tuple[int, ...] = ()  # person keys whose identities `demo load` prints
    showcase_structure: str = ""  # the structure that follows them (a demo coordinator's)

    def expected(self) -> DemoSummary:
        return summarise(s.item for s in self.steps)


