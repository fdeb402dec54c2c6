"""The planner's machinery: one seeded generator, recording times, people, operations.

Everything random is drawn from ``random.Random(seed)`` in a fixed order, so the same
seed and the same today give the same plan.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import uuid
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from cohort.clock import PARIS
from cohort.demo.items import CreateOperation, DemoError, Item, Record, Step, Void
from cohort.demo.people import Enr, Op, Person, strip_accents
from cohort.demo.territory import (
    AREA_WEIGHTS,
    COMMUNES,
    DAY,
    EPCI,
    FIRST_NAMES,
    LAST_NAMES,
    WINDOW_START,
)
from cohort.domain.calendar import add_months, age_in_years
from cohort.identity.normalise import identity_key


class PlannerBase:
    """The generator, the growing list of steps, the people and the operations drawn."""

    def __init__(self, seed: int, size: int, today: dt.date,
                 rules: Mapping[str, Sequence[Mapping[str, Any]]]):
        self.seed = seed
        self.rng = random.Random(seed)
        self.size = size
        self.today = today
        self.rules = rules
        self.steps: list[Step] = []
        self.enrolment_keys = itertools.count(1)
        self._seq = itertools.count()
        self._identities: set[str] = set()
        self.last_start = today - dt.timedelta(45)
        self.ops: list[Op] = []
        self.enrols: dict[int, Enr] = {}
        self.show = False  # drawing the first person of an action: every feature happens
        self._shown: set[str] = set()
        self._a4_youths = 0

    # -- randomness ---------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def sure(self, p: float) -> bool:
        """A chance that always comes true for an action's showcase (first) person.

        So even a small demo shows each action's features: breaks and resumptions,
        the link person, housing exits, voids, repeat registrations.
        """
        return self.show or self.chance(p)

    def pick(self, weights: Mapping[Any, float]) -> Any:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def between(self, lo: dt.date, hi: dt.date) -> dt.date:
        return lo + dt.timedelta(self.rng.randint(0, max(0, (hi - lo).days)))

    def uuid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    # -- time ---------------------------------------------------------------------------

    def moment(self, day: dt.date) -> dt.datetime:
        """A time during office hours in France on `day`, as aware UTC."""
        minutes = self.rng.randint(8 * 60 + 30, 17 * 60 + 30)
        local = dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60), tzinfo=PARIS)
        return local.astimezone(dt.UTC)

    def recorded(self, day: dt.date, lag: tuple[int, int]) -> dt.datetime:
        """When a coordinator types in what happened on `day` (a few days later)."""
        return self.moment(min(day + dt.timedelta(self.rng.randint(*lag)), self.today))

    def settled(self, day: dt.date) -> bool:
        """Far enough from today for a mistake to be noticed and corrected."""
        return day + dt.timedelta(45) <= self.today

    def add(self, item: Item, natural: dt.datetime, after: Iterable[Step | None]) -> Step:
        at = natural
        for dep in after:
            if dep is not None and at <= dep.at:
                at = dep.at + dt.timedelta(minutes=self.rng.randint(1, 3))
        step = Step(at, next(self._seq), item)
        self.steps.append(step)
        return step

    def void(self, target: Step, reason: str, day: dt.date, lag: tuple[int, int]) -> Step:
        if not isinstance(target.item, Record):
            raise DemoError("only events are voided")
        return self.add(Void(target.item.id, target.item.structure, reason),
                        self.recorded(day, lag), [target])

    # -- people -------------------------------------------------------------------------

    def birth_for(self, age: int, on: dt.date) -> dt.date:
        hi = add_months(on, -12 * age)
        lo = add_months(on, -12 * (age + 1)) + DAY
        birth = self.between(lo, hi)
        if age_in_years(birth, on) != age:
            raise DemoError("birth date drawn for the wrong age")
        return birth

    def person(self, key: int, *, sex: str, age: int, on: dt.date, ase: bool) -> Person:
        area = self.pick(AREA_WEIGHTS)
        birth = self.birth_for(age, on)
        while True:
            first = self.rng.choice(FIRST_NAMES[sex])
            last = self.rng.choice(LAST_NAMES)
            if self.chance(0.08):
                last = f"{last}-{self.rng.choice(LAST_NAMES)}"
            probe = identity_key(last, first, birth)
            if probe not in self._identities:
                self._identities.add(probe)
                break
        identity = {
            "last_name": last, "first_names": first, "birth_date": birth, "sex": sex,
            "home_departement": "62", "home_epci": EPCI[area], "ase_past": ase,
        }
        return Person(self, key, identity, area)

    def variant(self, identity: dict[str, Any]) -> dict[str, Any]:
        """The same person typed differently (case, accents, hyphens, spaces, ligatures)."""
        def spell(name: str) -> str:
            how = self.rng.choice(("upper", "lower", "plain", "hyphens", "spaces"))
            if how == "upper":
                return strip_accents(name).upper()
            if how == "lower":
                return name.lower()
            if how == "plain":
                return strip_accents(name).replace("æ", "ae").replace("œ", "oe")
            if how == "hyphens":
                return name.replace("-", " ") if "-" in name else name.replace(" ", "-").upper()
            return f" {name.replace('-', '  ')} "

        last, first = spell(identity["last_name"]), spell(identity["first_names"])
        if (last, first) == (identity["last_name"], identity["first_names"]):
            last = last.upper()
        same = identity_key(last, first, identity["birth_date"]) == identity_key(
            identity["last_name"], identity["first_names"], identity["birth_date"])
        if not same:
            raise DemoError("a spelling variant changed the identity")
        return {**identity, "last_name": last, "first_names": first}

    def start_date(self) -> dt.date:
        if self.show:  # early, so the whole pathway fits before today
            return self.between(WINDOW_START, min(WINDOW_START + dt.timedelta(150),
                                                  self.last_start))
        return self.between(WINDOW_START, self.last_start)

    # -- operations ---------------------------------------------------------------------

    def operation(self, action: str, kind: str, role: str, label: str, structure: str | None,
                  area: str | None, start: dt.date, end: dt.date | None) -> None:
        if start <= self.last_start:
            key = f"op{len(self.ops) + 1}"
            self.ops.append(Op(key, action, kind, role, label, structure, area, start, end))

    def build_operations(self) -> None:
        for year in range(2022, self.today.year + 1):
            commune = self.rng.choice(COMMUNES["artois"])
            self.operation(
                "62-A1", "insertion_operation", "prep",
                f"Sas préparatoire aux métiers du second œuvre du bâtiment {year}", "plie",
                None, dt.date(year, 1, 10), dt.date(year, 12, 16))
            self.operation(
                "62-A1", "insertion_operation", "prep",
                f"Évaluation des compétences et capacités, publics ERBM {year}", "mde",
                "artois", dt.date(year, 1, 17), dt.date(year, 12, 16))
            self.operation(
                "62-A1", "insertion_operation", "qualif",
                f"Qualification second œuvre et performance énergétique {year}", "mde", None,
                dt.date(year, 3, 6), dt.date(year, 12, 15))
            self.operation(
                "62-A1", "insertion_operation", "chantier",
                f"Chantier école rénovation de maisons minières, {commune} {year}", "aci",
                None, dt.date(year, 4, 3), dt.date(year, 11, 24))
        start = dt.date(2021, 10, 4)
        while start <= self.last_start:
            area = self.pick(AREA_WEIGHTS)
            commune = self.rng.choice(COMMUNES[area])
            self.operation(
                "62-A2", "clause_site", "site",
                f"Réhabilitation thermique de {self.rng.randrange(40, 320, 10)} logements "
                f"miniers, cité {self.rng.randint(2, 30)} ({commune})",
                "mde" if area == "artois" else "plie", area, start,
                add_months(start, self.rng.randint(10, 24)))
            start += dt.timedelta(self.rng.randint(75, 130))
        self.operation("62-A2", "clause_site", "site",
                       "Entretien approfondi des locaux des collèges du Lensois "
                       "(marché départemental)", "plie", "lens", dt.date(2022, 9, 1),
                       dt.date(2024, 7, 5))
        self.operation("62-A2", "clause_site", "site",
                       "Demi-pension des collèges de l'Artois, accroissement temporaire "
                       "d'activité (marché départemental)", "mde", "artois",
                       dt.date(2023, 1, 9), dt.date(2024, 7, 5))
        for structure, area, start, label in (
            ("creche_lievin", "lens", dt.date(2021, 9, 1),
             "Crèche AVIP de Liévin : places réservées aux parents en insertion"),
            ("creche_henin", "henin", dt.date(2022, 1, 3),
             "Crèche AVIP d'Hénin-Beaumont : places réservées aux parents en insertion"),
            ("creche_bruay", "artois", dt.date(2022, 9, 1),
             "Crèche AVIP de Bruay-la-Buissière : ouverture de places AVIP"),
            ("creche_henin", "henin", dt.date(2023, 9, 4),
             "Extension AVIP : micro-crèche de Carvin"),
        ):
            self.operation("62-A3", "creche_project", "creche", label, structure, area, start,
                           None)
        for structure, area, start, label in (
            ("bailleur_lens", "lens", dt.date(2021, 11, 2),
             "Convention de réservation : logements pré-équipés pour jeunes sortants de "
             "l'ASE (Lensois)"),
            ("bailleur_artois", "artois", dt.date(2022, 3, 1),
             "Convention de réservation : logements pré-équipés pour jeunes sortants de "
             "l'ASE (Artois)"),
            ("cllaj", "henin", dt.date(2023, 2, 1),
             "Convention bail glissant : sous-location accompagnée (Hénin-Carvin)"),
        ):
            self.operation("62-A5", "housing_partner", "partner", label, structure, area,
                           start, None)

    def op_for(self, role: str, day: dt.date, area: str | None, margin: int = 0) -> Op | None:
        found = [o for o in self.ops if o.role == role and o.active(day, margin)]
        local = [o for o in found if o.area in (area, None)]
        pool = local or found
        return self.rng.choice(pool) if pool else None

    def finish_operations(self) -> None:
        for op in self.ops:
            planned = None
            if op.kind == "clause_site":
                hours = op.hours * self.rng.uniform(1.0, 1.3) + self.rng.randint(200, 900)
                planned = Decimal(int(hours / 50) * 50)
            item = CreateOperation(op.key, op.action, op.kind, op.label, op.structure,
                                   op.start, op.end, planned)
            self.add(item, self.moment(op.start - dt.timedelta(self.rng.randint(10, 40))), ())

