"""Indicators benchmark (run by hand, not a test): the 62 set and a cohort table.

    .venv/bin/python bench/indicators.py                  # both scales, SQLite and PostgreSQL
    .venv/bin/python bench/indicators.py --reuse --json /tmp/bench-indicators/results.json
    .venv/bin/python bench/indicators.py --backends sqlite --scales 10000:100000
    .venv/bin/python bench/indicators.py --backends postgresql \\
        --pg-url "postgresql+psycopg://postgres@/postgres?host=/tmp/pg"   # a running server

For each scale (participants:events) and backend it builds a database once with the
project's own path — migrations, the programme file, operations through the service, then
participants, enrolments and events through the CSV importer (``bench/import.py --one``),
and a sample of six-month check results through the follow-up service — and keeps it under
``--dir`` (default /tmp/bench-indicators) for ``--reuse``. The enrolments cover 62-A1…62-A6
over 2022–2024 (bench/synthetic.py).

Then, in a separate process that only opens the database and computes (so generation and
import do not count in its peak memory), it times what a user waits for, in published
mode, as the system actor (an administrator) through the read services the API and the
CLI call:
- ``queries.indicators``: every declared indicator of the six 62 actions (``departement``
  62), P = the calendar year ``--year``, as of its last day;
- ``queries.cohorts``: the cohort table of the same actions, grain quarter (the year's four
  quarters × the seven horizons), same cut;
each ``--runs`` times (default 5) after one warm-up, reporting the median; the process's
peak RSS (VmHWM) at the end. PostgreSQL is a throwaway cluster started by the bench (as the
``postgres`` user when root, like tests/conftest.py) unless ``--pg-url`` names a server;
its data directory is kept under ``--dir`` for ``--reuse``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from synthetic import (  # noqa: E402 - the bench folder is put on the path first
    PROGRAMME_CODE,
    SHAPES,
    TODAY,
    Window,
    create_operations,
    ids_in_order,
    import_file,
    prepare_database,
    spread_extras,
    write_events,
    write_participants,
    write_spread_enrolments,
)

PGBIN = os.environ.get("PGBIN", "/usr/lib/postgresql/15/bin")
DEFAULT_DIR = Path("/tmp/bench-indicators")
DEFAULT_SCALES = "10000:100000,100000:1000000"
TARGET_SECONDS = 2.0
TARGET_RSS_MB = 300
TARGET_GROWTH = 12.0  # at most this many times the time at 10× the data


# --- PostgreSQL: a throwaway cluster, as tests/conftest.py starts one --------------------

def _as_postgres(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    if os.geteuid() == 0:  # the server refuses to run as root
        cmd = ["runuser", "-u", "postgres", "--", *cmd]
    return subprocess.run(cmd, check=True, cwd="/", capture_output=True, text=True)


class Cluster:
    """A PostgreSQL 15 cluster in ``folder`` (unix socket only, fsync off), kept on disk."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.data = folder / "data"

    def start(self) -> str:
        if not Path(f"{PGBIN}/pg_ctl").exists():
            sys.exit(f"PostgreSQL 15 binaries missing in {PGBIN}: give --pg-url or PGBIN")
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            if subprocess.run(["id", "postgres"], capture_output=True).returncode:
                subprocess.run(["useradd", "--system", "--no-create-home", "postgres"],
                               check=True)
            shutil.chown(self.folder, "postgres")
        if not (self.data / "PG_VERSION").exists():
            _as_postgres([f"{PGBIN}/initdb", "-D", str(self.data), "-U", "postgres",
                          "--auth=trust", "-E", "UTF8", "--no-locale"])
        _as_postgres([f"{PGBIN}/pg_ctl", "-D", str(self.data), "-l",
                      f"{self.folder}/server.log", "-w", "-t", "60", "-o",
                      f"-c listen_addresses='' -c unix_socket_directories='{self.folder}' "
                      "-c fsync=off -c synchronous_commit=off -c full_page_writes=off",
                      "start"])
        return f"postgresql+psycopg://postgres@/postgres?host={self.folder}"

    def stop(self) -> None:
        _as_postgres([f"{PGBIN}/pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop"])


def _pg_database(server: str, name: str, *, drop: bool) -> tuple[str, bool]:
    """The URL of database ``name`` on the server, created if missing; (url, existed)."""
    import sqlalchemy as sa

    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        existed = conn.execute(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"),
                               {"n": name}).first() is not None
        if existed and drop:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
            existed = False
        if not existed:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return sa.make_url(server).set(database=name).render_as_string(hide_password=False), existed


# --- building a data set ---------------------------------------------------------------

def record_check_results(url: str, keys: Path, rng: random.Random, *, share: float = 0.1,
                         cap: int = 2000) -> int:
    """Record results for a sample of the six-month checks whose window has opened, through
    the follow-up service (reached with a situation, not reached, refused)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from cohort.actors import SYSTEM
    from cohort.db import make_engine
    from cohort.identity.keyring import load_keyring
    from cohort.models import FollowUpCheck
    from cohort.schemas.followups import ResultSchema
    from cohort.services.followups import record_result

    situations = [{"employment": {"contract": "cdi"}, "housing_type": "social_rental"},
                  {"training": {"qualifying": True}, "resources": ["cej_allowance"]},
                  {"scheme": "cej", "housing_type": "family"},
                  {"employment": None, "training": None, "resources": []}]
    keyring = load_keyring(str(keys), env={})
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as session, session.begin():
        checks = session.execute(
            sa.select(FollowUpCheck.uuid, FollowUpCheck.version, FollowUpCheck.window_start)
            .where(FollowUpCheck.window_start <= TODAY).order_by(FollowUpCheck.id)).all()
    picked = rng.sample(checks, min(cap, int(len(checks) * share)))
    schema = ResultSchema()
    for check_uuid, version, window_start in picked:
        day = min(TODAY, window_start + dt.timedelta(days=rng.randrange(0, 50)))
        outcome = rng.choices(["reached", "not_reached", "refused"], [6, 3, 1])[0]
        body: dict[str, Any] = {"expected_version": version, "date": day.isoformat(),
                                "outcome": outcome}
        if outcome == "reached":
            body["situation"] = rng.choice(situations)
        elif outcome == "not_reached":
            body["attempts"] = 3
        with Session(engine) as session, session.begin():
            record_result(session, keyring, SYSTEM, check_uuid, schema.load(body),
                          today=TODAY, now=now)
    engine.dispose()
    return len(picked)


def build(url: str, folder: Path, participants: int, events: int, seed: int,
          workers: int | None, shape: str = "spread") -> dict[str, Any]:
    """Generate the files and load them into an empty database at ``url``."""
    from cohort.models import Enrolment, Participant

    folder.mkdir(parents=True, exist_ok=True)
    keys = folder / "bench-keys.toml"
    rng = random.Random(seed)
    structures = prepare_database(url, keys)
    operations = create_operations(url, structures["62-A6"])
    started = time.perf_counter()
    who = SHAPES[shape]
    people = write_participants(folder / "participants.csv", participants, rng,
                                born_from=who.born_from, born_days=who.born_days,
                                ase_share=who.ase_share)
    enrolled = write_spread_enrolments(folder / "enrolments.csv", people, structures, rng,
                                       who.actions)
    print(f"    generated {participants} participants, {len(enrolled)} enrolments in "
          f"{time.perf_counter() - started:.1f}s", flush=True)
    figures = {}
    for kind in ("participants", "enrolments"):
        figures[kind] = import_file(kind, folder / f"{kind}.csv", url, keys, workers)
        print(f"    imported {kind}: {figures[kind]['rows']} rows in "
              f"{figures[kind]['seconds']}s", flush=True)
    started = time.perf_counter()
    participant_ids = ids_in_order(url, Participant)
    enrolment_ids = ids_in_order(url, Enrolment)
    firsts: dict[int, tuple[str, Window]] = {}
    for row, enrolment_id in zip(enrolled, enrolment_ids, strict=True):
        firsts.setdefault(row.person, (enrolment_id, Window(row.start, row.end)))
    count = write_events(folder / "events.csv", participant_ids,
                         [firsts[i][0] for i in range(participants)],
                         [firsts[i][1] for i in range(participants)], events, rng,
                         extras=spread_extras(people, enrolled, enrolment_ids, operations,
                                              who.link_share))
    print(f"    generated {count} events in {time.perf_counter() - started:.1f}s", flush=True)
    figures["events"] = import_file("events", folder / "events.csv", url, keys, workers)
    print(f"    imported events: {figures['events']['rows']} rows in "
          f"{figures['events']['seconds']}s", flush=True)
    started = time.perf_counter()
    recorded = record_check_results(url, keys, rng)
    print(f"    recorded {recorded} check results in {time.perf_counter() - started:.1f}s",
          flush=True)
    return {"participants": participants, "events": count, "enrolments": len(enrolled),
            "check_results": recorded, "seed": seed, "shape": shape,
            "import_seconds": {k: v["seconds"] for k, v in figures.items()}}



# --- measuring (in a process of its own) -------------------------------------------------

def _peak_rss_kib() -> int:
    """This process's peak RSS (VmHWM; ru_maxrss would carry the parent's over exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


def _digest(report: dict[str, Any]) -> str:
    text = json.dumps(report, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def measure(url: str, year: int, runs: int) -> dict[str, Any]:
    """The child process: open the database, time both read services; figures as a dict."""
    from sqlalchemy.orm import sessionmaker

    from cohort.actors import SYSTEM
    from cohort.config import load_settings
    from cohort.db import make_engine
    from cohort.indicators import queries

    settings = load_settings({"DATABASE_URL": url}, env={})
    engine = make_engine(url)
    factory = sessionmaker(engine)
    cut = {"programme": PROGRAMME_CODE, "departement": "62", "mode": "published",
           "period_from": dt.date(year, 1, 1), "period_to": dt.date(year, 12, 31),
           "as_of": dt.date(year, 12, 31)}
    now = dt.datetime.now(dt.UTC)

    def indicators() -> dict[str, Any]:
        with factory() as session:
            return queries.indicators(session, SYSTEM, dict(cut), settings, today=TODAY,
                                      now=now)

    def cohorts() -> dict[str, Any]:
        with factory() as session:
            return queries.cohorts(session, SYSTEM, {**cut, "grain": "quarter"}, settings,
                                   today=TODAY, now=now)

    figures: dict[str, Any] = {}
    for name, call in (("indicators", indicators), ("cohorts", cohorts)):
        report = call()  # warm-up
        seconds: list[float] = []
        cpu_seconds: list[float] = []  # SQLite works in this process: its CPU, not the load
        for _ in range(runs):
            started, cpu = time.perf_counter(), time.process_time()
            again = call()
            seconds.append(time.perf_counter() - started)
            cpu_seconds.append(time.process_time() - cpu)
            assert _digest(again) == _digest(report)
        figures[name] = {"median_s": round(statistics.median(seconds), 3),
                         "median_cpu_s": round(statistics.median(cpu_seconds), 3),
                         "runs_s": [round(s, 3) for s in seconds], "digest": _digest(report)}
        if name == "indicators":
            figures[name]["indicators"] = sum(len(a["indicators"]) for a in report["actions"])
            figures[name]["accompanied"] = {
                a["code"]: next((i["value"] for i in a["indicators"] if i["code"] ==
                                 "accompanied"), None) for a in report["actions"]}
        else:
            figures[name]["rows"] = len(report["rows"])
            figures[name]["members_at_entry"] = {
                r["cohort"]: r["members"] for r in report["rows"] if r["horizon"] == "entry"}
    engine.dispose()
    figures["peak_rss_mb"] = round(_peak_rss_kib() / 1024)
    return figures


def run_measure(url: str, year: int, runs: int) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--measure", url, "--year", str(year), "--runs", str(runs)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True)
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


# --- the schema and statistics measured -----------------------------------------------------

def set_variant(url: str, variant: str) -> None:
    """``head``: the schema of today, statistics fresh (what `cohort import` leaves).
    ``before``: as before issue 23 — no ``(type, participant_id, date)`` index, the full
    end-event index of migration 0005, and on SQLite no statistics (nothing analysed)."""
    import sqlalchemy as sa

    from cohort.db import refresh_statistics

    engine = sa.create_engine(url)
    sqlite = engine.dialect.name == "sqlite"
    closed = "" if variant == "before" else " WHERE end_event_id IS NOT NULL"
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_event_type_participant_date")
        conn.exec_driver_sql("DROP INDEX IF EXISTS ix_event_interval_end_event")
        conn.exec_driver_sql("CREATE INDEX ix_event_interval_end_event ON event_interval "
                             f"(end_event_id){closed}")
        if variant == "head":
            conn.exec_driver_sql("CREATE INDEX ix_event_type_participant_date ON event "
                                 "(type, participant_id, date)")
    if variant == "head" or not sqlite:
        refresh_statistics(engine)
    else:
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS sqlite_stat1")
            conn.exec_driver_sql("DROP TABLE IF EXISTS sqlite_stat4")
    engine.dispose()


# --- the whole run ----------------------------------------------------------------------

def _scales(text: str) -> list[tuple[int, int]]:
    pairs = []
    for part in text.split(","):
        people, events = part.split(":")
        pairs.append((int(people), int(events)))
    return pairs


def _dataset(backend: str, people: int, events: int, args: argparse.Namespace,
             server: str | None) -> tuple[str, dict[str, Any]]:
    """The database of one scale on one backend, built unless ``--reuse`` finds it."""
    suffix = "" if args.shape == "spread" else f"-{args.shape}"
    name = f"bench_{people}_{events}{suffix.replace('-', '_')}"
    folder = args.dir / f"{backend}-{people}-{events}{suffix}"
    marker = folder / "loaded.json"
    if backend == "sqlite":
        path = folder / "bench.db"
        url = f"sqlite:///{path}"
        reusable = args.reuse and marker.exists() and path.exists()
        if not reusable:
            shutil.rmtree(folder, ignore_errors=True)
    else:
        assert server is not None
        url, existed = _pg_database(server, name, drop=not args.reuse)
        reusable = args.reuse and existed and marker.exists()
        if not reusable:
            shutil.rmtree(folder, ignore_errors=True)
            url, _ = _pg_database(server, name, drop=True)
    if reusable:
        loaded: dict[str, Any] = json.loads(marker.read_text())
        if loaded.get("seed") == args.seed:
            from alembic import command

            from cohort.cli import alembic_config

            print(f"  reusing {url} (migrating to head)", flush=True)
            command.upgrade(alembic_config(url), "head")  # e.g. an index added since
            return url, loaded
        sys.exit(f"{marker}: built with another seed; run without --reuse")
    print(f"  building {url}", flush=True)
    loaded = build(url, folder, people, events, args.seed, args.workers, args.shape)
    marker.write_text(json.dumps(loaded, indent=2))
    return url, loaded


def _verdicts(results: list[dict[str, Any]]) -> None:
    """Add the targets' verdicts: time and memory per run, growth at 10× the data."""
    for r in results:
        r["meets_time"] = all(r[k]["median_s"] <= TARGET_SECONDS
                              for k in ("indicators", "cohorts"))
        r["meets_memory"] = r["peak_rss_mb"] <= TARGET_RSS_MB
    for r in results:
        smaller = [s for s in results if s["backend"] == r["backend"]
                   and s["events"] * 10 == r["events"]]
        if smaller:
            s = smaller[0]
            r["growth"] = {k: round(r[k]["median_s"] / s[k]["median_s"], 1)
                           for k in ("indicators", "cohorts")}
            r["meets_growth"] = all(g <= TARGET_GROWTH for g in r["growth"].values())


def _print_table(results: list[dict[str, Any]]) -> None:
    print()
    print(f"{'backend':<11}{'participants':>13}{'events':>10}{'indicators s':>14}"
          f"{'cohorts s':>11}{'peak RSS MB':>13}{'growth ×':>14}  digests")
    for r in results:
        growth = r.get("growth")
        shown = f"{growth['indicators']} / {growth['cohorts']}" if growth else "—"
        print(f"{r['backend']:<11}{r['participants']:>13,}{r['events']:>10,}"
              f"{r['indicators']['median_s']:>14.3f}{r['cohorts']['median_s']:>11.3f}"
              f"{r['peak_rss_mb']:>13}{shown:>14}  "
              f"{r['indicators']['digest']}/{r['cohorts']['digest']}")
    print(f"\ntargets: median ≤ {TARGET_SECONDS} s each, peak RSS ≤ {TARGET_RSS_MB} MB, "
          f"≤ {TARGET_GROWTH}× the time at 10× the data")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", default=DEFAULT_SCALES,
                        help=f"participants:events,… (default {DEFAULT_SCALES})")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                        help="where databases, files and the PostgreSQL cluster are kept")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the databases a previous run built (same seed)")
    parser.add_argument("--pg-url", default=None,
                        help="a running PostgreSQL server (the bench creates its databases "
                             "there) instead of a throwaway cluster")
    parser.add_argument("--year", type=int, default=2024, help="P = this calendar year")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--workers", type=int, default=None,
                        help="importer worker processes (default: the importer's choice)")
    parser.add_argument("--build-only", action="store_true",
                        help="build (or migrate) the databases, measure nothing")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--shape", default="spread", choices=sorted(SHAPES),
                        help="who the people are (bench/synthetic.py SHAPES)")
    parser.add_argument("--variant", default="head", choices=("head", "before"),
                        help="measure today's indexes with fresh statistics, or the indexes "
                             "and (on SQLite) missing statistics of before issue 23")
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.year, args.runs)))
        return

    args.dir.mkdir(parents=True, exist_ok=True)
    backends = [b.strip() for b in args.backends.split(",")]
    cluster = None
    server = args.pg_url
    results = []
    try:
        for backend in backends:
            if backend == "postgresql" and server is None:
                cluster = Cluster(args.dir / "pg")
                server = cluster.start()
            for people, events in _scales(args.scales):
                print(f"{backend}: {people:,} participants, {events:,} events", flush=True)
                url, loaded = _dataset(backend, people, events, args, server)
                if args.build_only:
                    continue
                set_variant(url, args.variant)
                figures = run_measure(url, args.year, args.runs)
                print(f"  indicators {figures['indicators']['median_s']} s "
                      f"(CPU {figures['indicators']['median_cpu_s']} s), cohorts "
                      f"{figures['cohorts']['median_s']} s "
                      f"(CPU {figures['cohorts']['median_cpu_s']} s) (medians of {args.runs}), "
                      f"peak RSS {figures['peak_rss_mb']} MB, load {os.getloadavg()[0]:.1f}",
                      flush=True)
                results.append({"backend": backend, "participants": people,
                                "shape": args.shape, "variant": args.variant,
                                "events": loaded["events"],
                                "enrolments": loaded["enrolments"], "year": args.year,
                                "runs": args.runs, **figures})
    finally:
        if cluster is not None:
            cluster.stop()
    if not results:
        return
    _verdicts(results)
    _print_table(results)
    if args.json:
        args.json.write_text(json.dumps({"date": dt.datetime.now(dt.UTC).date().isoformat(),
                                         "results": results}, indent=2, default=str))


if __name__ == "__main__":
    main()
