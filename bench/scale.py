"""Scale measured on PostgreSQL (issue 20, part 6; run by hand, not a test): one département
of 3 M events, read on the primary, on a streaming replica and from the published store.

    .venv/bin/python bench/scale.py                            # 300,000 people, 3 M events
    .venv/bin/python bench/scale.py --reuse --json /tmp/bench-scale/results.json
    .venv/bin/python bench/scale.py --events 100000 --runs 2   # a quick try (10,000 people)
    .venv/bin/python bench/scale.py --build-only               # load (or resume loading)
    .venv/bin/python bench/scale.py --explain /tmp/cohorts.plan # where the cohort table's time goes

Data (``--dir``, default /tmp/bench-scale): one PostgreSQL 15 cluster in ``pg/`` (unix
socket, fsync off, as bench/indicators.py starts one), kept on disk, and one database per
size, ``bench_scale_<participants>_<events>``. It is loaded through the project's own path
(bench/synthetic.py, shape ``--shape``, default ``spread``): migrations, the programme
file, structures and operations through the services, then participants, enrolments
(62-A1…62-A6, 2022–2024) and events through the CSV importer (bench/import.py ``--one``,
each import followed by the statistics refresh ``cohort import`` runs), and six-month
check results through the follow-up service. ``--participants`` defaults to a tenth of
``--events``, the ratio of bench/indicators.py (10 events per person). Loading is
resumable: each step done is written in ``state.json`` beside the files, and a run that
was stopped starts again at the first step not done (the files are generated again from
the seed, each stage from a random generator of its own); ``--reuse`` measures a
database already loaded. Either way the database is then migrated to head and gets a
``VACUUM (ANALYZE)`` (the state autovacuum leaves it in once the load has settled).
Loading 3 M events takes about half an hour on two cores.

Then it makes a hot standby of the cluster (``pg_basebackup -R`` with the same binaries,
as the ``postgres`` user when root, a unix socket of its own in ``replica/``; made again
each run) and waits until it has replayed everything; and, in a process of its own (so
generation and import do not count in its peak memory), at the cut an evaluator gets by
default — département 62's six actions, the programme's period (2023), as of the end of
the last complete month, published mode:

1. live, as the system actor through the read path of the pages and the API
   (``request_db.statistics`` in a request of the app): the 62 indicator set
   (``queries.indicators``), the cohort table at quarter grain (``queries.cohorts``) and
   the full report (``report.model.build`` for 62 and 2023, then HTML and XLSX,
   ``REPORT_WORKERS`` as configured, default 2) — on the primary (an app with
   DATABASE_URL only) and on the replica (DATABASE_URL = primary, READ_DATABASE_URL =
   replica; the read source is checked to be the replica);
2. the evaluator's four requests before any publication (live, once each): GET
   /api/v1/indicators and /api/v1/cohorts, the pages /indicateurs and /cohortes, for
   ``departement=62`` and nothing else (the defaults give the published cut);
3. ``cohort publish --programme erbm-2023`` (the CLI, on the primary) after emptying
   ``published_aggregate``, then again (nothing to write); the standby then replays it;
4. the store's freshness check alone (``published.current`` for the 62 indicator set's
   cut: the cut's row, then the writes logged since), on the primary and on the replica;
5. the same four evaluator requests answered from the store, through the primary-only
   app and through the app that reads on the replica, each checked to be served from
   the store (the evaluator's audit entry of the request says ``"source":
   "published"``; through the replica the ``Cohort-Read-Source`` header names it);
6. contact events dated today, recorded one by one through the events service as the
   API records them, up to each total of ``--writes`` (default 2,000 — a département's
   day at the national rate — then 20,000); they stay in the database. At each total,
   the freshness check and the indicators API from the store again: the cuts stay
   current, but the check reads the change log written since the cut was computed.

Live figures: the median of ``--runs`` (default 3) after one warm-up; HTTP requests: the
median and the highest of ``--http-runs`` (default 20) after one warm-up (``--runs`` only
for a request whose warm-up took over 2 s, ten times the target), end to end in
Flask's test client (token authentication, the store's look-up, the audit entry, JSON or
HTML). Each figure comes with the CPU seconds of the measuring process and of the
PostgreSQL server that answered (its postmaster and children, from /proc): on a shared
machine the wall time grows with the load, the CPU much less. The load average is
printed with each figure. Targets (issue 20): an evaluator's published page answered in
≤ 200 ms whatever the data size; the live report ≤ 10 s at 3 M events.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from indicators import (  # noqa: E402 - the bench folder is put on the path first
    PGBIN,
    Cluster,
    _as_postgres,
    _peak_rss_kib,
    _pg_database,
    record_check_results,
)
from synthetic import (  # noqa: E402
    PROGRAMME_CODE,
    SHAPES,
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

DEFAULT_DIR = Path("/tmp/bench-scale")
DEFAULT_EVENTS = 3_000_000
EVENTS_PER_PARTICIPANT = 10  # bench/indicators.py's scales: 10,000:100,000 … 1 M:10 M
TARGET_STORE_MS = 200
TARGET_REPORT_S = 10.0
# A département's day (~200,000 events a day nationally / 101), then ten times that.
DEFAULT_WRITES = "2000,20000"
SLOW_REQUEST_S = 10 * TARGET_STORE_MS / 1000  # a request this slow is timed --runs times only
REPLAY_TIMEOUT_S = 600
EVALUATOR_EMAIL = "evaluateur-bench@example.org"
STEPS = ("prepared", "participants", "enrolments", "events", "check_results")


def log(text: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S} load {os.getloadavg()[0]:.1f}] {text}",
          file=sys.stderr, flush=True)


# --- the database: built step by step, resumable ------------------------------------------

def _load_state(folder: Path) -> dict[str, Any]:
    path = folder / "state.json"
    state: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return state


def _save_state(folder: Path, state: dict[str, Any]) -> None:
    path = folder / "state.json"
    path.with_suffix(".tmp").write_text(json.dumps(state, indent=2))
    path.with_suffix(".tmp").replace(path)


def build(url: str, folder: Path, participants: int, events: int, seed: int,
          workers: int | None, shape: str, *, prepared: bool = True) -> dict[str, Any]:
    """Load the data set into the database at ``url``, from the first step not done;
    ``prepared=False``: the imports without server-side prepared statements."""
    import sqlalchemy as sa

    from cohort.models import Enrolment, Participant

    plain = url  # for the look-ups that open an engine of their own
    if not prepared:
        url = sa.make_url(url).update_query_dict({"prepare_threshold": "none"}) \
            .render_as_string(hide_password=False)

    folder.mkdir(parents=True, exist_ok=True)
    state = _load_state(folder)
    wanted = {"participants": participants, "events_asked": events, "seed": seed,
              "shape": shape}
    if state and any(state.get(k) != v for k, v in wanted.items()):
        sys.exit(f"{folder / 'state.json'} describes another data set: remove {folder} "
                 "(and the database) or give the same sizes, seed and shape")
    state = {**wanted, "done": [], "seconds": {}, **state}
    keys = folder / "bench-keys.toml"
    if "prepared" not in state["done"]:
        started = time.perf_counter()
        state["structures"] = prepare_database(url, keys)
        state["operations"] = create_operations(url, state["structures"]["62-A6"])
        state["done"].append("prepared")
        state["seconds"]["prepared"] = round(time.perf_counter() - started, 1)
        _save_state(folder, state)
        log("migrated, programme file loaded, structures and operations created")
    who = SHAPES[shape]
    if "events" not in state["done"]:
        # The people and their enrolments are needed in memory to write the events: they
        # are generated again (the same, from the seed) whenever events remain to load.
        started = time.perf_counter()
        rng = random.Random(seed)
        people = write_participants(folder / "participants.csv", participants, rng,
                                    born_from=who.born_from, born_days=who.born_days,
                                    ase_share=who.ase_share)
        enrolled = write_spread_enrolments(folder / "enrolments.csv", people,
                                           state["structures"], rng, who.actions)
        log(f"generated {participants:,} participants, {len(enrolled):,} enrolments in "
            f"{time.perf_counter() - started:.1f}s")
        for kind in ("participants", "enrolments"):
            if kind in state["done"]:
                continue
            log(f"importing {kind} (one transaction; no progress until it ends)")
            figures = import_file(kind, folder / f"{kind}.csv", url, keys, workers)
            state["done"].append(kind)
            state["seconds"][kind] = figures["seconds"]
            state[f"{kind}_rows"] = figures["rows"]
            _save_state(folder, state)
            log(f"imported {kind}: {figures['rows']:,} rows in {figures['seconds']}s "
                f"({figures['rows_per_s']:,}/s), statistics {figures['analyze_s']}s")
        started = time.perf_counter()
        participant_ids = ids_in_order(plain, Participant)
        enrolment_ids = ids_in_order(plain, Enrolment)
        firsts: dict[int, tuple[str, Window]] = {}
        for row, enrolment_id in zip(enrolled, enrolment_ids, strict=True):
            firsts.setdefault(row.person, (enrolment_id, Window(row.start, row.end)))
        count = write_events(folder / "events.csv", participant_ids,
                             [firsts[i][0] for i in range(participants)],
                             [firsts[i][1] for i in range(participants)], events,
                             random.Random(seed + 1),
                             extras=spread_extras(people, enrolled, enrolment_ids,
                                                  state["operations"], who.link_share))
        del people, enrolled, firsts
        size = (folder / "events.csv").stat().st_size / 1e6
        log(f"generated {count:,} events ({size:.0f} MB) in "
            f"{time.perf_counter() - started:.1f}s; importing them (one transaction, about "
            f"{count / 2500 / 60:.0f} min at 2,500/s; no progress until it ends)")
        figures = import_file("events", folder / "events.csv", url, keys, workers)
        state["done"].append("events")
        state["seconds"]["events"] = figures["seconds"]
        state["events"] = figures["rows"]
        _save_state(folder, state)
        log(f"imported events: {figures['rows']:,} rows in {figures['seconds']}s "
            f"({figures['rows_per_s']:,}/s), statistics {figures['analyze_s']}s")
    if "check_results" not in state["done"]:
        started = time.perf_counter()
        state["check_results"] = record_check_results(url, keys, random.Random(seed + 2))
        state["done"].append("check_results")
        state["seconds"]["check_results"] = round(time.perf_counter() - started, 1)
        _save_state(folder, state)
        log(f"recorded {state['check_results']:,} check results in "
            f"{state['seconds']['check_results']}s")
    return state


def dataset(server: str, args: argparse.Namespace) -> tuple[str, Path, dict[str, Any]]:
    """The database of this size: loaded (or its loading resumed) unless its state.json
    says it is complete; migrated to head, vacuumed and analysed either way."""
    import sqlalchemy as sa
    from alembic import command

    from cohort.cli import alembic_config
    name = f"bench_scale_{args.participants}_{args.events}"
    if args.shape != "spread":
        name += f"_{args.shape.replace('-', '_')}"
    folder = args.dir / name
    state = _load_state(folder)
    complete = set(STEPS) <= set(state.get("done", []))
    if args.fresh:
        shutil.rmtree(folder, ignore_errors=True)
        state, complete = {}, False
    if not state:  # start afresh: no leftovers of a load that stopped before its first step
        shutil.rmtree(folder, ignore_errors=True)
    url, existed = _pg_database(server, name, drop=not state)
    if state and not existed:
        sys.exit(f"{folder / 'state.json'} exists but database {name} does not: "
                 "run with --fresh")
    if complete and not args.reuse:
        log(f"{name} is loaded (state.json): measuring it (give --fresh to load again)")
    if not complete:
        log(f"loading {name}: {args.participants:,} participants, {args.events:,} events"
            + (f" (resuming after: {', '.join(state['done'])})" if state.get("done") else ""))
        state = build(url, folder, args.participants, args.events, args.seed, args.workers,
                      args.shape, prepared=not args.no_prepared_imports)
    started = time.perf_counter()
    command.upgrade(alembic_config(url), "head")
    # VACUUM as well as ANALYZE: the state autovacuum leaves a table in once the inserts
    # have settled (visibility map set, so counts may read indexes only), whatever the
    # time since the load.
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE)")
    engine.dispose()
    log(f"migrated to head, vacuumed and analysed in {time.perf_counter() - started:.1f}s")
    return url, folder, state


def schema_facts(url: str) -> dict[str, Any]:
    """What the figures were measured on: partitioned or not, rows, sizes."""
    import sqlalchemy as sa

    engine = sa.create_engine(url)
    facts: dict[str, Any] = {"tables": {}}
    with engine.connect() as conn:
        facts["server"] = conn.exec_driver_sql("SHOW server_version").scalar_one()
        facts["revision"] = conn.exec_driver_sql(
            "SELECT version_num FROM alembic_version").scalar_one()
        for table in ("event", "event_interval", "audit_entry", "enrolment", "participant",
                      "followup_check"):
            kind, partitions = conn.execute(sa.text(
                "SELECT c.relkind, (SELECT count(*) FROM pg_inherits i "
                "WHERE i.inhparent = c.oid) FROM pg_class c JOIN pg_namespace n "
                "ON n.oid = c.relnamespace WHERE n.nspname = current_schema() "
                "AND c.relname = :t"), {"t": table}).one()
            size = conn.execute(sa.text(  # a plain table has no partition tree
                "SELECT coalesce((SELECT sum(pg_total_relation_size(relid)) FROM "
                "pg_partition_tree(CAST(:t AS regclass))), "
                "pg_total_relation_size(CAST(:t AS regclass)))"), {"t": table}).scalar_one()
            rows = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()  # noqa: S608 - fixed names
            facts["tables"][table] = {"partitioned": kind == "p", "relkind": kind,
                                      "partitions": int(partitions), "rows": int(rows),
                                      "size_mb": round(int(size or 0) / 2**20)}
        facts["database_mb"] = round(conn.exec_driver_sql(
            "SELECT pg_database_size(current_database())").scalar_one() / 2**20)
    engine.dispose()
    return facts


# --- the hot standby -----------------------------------------------------------------------

class Replica:
    """A hot standby of ``primary`` (a Cluster), made with pg_basebackup -R, as
    tests/conftest.py's ``pg_replica``: same binaries, same user, a unix socket of its own."""

    def __init__(self, folder: Path, primary: Cluster) -> None:
        self.folder, self.primary = folder, primary
        self.data = folder / "data"
        self.running = False

    def make(self) -> float:
        if (self.data / "postmaster.pid").exists():  # left running by a run that died
            _as_postgres([f"{PGBIN}/pg_ctl", "-D", str(self.data), "-m", "immediate", "-w",
                          "stop"])
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        started = time.perf_counter()
        _as_postgres([f"{PGBIN}/pg_basebackup", "-h", str(self.primary.folder), "-U",
                      "postgres", "-D", str(self.data), "-R", "-X", "stream", "-c", "fast",
                      "--no-sync", "--no-manifest"])
        seconds = time.perf_counter() - started
        _as_postgres([f"{PGBIN}/pg_ctl", "-D", str(self.data), "-l",
                      f"{self.folder}/server.log", "-w", "-t", "120", "-o",
                      f"-c listen_addresses='' -c unix_socket_directories='{self.folder}' "
                      "-c fsync=off -c hot_standby_feedback=on", "start"])
        self.running = True
        return seconds

    def url(self, primary_url: str) -> str:
        import sqlalchemy as sa

        return sa.make_url(primary_url).update_query_dict({"host": str(self.folder)}) \
            .render_as_string(hide_password=False)

    def stop(self) -> None:
        if self.running:
            _as_postgres([f"{PGBIN}/pg_ctl", "-D", str(self.data), "-m", "fast", "-w",
                          "stop"])
            self.running = False


def wait_for_replay(primary_url: str, replica_url: str) -> float:
    """Until the standby has replayed all the primary has written; the seconds waited."""
    import sqlalchemy as sa

    started = time.perf_counter()
    primary = sa.create_engine(primary_url, poolclass=sa.NullPool)
    standby = sa.create_engine(replica_url, poolclass=sa.NullPool)
    try:
        with primary.connect() as conn:
            target = conn.exec_driver_sql("SELECT pg_current_wal_lsn()").scalar_one()
        with standby.connect() as conn:
            while time.perf_counter() - started < REPLAY_TIMEOUT_S:
                if conn.exec_driver_sql("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn",
                                        (target,)).scalar_one():
                    return time.perf_counter() - started
                conn.rollback()
                time.sleep(0.05)
        raise RuntimeError(f"the standby did not replay up to {target} "
                           f"in {REPLAY_TIMEOUT_S} s")
    finally:
        primary.dispose()
        standby.dispose()


def server_cpu_seconds(data: Path) -> float:
    """CPU seconds used so far by a PostgreSQL server: its postmaster (with the children it
    has reaped: closed backends, parallel workers) and its live children, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    postmaster = int((data / "postmaster.pid").read_text().split()[0])
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        pid, ppid = int(entry.name), int(fields[1])
        if pid == postmaster:
            total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        elif ppid == postmaster:
            total += int(fields[11]) + int(fields[12])
    return total / tick


# --- measuring (in a process of its own) -----------------------------------------------------

def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class Meter:
    """Times a call: wall seconds, CPU of this process, CPU of the server that answers."""

    def __init__(self, servers: dict[str, Path]) -> None:
        self.servers = servers

    def once(self, call: Callable[[], Any], where: str) -> tuple[Any, float, float, float]:
        data = self.servers[where]
        server, cpu, started = (server_cpu_seconds(data), time.process_time(),
                                time.perf_counter())
        result = call()
        wall = time.perf_counter() - started
        return (result, wall, time.process_time() - cpu, server_cpu_seconds(data) - server)

    def runs(self, call: Callable[[], Any], where: str, runs: int, *,
             digest: Callable[[Any], str] | None = None,
             check: Callable[[Any], None] | None = None, ms: bool = False,
             slow: tuple[float, int] | None = None) -> dict[str, Any]:
        """``runs`` timed calls after a warm-up; ``slow=(seconds, fewer)``: only ``fewer``
        when the warm-up took longer than that (a page far over its target)."""
        started = time.perf_counter()
        first = call()
        if slow is not None and time.perf_counter() - started > slow[0]:
            runs = slow[1]
        if check:
            check(first)
        expected = digest(first) if digest else None
        walls, cpus, servers = [], [], []
        for _ in range(runs):
            result, wall, cpu, server = self.once(call, where)
            if check:
                check(result)
            if digest:
                found = digest(result)
                expected = expected or found
                assert found == expected, "the same request gave other figures"
            walls.append(wall)
            cpus.append(cpu)
            servers.append(server)
        scale, unit = (1000, "ms") if ms else (1, "s")
        nd = 1 if ms else 3
        figures: dict[str, Any] = {
            f"median_{unit}": round(statistics.median(walls) * scale, nd),
            f"max_{unit}": round(max(walls) * scale, nd),
            f"median_cpu_{unit}": round(statistics.median(cpus) * scale, nd),
            f"median_server_cpu_{unit}": round(statistics.median(servers) * scale, nd),
            "runs": len(walls), "load": round(os.getloadavg()[0], 2),
        }
        if not ms:
            figures["runs_s"] = [round(w, 3) for w in walls]
        if expected:
            figures["digest"] = expected
        return figures


def _evaluator(app: Any) -> tuple[Any, str]:
    """The bench's evaluator (a DDETS user, made once) and a fresh API token."""
    import sqlalchemy as sa

    from cohort.actors import SYSTEM
    from cohort.db import unit_of_work
    from cohort.models import Structure, User
    from cohort.services import accounts
    from cohort.services.structures import create_structure

    now = dt.datetime.now(dt.UTC)
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        user = accounts.user_by_email(s, EVALUATOR_EMAIL)
        if user is None:
            ddets = s.execute(sa.select(Structure).where(
                Structure.name == "DDETS (bench)")).scalar_one_or_none()
            if ddets is None:
                ddets = create_structure(s, SYSTEM, {"name": "DDETS (bench)", "kind": "ddets",
                                                     "departement": "62"})
            user = accounts.create_user(s, SYSTEM, {
                "email": EVALUATOR_EMAIL, "display_name": "Évaluation (bench)",
                "structure_id": ddets.uuid, "role": "evaluator", "password": None}, now=now)
        secret = accounts.create_token(s, SYSTEM, user, label="bench/scale.py", days=1,
                                       now=now).secret
        user_id = user.id
    with app.extensions["cohort.sessionmaker"]() as s:
        return s.get(User, user_id), secret


def _signed_in(app: Any, user: Any) -> Any:
    """A test client with a web session of ``user``, as the login form gives one."""
    from cohort.db import unit_of_work
    from cohort.models import User
    from cohort.services import web_sessions

    client = app.test_client()
    limits = web_sessions.Limits(idle=dt.timedelta(minutes=app.config["SESSION_IDLE_MINUTES"]),
                                 lifetime=dt.timedelta(hours=app.config["SESSION_MAX_HOURS"]))
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        token = web_sessions.open_session(s, s.get(User, user.id), now=dt.datetime.now(dt.UTC),
                                          limits=limits)
    with client.session_transaction() as sess:
        sess["sid"] = token
    return client


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """The child process: every timing of the module's docstring; figures as a dict."""
    import sqlalchemy as sa
    from click.testing import CliRunner
    from flask.cli import ScriptInfo

    from cohort import clock, create_app
    from cohort.actors import SYSTEM
    from cohort.cli import cli
    from cohort.indicators import published, queries
    from cohort.indicators.base import Cut
    from cohort.models import Programme
    from cohort.reference import actions_of
    from cohort.report import model
    from cohort.report.html import to_html
    from cohort.report.xlsx import to_xlsx
    from cohort.request_db import read_source
    from cohort.request_db import statistics as read_sessions

    primary_url, replica_url = spec["primary_url"], spec["replica_url"]
    runs, http_runs = spec["runs"], spec["http_runs"]
    meter = Meter({"primary": Path(spec["primary_data"]), "replica": Path(spec["replica_data"])})
    base = {"DATABASE_URL": primary_url, "KEYS_FILE": spec["keys"],
            "SESSION_COOKIE_SECURE": False}
    apps = {"primary": create_app(base),
            "replica": create_app({**base, "READ_DATABASE_URL": replica_url})}
    settings = apps["primary"].config
    evaluator, secret = _evaluator(apps["primary"])
    primary_engine = apps["primary"].extensions["cohort.engine"]
    with primary_engine.begin() as conn:  # every run publishes afresh
        emptied = conn.exec_driver_sql("DELETE FROM published_aggregate").rowcount
    wait_for_replay(primary_url, replica_url)
    figures: dict[str, Any] = {"report_workers": settings["REPORT_WORKERS"],
                               "store_rows_deleted": emptied}
    today = clock.today()
    as_of = published.last_complete_month_end(today)
    cut = {"programme": PROGRAMME_CODE, "departement": "62", "mode": "published"}
    figures["cut"] = {"departement": "62", "period": "the programme's (2023)",
                      "as_of": as_of.isoformat(), "mode": "published", "grain": "quarter"}

    @contextmanager
    def reads(where: str) -> Iterator[Any]:
        """A session of the app's read path: the primary's, or the replica's."""
        app = apps[where]
        with app.test_request_context(), read_sessions(audited=False) as (s, _):
            yield s
            source = read_source()
            assert (source is not None and source.replica) == (where == "replica"), source

    # 1. Live, on the primary and on the replica.
    def indicators(where: str) -> dict[str, Any]:
        with reads(where) as s:
            return queries.indicators(s, SYSTEM, dict(cut), settings, today=today,
                                      now=clock.now())

    def cohorts(where: str) -> dict[str, Any]:
        with reads(where) as s:
            return queries.cohorts(s, SYSTEM, {**cut, "grain": "quarter"}, settings,
                                   today=today, now=clock.now())

    def report(where: str) -> dict[str, Any]:
        with reads(where) as s:
            built = model.build(s, SYSTEM, {"programme": PROGRAMME_CODE, "departement": "62",
                                            "year": 2023, "mode": "published",
                                            "format": "bench"}, settings, today=today)
        assert to_html(built)
        assert to_xlsx(built)
        return built

    figures["live"] = {}
    for where in ("primary", "replica"):
        for name, call in (("indicators", indicators), ("cohorts", cohorts),
                           ("report", report)):
            found = meter.runs(lambda c=call, w=where: c(w), where, runs, digest=_digest)
            figures["live"][f"{name}@{where}"] = found
            log(f"live {name} on the {where}: {found['median_s']} s (CPU here "
                f"{found['median_cpu_s']} s, server {found['median_server_cpu_s']} s)")
    sample = indicators("primary")
    figures["indicators"] = sum(len(a["indicators"]) for a in sample["actions"])
    figures["accompanied"] = {a["code"]: next((i["value"] for i in a["indicators"]
                                              if i["code"] == "accompanied"), None)
                              for a in sample["actions"]}

    # 2. and 5. The evaluator's requests.
    api = {"indicators API": ("/api/v1/indicators", "indicators.query"),
           "cohorts API": ("/api/v1/cohorts", "cohorts.query"),
           "indicators page": ("/indicateurs", "indicators.query"),
           "cohorts page": ("/cohortes", "cohorts.query")}
    query = {"programme": PROGRAMME_CODE, "departement": "62"}

    def last_source(action: str) -> str:
        with primary_engine.connect() as conn:
            details = conn.execute(sa.text(
                "SELECT details FROM audit_entry WHERE actor_user_id = :u AND action = :a "
                "ORDER BY id DESC LIMIT 1"), {"u": evaluator.id, "a": action}).scalar_one()
        details = json.loads(details) if isinstance(details, str) else details
        return str(details.get("source", "live"))

    def clients(where: str) -> dict[str, Any]:
        token = apps[where].test_client()
        token.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"
        page = _signed_in(apps[where], evaluator)
        return {"API": token, "page": page}

    def request(where: str, name: str, made: dict[str, Any]) -> Any:
        path, _action = api[name]
        client = made["API" if name.endswith("API") else "page"]
        return client.get(path, query_string=query)

    def checker(where: str, name: str, source: str) -> Callable[[Any], None]:
        def check(response: Any) -> None:
            assert response.status_code == 200, (name, response.status_code,
                                                 response.get_data(as_text=True)[:500])
            found = last_source(api[name][1])
            assert found == source, f"{name} on the {where}: source {found}, not {source}"
            header = response.headers.get("Cohort-Read-Source", "")
            assert header.startswith("replica") == (where == "replica"), header
        return check

    figures["evaluator_live"] = {}
    made = clients("primary")
    for name in api:
        response, wall, cpu, server = meter.once(lambda n=name: request("primary", n, made),
                                                 "primary")
        # A live query longer than AGGREGATE_TIMEOUT_SECONDS is stopped: 503 (the API) or
        # the page's refusal; what the evaluator gets, so it is a figure too.
        status = response.status_code
        refused = status == 503 or "took longer than" in response.get_data(as_text=True)
        if not refused:
            checker("primary", name, "live")(response)
        figures["evaluator_live"][name] = {"s": round(wall, 3), "cpu_s": round(cpu, 3),
                                           "server_cpu_s": round(server, 3),
                                           "status": status, "stopped": refused,
                                           "load": round(os.getloadavg()[0], 2)}
        log(f"evaluator {name}, live (nothing published): {wall:.3f} s, HTTP {status}"
            + (" (stopped by the aggregate time-out)" if refused else ""))

    # 3. cohort publish, on the primary.
    runner = CliRunner()

    def publish() -> str:
        done = runner.invoke(cli, ["publish", "--programme", PROGRAMME_CODE],
                             obj=ScriptInfo(create_app=lambda: apps["primary"]),
                             catch_exceptions=False)
        assert done.exit_code == 0, done.output
        return done.output

    output, wall, cpu, server = meter.once(publish, "primary")
    figures["publish"] = {"s": round(wall, 2), "cpu_s": round(cpu, 2),
                          "server_cpu_s": round(server, 2), "load": round(os.getloadavg()[0], 2),
                          "output": output.strip().splitlines()[-1]}
    log(f"cohort publish: {wall:.1f} s — {figures['publish']['output']}")
    output, wall, cpu, server = meter.once(publish, "primary")
    assert "nothing written" in output, output
    figures["publish_again"] = {"s": round(wall, 3), "output": output.strip()}
    figures["replay_after_publish_s"] = round(wait_for_replay(primary_url, replica_url), 2)

    # 4. The store's freshness check alone (the 62 indicator set's cut): the cut's row,
    # then the writes logged since it was computed.
    def fresh(where: str) -> int | None:
        with reads(where) as s:
            programme = s.execute(sa.select(Programme).where(
                Programme.code == PROGRAMME_CODE)).scalar_one()
            actions = actions_of(s, programme, departement="62")
            key = published.cut_key(
                "indicators", PROGRAMME_CODE, [a.code for a in actions],
                Cut(period_from=programme.period_start, period_to=programme.period_end,
                    as_of=as_of, recorded_before=None),
                queries.rules_for(SYSTEM, actions, "published", settings))
            found = published.current(s, programme, key)
            assert found is not None, "the 62 indicator set is not served from the store"
            return found

    figures["freshness_check"] = {}
    for where in ("primary", "replica"):
        figures["freshness_check"][where] = meter.runs(lambda w=where: fresh(w), where,
                                                       http_runs, ms=True, digest=str)
        log(f"store freshness check on the {where}: "
            f"{figures['freshness_check'][where]['median_ms']} ms")

    figures["evaluator_store"] = {}
    for where in ("primary", "replica"):
        made = clients(where)
        for name in api:
            found = meter.runs(lambda w=where, n=name, m=made: request(w, n, m), where,
                               http_runs, ms=True, check=checker(where, name, "published"),
                               slow=(SLOW_REQUEST_S, runs))
            figures["evaluator_store"][f"{name}@{where}"] = found
            log(f"evaluator {name} on the {where}, from the store: median "
                f"{found['median_ms']} ms, max {found['max_ms']} ms (CPU here "
                f"{found['median_cpu_ms']} ms, server {found['median_server_cpu_ms']} ms)")

    if spec["writes"]:
        figures["after_writes"] = writes_then_store(spec, apps, meter, fresh, clients, request,
                                                    checker)
    for app in apps.values():
        app.extensions["cohort.engine"].dispose()
        if "cohort.read_engine" in app.extensions:
            app.extensions["cohort.read_engine"].dispose()
    figures["peak_rss_mb"] = round(_peak_rss_kib() / 1024)
    return figures


def writes_then_store(spec: dict[str, Any], apps: dict[str, Any], meter: Meter,
                      fresh: Callable[[str], Any], clients: Callable[[str], Any],
                      request: Callable[..., Any],
                      checker: Callable[..., Callable[[Any], None]]) -> list[dict[str, Any]]:
    """6. Contact events dated today (after the stored cuts' as-of date), each recorded in
    a transaction of its own through the events service, as POST /api/v1/events records
    one, up to each total of ``--writes`` in turn; at each, the freshness check and the
    indicators API again. The cuts stay current (a write dated after A cannot change
    them), but the check reads the change log's rows written since the cut was computed
    (one per writing statement on PostgreSQL, migration 0024)."""
    import uuid

    import sqlalchemy as sa

    from cohort import clock
    from cohort.actors import SYSTEM
    from cohort.db import unit_of_work
    from cohort.services import events

    app = apps["primary"]
    engine, factory = app.extensions["cohort.engine"], app.extensions["cohort.sessionmaker"]
    keyring = app.extensions["cohort.keyring"]
    with engine.connect() as conn:
        logged_before = conn.exec_driver_sql("SELECT count(*) FROM data_change").scalar_one()
        people = list(conn.execute(sa.text(
            "SELECT uuid FROM participant ORDER BY id LIMIT :n"),
            {"n": max(spec["writes"])}).scalars())
    today = clock.today()
    done, seconds, cpu_s, stages = 0, 0.0, 0.0, []
    for total in spec["writes"]:
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(done, total):
            with unit_of_work(factory) as s:
                events.record(s, keyring, SYSTEM, {
                    "id": uuid.uuid4(), "participant_id": people[i % len(people)],
                    "type": "contact", "date": today, "enrolment_id": None,
                    "operation_id": None, "closes": None, "attributes": {"mode": "phone"}},
                    today=today, now=clock.now())
        done = max(done, total)
        seconds += time.perf_counter() - started
        cpu_s += time.process_time() - cpu
        with engine.connect() as conn:
            logged = conn.exec_driver_sql("SELECT count(*) FROM data_change").scalar_one()
        found: dict[str, Any] = {
            "writes": done, "date": today.isoformat(), "seconds": round(seconds, 1),
            "cpu_s": round(cpu_s, 1), "log_rows_added": int(logged - logged_before),
            "replay_s": round(wait_for_replay(spec["primary_url"], spec["replica_url"]), 2)}
        log(f"recorded {done:,} events dated {today} in {seconds:.1f}s; "
            f"{found['log_rows_added']:,} rows added to the change log")
        for where in ("primary", "replica"):
            found[f"freshness_check@{where}"] = meter.runs(
                lambda w=where: fresh(w), where, spec["http_runs"], ms=True, digest=str)
            made = clients(where)
            found[f"indicators API@{where}"] = meter.runs(
                lambda w=where, m=made: request(w, "indicators API", m), where,
                spec["http_runs"], ms=True,
                check=checker(where, "indicators API", "published"))
            log(f"after {done:,} writes, on the {where}: freshness check "
                f"{found[f'freshness_check@{where}']['median_ms']} ms, indicators API "
                f"from the store {found[f'indicators API@{where}']['median_ms']} ms")
        stages.append(found)
    return stages


def explain_cohorts(url: str, path: Path) -> None:
    """``--explain``: EXPLAIN (ANALYZE, BUFFERS) of the cohort table's statement (quarter
    grain, the evaluator's default cut; computed in internal mode, which the store never
    answers, and the same statement), as ``queries.cohorts`` sends it, into ``path``; its
    slowest nodes on the terminal."""
    import re

    from sqlalchemy import event
    from sqlalchemy.orm import sessionmaker

    from cohort import clock
    from cohort.actors import SYSTEM
    from cohort.config import load_settings
    from cohort.db import make_engine
    from cohort.indicators import published, queries

    engine = make_engine(url)
    sent: list[tuple[str, Any]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _keep(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any,
              executemany: bool) -> None:
        sent.append((statement, parameters))

    settings = load_settings({"DATABASE_URL": url}, env={})
    with sessionmaker(engine)() as s:
        # Internal mode: the same statement, never answered from the store.
        queries.cohorts(s, SYSTEM, {"programme": PROGRAMME_CODE, "departement": "62",
                                    "mode": "internal", "grain": "quarter",
                                    "as_of": published.last_complete_month_end(
                                        clock.today())}, settings,
                        today=clock.today(), now=clock.now())
        s.rollback()  # its audit entry
    statement, parameters = max(sent, key=lambda item: len(item[0]))  # the cohort table
    event.remove(engine, "before_cursor_execute", _keep)
    with engine.connect() as conn:
        plan = [row[0] for row in conn.exec_driver_sql(
            "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)]
    engine.dispose()
    path.write_text("\n".join(plan) + "\n")
    timed = []
    for line in plan:
        found = re.search(r"actual time=[\d.]+\.\.([\d.]+) rows=\d+ loops=(\d+)", line)
        if found:
            timed.append((float(found[1]) * int(found[2]), line.strip()[:150]))
    print(f"plan written to {path}; {plan[-1]}; the nodes with most time (time × loops):")
    for total, line in sorted(timed, reverse=True)[:15]:
        print(f"{total / 1000:>8.1f} s  {line}")


# --- the whole run -----------------------------------------------------------------------

def _verdicts(result: dict[str, Any]) -> None:
    live, store = result["live"], result["evaluator_store"]
    result["meets_report"] = all(live[f"report@{w}"]["median_s"] <= TARGET_REPORT_S
                                 for w in ("primary", "replica"))
    result["meets_store"] = {name: found["median_ms"] <= TARGET_STORE_MS
                             for name, found in store.items()}


def _layout(table: dict[str, Any]) -> str:
    return f"partitioned ({table['partitions']} partitions)" if table["partitioned"] \
        else "not partitioned"


def print_table(result: dict[str, Any]) -> None:
    facts = result["schema"]
    tables = facts["tables"]
    print(f"\n{result['participants']:,} participants, {tables['event']['rows']:,} events, "
          f"database {facts['database_mb']:,} MB; PostgreSQL {facts['server']}, "
          f"revision {facts['revision']}; "
          + "; ".join(f"{t} {_layout(tables[t])}"
                      for t in ("event", "event_interval", "audit_entry")))
    print(f"load average before {result['load_before']}, after {result['load_after']}; "
          f"REPORT_WORKERS={result['report_workers']}; replica made in "
          f"{result['basebackup_s']} s")
    print(f"\n{'live (median of ' + str(result['runs']) + ')':<34}{'wall s':>9}{'CPU here':>10}"
          f"{'server CPU':>12}{'load':>7}")
    for key, found in result["live"].items():
        print(f"{key:<34}{found['median_s']:>9.3f}{found['median_cpu_s']:>10.3f}"
              f"{found['median_server_cpu_s']:>12.3f}{found['load']:>7.2f}")
    print(f"\n{'evaluator, live (one request)':<34}{'wall s':>9}{'CPU here':>10}"
          f"{'server CPU':>12}{'load':>7}")
    for key, found in result["evaluator_live"].items():
        print(f"{key:<34}{found['s']:>9.3f}{found['cpu_s']:>10.3f}{found['server_cpu_s']:>12.3f}"
              f"{found['load']:>7.2f}"
              + (f"  stopped by the time-out (HTTP {found['status']})" if found["stopped"]
                 else ""))
    pub = result["publish"]
    print(f"\ncohort publish: {pub['s']} s (CPU here {pub['cpu_s']} s, server "
          f"{pub['server_cpu_s']} s, load {pub['load']}); again: {result['publish_again']['s']} s")
    print(f"\n{'from the store (' + str(result['http_runs']) + ' requests)':<34}"
          f"{'median ms':>10}{'max ms':>9}{'CPU here':>10}{'server CPU':>12}{'load':>7}  ≤ 200 ms")
    for key in ("primary", "replica"):
        found = result["freshness_check"][key]
        print(f"{'freshness check only@' + key:<34}{found['median_ms']:>10.1f}"
              f"{found['max_ms']:>9.1f}"
              f"{found['median_cpu_ms']:>10.1f}{found['median_server_cpu_ms']:>12.1f}"
              f"{found['load']:>7.2f}")
    for key, found in result["evaluator_store"].items():
        verdict = "met" if result["meets_store"][key] else "MISSED"
        print(f"{key:<34}{found['median_ms']:>10.1f}{found['max_ms']:>9.1f}"
              f"{found['median_cpu_ms']:>10.1f}{found['median_server_cpu_ms']:>12.1f}"
              f"{found['load']:>7.2f}  {verdict}")
    for after in result.get("after_writes", []):
        print(f"\nafter {after['writes']:,} events dated {after['date']} (recorded one by one "
              f"in {after['seconds']} s; {after['log_rows_added']:,} change-log rows):")
        for key in ("freshness_check@primary", "freshness_check@replica",
                    "indicators API@primary", "indicators API@replica"):
            found = after[key]
            print(f"{key:<34}{found['median_ms']:>10.1f}{found['max_ms']:>9.1f}"
                  f"{found['median_cpu_ms']:>10.1f}{found['median_server_cpu_ms']:>12.1f}"
                  f"{found['load']:>7.2f}")
    print(f"\ntargets: live report ≤ {TARGET_REPORT_S} s "
          f"({'met' if result['meets_report'] else 'MISSED'}); published page ≤ "
          f"{TARGET_STORE_MS} ms (per row above)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=DEFAULT_EVENTS,
                        help=f"events to load (default {DEFAULT_EVENTS:,})")
    parser.add_argument("--participants", type=int, default=None,
                        help=f"default: events / {EVENTS_PER_PARTICIPANT}")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                        help="where the cluster, the replica and the files are kept")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database a previous run loaded (it is anyway when "
                             "its state.json says it is complete; this only says so)")
    parser.add_argument("--fresh", action="store_true",
                        help="drop this size's database and files and load it again")
    parser.add_argument("--build-only", action="store_true",
                        help="load (or resume loading) the database, measure nothing")
    parser.add_argument("--runs", type=int, default=3, help="live timings, after a warm-up")
    parser.add_argument("--http-runs", type=int, default=20,
                        help="requests to the store and freshness checks, after a warm-up")
    parser.add_argument("--writes", default=DEFAULT_WRITES,
                        help="events dated today recorded after publishing: the totals at "
                             "which the store is timed again, comma-separated (default "
                             f"{DEFAULT_WRITES}; 0: none). They stay in the database")
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--workers", type=int, default=None,
                        help="importer worker processes (default: the importer's choice)")
    parser.add_argument("--shape", default="spread", choices=sorted(SHAPES))
    parser.add_argument("--no-prepared-imports", action="store_true",
                        help="load with ?prepare_threshold=none: into partitioned tables "
                             "loaded from empty, psycopg's server-side prepared statements "
                             "made the events importer's look-ups take minutes each "
                             "(docs/performance.md)")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--explain", type=Path, default=None,
                        help="only write the cohort table's EXPLAIN ANALYZE into this file "
                             "(on the primary) and print its slowest nodes")
    parser.add_argument("--measure", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(json.loads(args.measure))))
        return
    args.participants = args.participants or args.events // EVENTS_PER_PARTICIPANT
    args.writes = sorted(int(n) for n in str(args.writes).split(",") if int(n) > 0)
    args.dir.mkdir(parents=True, exist_ok=True)
    load_before = [round(x, 2) for x in os.getloadavg()]
    log(f"load average {load_before}; cluster in {args.dir / 'pg'}")
    cluster = Cluster(args.dir / "pg")
    replica = Replica(args.dir / "replica", cluster)
    server = cluster.start()
    try:
        url, folder, state = dataset(server, args)
        if args.build_only:
            return
        if args.explain:
            explain_cohorts(url, args.explain)
            return
        facts = schema_facts(url)
        event = facts["tables"]["event"]
        log(f"event: relkind '{event['relkind']}' ("
            + _layout(event) + f"), {event['rows']:,} rows, {event['size_mb']:,} MB; "
            f"database {facts['database_mb']:,} MB")
        log("making the hot standby (pg_basebackup -R)")
        basebackup = replica.make()
        replica_url = replica.url(url)
        replay = wait_for_replay(url, replica_url)
        log(f"standby made in {basebackup:.1f}s, replayed in {replay:.1f}s")
        spec = {"primary_url": url, "replica_url": replica_url,
                "keys": str(folder / "bench-keys.toml"), "runs": args.runs,
                "http_runs": args.http_runs, "writes": args.writes,
                "primary_data": str(cluster.data),
                "replica_data": str(replica.data)}
        out = subprocess.run([sys.executable, __file__, "--measure", json.dumps(spec)],
                             check=True, stdout=subprocess.PIPE, text=True)
        figures = json.loads(out.stdout.strip().splitlines()[-1])
    finally:
        replica.stop()
        cluster.stop()
    result = {"date": dt.datetime.now(dt.UTC).date().isoformat(),
              "commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                       capture_output=True, text=True).stdout.strip(),
              "participants": args.participants, "events": state.get("events"),
              "enrolments": state.get("enrolments_rows"), "shape": args.shape,
              "seed": args.seed, "load_seconds": state.get("seconds"),
              "runs": args.runs, "http_runs": args.http_runs, "schema": facts,
              "basebackup_s": round(basebackup, 1), "replay_s": round(replay, 1),
              "load_before": load_before,
              "load_after": [round(x, 2) for x in os.getloadavg()], **figures}
    _verdicts(result)
    print_table(result)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
