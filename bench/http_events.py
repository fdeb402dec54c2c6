"""HTTP benchmark (run by hand, not a test): POST /api/v1/events under gunicorn.

    .venv/bin/pip install -e '.[bench]'          # locust
    .venv/bin/python bench/http_events.py                # SQLite then PostgreSQL, 16 users, 60 s
    .venv/bin/python bench/http_events.py --backends sqlite --users 16 --seconds 60
    apt-get install wrk && .venv/bin/python bench/http_events.py --generator wrk

For each backend it creates a fresh database (SQLite file, or a database on a throwaway
PostgreSQL 15 cluster started like bench/indicators.py does), migrates it, loads the
programme, creates a structure, a coordinator with a token and 200 enrolled participants
through the services, starts `gunicorn --workers 2` on loopback, and runs locust headless
(no think time) against POST /api/v1/events — or wrk (`--generator wrk`, bench/wrk_events.lua),
a C load generator that leaves far more of the two cores to the service than locust. It
reports requests/s, p50/p99 latency and failures, then counts the events in the database:
the count must equal the number of 201 answers (locust lets every user finish its last
request). wrk abandons the requests still in flight when its time is up, which the
service may still store: there the check is acknowledged ≤ stored ≤ sent, and the
difference is reported.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from indicators import Cluster, _pg_database  # noqa: E402 - the bench folder is on the path

BIN = Path(sys.executable).parent
PEOPLE = 200


def prepare(url: str, keys: Path) -> tuple[str, list[str]]:
    """Schema, programme, a coordinator's token and enrolled participants."""
    from alembic import command
    from sqlalchemy.orm import Session

    from cohort.actors import SYSTEM
    from cohort.cli import alembic_config
    from cohort.db import make_engine
    from cohort.identity.keyring import generate_key_file, load_keyring
    from cohort.services import accounts, enrolments, participants, structures
    from cohort.services.programmes import load_programme_file

    generate_key_file(keys, demo=False)
    command.upgrade(alembic_config(url), "head")
    ring = load_keyring(str(keys), env={})
    engine = make_engine(url)
    now = dt.datetime.now(dt.UTC)
    with Session(engine) as s, s.begin():
        load_programme_file(s, ROOT / "config" / "programmes" / "erbm-2023.toml")
        ml = structures.create_structure(s, SYSTEM, {"name": "Mission Locale (bench)",
                                                     "kind": "mission_locale",
                                                     "departement": "62"})
        user = accounts.create_user(s, SYSTEM, {
            "email": "bench@example.org", "display_name": "bench", "structure_id": ml.uuid,
            "role": "coordinator", "password": None}, now=now)
        token = accounts.create_token(s, SYSTEM, user, label="bench", days=1, now=now).secret
        from cohort.models import Action

        a6 = s.query(Action).filter_by(code="62-A6").one()
        ids = []
        for i in range(PEOPLE):
            p = participants.register(s, ring, SYSTEM, {
                "last_name": f"Banc{i:05d}", "first_names": "Essai",
                "birth_date": dt.date(2005, 1 + i % 12, 1 + i % 28), "sex": "F",
                "ase_past": True}, today=now.date()).participant
            enrolments.enrol(s, ring, SYSTEM, {
                "participant_id": p.uuid, "action_id": a6.uuid, "structure_id": ml.uuid,
                "start_date": dt.date(2023, 1, 2), "rsa_at_entry": False},
                today=now.date(), now=now)
            ids.append(str(p.uuid))
    engine.dispose()
    return token, ids


def count_events(url: str) -> int:
    import sqlalchemy as sa

    from cohort.db import make_engine
    from cohort.models import Event

    engine = make_engine(url)
    with engine.connect() as conn:
        n = int(conn.execute(sa.select(sa.func.count()).select_from(Event)).scalar_one())
    engine.dispose()
    return n


def run(backend: str, url: str, folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    keys = folder / "keys.toml"
    token, ids = prepare(url, keys)
    # One token posts as fast as the server answers: lift the per-token and per-structure
    # limits (config/default.toml) above what two cores can serve, as a partner system's
    # token would be configured; the limiter's work on each request stays in the figure.
    env = {**os.environ, "COHORT_DATABASE_URL": url, "COHORT_KEYS_FILE": str(keys),
           "COHORT_LOG_LEVEL": "WARNING",
           "COHORT_API_RATE_LIMIT_PER_TOKEN": "1000000 per minute",
           "COHORT_API_RATE_LIMIT_PER_STRUCTURE": "1000000 per minute"}
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "--workers", str(args.workers), "--threads", str(args.threads),
         "--bind", f"127.0.0.1:{args.port}",
         "--log-level", "warning", "cohort:create_app()"], env=env, cwd=ROOT,
        start_new_session=True)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{args.port}/api/v1/openapi.json")
                break
            except OSError:
                time.sleep(0.2)
        if args.generator == "wrk":
            result = _wrk(args, token, ids, folder)
        else:
            result = _locust(args, token, ids, folder)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    stored = count_events(url)
    if args.generator == "wrk":
        matches = result["acknowledged"] <= stored <= result["sent"]
    else:
        matches = stored == result["acknowledged"]
    return {"backend": backend, "generator": args.generator, "workers": args.workers,
            "threads": args.threads, "users": args.users,
            "seconds": args.seconds, **result, "stored": stored, "count_matches": matches}


def _locust(args: argparse.Namespace, token: str, ids: list[str],
            folder: Path) -> dict[str, Any]:
    stats = folder / "locust"
    subprocess.run(
        [str(BIN / "locust"), "-f", str(ROOT / "bench" / "locustfile.py"), "--headless",
         "--users", str(args.users), "--spawn-rate", str(args.users),
         "--run-time", f"{args.seconds}s", "--host", f"http://127.0.0.1:{args.port}",
         "--stop-timeout", "10",  # users finish their request: acknowledged = answered
         "--csv", str(stats), "--only-summary", "--loglevel", "WARNING"],
        env={**os.environ, "BENCH_TOKEN": token, "BENCH_PARTICIPANTS": json.dumps(ids),
             "BENCH_COUNT_FILE": str(folder / "acknowledged.txt")},
        check=False, capture_output=True, text=True)
    with (folder / "locust_stats.csv").open() as fh:
        row = next(r for r in csv.DictReader(fh) if r["Name"] == "POST /api/v1/events")
    return {"requests": int(row["Request Count"]), "failures": int(row["Failure Count"]),
            "events_per_s": round(float(row["Requests/s"]), 1),
            "p50_ms": float(row["50%"]), "p99_ms": float(row["99%"]),
            "acknowledged": int((folder / "acknowledged.txt").read_text())}


def _wrk(args: argparse.Namespace, token: str, ids: list[str],
         folder: Path) -> dict[str, Any]:
    people = folder / "participants.txt"
    people.write_text("\n".join(ids) + "\n")
    done = subprocess.run(
        ["wrk", "--threads", "2", "--connections", str(args.users),
         "--duration", f"{args.seconds}s", "--timeout", "10s",
         "--script", str(ROOT / "bench" / "wrk_events.lua"),
         f"http://127.0.0.1:{args.port}/api/v1/events"],
        env={**os.environ, "BENCH_TOKEN": token, "BENCH_PARTICIPANTS_FILE": str(people)},
        check=True, capture_output=True, text=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("{"))
    figures = json.loads(line)
    return {"requests": figures["created"] + figures["refused"],
            "failures": figures["refused"] + figures["socket_errors"],
            "events_per_s": round(figures["created"] / figures["duration_s"], 1),
            "p50_ms": figures["p50_ms"], "p99_ms": figures["p99_ms"],
            "max_ms": figures["max_ms"], "acknowledged": figures["created"],
            "sent": figures["sent"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--users", type=int, default=16)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads per worker (gunicorn's gthread worker when > 1)")
    parser.add_argument("--generator", choices=("locust", "wrk"), default="locust")
    args = parser.parse_args()
    results = []
    root = Path(tempfile.mkdtemp(prefix="bench-http."))
    root.chmod(0o755)  # the PostgreSQL cluster below runs as another user
    cluster = None
    try:
        for backend in (b.strip() for b in args.backends.split(",")):
            folder = root / backend
            folder.mkdir()
            if backend == "sqlite":
                url = f"sqlite:///{folder}/bench.db"
            else:
                cluster = Cluster(root / "pg")
                url, _ = _pg_database(cluster.start(), "bench_http", drop=True)
            result = run(backend, url, folder, args)
            print(json.dumps(result), flush=True)
            results.append(result)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps({"date": dt.datetime.now(dt.UTC).date().isoformat(),
                                         "results": results}, indent=2))


if __name__ == "__main__":
    main()
