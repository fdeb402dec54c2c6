"""Pathways of the employment actions: 62-A3 crèches, 62-A1 insertion, 62-A2 clauses."""

from __future__ import annotations

import datetime as dt

from cohort.demo.items import DemoError
from cohort.demo.people import Enr, Op, Opened, Person
from cohort.demo.pieces import PathwayPieces
from cohort.demo.territory import DAY
from cohort.domain.calendar import add_months, end_of_month


class AdultPathways(PathwayPieces):
    """62-A3, 62-A1, 62-A2: a parent or an adult may go on to a clause site."""

    # -- 62-A3 Crèches AVIP: jobless parents of a child 0-3 -----------------------------

    def a3(self, key: int) -> None:
        start = self.start_date()
        young = self.chance(0.4)
        age = self.rng.randint(18, 25) if young else self.rng.randint(26, 42)
        ase = young and self.chance(0.15)
        p = self.person(key, sex=self.pick({"F": 88, "M": 12}), age=age, on=start, ase=ase)
        rsa = True if not young else self.chance(0.6)
        child = start - dt.timedelta(self.rng.randint(60, 900))
        self.seg_a3(p, start, rsa, child)

    def seg_a3(self, p: Person, start: dt.date, rsa: bool, child: dt.date) -> None:
        op = self.op_for("creche", start, p.area)
        if op is None or op.structure is None:
            raise DemoError("no crèche open for a 62-A3 parent")
        until = min(add_months(start, self.rng.randint(6, 14)), add_months(child, 40))
        e = p.enrol("62-A3", op.structure, start, until=until, rsa=rsa, parent=True)
        if e is None:
            raise DemoError("a 62-A3 parent drawn ineligible")
        rsa_open = None
        if rsa:
            rsa_open = self.resource(p, "rsa", start - dt.timedelta(self.rng.randint(30, 330)),
                                     e, None)
        care = start + dt.timedelta(self.rng.randint(0, 21))
        p.open("childcare_start", care, e, until=until, operation=op,
               attrs={"child_birth_month": f"{child:%Y-%m}"})
        self.contacts(p, e, (28, 56), {"meeting": 70, "phone": 30}, None)
        self.mobility(p, e, 0.3, (7, 60))
        roll = self.rng.random()
        day = start + dt.timedelta(self.rng.randint(30, 200))
        if day < until and roll < 0.35:
            self.training(p, day, e, qualifying=self.chance(0.6), months=(2, 8))
        elif day < until and roll < 0.7:
            job = self.job(p, day, e, self.pick({"cdd": 35, "temporary_agency": 20,
                                                 "subsidised": 20, "cdi": 10, "siae": 15}),
                           hours=self.pick({35: 50, 24: 30, 20: 20}))
            if job is not None and rsa_open is not None and rsa_open.planned_end is None:
                rsa_open.planned_end = day + dt.timedelta(self.rng.randint(60, 120))
        p.settle(until, e)
        reason = self.exit_reason(p, e)
        p.finish(e, reason)
        self.show = False  # a later action of this person is drawn as usual
        nxt = self.cross_start(e)
        if nxt is not None and self.chance(0.2):
            still_rsa = rsa_open is not None and rsa_open.open_at(nxt)
            self.seg_a2(p, nxt, still_rsa)

    # -- 62-A1 Actions d'insertion: RSA or under 26 -------------------------------------

    def adult_or_young(self, key: int, start: dt.date) -> tuple[Person, bool]:
        young = self.chance(0.35)
        age = self.rng.randint(18, 25) if young else self.rng.randint(26, 58)
        ase = young and self.chance(0.2)  # « prioritairement jeunes issus de l'ASE »
        p = self.person(key, sex=self.pick({"M": 68, "F": 32}), age=age, on=start, ase=ase)
        return p, (not young) or self.chance(0.15)

    def a1(self, key: int) -> None:
        start = self.start_date()
        p, rsa = self.adult_or_young(key, start)
        self.seg_a1(p, start, rsa)

    def seg_a1(self, p: Person, start: dt.date, rsa: bool) -> None:
        # 62-A1 is run by the PLIE only (domain.md §2 "Operators").
        structure = "plie_artois" if p.area == "artois" else "plie"
        until = add_months(start, self.rng.randint(6, 18))
        e = p.enrol("62-A1", structure, start, until=until, rsa=rsa)
        if e is None:
            raise DemoError("a 62-A1 participant drawn ineligible")
        if rsa:
            self.resource(p, "rsa", start - dt.timedelta(self.rng.randint(30, 330)), e, None)
        self.mobility(p, e, 0.7, (0, 30))
        day = start + dt.timedelta(self.rng.randint(7, 40))
        last: dt.date | None = None
        prep = self.op_for("prep", day, p.area, margin=30)
        if prep is not None and day < until:
            t = self.training(p, day, e, qualifying=False, months=(1, 3), operation=prep)
            last = t.planned_end if t else None
        if last is not None and last < until:
            day = last + dt.timedelta(self.rng.randint(7, 60))
            roll = 0.0 if self.show else self.rng.random()
            qualif = self.op_for("qualif", day, None, margin=60)
            chantier = self.op_for("chantier", day, None, margin=60)
            if roll < 0.45 and qualif is not None and day < until:
                t = self.training(p, day, e, qualifying=True, months=(4, 9), operation=qualif)
                last = t.planned_end if t else None
            elif roll < 0.7 and chantier is not None and day < until:
                job = self.job(p, day, e, "siae", operation=chantier, hours=26, cap=chantier.end)
                last = job.planned_end if job else None
        if last is not None and last < until and self.sure(0.45):
            self.any_job(p, last + dt.timedelta(self.rng.randint(0, 60)), e,
                         young=p.age(start) < 26)
        p.settle(until, e)
        p.finish(e, self.exit_reason(p, e))
        go_on = self.sure(0.35)
        self.show = False  # a later action of this person is drawn as usual
        nxt = self.cross_start(e)
        if nxt is not None and go_on:
            self.seg_a2(p, nxt, p.has_resource("rsa", nxt))

    # -- 62-A2 Clause d'insertion: RSA or under 26 --------------------------------------

    def a2(self, key: int) -> None:
        start = self.start_date()
        p, rsa = self.adult_or_young(key, start)
        self.seg_a2(p, start, rsa, required=True)

    def seg_a2(self, p: Person, start: dt.date, rsa: bool, *, required: bool = False) -> None:
        structure = "mde" if p.area == "artois" else "plie"
        e = p.enrol("62-A2", structure, start, until=None, rsa=rsa)
        if e is None:
            if required:
                raise DemoError("a 62-A2 participant drawn ineligible")
            return
        if rsa:
            self.resource(p, "rsa", start - dt.timedelta(self.rng.randint(30, 330)), e, None)
        self.mobility(p, e, 0.75, (0, 21))
        day = start + dt.timedelta(self.rng.randint(7, 60))
        horizon = add_months(start, 30)
        finish = add_months(start, self.rng.randint(4, 8))
        for _ in range(3):
            site = self.op_for("site", day, p.area, margin=30)
            if site is None or day > self.today:
                break
            weights = {"temporary_agency": 30, "siae": 25, "cdd": 25, "subsidised": 10, "cdi": 5}
            if p.age(day) < 30:
                weights["apprenticeship"] = 5
            hours = self.pick({35: 55, 26: 20, 24: 15, 20: 10})
            job = self.job(p, day, e, self.pick(weights), operation=site, hours=hours,
                           cap=site.end)
            if job is None:
                break
            self.clause_hours(p, e, job, site, hours)
            stop = job.planned_end
            if stop is None:
                finish = add_months(day, self.rng.randint(6, 12))
                break
            finish = stop + dt.timedelta(self.rng.randint(0, 60))
            roll = self.rng.random()
            if roll < 0.5:
                day = stop + dt.timedelta(self.rng.randint(0, 60))
                continue
            if roll < 0.75:
                durable = stop + dt.timedelta(self.rng.randint(0, 90))
                self.job(p, durable, e, self.pick({"cdi": 50, "cdd": 50}),
                         hours=self.pick({35: 80, 24: 20}))
                finish = durable + dt.timedelta(self.rng.randint(0, 30))
            elif roll < 0.85:
                later = stop + dt.timedelta(self.rng.randint(14, 90))
                self.training(p, later, e, qualifying=True, months=(4, 9))
                finish = later + dt.timedelta(self.rng.randint(0, 30))
            break
        e.until = min(finish, horizon)
        p.settle(e.until, e)
        p.finish(e, self.exit_reason(p, e))

    def clause_hours(self, p: Person, e: Enr, job: Opened, site: Op, hours: int) -> None:
        """Monthly realised hours on the site while the contract runs on it."""
        stop = min(d for d in (job.planned_end, site.end, add_months(job.start_date, 36))
                   if d is not None)
        day = job.start_date
        while day < stop:
            first = day == job.start_date
            period_end = min(end_of_month(day), stop - DAY)
            workdays = sum(1 for n in range((period_end - day).days + 1)
                           if (day + dt.timedelta(n)).weekday() < 5)
            done = round(hours / 5 * workdays * self.rng.uniform(0.75, 1.0) * 2) / 2
            site.hours += done
            if done > 0 and period_end <= self.today:
                attrs = {"hours": f"{done:.2f}"}
                lag = (1, 8)
                if (self.chance(0.03) or (self.show and first)) and self.settled(period_end):
                    wrong = p.event("clause_hours", period_end, e, operation=site, lag=lag,
                                    attrs={"hours": f"{done * 10:.2f}"})
                    if wrong is not None:
                        fix = self.void(wrong, "Nombre d'heures erroné : ressaisi", period_end,
                                        (3, 20))
                        p.event("clause_hours", period_end, e, operation=site, attrs=attrs,
                                after=[fix])
                else:
                    p.point("clause_hours", period_end, e, operation=site, attrs=attrs, lag=lag,
                            duplicate=0.015)
            day = period_end + DAY


