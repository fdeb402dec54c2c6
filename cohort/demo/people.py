"""One person's pathway while the demo is planned: registrations, enrolments, intervals.

Each step is added after the steps it depends on, so the plan replays in an order the
services accept (an event after its enrolment, an end after its start, a void after
what it voids).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from cohort.demo.items import DemoError, EndEnrolment, Enrol, Record, Register, Step
from cohort.demo.territory import DAY
from cohort.domain import eligibility
from cohort.domain.calendar import add_months, age_in_years
from cohort.domain.event_types import kind_of

if TYPE_CHECKING:
    from cohort.demo.base import PlannerBase


@dataclass
class Op:
    """An operation (site, training session, crèche, partner) the pathways draw on."""

    key: str
    action: str
    kind: str
    role: str
    label: str
    structure: str | None
    area: str | None
    start: dt.date
    end: dt.date | None
    hours: float = 0.0  # realised hours projected over the whole operation (clause sites)

    def active(self, day: dt.date, margin: int = 0) -> bool:
        return self.start <= day and (self.end is None or day + dt.timedelta(margin) <= self.end)


@dataclass
class Enr:
    key: int
    action: str
    structure: str
    start: dt.date
    step: Step
    until: dt.date | None  # planned last day of support (None: not decided yet or open)
    end_step: Step | None = None
    ended: bool = False
    person: Person | None = None  # whose enrolment (the follow-up plan reads ase and key)


@dataclass
class Opened:
    family: str
    type: str
    start: Step
    start_date: dt.date
    planned_end: dt.date | None
    end_attrs: dict[str, Any]
    enrolment: Enr | None  # set for the types that must name their enrolment
    attrs: dict[str, Any]
    closed: bool = False
    # The enrolment in whose context the start was recorded: its structure records the end
    # (a structure ends only what it recorded, domain.md §1).
    opened_by: Enr | None = None

    def open_at(self, day: dt.date) -> bool:
        return self.start_date <= day and (self.planned_end is None or day < self.planned_end)


END_OF = {
    "housing_entry": "housing_exit", "training_start": "training_end",
    "employment_start": "employment_end", "school_enrolment": "school_exit",
    "scheme_entry": "scheme_exit", "resource_start": "resource_end",
    "support_break": "support_resumed", "childcare_start": "childcare_end",
}


class Person:
    """One person's pathway: each step is recorded after the steps it depends on."""

    def __init__(self, plan: PlannerBase, key: int, identity: dict[str, Any], area: str):
        self.plan = plan
        self.key = key
        self.identity = identity
        self.birth: dt.date = identity["birth_date"]
        self.area = area
        self.regs: dict[str, Step] = {}
        self.enrolments: list[Enr] = []
        self.opened: list[Opened] = []

    @property
    def ase(self) -> bool:
        return bool(self.identity["ase_past"])

    def age(self, on: dt.date) -> int:
        return age_in_years(self.birth, on)

    def birthday(self, years: int) -> dt.date:
        return add_months(self.birth, 12 * years)

    # -- registrations and enrolments ---------------------------------------------------

    def register(self, structure: str, natural: dt.datetime, *, again: bool = False) -> Step:
        """Register with `structure`; a second structure (or a re-typing) spells it anew."""
        if structure in self.regs and not again:
            return self.regs[structure]
        first = not self.regs
        identity = self.identity if first else self.plan.variant(self.identity)
        after = () if first else (next(iter(self.regs.values())),)
        step = self.plan.add(Register(self.key, structure, identity, creates=first), natural,
                             after)
        self.regs.setdefault(structure, step)
        return step

    def enrol(self, action: str, structure: str, start: dt.date, *, until: dt.date | None,
              rsa: bool = False, parent: bool = False, intensity: str | None = None
              ) -> Enr | None:
        """Enrol when eligible (None otherwise): the demo never forces an enrolment."""
        if start > self.plan.today:
            return None
        facts = eligibility.Facts(age=self.age(start), rsa_at_entry=rsa, ase_past=self.ase,
                                  parent_child_0_3=parent)
        if not eligibility.check(self.plan.rules[action], facts).ok:
            return None
        previous = [e for e in self.enrolments if e.action == action]
        if any(not e.ended for e in previous):
            return None
        natural = self.plan.recorded(start, (0, 5))
        reg = self.register(structure, natural - dt.timedelta(minutes=20))
        key = next(self.plan.enrolment_keys)
        step = self.plan.add(
            Enrol(key, self.key, action, structure, start, rsa, parent, intensity), natural,
            [reg, *(e.end_step for e in previous)],
        )
        enrolment = Enr(key, action, structure, start, step, until, person=self)
        self.enrolments.append(enrolment)
        self.plan.enrols[key] = enrolment
        return enrolment

    def finish(self, e: Enr, reason: str) -> None:
        """End the enrolment on its planned last day, if that day has come."""
        if e.until is None or e.until > self.plan.today:
            return
        e.end_step = self.plan.add(EndEnrolment(e.key, e.structure, e.until, reason),
                                   self.plan.recorded(e.until, (0, 12)), [e.step])
        e.ended = True

    # -- events -------------------------------------------------------------------------

    def event(self, type_: str, day: dt.date, ctx: Enr, *, operation: Op | None = None,
              closes: Step | None = None, attrs: dict[str, Any] | None = None,
              lag: tuple[int, int] = (0, 10), after: Sequence[Step | None] = ()
              ) -> Step | None:
        """Record one event in the context of enrolment `ctx` (None when after today)."""
        if day > self.plan.today:
            return None
        first = self.enrolments[0].start
        if day < add_months(first, -12) or day < self.birth:
            raise DemoError("the demo planned an event the rules refuse")
        record = Record(
            id=self.plan.uuid(), person=self.key, structure=ctx.structure, type=type_,
            date=day, enrolment=ctx.key,  # unlinked by PlannerBase.build when outside ctx
            operation=operation.key if operation else None,
            closes=closes.item.id if closes is not None and isinstance(closes.item, Record)
            else None,
            attributes=attrs or {},
        )
        return self.plan.add(record, self.plan.recorded(day, lag), [ctx.step, closes, *after])

    def point(self, type_: str, day: dt.date, ctx: Enr, *, duplicate: float = 0.0,
              **kwargs: Any) -> Step | None:
        """A point event; now and then typed twice, the copy voided as a duplicate."""
        step = self.event(type_, day, ctx, **kwargs)
        if step is not None and isinstance(step.item, Record) \
                and self.plan.chance(duplicate) and self.plan.settled(day):
            copy = replace(step.item, id=self.plan.uuid())
            dup = self.plan.add(copy, step.at + dt.timedelta(minutes=2), [step])
            self.plan.void(dup, "Saisie en double", day, (3, 25))
        return step

    def open(self, type_: str, day: dt.date, ctx: Enr, *, until: dt.date | None,
             attrs: dict[str, Any], end_attrs: dict[str, Any] | None = None,
             operation: Op | None = None, lag: tuple[int, int] = (0, 10),
             mistake: dict[str, Any] | None = None) -> Opened | None:
        """Start an interval whose end is recorded later by `settle` (if it comes)."""
        after: list[Step | None] = []
        if mistake is not None and self.plan.settled(day):
            wrong = self.event(type_, day, ctx, attrs=mistake, operation=operation, lag=lag)
            if wrong is not None:
                after.append(self.plan.void(wrong, "Erreur de saisie : événement ressaisi",
                                            day, (1, 12)))
        step = self.event(type_, day, ctx, attrs=attrs, operation=operation, lag=lag,
                          after=after)
        if step is None:
            return None
        family = kind_of(type_).family
        if family is None:
            raise DemoError("not an interval event")
        opened = Opened(family.value, type_, step, day, until, end_attrs or {},
                       ctx if kind_of(type_).needs_enrolment else None, attrs, opened_by=ctx)
        self.opened.append(opened)
        return opened

    def open_at(self, family: str, day: dt.date) -> Opened | None:
        found = [o for o in self.opened if o.family == family and o.open_at(day)]
        return max(found, key=lambda o: (o.start_date, o.start.seq)) if found else None

    def has_resource(self, resource: str, day: dt.date) -> bool:
        return any(o.family == "resource" and o.attrs.get("resource") == resource
                   and o.open_at(day) for o in self.opened)

    def settle(self, limit: dt.date, ctx: Enr) -> None:
        """Record the planned ends that fall on or before `limit` (and today)."""
        cutoff = min(limit, self.plan.today)
        pending = sorted(
            (o for o in self.opened if not o.closed and o.planned_end is not None
             and o.planned_end <= cutoff),
            key=lambda o: (o.planned_end, o.start.seq),
        )
        for o in pending:
            end = max(o.planned_end or o.start_date, o.start_date + DAY)
            if end > self.plan.today:
                continue
            owner = o.enrolment or o.opened_by or ctx
            after: list[Step | None] = []
            if o.type in ("training_start", "employment_start", "housing_entry") \
                    and self.plan.chance(0.04) and self.plan.settled(end):
                wrong_day = end + dt.timedelta(self.plan.rng.choice((-9, -4, 3, 7, 12)))
                if o.start_date < wrong_day <= self.plan.today:
                    wrong = self.event(END_OF[o.type], wrong_day, owner, closes=o.start,
                                       attrs=o.end_attrs)
                    if wrong is not None:
                        after.append(self.plan.void(
                            wrong, "Date erronée : événement ressaisi à la bonne date",
                            wrong_day, (2, 15)))
            self.event(END_OF[o.type], end, owner, closes=o.start, attrs=o.end_attrs,
                       after=after)
            o.closed = True


def paused(day: dt.date, pause: tuple[dt.date, dt.date | None] | None) -> bool:
    return pause is not None and pause[0] <= day and (pause[1] is None or day < pause[1])


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))

