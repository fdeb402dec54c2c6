"""Pathways of the ASE youths' actions: 62-A6 Pack Inclusion, 62-A5 and 62-A4 housing."""

from __future__ import annotations

import datetime as dt

from cohort.demo.items import DemoError
from cohort.demo.people import Enr, Person
from cohort.demo.pieces import PathwayPieces
from cohort.demo.territory import DAY
from cohort.domain.calendar import add_months


class YouthPathways(PathwayPieces):
    """62-A6, 62-A5, 62-A4: a youth may go on from one to another."""

    # -- 62-A6 Pack Inclusion: ASE youths 16-21 ----------------------------------------

    def a6(self, key: int) -> None:
        start = self.start_date()
        age = 17 if self.show else self.pick({16: 30, 17: 25, 18: 18, 19: 12, 20: 9, 21: 6})
        p = self.person(key, sex=self.pick({"M": 55, "F": 45}), age=age, on=start, ase=True)
        if self.sure(0.35):  # the ASE referent registers the youth before orienting them
            p.register("mds", self.moment(start - dt.timedelta(self.rng.randint(7, 40))))
        self.seg_a6(p, start)

    def seg_a6(self, p: Person, start: dt.date) -> None:
        ml = "ml_artois" if p.area == "artois" else "ml_lens"
        limit = p.birthday(22) - DAY
        until = add_months(start, self.rng.randint(6, 30))
        if p.age(start) < 18 and self.sure(0.7):  # the pack carries them past majority
            until = max(until, add_months(p.birthday(18), self.rng.randint(3, 12)))
        until = min(until, limit)
        e = p.enrol("62-A6", ml, start, until=until)
        if e is None:
            raise DemoError("a 62-A6 youth drawn ineligible")
        pause = self.support_break(p, e, 0.15, 0.7)
        forced = self.pick({"lost_contact": 70, "support_refused": 30}) \
            if pause and pause[1] is None else None
        end = e.until or until
        minor = p.age(start) < 18
        self.entry_housing(p, e, {"other": 55, "family": 30, "youth_residence": 15} if minor
                           else {"youth_residence": 40, "family": 20, "third_party": 15,
                                 "other": 25})
        self.mobility(p, e, 0.5, (7, 60))
        self.contacts(p, e, (28, 63), {"meeting": 70, "phone": 30}, pause)
        if minor and self.sure(0.65):
            year = start.year if start.month >= 7 else start.year - 1
            school = dt.date(year, 9, 2)
            school_end = dt.date(year + self.rng.choice((1, 2)), 7, 4)
            dropout = self.chance(0.25)
            if dropout or (self.show and school_end > end):
                school_end = self.between(school + dt.timedelta(40), min(school_end, end))
            if school <= end:
                p.open("school_enrolment", max(school, add_months(start, -11)), e,
                       until=school_end, attrs={}, end_attrs={"dropout": dropout})
        pacea = None
        if minor and self.sure(0.55):
            day = start + dt.timedelta(self.rng.randint(0, 45))
            pacea = p.open("scheme_entry", day, e, attrs={"scheme": "pacea"},
                           until=add_months(day, self.rng.randint(6, 18)))
        b18 = p.birthday(18)
        adult_from = max(start, b18)
        if start <= b18 <= end and b18 <= self.today:
            if self.sure(0.65):
                day = b18 + dt.timedelta(self.rng.randint(0, 15))
                self.resource(p, "young_adult_allowance", day, e, (6, 36))
            roll = 0.0 if self.show else self.rng.random()
            if roll < 0.7:
                chosen = self.between(max(start, b18 - dt.timedelta(60)), b18 + dt.timedelta(85))
            elif roll < 0.8:
                chosen = b18 + dt.timedelta(self.rng.randint(120, 200))
            else:
                chosen = None
            if chosen is not None and chosen <= end:
                p.point("link_person_chosen", chosen, e)
            if self.sure(0.45):
                day = b18 + dt.timedelta(self.rng.randint(0, 120))
                if day <= end:
                    self.housing(p, day, e, self.pick({"youth_residence": 45, "sliding_lease": 25,
                                                       "social_rental": 15, "family": 15}))
        elif b18 < start:
            if self.chance(0.4):
                self.resource(p, "young_adult_allowance",
                              max(b18, start - dt.timedelta(self.rng.randint(30, 300))), e,
                              (6, 30))
            if b18 + dt.timedelta(90) >= start and self.chance(0.5):
                p.point("link_person_chosen", start + dt.timedelta(self.rng.randint(0, 30)), e)
        if adult_from <= end:
            if self.sure(0.4):
                day = adult_from + dt.timedelta(self.rng.randint(15, 120))
                if day < end:
                    if pacea is not None and (pacea.planned_end is None
                                              or pacea.planned_end > day):
                        pacea.planned_end = day
                    months = self.rng.randint(6, 12)
                    p.open("scheme_entry", day, e, attrs={"scheme": "cej"},
                           until=add_months(day, months))
                    self.resource(p, "cej_allowance", day, e, (months, months))
            roll = self.rng.random()
            day = adult_from + dt.timedelta(self.rng.randint(30, 240))
            if day < end and roll < 0.35:
                self.training(p, day, e, qualifying=self.chance(0.55), months=(3, 10))
            elif day < end and roll < 0.7:
                self.any_job(p, day, e, young=True)
            elif day < end and roll < 0.78:
                scheme = self.pick({"e2c": 60, "epide": 40})
                p.open("scheme_entry", day, e, attrs={"scheme": scheme},
                       until=add_months(day, self.rng.randint(4, 10)))
        p.settle(end, e)
        reason = self.exit_reason(p, e, forced=forced, age_limit=end == limit)
        p.finish(e, reason)
        if self.sure(0.04) and e.until is not None:
            again = self.between(start + dt.timedelta(20), min(e.until, self.today))
            p.register(ml, self.moment(again), again=True)
        self.show = False  # a later action of this person is drawn as usual
        nxt = self.cross_start(e) if reason not in ("lost_contact", "support_refused") else None
        if nxt is not None and 18 <= p.age(nxt) <= 24:
            if self.chance(0.3):
                self.seg_a5(p, nxt)
            elif self.chance(0.15):
                self.seg_a4(p, nxt, reentry=False)

    # -- 62-A5 Solutions logement: ASE 18-24, households -------------------------------

    def a5(self, key: int) -> None:
        start = self.start_date()
        age = self.pick({18: 22, 19: 22, 20: 18, 21: 14, 22: 10, 23: 8, 24: 6})
        p = self.person(key, sex=self.pick({"M": 50, "F": 50}), age=age, on=start, ase=True)
        if self.seg_a5(p, start) is None:
            raise DemoError("a 62-A5 household drawn ineligible")

    def seg_a5(self, p: Person, start: dt.date) -> Enr | None:
        structure = "ml_artois" if p.area == "artois" else "cllaj"
        limit = p.birthday(25) - DAY
        until = min(add_months(start, self.rng.randint(12 if self.show else 9, 24)), limit)
        e = p.enrol("62-A5", structure, start, until=until)
        if e is None:
            return None
        pause = self.support_break(p, e, 0.08, 0.6, show=False)
        forced = "lost_contact" if pause and pause[1] is None else None
        end = e.until or until
        self.entry_housing(p, e, {"emergency_shelter": 25, "third_party": 30,
                                  "youth_residence": 25, "family": 15, "street": 5})
        self.mobility(p, e, 0.3, (7, 60))
        self.contacts(p, e, (21, 49), {"home_visit": 40, "meeting": 45, "phone": 15}, pause)
        if self.sure(0.65):
            resource = self.pick({"wage": 25, "cej_allowance": 25, "faj": 25,
                                  "young_adult_allowance": 25 if p.age(start) <= 20 else 0})
            self.resource(p, resource, start + dt.timedelta(self.rng.randint(-60, 60)), e, (3, 12))
        housed = None
        day = start + dt.timedelta(self.rng.randint(14, 150))
        if self.sure(0.8) and day + dt.timedelta(20) < end:
            op = self.op_for("partner", day, p.area)
            housed = self.housing(p, day, e, self.pick({"social_rental": 60, "sliding_lease": 40}),
                                  via_programme=True, operation=op)
            leave = day + dt.timedelta(self.rng.randint(90, max(91, (end - day).days - 7)))
            if housed is not None and self.sure(0.55) and leave < end:
                why = self.pick({"moved_by_choice": 55, "eviction": 20, "other": 25})
                housed.planned_end = leave
                housed.end_attrs = {"reason": why}
                if self.chance(0.7):
                    after = {"moved_by_choice": {"private_rental": 50, "social_rental": 50},
                             "eviction": {"third_party": 45, "emergency_shelter": 35, "family": 20},
                             "other": {"family": 40, "youth_residence": 30, "other": 30}}[why]
                    self.housing(p, leave + dt.timedelta(self.rng.randint(0, 20)), e,
                                 self.pick(after))
        if self.chance(0.35):
            day = start + dt.timedelta(self.rng.randint(30, 300))
            if day < end:
                self.any_job(p, day, e, young=True)
        p.settle(end, e)
        p.finish(e, self.exit_reason(p, e, forced=forced, housed=housed, age_limit=end == limit))
        return e

    # -- 62-A4 Logement autonome: ASE under 25, simple or reinforced --------------------

    def a4(self, key: int) -> None:
        start = self.start_date()
        age = self.pick({18: 22, 19: 22, 20: 18, 21: 14, 22: 10, 23: 8, 24: 6})
        p = self.person(key, sex=self.pick({"M": 55, "F": 45}), age=age, on=start, ase=True)
        # The first two youths show both measures, however small the demo.
        intensity = ("reinforced", "simple")[self._a4_youths] if self._a4_youths < 2 else None
        self._a4_youths += 1
        if self.seg_a4(p, start, reentry=True, intensity=intensity) is None:
            raise DemoError("a 62-A4 youth drawn ineligible")

    def seg_a4(self, p: Person, start: dt.date, *, reentry: bool,
               intensity: str | None = None) -> Enr | None:
        limit = p.birthday(25) - DAY
        until = min(add_months(start, self.rng.randint(3, 9)), limit)
        intensity = intensity or self.pick({"reinforced": 50, "simple": 50})
        e = p.enrol("62-A4", "cllaj", start, until=until, intensity=intensity)
        if e is None:
            return None
        pause = self.support_break(p, e, 0.25, 0.7)
        forced = self.pick({"lost_contact": 60, "support_refused": 40}) \
            if pause and pause[1] is None else None
        end = e.until or until
        self.entry_housing(p, e, {"emergency_shelter": 30, "third_party": 30, "family": 15,
                                  "street": 10, "youth_residence": 15})
        self.weekly_visits(p, e, intensity == "reinforced", pause)
        housed = None
        if self.sure(0.65) and (end - start).days > 40:
            day = start + dt.timedelta(self.rng.randint(30, (end - start).days - 7))
            housed = self.housing(p, day, e, self.pick({"sliding_lease": 35, "social_rental": 25,
                                                        "youth_residence": 25,
                                                        "private_rental": 15}))
        if self.chance(0.4):
            day = start + dt.timedelta(self.rng.randint(7, 60))
            if day < end:
                self.resource(p, "faj", day, e, (1, 3))
        if p.age(start) <= 20 and self.chance(0.3):
            self.resource(p, "young_adult_allowance",
                          start - dt.timedelta(self.rng.randint(0, 200)), e, (6, 24))
        if self.chance(0.15):
            day = start + dt.timedelta(self.rng.randint(20, 90))
            if day < end:
                months = self.rng.randint(6, 12)
                p.open("scheme_entry", day, e, attrs={"scheme": "cej"},
                       until=add_months(day, months))
                self.resource(p, "cej_allowance", day, e, (months, months))
        if self.chance(0.25):
            day = start + dt.timedelta(self.rng.randint(30, 200))
            if day < end:
                self.any_job(p, day, e, young=True)
        self.mobility(p, e, 0.2, (7, 45))
        p.settle(end, e)
        reason = self.exit_reason(p, e, forced=forced, housed=housed, age_limit=end == limit)
        p.finish(e, reason)
        self.show = False  # a later action of this person is drawn as usual
        nxt = self.cross_start(e)
        if nxt is not None and p.age(nxt) <= 24:
            if reentry and reason in ("lost_contact", "support_refused") and self.chance(0.45):
                self.seg_a4(p, nxt + dt.timedelta(self.rng.randint(30, 120)), reentry=False)
            elif reason not in ("lost_contact", "support_refused") and p.age(nxt) >= 18 \
                    and self.chance(0.25):
                self.seg_a5(p, nxt)
        return e

