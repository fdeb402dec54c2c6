"""The whole demo plan: every action's pathways, then the six-month checks, then order.

``plan()`` is pure (no database): the same seed, size and today always give the same
plan. Pathways run from 2022 up to ``today``, so the convention year (2023) is populated
and enrolments end at every point of the last months: their checks are upcoming, due,
done or overdue on ``today``, whatever the day the demo is loaded.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from cohort import clock
from cohort.clock import PARIS
from cohort.demo.adults import AdultPathways
from cohort.demo.items import CheckResult, DemoError, DemoPlan, Record
from cohort.demo.territory import (
    ACTIONS,
    DAY,
    EARLIEST_TODAY,
    MAX_PARTICIPANTS,
    MIN_PARTICIPANTS,
    PROGRAMME_FILE,
    SHARES,
    SHOWCASE_STRUCTURES,
)
from cohort.demo.youth import YouthPathways
from cohort.domain import followup
from cohort.domain.event_types import kind_of
from cohort.errors import Rejected

Rules = Mapping[str, Sequence[Mapping[str, Any]]]
Windows = Mapping[str, tuple[int, int, int]]  # action → (months, days before, days after)


class Planner(YouthPathways, AdultPathways):
    """Draws the whole demo from one seeded generator."""

    def __init__(self, seed: int, size: int, today: dt.date, rules: Rules, windows: Windows):
        super().__init__(seed, size, today, rules)
        self.windows = windows

    def build(self) -> DemoPlan:
        self.build_operations()
        primaries = [a for a, n in _allocate(self.size).items() for _ in range(n)]
        self.rng.shuffle(primaries)
        builders = {
            "62-A1": self.a1, "62-A2": self.a2, "62-A3": self.a3, "62-A4": self.a4,
            "62-A5": self.a5, "62-A6": self.a6,
        }
        for key, action in enumerate(primaries, start=1):
            self.show = action not in self._shown
            self._shown.add(action)
            builders[action](key)
        self.show = False
        self.finish_operations()
        self.news_of_the_month()
        self.followup_results()
        self.link_within_enrolments()
        ordered = tuple(sorted(self.steps, key=lambda s: (s.at, s.seq)))
        end_of_today = dt.datetime.combine(self.today + DAY, dt.time(), tzinfo=PARIS)
        if any(s.at >= end_of_today for s in ordered):
            raise DemoError("a step would be recorded after today")
        showcase, structure = self.showcase()
        return DemoPlan(seed=self.seed, participants=self.size, today=self.today, steps=ordered,
                        showcase=showcase, showcase_structure=structure)

    def link_within_enrolments(self) -> None:
        """An event names its enrolment only when dated within it (entry notes: a year back).

        Some ends (62-A2's) are decided after the events, so links are settled last.
        """
        for n, step in enumerate(self.steps):
            item = step.item
            if not isinstance(item, Record) or item.enrolment is None:
                continue
            e = self.enrols[item.enrolment]
            if e.start - dt.timedelta(366) <= item.date and (e.until is None
                                                              or item.date <= e.until):
                continue
            if kind_of(item.type).needs_enrolment:
                raise DemoError("the demo planned an enrolment event outside its enrolment")
            self.steps[n] = replace(step, item=replace(item, enrolment=None))

    def news_of_the_month(self) -> None:
        """A contact this month, so the pathways visibly run up to the load date.

        Contacts come every few weeks: early in a month none may have fallen in it yet.
        """
        month = self.today.replace(day=1)
        if any(isinstance(s.item, Record) and s.item.date >= month for s in self.steps):
            return
        running = [e for e in self.enrols.values() if not e.ended and e.person is not None
                   and (e.until is None or e.until >= self.today)]
        if running:
            e = max(running, key=lambda e: (e.start, e.key))
            assert e.person is not None
            e.person.point("contact", self.today, e, attrs={"mode": "phone"}, lag=(0, 0))

    def followup_results(self) -> None:
        """Record most checks whose window has opened; leave some due and some overdue.

        The first check in its window is left due, and the first ASE youth's check past
        its window is left undone: the sweep then raises the overdue alert the ASE
        referent is meant to see.
        """
        ase_overdue_left = due_left = False
        for e in sorted(self.enrols.values(), key=lambda e: e.key):
            if not e.ended or e.until is None or e.end_step is None or e.person is None:
                continue
            months, before, after = self.windows.get(e.action, followup.window_settings({}, {}))
            window = followup.window_for(e.until, months=months, before=before, after=after)
            if window.start > self.today:
                continue  # upcoming
            past = window.end < self.today
            if past and e.person.ase and not ase_overdue_left:
                ase_overdue_left = True
                continue
            if not past and not due_left:
                due_left = True
                continue
            if not self.chance(0.85 if past else 0.4):
                continue
            day = self.between(window.start, min(window.end, self.today))
            outcome = self.pick({"reached": 75, "not_reached": 20, "refused": 5})
            attempts = self.rng.randint(2, 4) if outcome == "not_reached" else None
            self.add(CheckResult(e.key, e.structure, day, outcome, attempts),
                     self.recorded(day, (0, 3)), [e.end_step])

    def showcase(self) -> tuple[tuple[int, ...], str]:
        """Two people a demo coordinator follows: the first structure that has two."""
        for structure in SHOWCASE_STRUCTURES:
            people = sorted({e.person.key for e in self.enrols.values()
                             if e.structure == structure and e.person is not None})
            if len(people) >= 2:
                return tuple(people[:2]), structure
        return (), ""


def _allocate(total: int) -> dict[str, int]:
    """Split `total` people across the actions by SHARES (largest remainder, two at least)."""
    counts = {a: max(2, total * share // 100) for a, share in SHARES.items()}
    by_remainder = sorted(SHARES, key=lambda a: (-(total * SHARES[a] % 100), a))
    for action in itertools.cycle(by_remainder):
        if sum(counts.values()) >= total:
            break
        counts[action] += 1
    while sum(counts.values()) > total:
        counts[max(counts, key=lambda a: (counts[a], a))] -= 1
    return counts


def programme_rules(programme: Mapping[str, Any],
                    actions: Mapping[str, Mapping[str, Any]]) -> tuple[Rules, Windows]:
    """Eligibility and check windows of the six actions, from programme and action settings."""
    settings = programme.get("settings") or {}
    rules = {code: a["eligibility"] for code, a in actions.items() if code in ACTIONS}
    windows = {code: followup.window_settings(settings, a.get("settings") or {})
               for code, a in actions.items() if code in ACTIONS}
    return rules, windows


def default_rules() -> tuple[Rules, Windows]:
    """The six actions' rules, read from the programme file (no database needed)."""
    with PROGRAMME_FILE.open("rb") as f:
        parsed = tomllib.load(f)
    return programme_rules(parsed["programme"], {a["code"]: a for a in parsed["actions"]})


def plan(*, seed: int = 2023, participants: int = 300, today: dt.date | None = None,
         rules: tuple[Rules, Windows] | None = None) -> DemoPlan:
    """The demo as pure data: the same arguments always give the same plan.

    ``today`` defaults to today in France: the demo is drawn relative to its load date.
    """
    today = today or clock.today()
    if not MIN_PARTICIPANTS <= participants <= MAX_PARTICIPANTS:
        raise Rejected("participants", f"must be between {MIN_PARTICIPANTS} and "
                                       f"{MAX_PARTICIPANTS}")
    if today < EARLIEST_TODAY:
        raise Rejected("today", f"must be on or after {EARLIEST_TODAY.isoformat()}")
    eligibility, windows = rules or default_rules()
    return Planner(seed, participants, today, eligibility, windows).build()
