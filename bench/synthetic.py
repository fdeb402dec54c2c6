"""Synthetic data for the benchmarks (bench/import.py, bench/indicators.py): CSV files in
the import formats, a prepared database, and the import run in a process of its own.

Two shapes of enrolments:
- ``write_enrolments``: one enrolment per person in 62-A1 started in 2023 (the import
  benchmark's data, unchanged);
- ``write_spread_enrolments``: the six Pas-de-Calais actions 62-A1…62-A6, started over
  2022–2024, each person eligible by the programme file's rules (age at entry, ASE past,
  RSA, parent of a child under 3), half of them ended, and a second enrolment (in 62-A1)
  for some; with ``spread_extras`` the events file then also holds what those actions
  count (childcare on 62-A3 enrolments, clause hours on 62-A2 operations, link person
  chosen by 62-A6 youths around their 18th birthday).
Events are written in date order across participants (an export sorted by date), with
pathways whose every end closes a start, so all the API's rules pass.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import subprocess
import sys
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

PROGRAMME = ROOT / "config" / "programmes" / "erbm-2023.toml"
PROGRAMME_CODE = "erbm-2023"
IMPORT_SCRIPT = ROOT / "bench" / "import.py"
TODAY = dt.date(2025, 12, 31)  # events are dated up to here; the real clock is later
SYLLABLES = ["ba", "lo", "mi", "ran", "te", "vin", "cor", "du", "pel", "sa", "ni", "que"]

_PAIRS = [  # (start type, start attributes, end type, end attributes, weight)
    ("housing_entry", {"housing_type": "social_rental"}, "housing_exit",
     {"reason": "moved_by_choice"}, 3),
    ("housing_entry", {"housing_type": "youth_residence", "via_programme": "oui"},
     "housing_exit", {"reason": "other"}, 2),
    ("training_start", {"qualifying": "true"}, "training_end",
     {"completed": "true", "certified": "false"}, 3),
    ("employment_start", {"contract": "cdd", "planned_months": "6",
                          "hours_per_week": "35"}, "employment_end", {}, 2),
    ("employment_start", {"contract": "cdi"}, "employment_end", {}, 1),
    ("resource_start", {"resource": "rsa"}, "resource_end", {}, 2),
    ("scheme_entry", {"scheme": "cej"}, "scheme_exit", {}, 2),
    ("support_break", {"reason": "absent"}, "support_resumed", {}, 1),
]
_POINTS = [
    ("contact", {"mode": "phone"}, 5),
    ("contact", {"mode": "home_visit"}, 2),
    ("mobility_assessment", {"level": "3"}, 1),
]
# Attributes of the events only the spread data has (childcare, clause hours).
_EXTRA_ATTRIBUTES = ("child_birth_month", "hours")


class Person(NamedTuple):
    last: str
    first: str
    birth: str  # ISO date
    ase_past: bool


class Extra(NamedTuple):
    """An event of one person besides their pathway."""

    day: dt.date
    rank: int  # 0 for a start, 1 otherwise: starts come first on a day
    type: str
    attributes: dict[str, str]
    enrolment: str = ""  # uuid of the enrolment it names
    operation: str = ""  # uuid of the operation it names


def _name(rng: random.Random, i: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize() + f"-{i}"


def write_participants(path: Path, n: int, rng: random.Random, *,
                       born_from: dt.date = dt.date(1999, 1, 1),
                       born_days: int = 6 * 365, ase_share: float = 0.5) -> list[Person]:
    people = []
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, delimiter=";")
        out.writerow(["last_name", "first_names", "birth_date", "sex", "phone", "email",
                      "home_departement", "home_epci", "ase_past"])
        for i in range(n):
            last, first = _name(rng, i), _name(rng, i + 7)
            birth = born_from + dt.timedelta(days=rng.randrange(born_days))
            sex, phone = rng.choice("FMU"), f"06{rng.randrange(10**8):08d}"
            ase = rng.choice(["oui", "non"]) if ase_share == 0.5 else (
                "oui" if rng.random() < ase_share else "non")
            people.append(Person(last, first, birth.isoformat(), ase == "oui"))
            out.writerow([last, first, birth.isoformat(), sex, phone, f"p{i}@example.org",
                          "62", "200033318", ase])
    return people


_ENROLMENT_HEADER = ["last_name", "first_names", "birth_date", "action_code", "structure_id",
                     "start_date", "rsa_at_entry", "end_date", "exit_reason"]


class Window(NamedTuple):
    """A person's enrolment that their support breaks name: a break must fall inside it."""

    start: dt.date
    end: dt.date | None


def write_enrolments(path: Path, people: Sequence[Person], structure: str,
                     rng: random.Random) -> list[Window]:
    """One enrolment per person in 62-A1 (RSA or under 26: every synthetic person is)."""
    starts = []
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(_ENROLMENT_HEADER)
        for last, first, birth, _ase in people:
            start = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(365))
            ended = rng.random() < 0.3
            starts.append(Window(start, start + dt.timedelta(days=200) if ended else None))
            out.writerow([last, first, birth, "62-A1", structure, start.isoformat(),
                          rng.choice(["true", "false"]),
                          (start + dt.timedelta(days=200)).isoformat() if ended else "",
                          "end_of_support" if ended else ""])
    return starts


class Enrolled(NamedTuple):
    person: int  # index in the participants file
    action: str
    start: dt.date
    end: dt.date | None


# 62-A1…62-A6 and their weights among first enrolments.
SPREAD_ACTIONS = {"62-A1": 30, "62-A2": 25, "62-A3": 10, "62-A4": 10, "62-A5": 10, "62-A6": 15}


class Shape(NamedTuple):
    """Who the bench's people are: birth years, share with an ASE past, the actions they
    enter, and the share of 62-A6 youths who choose a link person."""

    born_from: dt.date
    born_days: int
    ase_share: float
    actions: Mapping[str, int]
    link_share: float


SHAPES = {
    # Adults and young people across the six actions (the figures in docs/performance.md).
    "spread": Shape(dt.date(1996, 1, 1), 11 * 365, 0.5, SPREAD_ACTIONS, 0.7),
    # Care leavers around 18, most of them in 62-A6 with a link person (issue 23's shape:
    # a per-person look-up of link persons that walks an index costs people × links).
    "ase-youth": Shape(dt.date(2003, 1, 1), 5 * 365, 0.9,
                       {"62-A1": 10, "62-A4": 15, "62-A5": 20, "62-A6": 55}, 0.9),
}
_EXIT_REASONS = ["end_of_support", "employment", "training", "housing_obtained", "lost_contact",
                 "moved_away"]


def _age(birth: dt.date, on: dt.date) -> int:
    return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day))


def _eligible(action: str, age: int, ase: bool, rsa: bool) -> bool:
    """erbm-2023.toml's eligibility rules for the 62 actions (checked again on import)."""
    if action in ("62-A1", "62-A2", "62-A3"):
        return rsa or age < 26
    if action == "62-A4":
        return ase and age <= 24
    if action == "62-A5":
        return ase and 18 <= age <= 24
    return ase and 16 <= age <= 21  # 62-A6


def write_spread_enrolments(path: Path, people: Sequence[Person],
                            structures: Mapping[str, str], rng: random.Random,
                            actions: Mapping[str, int] = SPREAD_ACTIONS) -> list[Enrolled]:
    """Enrolments in the six 62 actions over 2022–2024, in file order (a person's rows
    together, first enrolment first), each by the structure `structures` names for it."""
    codes = list(actions)
    weights = list(actions.values())
    first_day, days = dt.date(2022, 1, 1), 3 * 365
    enrolled: list[Enrolled] = []
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([*_ENROLMENT_HEADER, "parent_child_0_3", "intensity"])
        for i, (last, first, birth_iso, ase) in enumerate(people):
            birth = dt.date.fromisoformat(birth_iso)
            start = first_day + dt.timedelta(days=rng.randrange(days))
            action = rng.choices(codes, weights)[0]
            rsa = rng.random() < 0.4
            if not _eligible(action, _age(birth, start), ase, rsa):
                action, rsa = "62-A1", True  # RSA recipients are always eligible there
            plan = [(action, start, rsa)]
            if action != "62-A1" and rng.random() < 0.2:  # a second enrolment, in 62-A1
                again = start + dt.timedelta(days=rng.randrange(30, 400))
                if again <= dt.date(2024, 12, 31):
                    plan.append(("62-A1", again, True))
            for code, begin, on_rsa in plan:
                end = None
                if rng.random() < 0.5:
                    end = begin + dt.timedelta(days=rng.randrange(60, 540))
                    end = end if end <= TODAY else None
                out.writerow([last, first, birth_iso, code, structures[code],
                              begin.isoformat(),
                              "true" if on_rsa else "false",
                              end.isoformat() if end else "",
                              rng.choice(_EXIT_REASONS) if end else "",
                              "true" if code == "62-A3" else "false",
                              rng.choice(["reinforced", "simple"]) if code == "62-A4" else ""])
                enrolled.append(Enrolled(i, code, begin, end))
    return enrolled


def pathway(rng: random.Random, window: Window, count: int
            ) -> list[tuple[dt.date, int, str, dict[str, str]]]:
    """``count`` events of one person from their enrolment on; every end closes a start,
    and a support break (which names the enrolment) falls inside the enrolment's window
    (the service refuses it otherwise, domain.md §5)."""
    pairs = [p for p in _PAIRS for _ in range(p[4])]
    others = [p for p in pairs if p[0] != "support_break"]
    points = [p for p in _POINTS for _ in range(p[2])]
    events: list[tuple[dt.date, int, str, dict[str, str]]] = []
    day = window.start - dt.timedelta(days=rng.randrange(60))
    while len(events) < count:
        if rng.random() < 0.4 or count - len(events) == 1:
            type_, attrs, _ = rng.choice(points)
            events.append((day, 1, type_, attrs))
        else:
            s_type, s_attrs, e_type, e_attrs, _ = rng.choice(pairs)
            end = day + dt.timedelta(days=rng.randrange(10, 300))
            # Inside the window; a break still open today (its resumption after TODAY is
            # not written) only needs to start inside it.
            inside = day >= window.start and (window.end is None or (
                day <= window.end and (end <= window.end or end > TODAY)))
            if s_type == "support_break" and not inside:
                s_type, s_attrs, e_type, e_attrs, _ = rng.choice(others)
            events.append((day, 0, s_type, s_attrs))
            if end <= TODAY:
                events.append((end, 1, e_type, e_attrs))
        day += dt.timedelta(days=rng.randrange(1, 45))
        if day > TODAY:
            break
    return events[:count]


def write_events(path: Path, participants: list[str], enrolments: list[str],
                 windows: list[Window], total: int, rng: random.Random,
                 extras: Callable[[int, random.Random], list[Extra]] | None = None) -> int:
    """Events in date order across people (starts before ends on a day), as an export.

    ``enrolments[i]`` is the enrolment that person i's support breaks name; ``extras``,
    if given, adds events of its own to each person's pathway (which is that much shorter).
    """
    per_person, remainder = divmod(total, len(participants))
    rows = []
    for i, (_pid, enrolment, window) in enumerate(zip(participants, enrolments, windows,
                                                      strict=True)):
        more = extras(i, rng) if extras else []
        mine = per_person + (1 if i < remainder else 0)  # 340,000 for 100,000: 3 or 4 each
        for day, rank, type_, attrs in pathway(rng, window, max(1, mine - len(more))):
            link = enrolment if type_ in ("support_break", "support_resumed") else ""
            rows.append((day.toordinal(), rank, i, type_, json.dumps(attrs), link, ""))
        rows += [(e.day.toordinal(), e.rank, i, e.type, json.dumps(e.attributes), e.enrolment,
                  e.operation) for e in more]
    rows.sort(key=lambda r: (r[0], r[1]))
    attribute_names = sorted({k for p in _PAIRS for k in (*p[1], *p[3])}
                             | {k for p in _POINTS for k in p[1]}
                             | (set(_EXTRA_ATTRIBUTES) if extras else set()))
    links = ["enrolment_id", "operation_id"] if extras else ["enrolment_id"]
    columns = ["id", "participant_id", "type", "date", *links, *attribute_names]
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(columns)
        for ordinal, _, i, type_, attrs_json, enrolment, operation in rows[:total]:
            attrs = json.loads(attrs_json)
            out.writerow([str(uuid.UUID(int=rng.getrandbits(128), version=4)), participants[i],
                          type_, dt.date.fromordinal(ordinal).isoformat(), enrolment,
                          *([operation] if extras else []),
                          *(attrs.get(name, "") for name in attribute_names)])
    return min(total, len(rows))


def spread_extras(people: Sequence[Person], enrolled: Sequence[Enrolled],
                  enrolment_ids: Sequence[str], operations: dict[str, list[str]],
                  link_share: float = 0.7) -> Callable[[int, random.Random], list[Extra]]:
    """What the 62 actions count besides pathways, for ``write_events``: childcare on 62-A3
    enrolments, clause hours on 62-A2 operations, link person chosen by 62-A6 youths."""
    mine: dict[int, list[tuple[Enrolled, str]]] = {}
    for row, enrolment_id in zip(enrolled, enrolment_ids, strict=True):
        mine.setdefault(row.person, []).append((row, enrolment_id))

    def extras(i: int, rng: random.Random) -> list[Extra]:
        found: list[Extra] = []
        first_start = mine[i][0][0].start
        for row, enrolment_id in mine[i]:
            if row.action == "62-A3":
                begin = row.start + dt.timedelta(days=rng.randrange(0, 60))
                child = begin - dt.timedelta(days=rng.randrange(30, 900))
                found.append(Extra(begin, 0, "childcare_start",
                                   {"child_birth_month": child.strftime("%Y-%m")},
                                   enrolment=enrolment_id))
                end = begin + dt.timedelta(days=rng.randrange(60, 500))
                if end <= TODAY:
                    found.append(Extra(end, 1, "childcare_end", {}, enrolment=enrolment_id))
            elif row.action == "62-A2" and operations.get("62-A2"):
                for _ in range(2):
                    day = row.start + dt.timedelta(days=rng.randrange(0, 300))
                    if day <= TODAY:
                        found.append(Extra(day, 1, "clause_hours",
                                           {"hours": str(rng.choice([7, 14, 35, 70]))},
                                           operation=rng.choice(operations["62-A2"])))
            elif row.action == "62-A6" and rng.random() < link_share:
                birth = dt.date.fromisoformat(people[i].birth)
                eighteen = birth.replace(year=birth.year + 18, day=1)
                day = eighteen + dt.timedelta(days=rng.randrange(-30, 150))
                if first_start - dt.timedelta(days=360) <= day <= TODAY:
                    found.append(Extra(day, 1, "link_person_chosen", {}))
        return found

    return extras


# The bench's structures and the 62 actions each enrols into (domain.md §2 "Operators").
BENCH_STRUCTURES = {
    "Mission Locale (bench)": ("mission_locale", ("62-A3", "62-A5", "62-A6")),
    "PLIE (bench)": ("plie", ("62-A1", "62-A2")),
    "CLLAJ (bench)": ("cllaj", ("62-A4",)),
}


def prepare_database(url: str, keys: Path) -> dict[str, str]:
    """Migrate, load the programme, create the bench's structures; return, per 62 action
    code, the uuid of the structure that enrols into it."""
    from alembic import command
    from sqlalchemy.orm import Session

    from cohort.actors import SYSTEM
    from cohort.cli import alembic_config
    from cohort.db import make_engine
    from cohort.identity.keyring import generate_key_file
    from cohort.services.programmes import load_programme_file
    from cohort.services.structures import create_structure

    command.upgrade(alembic_config(url), "head")
    generate_key_file(keys, demo=False)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        load_programme_file(session, PROGRAMME)
        by_action: dict[str, str] = {}
        for name, (kind, codes) in BENCH_STRUCTURES.items():
            structure = create_structure(session, SYSTEM, {"name": name, "kind": kind,
                                                           "departement": "62"})
            by_action |= dict.fromkeys(codes, str(structure.uuid))
    engine.dispose()
    return by_action


# Operations of the 62 actions: (action, kind, count, planned hours), from 2022 on.
_OPERATIONS = [("62-A1", "insertion_operation", 3, None), ("62-A2", "clause_site", 8, 1500),
               ("62-A3", "creche_project", 3, None), ("62-A5", "housing_partner", 5, None)]


def create_operations(url: str, structure: str) -> dict[str, list[str]]:
    """Operations through the service the API uses; their uuids per action code."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from cohort.actors import SYSTEM
    from cohort.db import make_engine
    from cohort.models import Action
    from cohort.services.structures import create_operation

    engine = make_engine(url)
    made: dict[str, list[str]] = {}
    with Session(engine) as session, session.begin():
        for code, kind, count, hours in _OPERATIONS:
            action = session.execute(sa.select(Action).where(Action.code == code)).scalar_one()
            for n in range(count):
                start = dt.date(2022, 1, 1) + dt.timedelta(days=120 * n)
                end = start + dt.timedelta(days=540) if n % 2 else None
                operation = create_operation(session, SYSTEM, {
                    "action_id": action.uuid, "structure_id": structure, "kind": kind,
                    "label": f"{kind} {n + 1}", "start_date": start, "end_date": end,
                    "planned_hours": hours}, now=dt.datetime.now(dt.UTC))
                made.setdefault(code, []).append(str(operation.uuid))
    engine.dispose()
    return made


def ids_in_order(url: str, model: Any) -> list[str]:
    """Public ids in insertion order, which is file order."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        ids = [str(u) for u in conn.execute(sa.select(model.uuid).order_by(model.id)).scalars()]
    engine.dispose()
    return ids


def import_file(kind: str, path: Path, url: str, keys: Path,
                workers: int | None) -> dict[str, Any]:
    """Import one file with the project's importer, in a process of its own
    (``bench/import.py --one``); returns its figures."""
    cmd = [sys.executable, str(IMPORT_SCRIPT), "--one", kind, str(path), "--database-url", url,
           "--keys", str(keys)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures
