"""Pathway pieces every action draws from: jobs, training, resources, housing, contacts."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from cohort.demo.base import PlannerBase
from cohort.demo.people import Enr, Op, Opened, Person, paused
from cohort.demo.territory import BREAK_REASONS, CONTRACT_MONTHS
from cohort.domain.calendar import add_months
from cohort.domain.pathway_status import OPEN_ENDED_CONTRACTS


class PathwayPieces(PlannerBase):
    """Pieces shared by the actions' pathways (each draws from the one generator)."""

    # -- shared pathway pieces ----------------------------------------------------------

    def job(self, p: Person, day: dt.date, ctx: Enr, contract: str, *,
            operation: Op | None = None, hours: int = 35, cap: dt.date | None = None
            ) -> Opened | None:
        months = None if contract in OPEN_ENDED_CONTRACTS else self.rng.randint(
            *CONTRACT_MONTHS[contract])
        attrs: dict[str, Any] = {"contract": contract, "hours_per_week": str(hours)}
        if months:
            attrs["planned_months"] = months
        until = add_months(day, months) if months else (
            add_months(day, self.rng.randint(10, 40)) if self.chance(0.2) else None)
        if cap is not None and until is not None and until > cap:
            until = max(cap, day + dt.timedelta(30))
        mistake = None
        if self.chance(0.05):
            other = "cdd" if contract != "cdd" else "temporary_agency"
            mistake = {**attrs, "contract": other, "planned_months": months or 6}
        return p.open("employment_start", day, ctx, until=until, attrs=attrs,
                      operation=operation, mistake=mistake)

    def any_job(self, p: Person, day: dt.date, ctx: Enr, *, young: bool = False
                ) -> Opened | None:
        weights = {"cdd": 35, "temporary_agency": 22, "cdi": 14, "subsidised": 12, "siae": 10,
                   "business_creation": 1}
        if young:
            weights["apprenticeship"] = 25
        return self.job(p, day, ctx, self.pick(weights), hours=self.pick({35: 70, 24: 20, 20: 10}))

    def training(self, p: Person, day: dt.date, ctx: Enr, *, qualifying: bool,
                 months: tuple[int, int], operation: Op | None = None) -> Opened | None:
        completed = self.chance(0.8)
        end_attrs = {"completed": completed, "certified": completed and qualifying
                     and self.chance(0.75)}
        until = add_months(day, self.rng.randint(*months))
        if not completed:
            until = day + dt.timedelta(self.rng.randint(20, max(21, (until - day).days - 10)))
        return p.open("training_start", day, ctx, until=until, attrs={"qualifying": qualifying},
                      end_attrs=end_attrs, operation=operation)

    def resource(self, p: Person, resource: str, day: dt.date, ctx: Enr,
                 months: tuple[int, int] | None) -> Opened | None:
        if p.has_resource(resource, day):
            return None
        until = add_months(day, self.rng.randint(*months)) if months else None
        return p.open("resource_start", day, ctx, until=until, attrs={"resource": resource})

    def housing(self, p: Person, day: dt.date, ctx: Enr, housing_type: str, *,
                via_programme: bool = False, operation: Op | None = None,
                until: dt.date | None = None, reason: str | None = None) -> Opened | None:
        return p.open("housing_entry", day, ctx, until=until,
                      attrs={"housing_type": housing_type, "via_programme": via_programme},
                      end_attrs={"reason": reason} if reason else None, operation=operation)

    def entry_housing(self, p: Person, e: Enr, weights: Mapping[str, float]) -> None:
        """The housing situation noted at entry, dated up to ten months back."""
        if p.open_at("housing", e.start) is None:
            day = e.start - dt.timedelta(self.rng.randint(1, 300))
            self.housing(p, max(day, add_months(p.enrolments[0].start, -11)), e,
                         self.pick(weights))

    def mobility(self, p: Person, e: Enr, chance: float, within: tuple[int, int]) -> None:
        if self.chance(chance):
            day = e.start + dt.timedelta(self.rng.randint(*within))
            if e.until is None or day <= e.until:
                p.point("mobility_assessment", day, e, duplicate=0.02,
                        attrs={"level": self.pick({1: 20, 2: 35, 3: 30, 4: 15})})

    def support_break(self, p: Person, e: Enr, chance: float, resume: float, *,
                      show: bool = True) -> tuple[dt.date, dt.date | None] | None:
        """A rupture d'accompagnement: resumed, or the end of the support."""
        happens = self.sure(chance) if show else self.chance(chance)
        if e.until is None or (e.until - e.start).days < 90 or not happens:
            return None
        day = e.start + dt.timedelta(self.rng.randint(30, (e.until - e.start).days - 45))
        if day > self.today:
            return None
        back = day + dt.timedelta(self.rng.randint(14, 75)) if self.sure(resume) else None
        if back is None or back >= e.until:
            back = None
            e.until = min(e.until, day + dt.timedelta(self.rng.randint(21, 60)))
        p.open("support_break", day, e, until=back,
               attrs={"reason": self.rng.choice(BREAK_REASONS)})
        return day, back

    def contacts(self, p: Person, e: Enr, every: tuple[int, int],
                 modes: Mapping[str, float], pause: tuple[dt.date, dt.date | None] | None
                 ) -> None:
        day = e.start + dt.timedelta(self.rng.randint(2, 10))
        stop = min(e.until or self.today, self.today)
        while day <= stop:
            if not paused(day, pause):
                p.point("contact", day, e, attrs={"mode": self.pick(modes)}, lag=(0, 4),
                        duplicate=0.004)
            day += dt.timedelta(self.rng.randint(*every))

    def weekly_visits(self, p: Person, e: Enr, reinforced: bool,
                      pause: tuple[dt.date, dt.date | None] | None) -> None:
        """62-A4: a home visit a week; reinforced measures three contacts a week."""
        week = e.start + dt.timedelta(self.rng.randint(1, 4))
        stop = min(e.until or self.today, self.today)
        while week <= stop:
            if not paused(week, pause) and not self.chance(0.07):
                days = sorted(self.rng.sample(range(5), 3 if reinforced else 1))
                modes = ["home_visit", "meeting", self.pick({"meeting": 50, "phone": 50})]
                for offset, mode in zip(days, modes, strict=False):
                    day = week + dt.timedelta(offset)
                    if day <= stop and not paused(day, pause):
                        p.point("contact", day, e, attrs={"mode": mode}, lag=(0, 4),
                                duplicate=0.002)
            week += dt.timedelta(7)

    def exit_reason(self, p: Person, e: Enr, *, forced: str | None = None,
                    housed: Opened | None = None, age_limit: bool = False) -> str:
        if forced:
            return forced
        if age_limit:
            return "age_limit"
        day = e.until or self.today
        if p.open_at("employment", day) is not None:
            return "employment"
        if p.open_at("training", day) is not None:
            return "training"
        if housed is not None and housed.open_at(day) and self.chance(0.75):
            return "housing_obtained"
        return self.pick({"end_of_support": 50, "lost_contact": 20, "moved_away": 12,
                          "support_refused": 6, "other": 5})

    def cross_start(self, e: Enr) -> dt.date | None:
        if not e.ended or e.until is None:
            return None
        day = e.until + dt.timedelta(self.rng.randint(10, 120))
        return day if day <= self.today - dt.timedelta(20) else None

