"""Demo data: realistic synthetic pathways for the six Pas-de-Calais actions (2022-2024).

Everything is written through the real services, so demo data obeys every rule the API
enforces (eligibility, event dates, intervals, voids). A pure plan is drawn first from
``random.Random(seed)`` and then replayed in recording-time order: the same seed gives
the same pathways, and ids grow with ``recorded_at`` as they would in production.

Names are fake on purpose: common first and last names combined at random, with random
birth dates. They are never printed; the summary holds counts only.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import tomllib
import unicodedata
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.actors import SYSTEM, Actor, Role
from cohort.clock import PARIS
from cohort.config import PROJECT_ROOT
from cohort.domain import eligibility
from cohort.domain.calendar import add_months, age_in_years, end_of_month
from cohort.domain.enums import EventType
from cohort.domain.event_types import kind_of
from cohort.errors import CohortError, Conflict, NotFound, Rejected
from cohort.identity.keyring import Keyring
from cohort.identity.normalise import identity_key
from cohort.models import (
    Action,
    Enrolment,
    Event,
    InstanceMeta,
    Operation,
    Participant,
    Programme,
    Structure,
)
from cohort.schemas.event_attributes import load_attributes
from cohort.services import enrolments, events, participants, structures

PROGRAMME_CODE = "erbm-2023"
PROGRAMME_FILE = PROJECT_ROOT / "config" / "programmes" / "erbm-2023.toml"
ACTIONS = ("62-A1", "62-A2", "62-A3", "62-A4", "62-A5", "62-A6")
DEFAULT_TODAY = dt.date(2024, 12, 31)
WINDOW_START = dt.date(2022, 1, 3)  # first enrolments of the demo
EARLIEST_TODAY = dt.date(2022, 4, 1)  # leaves room for three months of pathways
MIN_PARTICIPANTS, MAX_PARTICIPANTS = 12, 5000
STRUCTURES_CREATED_AT = dt.datetime(2021, 6, 1, 7, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


class DatabaseNotEmpty(Conflict):
    """Demo data goes into an empty database only, so it never mixes with real records."""

    code = "not_empty"


class DemoError(CohortError):
    """The generator broke one of its own invariants (a bug, never user input)."""

    status = 500
    code = "demo"


# ---------------------------------------------------------------------------------------
# The territory: structures, EPCIs, communes
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StructureSpec:
    key: str
    name: str
    kind: str


STRUCTURES = (
    StructureSpec("ml_lens", "Mission Locale de Lens-Liévin", "mission_locale"),
    StructureSpec("ml_artois", "Mission Locale de l'Artois", "mission_locale"),
    StructureSpec("plie", "PLIE de Lens-Hénin-Carvin", "plie"),
    StructureSpec("mde", "Maison de l'Emploi de l'Artois", "mde"),
    StructureSpec("cllaj", "CLLAJ de Lens", "cllaj"),
    StructureSpec("bailleur_lens", "Bailleur social du Lensois", "bailleur"),
    StructureSpec("bailleur_artois", "Bailleur social de l'Artois", "bailleur"),
    StructureSpec("creche_lievin", "Crèche AVIP de Liévin", "creche"),
    StructureSpec("creche_henin", "Crèche AVIP d'Hénin-Beaumont", "creche"),
    StructureSpec("creche_bruay", "Crèche AVIP de Bruay-la-Buissière", "creche"),
    StructureSpec("aci", "Atelier chantier d'insertion de l'Artois", "siae"),
    StructureSpec("mds", "Maison du Département Solidarité de Lens", "mds"),
)

# The three EPCIs (SIREN) of the Pas-de-Calais sheets' territory, with demo weights.
EPCI = {"lens": "246200364", "henin": "246200299", "artois": "200072460"}
AREA_WEIGHTS = {"lens": 45, "henin": 22, "artois": 33}
COMMUNES = {
    "lens": ("Lens", "Liévin", "Avion", "Méricourt", "Harnes", "Sallaumines", "Grenay",
             "Bully-les-Mines", "Loos-en-Gohelle"),
    "henin": ("Hénin-Beaumont", "Carvin", "Courrières", "Montigny-en-Gohelle", "Oignies",
              "Rouvroy"),
    "artois": ("Bruay-la-Buissière", "Auchel", "Marles-les-Mines", "Nœux-les-Mines",
               "Houdain", "Divion", "Barlin"),
}

# Small lists of common names, combined at random: the people they make up are fake.
FIRST_NAMES = {
    "F": ("Léa", "Manon", "Clémence", "Chloé", "Ophélie", "Jade", "Sarah", "Océane", "Maëva",
          "Mélissa", "Justine", "Pauline", "Morgane", "Amandine", "Aurélie", "Sandrine",
          "Nathalie", "Stéphanie", "Ludivine", "Karine", "Virginie", "Élodie", "Jessica",
          "Audrey", "Maëlys", "Lætitia", "Noémie", "Yasmine", "Sabrina", "Zoé", "Émeline",
          "Anne-Sophie", "Marie-Laure", "Cindy", "Mégane", "Coralie", "Émilie", "Lucie"),
    "M": ("Valentin", "Enzo", "Hugo", "Mathéo", "Nathan", "Mathis", "Dylan", "Kévin", "Jordan",
          "Florian", "Romain", "Maxime", "Quentin", "Jérémy", "Anthony", "Mickaël",
          "Sébastien", "Frédéric", "Christophe", "Ludovic", "Grégory", "Yannick", "Rayan",
          "Yanis", "Sofiane", "Karim", "Samir", "Kylian", "Baptiste", "Corentin", "Killian",
          "Loïc", "Gaëtan", "Benoît", "Jérôme", "Jean-Baptiste", "Pierre-Louis",
          "Jean-Philippe", "Steven", "Bryan"),
}
LAST_NAMES = (
    "Lefebvre", "Lecomte", "Lemaire", "Duflos", "Delattre", "Leclercq", "Carpentier",
    "Vasseur", "Duhamel", "Deschamps", "Lecœur", "Wozniak", "Kowalski", "Nowak",
    "Lewandowski", "Szymanski", "Mazur", "Delcourt", "Dhainaut", "Bouchez", "Fontaine",
    "Lemoine", "Hennebelle", "Deroo", "Vandamme", "Benali", "Haddad", "Boulanger", "Leroy",
    "Lebrun", "Delannoy", "Duquesne", "Dumortier", "Dubrulle", "Pruvost", "Lamotte",
    "Cuvelier", "Delplanque", "Hochart", "Demarcq", "Mériaux", "Crépin", "Bécourt",
    "Lévêque", "Dufossé", "Brassart", "Pétillon", "Gruson", "Cattiaux", "Wasilewski",
)

# Spread of the primary action (62-A2 is the big one: 180 participants a year targeted).
SHARES = {"62-A2": 32, "62-A6": 22, "62-A4": 12, "62-A5": 12, "62-A1": 11, "62-A3": 11}

BREAK_REASONS = (
    "Absences répétées aux rendez-vous",
    "Jeune injoignable depuis plusieurs semaines",
    "Refus temporaire de l'accompagnement",
    "Hospitalisation",
    "Départ temporaire hors du territoire",
)
CONTRACT_MONTHS = {
    "cdd": (3, 12), "temporary_agency": (1, 4), "subsidised": (6, 12), "siae": (4, 12),
    "apprenticeship": (12, 24),
}
OPEN_ENDED = ("cdi", "business_creation")


# ---------------------------------------------------------------------------------------
# The plan: what will be recorded, when, by whom (pure data, no database)
# ---------------------------------------------------------------------------------------

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


Item = CreateOperation | Register | Enrol | EndEnrolment | Record | Void


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
    )


@dataclass(frozen=True)
class DemoPlan:
    seed: int
    participants: int
    today: dt.date
    steps: tuple[Step, ...]  # in recording order

    def expected(self) -> DemoSummary:
        return summarise(s.item for s in self.steps)


@dataclass
class _Op:
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
class _Enr:
    key: int
    action: str
    structure: str
    start: dt.date
    step: Step
    until: dt.date | None  # planned last day of support (None: not decided yet or open)
    end_step: Step | None = None
    ended: bool = False


@dataclass
class _Open:
    family: str
    type: str
    start: Step
    start_date: dt.date
    planned_end: dt.date | None
    end_attrs: dict[str, Any]
    enrolment: _Enr | None  # set for the types that must name their enrolment
    attrs: dict[str, Any]
    closed: bool = False

    def open_at(self, day: dt.date) -> bool:
        return self.start_date <= day and (self.planned_end is None or day < self.planned_end)


_END_OF = {
    "housing_entry": "housing_exit", "training_start": "training_end",
    "employment_start": "employment_end", "school_enrolment": "school_exit",
    "scheme_entry": "scheme_exit", "resource_start": "resource_end",
    "support_break": "support_resumed", "childcare_start": "childcare_end",
}


class _Person:
    """One person's pathway: each step is recorded after the steps it depends on."""

    def __init__(self, plan: _Planner, key: int, identity: dict[str, Any], area: str):
        self.plan = plan
        self.key = key
        self.identity = identity
        self.birth: dt.date = identity["birth_date"]
        self.area = area
        self.regs: dict[str, Step] = {}
        self.enrolments: list[_Enr] = []
        self.opened: list[_Open] = []

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
              ) -> _Enr | None:
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
        enrolment = _Enr(key, action, structure, start, step, until)
        self.enrolments.append(enrolment)
        self.plan.enrols[key] = enrolment
        return enrolment

    def finish(self, e: _Enr, reason: str) -> None:
        """End the enrolment on its planned last day, if that day has come."""
        if e.until is None or e.until > self.plan.today:
            return
        e.end_step = self.plan.add(EndEnrolment(e.key, e.structure, e.until, reason),
                                   self.plan.recorded(e.until, (0, 12)), [e.step])
        e.ended = True

    # -- events -------------------------------------------------------------------------

    def event(self, type_: str, day: dt.date, ctx: _Enr, *, operation: _Op | None = None,
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
            date=day, enrolment=ctx.key,  # unlinked by _Planner.build when outside ctx
            operation=operation.key if operation else None,
            closes=closes.item.id if closes is not None and isinstance(closes.item, Record)
            else None,
            attributes=attrs or {},
        )
        return self.plan.add(record, self.plan.recorded(day, lag), [ctx.step, closes, *after])

    def point(self, type_: str, day: dt.date, ctx: _Enr, *, duplicate: float = 0.0,
              **kwargs: Any) -> Step | None:
        """A point event; now and then typed twice, the copy voided as a duplicate."""
        step = self.event(type_, day, ctx, **kwargs)
        if step is not None and isinstance(step.item, Record) \
                and self.plan.chance(duplicate) and self.plan.settled(day):
            copy = replace(step.item, id=self.plan.uuid())
            dup = self.plan.add(copy, step.at + dt.timedelta(minutes=2), [step])
            self.plan.void(dup, "Saisie en double", day, (3, 25))
        return step

    def open(self, type_: str, day: dt.date, ctx: _Enr, *, until: dt.date | None,
             attrs: dict[str, Any], end_attrs: dict[str, Any] | None = None,
             operation: _Op | None = None, lag: tuple[int, int] = (0, 10),
             mistake: dict[str, Any] | None = None) -> _Open | None:
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
        opened = _Open(family.value, type_, step, day, until, end_attrs or {},
                       ctx if kind_of(type_).needs_enrolment else None, attrs)
        self.opened.append(opened)
        return opened

    def open_at(self, family: str, day: dt.date) -> _Open | None:
        found = [o for o in self.opened if o.family == family and o.open_at(day)]
        return max(found, key=lambda o: (o.start_date, o.start.seq)) if found else None

    def has_resource(self, resource: str, day: dt.date) -> bool:
        return any(o.family == "resource" and o.attrs.get("resource") == resource
                   and o.open_at(day) for o in self.opened)

    def settle(self, limit: dt.date, ctx: _Enr) -> None:
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
            owner = o.enrolment or ctx
            after: list[Step | None] = []
            if o.type in ("training_start", "employment_start", "housing_entry") \
                    and self.plan.chance(0.04) and self.plan.settled(end):
                wrong_day = end + dt.timedelta(self.plan.rng.choice((-9, -4, 3, 7, 12)))
                if o.start_date < wrong_day <= self.plan.today:
                    wrong = self.event(_END_OF[o.type], wrong_day, owner, closes=o.start,
                                       attrs=o.end_attrs)
                    if wrong is not None:
                        after.append(self.plan.void(
                            wrong, "Date erronée : événement ressaisi à la bonne date",
                            wrong_day, (2, 15)))
            self.event(_END_OF[o.type], end, owner, closes=o.start, attrs=o.end_attrs,
                       after=after)
            o.closed = True


class _Planner:
    """Draws the whole demo from one seeded generator."""

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
        self.ops: list[_Op] = []
        self.enrols: dict[int, _Enr] = {}
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

    def person(self, key: int, *, sex: str, age: int, on: dt.date, ase: bool) -> _Person:
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
        return _Person(self, key, identity, area)

    def variant(self, identity: dict[str, Any]) -> dict[str, Any]:
        """The same person typed differently (case, accents, hyphens, spaces, ligatures)."""
        def spell(name: str) -> str:
            how = self.rng.choice(("upper", "lower", "plain", "hyphens", "spaces"))
            if how == "upper":
                return _strip_accents(name).upper()
            if how == "lower":
                return name.lower()
            if how == "plain":
                return _strip_accents(name).replace("æ", "ae").replace("œ", "oe")
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
            self.ops.append(_Op(key, action, kind, role, label, structure, area, start, end))

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

    def op_for(self, role: str, day: dt.date, area: str | None, margin: int = 0) -> _Op | None:
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

    # -- the whole plan -----------------------------------------------------------------

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
        self.link_within_enrolments()
        ordered = tuple(sorted(self.steps, key=lambda s: (s.at, s.seq)))
        end_of_today = dt.datetime.combine(self.today + DAY, dt.time(), tzinfo=PARIS)
        if any(s.at >= end_of_today for s in ordered):
            raise DemoError("a step would be recorded after today")
        return DemoPlan(seed=self.seed, participants=self.size, today=self.today, steps=ordered)

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

    # -- shared pathway pieces ----------------------------------------------------------

    def job(self, p: _Person, day: dt.date, ctx: _Enr, contract: str, *,
            operation: _Op | None = None, hours: int = 35, cap: dt.date | None = None
            ) -> _Open | None:
        months = None if contract in OPEN_ENDED else self.rng.randint(*CONTRACT_MONTHS[contract])
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

    def any_job(self, p: _Person, day: dt.date, ctx: _Enr, *, young: bool = False
                ) -> _Open | None:
        weights = {"cdd": 35, "temporary_agency": 22, "cdi": 14, "subsidised": 12, "siae": 10,
                   "business_creation": 1}
        if young:
            weights["apprenticeship"] = 25
        return self.job(p, day, ctx, self.pick(weights), hours=self.pick({35: 70, 24: 20, 20: 10}))

    def training(self, p: _Person, day: dt.date, ctx: _Enr, *, qualifying: bool,
                 months: tuple[int, int], operation: _Op | None = None) -> _Open | None:
        completed = self.chance(0.8)
        end_attrs = {"completed": completed, "certified": completed and qualifying
                     and self.chance(0.75)}
        until = add_months(day, self.rng.randint(*months))
        if not completed:
            until = day + dt.timedelta(self.rng.randint(20, max(21, (until - day).days - 10)))
        return p.open("training_start", day, ctx, until=until, attrs={"qualifying": qualifying},
                      end_attrs=end_attrs, operation=operation)

    def resource(self, p: _Person, resource: str, day: dt.date, ctx: _Enr,
                 months: tuple[int, int] | None) -> _Open | None:
        if p.has_resource(resource, day):
            return None
        until = add_months(day, self.rng.randint(*months)) if months else None
        return p.open("resource_start", day, ctx, until=until, attrs={"resource": resource})

    def housing(self, p: _Person, day: dt.date, ctx: _Enr, housing_type: str, *,
                via_programme: bool = False, operation: _Op | None = None,
                until: dt.date | None = None, reason: str | None = None) -> _Open | None:
        return p.open("housing_entry", day, ctx, until=until,
                      attrs={"housing_type": housing_type, "via_programme": via_programme},
                      end_attrs={"reason": reason} if reason else None, operation=operation)

    def entry_housing(self, p: _Person, e: _Enr, weights: Mapping[str, float]) -> None:
        """The housing situation noted at entry, dated up to ten months back."""
        if p.open_at("housing", e.start) is None:
            day = e.start - dt.timedelta(self.rng.randint(1, 300))
            self.housing(p, max(day, add_months(p.enrolments[0].start, -11)), e,
                         self.pick(weights))

    def mobility(self, p: _Person, e: _Enr, chance: float, within: tuple[int, int]) -> None:
        if self.chance(chance):
            day = e.start + dt.timedelta(self.rng.randint(*within))
            if e.until is None or day <= e.until:
                p.point("mobility_assessment", day, e, duplicate=0.02,
                        attrs={"level": self.pick({1: 20, 2: 35, 3: 30, 4: 15})})

    def support_break(self, p: _Person, e: _Enr, chance: float, resume: float, *,
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

    def contacts(self, p: _Person, e: _Enr, every: tuple[int, int],
                 modes: Mapping[str, float], pause: tuple[dt.date, dt.date | None] | None
                 ) -> None:
        day = e.start + dt.timedelta(self.rng.randint(2, 10))
        stop = min(e.until or self.today, self.today)
        while day <= stop:
            if not _paused(day, pause):
                p.point("contact", day, e, attrs={"mode": self.pick(modes)}, lag=(0, 4),
                        duplicate=0.004)
            day += dt.timedelta(self.rng.randint(*every))

    def weekly_visits(self, p: _Person, e: _Enr, reinforced: bool,
                      pause: tuple[dt.date, dt.date | None] | None) -> None:
        """62-A4: a home visit a week; reinforced measures three contacts a week."""
        week = e.start + dt.timedelta(self.rng.randint(1, 4))
        stop = min(e.until or self.today, self.today)
        while week <= stop:
            if not _paused(week, pause) and not self.chance(0.07):
                days = sorted(self.rng.sample(range(5), 3 if reinforced else 1))
                modes = ["home_visit", "meeting", self.pick({"meeting": 50, "phone": 50})]
                for offset, mode in zip(days, modes, strict=False):
                    day = week + dt.timedelta(offset)
                    if day <= stop and not _paused(day, pause):
                        p.point("contact", day, e, attrs={"mode": mode}, lag=(0, 4),
                                duplicate=0.002)
            week += dt.timedelta(7)

    def exit_reason(self, p: _Person, e: _Enr, *, forced: str | None = None,
                    housed: _Open | None = None, age_limit: bool = False) -> str:
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

    def cross_start(self, e: _Enr) -> dt.date | None:
        if not e.ended or e.until is None:
            return None
        day = e.until + dt.timedelta(self.rng.randint(10, 120))
        return day if day <= self.today - dt.timedelta(20) else None

    # -- 62-A6 Pack Inclusion: ASE youths 16-21 ----------------------------------------

    def a6(self, key: int) -> None:
        start = self.start_date()
        age = 17 if self.show else self.pick({16: 30, 17: 25, 18: 18, 19: 12, 20: 9, 21: 6})
        p = self.person(key, sex=self.pick({"M": 55, "F": 45}), age=age, on=start, ase=True)
        if self.sure(0.35):  # the ASE referent registers the youth before orienting them
            p.register("mds", self.moment(start - dt.timedelta(self.rng.randint(7, 40))))
        self.seg_a6(p, start)

    def seg_a6(self, p: _Person, start: dt.date) -> None:
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

    def seg_a5(self, p: _Person, start: dt.date) -> _Enr | None:
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

    def seg_a4(self, p: _Person, start: dt.date, *, reentry: bool,
               intensity: str | None = None) -> _Enr | None:
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

    def seg_a3(self, p: _Person, start: dt.date, rsa: bool, child: dt.date) -> None:
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

    def adult_or_young(self, key: int, start: dt.date) -> tuple[_Person, bool]:
        young = self.chance(0.35)
        age = self.rng.randint(18, 25) if young else self.rng.randint(26, 58)
        ase = young and self.chance(0.2)  # « prioritairement jeunes issus de l'ASE »
        p = self.person(key, sex=self.pick({"M": 68, "F": 32}), age=age, on=start, ase=ase)
        return p, (not young) or self.chance(0.15)

    def a1(self, key: int) -> None:
        start = self.start_date()
        p, rsa = self.adult_or_young(key, start)
        self.seg_a1(p, start, rsa)

    def seg_a1(self, p: _Person, start: dt.date, rsa: bool) -> None:
        structure = "mde" if p.area == "artois" else "plie"
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

    def seg_a2(self, p: _Person, start: dt.date, rsa: bool, *, required: bool = False) -> None:
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

    def clause_hours(self, p: _Person, e: _Enr, job: _Open, site: _Op, hours: int) -> None:
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


def _paused(day: dt.date, pause: tuple[dt.date, dt.date | None] | None) -> bool:
    return pause is not None and pause[0] <= day and (pause[1] is None or day < pause[1])


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


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


def default_rules() -> dict[str, list[dict[str, Any]]]:
    """The six actions' eligibility, read from the programme file (no database needed)."""
    with PROGRAMME_FILE.open("rb") as f:
        parsed = tomllib.load(f)
    return {a["code"]: a["eligibility"] for a in parsed["actions"] if a["code"] in ACTIONS}


def plan(*, seed: int = 2023, participants: int = 300, today: dt.date = DEFAULT_TODAY,
         rules: Mapping[str, Sequence[Mapping[str, Any]]] | None = None) -> DemoPlan:
    """The demo as pure data: the same arguments always give the same plan."""
    if not MIN_PARTICIPANTS <= participants <= MAX_PARTICIPANTS:
        raise Rejected("participants", f"must be between {MIN_PARTICIPANTS} and "
                                       f"{MAX_PARTICIPANTS}")
    if today < EARLIEST_TODAY:
        raise Rejected("today", f"must be on or after {EARLIEST_TODAY.isoformat()}")
    return _Planner(seed, participants, today, rules or default_rules()).build()


# ---------------------------------------------------------------------------------------
# Writing the plan through the services
# ---------------------------------------------------------------------------------------

@dataclass
class _Writer:
    session: Session
    keyring: Keyring
    actions: dict[str, Action]
    structures: dict[str, Structure] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)
    participants: dict[int, Participant] = field(default_factory=dict)
    enrolments: dict[int, Enrolment] = field(default_factory=dict)
    events: dict[uuid.UUID, Event] = field(default_factory=dict)
    done: list[Item] = field(default_factory=list)

    def actor(self, structure: str) -> Actor:
        return Actor(role=Role.COORDINATOR, structure_id=self.structures[structure].id,
                     departement="62")

    def create_structures(self) -> None:
        for spec in STRUCTURES:
            existing = self.session.execute(
                sa.select(Structure).where(Structure.name == spec.name,
                                           Structure.departement == "62")
            ).scalar_one_or_none()
            if existing is None:
                existing = structures.create_structure(
                    self.session, SYSTEM,
                    {"name": spec.name, "kind": spec.kind, "departement": "62"})
                existing.created_at = STRUCTURES_CREATED_AT
            self.structures[spec.key] = existing

    def write(self, step: Step) -> None:
        item, now = step.item, step.at
        today = now.astimezone(PARIS).date()
        if isinstance(item, CreateOperation):
            self.create_operation(item, now)
        elif isinstance(item, Register):
            self.register(item, today, now)
        elif isinstance(item, Enrol):
            self.enrolments[item.key] = enrolments.enrol(
                self.session, self.keyring, self.actor(item.structure),
                {"participant_id": self.participants[item.person].uuid,
                 "action_id": self.actions[item.action].uuid,
                 "structure_id": self.structures[item.structure].uuid,
                 "start_date": item.start, "rsa_at_entry": item.rsa_at_entry,
                 "parent_child_0_3": item.parent_child_0_3, "intensity": item.intensity},
                today=today, now=now)
        elif isinstance(item, EndEnrolment):
            enrolments.end(self.session, self.actor(item.structure),
                           self.enrolments[item.enrolment],
                           {"end_date": item.end, "exit_reason": item.reason},
                           today=today, now=now)
        elif isinstance(item, Record):
            self.record(item, today, now)
        else:
            events.void(self.session, self.actor(item.structure), self.events[item.event],
                        item.reason, now=now)
        self.done.append(item)

    def create_operation(self, item: CreateOperation, now: dt.datetime) -> None:
        operation = structures.create_operation(self.session, SYSTEM, {
            "action_id": self.actions[item.action].uuid,
            "structure_id": self.structures[item.structure].uuid if item.structure else None,
            "kind": item.kind, "label": item.label, "start_date": item.start,
            "end_date": item.end, "planned_hours": item.planned_hours,
        })
        operation.created_at = now
        self.operations[item.key] = operation

    def register(self, item: Register, today: dt.date, now: dt.datetime) -> None:
        result = participants.register(self.session, self.keyring, self.actor(item.structure),
                                       item.identity, today=today)
        if item.creates:
            if not result.created:
                raise DemoError("a new demo person matched an existing participant")
            result.participant.created_at = now
            self.participants[item.person] = result.participant
        elif result.created or result.participant.id != self.participants[item.person].id:
            raise DemoError("a repeat registration did not find the same participant")

    def record(self, item: Record, today: dt.date, now: dt.datetime) -> None:
        event_type = EventType(item.type)
        data = {
            "id": item.id, "participant_id": self.participants[item.person].uuid,
            "type": item.type, "date": item.date,
            "enrolment_id": self.enrolments[item.enrolment].uuid if item.enrolment else None,
            "operation_id": self.operations[item.operation].uuid if item.operation else None,
            "closes": item.closes,
            # The API's own attribute schema: demo attributes are what a client could send.
            "attributes": load_attributes(event_type, item.attributes),
        }
        result = events.record(self.session, self.keyring, self.actor(item.structure), data,
                               today=today, now=now)
        if not result.created:
            raise DemoError("a demo event id was reused")
        self.events[item.id] = result.event


def _six_actions(session: Session) -> dict[str, Action]:
    rows = session.execute(
        sa.select(Action).join(Programme).where(Programme.code == PROGRAMME_CODE,
                                                Action.code.in_(ACTIONS))
    ).scalars().all()
    found = {a.code: a for a in rows}
    if set(found) != set(ACTIONS):
        raise NotFound(f"programme {PROGRAMME_CODE} is not loaded: load its file first",
                       errors={"programme": [f"{PROGRAMME_CODE} not loaded"]})
    return found


def ensure_empty(session: Session) -> None:
    """Refuse a database that already holds participants (real or demo)."""
    if session.execute(sa.select(sa.func.count()).select_from(Participant)).scalar_one():
        raise DatabaseNotEmpty(
            "the database already has participants: demo data goes into an empty database",
            errors={"database": ["already has participants"]},
        )


def generate(session: Session, keyring: Keyring, *, seed: int = 2023, participants: int = 300,
             today: dt.date = DEFAULT_TODAY) -> DemoSummary:
    """Write the demo through the services in the caller's transaction (never commits)."""
    ensure_empty(session)
    actions = _six_actions(session)
    demo = plan(seed=seed, participants=participants, today=today,
                rules={code: a.eligibility for code, a in actions.items()})
    session.merge(InstanceMeta(key="demo", value="true"))
    session.flush()
    writer = _Writer(session, keyring, actions)
    writer.create_structures()
    for step in demo.steps:
        writer.write(step)
    session.flush()
    return summarise(writer.done)
