"""Import benchmark (run by hand, not a test): participants, enrolments, then 1M events.

    .venv/bin/python bench/import.py                       # 100,000 people, 1,000,000 events
    .venv/bin/python bench/import.py --participants 10000 --events 100000 --workers 0
    .venv/bin/python bench/import.py --database-url postgresql+psycopg://...   # empty database

It writes synthetic CSV files (generation is not timed) into a temporary folder, creates
a fresh SQLite database there unless --database-url is given (it is migrated and gets the
programme file), then times each import in its own process, so that the peak memory it
reports (VmHWM of the importing process; ru_maxrss of its largest worker, an upper bound)
is the import's alone.
Events are written in date order across participants (an export sorted by date), with
pathways whose every end closes a start, so all the API's rules pass.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROGRAMME = ROOT / "config" / "programmes" / "erbm-2023.toml"
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


def _name(rng: random.Random, i: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(3)).capitalize() + f"-{i}"


def write_participants(path: Path, n: int, rng: random.Random) -> list[tuple[str, str, str]]:
    people = []
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh, delimiter=";")
        out.writerow(["last_name", "first_names", "birth_date", "sex", "phone", "email",
                      "home_departement", "home_epci", "ase_past"])
        for i in range(n):
            last, first = _name(rng, i), _name(rng, i + 7)
            birth = dt.date(1999, 1, 1) + dt.timedelta(days=rng.randrange(6 * 365))
            people.append((last, first, birth.isoformat()))
            out.writerow([last, first, birth.isoformat(), rng.choice("FMU"),
                          f"06{rng.randrange(10**8):08d}", f"p{i}@example.org", "62",
                          "200033318", rng.choice(["oui", "non"])])
    return people


def write_enrolments(path: Path, people: list[tuple[str, str, str]], structure: str,
                     rng: random.Random) -> list[dt.date]:
    """One enrolment per person in 62-A1 (RSA or under 26: every synthetic person is)."""
    starts = []
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["last_name", "first_names", "birth_date", "action_code", "structure_id",
                      "start_date", "rsa_at_entry", "end_date", "exit_reason"])
        for last, first, birth in people:
            start = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(365))
            starts.append(start)
            ended = rng.random() < 0.3
            out.writerow([last, first, birth, "62-A1", structure, start.isoformat(),
                          rng.choice(["true", "false"]),
                          (start + dt.timedelta(days=200)).isoformat() if ended else "",
                          "end_of_support" if ended else ""])
    return starts


def pathway(rng: random.Random, start: dt.date, count: int) -> list[tuple[dt.date, int, str,
                                                                          dict[str, str]]]:
    """``count`` events of one person from their enrolment on; every end closes a start."""
    pairs = [p for p in _PAIRS for _ in range(p[4])]
    points = [p for p in _POINTS for _ in range(p[2])]
    events: list[tuple[dt.date, int, str, dict[str, str]]] = []
    day = start - dt.timedelta(days=rng.randrange(60))
    while len(events) < count:
        if rng.random() < 0.4 or count - len(events) == 1:
            type_, attrs, _ = rng.choice(points)
            events.append((day, 1, type_, attrs))
        else:
            s_type, s_attrs, e_type, e_attrs, _ = rng.choice(pairs)
            end = day + dt.timedelta(days=rng.randrange(10, 300))
            events.append((day, 0, s_type, s_attrs))
            if end <= TODAY:
                events.append((end, 1, e_type, e_attrs))
        day += dt.timedelta(days=rng.randrange(1, 45))
        if day > TODAY:
            break
    return events[:count]


def write_events(path: Path, participants: list[str], enrolments: list[str],
                 starts: list[dt.date], total: int, rng: random.Random) -> int:
    """Events in date order across people (starts before ends on a day), as an export."""
    per_person = max(1, total // len(participants))
    rows = []
    for i, (_pid, _enrolment, start) in enumerate(zip(participants, enrolments, starts,
                                                    strict=True)):
        for day, rank, type_, attrs in pathway(rng, start, per_person):
            rows.append((day.toordinal(), rank, i, type_, json.dumps(attrs)))
    rows.sort(key=lambda r: (r[0], r[1]))
    attribute_names = sorted({k for p in _PAIRS for k in (*p[1], *p[3])}
                             | {k for p in _POINTS for k in p[1]})
    columns = ["id", "participant_id", "type", "date", "enrolment_id", *attribute_names]
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(columns)
        for ordinal, _, i, type_, attrs_json in rows[:total]:
            attrs = json.loads(attrs_json)
            needs_enrolment = type_ in ("support_break", "support_resumed")
            out.writerow([str(uuid.UUID(int=rng.getrandbits(128), version=4)), participants[i],
                          type_, dt.date.fromordinal(ordinal).isoformat(),
                          enrolments[i] if needs_enrolment else "",
                          *(attrs.get(name, "") for name in attribute_names)])
    return min(total, len(rows))


def prepare_database(url: str, keys: Path) -> str:
    """Migrate, load the programme, create one structure; return the structure's uuid."""
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
        structure = create_structure(session, SYSTEM, {"name": "Mission Locale (bench)",
                                                       "kind": "mission_locale",
                                                       "departement": "62"})
        structure_uuid = str(structure.uuid)
    engine.dispose()
    return structure_uuid


def ids_in_order(url: str, model: Any) -> list[str]:
    """Public ids in insertion order, which is file order."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.connect() as conn:
        ids = [str(u) for u in conn.execute(sa.select(model.uuid).order_by(model.id)).scalars()]
    engine.dispose()
    return ids


def _peak_rss_kib() -> int:
    """This process's peak RSS since it started (VmHWM).

    Not ru_maxrss: on Linux that survives exec, so a child would report the generating
    parent's peak.
    """
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_one(kind: str, path: str, url: str, keys: str, workers: int | None) -> None:
    """The child process: one import, timed; prints a JSON line with the figures."""
    from sqlalchemy.orm import Session

    from cohort.db import make_engine
    from cohort.identity.keyring import load_keyring
    from cohort.importer.enrolments import import_enrolments
    from cohort.importer.events import import_events
    from cohort.importer.participants import import_participants

    importer = {"participants": import_participants, "enrolments": import_enrolments,
                "events": import_events}[kind]
    keyring = load_keyring(keys, env={})
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    with Session(engine) as session, session.begin():
        result = importer(session, keyring, path, today=TODAY, now=now, workers=workers)
    seconds = time.perf_counter() - started
    engine.dispose()
    own, workers = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                         resource.RUSAGE_CHILDREN))
    print(json.dumps({
        "cpu_s": round(own.ru_utime + own.ru_stime, 1),
        "worker_cpu_s": round(workers.ru_utime + workers.ru_stime, 1),
        "kind": kind, "rows": result.rows, "created": result.created,
        "unchanged": result.unchanged, "seconds": round(seconds, 2),
        "rows_per_s": round(result.rows / seconds),
        "peak_rss_mb": round(_peak_rss_kib() / 1024),
        "worker_peak_rss_mb": round(workers.ru_maxrss / 1024),
    }))


def timed(kind: str, path: Path, url: str, keys: Path, workers: int | None) -> dict[str, object]:
    cmd = [sys.executable, __file__, "--one", kind, str(path), "--database-url", url,
           "--keys", str(keys)]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    figures: dict[str, object] = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"  {kind:<12} {figures['rows']:>9} rows  {figures['seconds']:>7}s  "
          f"{figures['rows_per_s']:>8} rows/s  peak RSS {figures['peak_rss_mb']} MB"
          f" (largest worker {figures['worker_peak_rss_mb']} MB)  CPU {figures['cpu_s']}s"
          f" + workers {figures['worker_cpu_s']}s  load {os.getloadavg()[0]:.1f}", flush=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--workers", type=int, default=None,
                        help="worker processes (default: the importer's own choice)")
    parser.add_argument("--dir", type=Path, default=None, help="keep the files here")
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--reimport", action="store_true",
                        help="import the events file a second time (all unchanged)")
    parser.add_argument("--one", nargs=2, metavar=("KIND", "FILE"), help=argparse.SUPPRESS)
    parser.add_argument("--keys", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run_one(args.one[0], args.one[1], args.database_url, args.keys, args.workers)
        return

    folder = args.dir or Path(tempfile.mkdtemp(prefix="cohort-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    url = args.database_url or f"sqlite:///{folder}/bench.db"
    keys = folder / "bench-keys.toml"
    rng = random.Random(args.seed)
    print(f"files and database in {folder}", flush=True)
    structure = prepare_database(url, keys)

    started = time.perf_counter()
    people = write_participants(folder / "participants.csv", args.participants, rng)
    starts = write_enrolments(folder / "enrolments.csv", people, structure, rng)
    print(f"generated participants and enrolments in {time.perf_counter() - started:.1f}s",
          flush=True)
    del people
    timed("participants", folder / "participants.csv", url, keys, args.workers)
    timed("enrolments", folder / "enrolments.csv", url, keys, args.workers)

    started = time.perf_counter()
    from cohort.models import Enrolment, Participant

    count = write_events(folder / "events.csv", ids_in_order(url, Participant),
                         ids_in_order(url, Enrolment), starts, args.events, rng)
    size = (folder / "events.csv").stat().st_size / 1e6
    print(f"generated {count} events ({size:.0f} MB) in {time.perf_counter() - started:.1f}s",
          flush=True)
    timed("events", folder / "events.csv", url, keys, args.workers)
    if args.reimport:
        timed("events", folder / "events.csv", url, keys, args.workers)


if __name__ == "__main__":
    main()
