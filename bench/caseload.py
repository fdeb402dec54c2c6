"""Caseload benchmark (run by hand, not a test): a coordinator's "file active" at 5,000 people.

    .venv/bin/python bench/caseload.py                       # 5,000 + 5,000 people, SQLite
    .venv/bin/python bench/caseload.py --reuse               # the database built last time
    .venv/bin/python bench/caseload.py --people 5000 --others 0 --runs 9

It builds, on SQLite under --dir (default /tmp/bench-caseload), with the project's own path
(migrations, programme file, bench/synthetic.py's CSV files through the importer): a PLIE
following ``--people`` participants (one 62-A1 enrolment each, 30 % ended, so six-month
checks are waiting) and a second PLIE following ``--others`` more, with ``--events-per``
events per person (10: 50,000 for the measured structure; no support breaks, see
``_without_support_breaks``). Then, in this process, a
coordinator of the first PLIE calls the API through Flask's test client (bearer token,
authentication, the service, its audit entry and commit, JSON) and the bench reports the
median of ``--runs`` calls after one warm-up, for:
- page 1 in the default sort (by name: the whole caseload decrypted) and in the others;
- page 1 with a filter (ended enrolments, sorted by due date);
- a search (POST /api/v1/caseload/search) by a common prefix and by a rare one;
and, on its own, the decryption of the structure's sealed identities (the part that grows
with the caseload).
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import platform
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from synthetic import (  # noqa: E402 - the bench folder is put on the path first
    ids_in_order,
    import_file,
    prepare_database,
    write_enrolments,
    write_events,
    write_participants,
)

DEFAULT_DIR = Path("/tmp/bench-caseload")
SECOND = "PLIE 2 (bench)"


def build(folder: Path, people: int, others: int, events_per: int, seed: int) -> None:
    """The database and keys under ``folder`` (generation and import are not timed)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from cohort.actors import SYSTEM
    from cohort.db import make_engine
    from cohort.models import Enrolment, Participant
    from cohort.services.structures import create_structure

    folder.mkdir(parents=True, exist_ok=True)
    db, keys = folder / "caseload.db", folder / "keys.toml"
    for stale in (db, keys, folder / "caseload.db-wal", folder / "caseload.db-shm"):
        stale.unlink(missing_ok=True)
    url = f"sqlite:///{db}"
    structures = prepare_database(url, keys)
    engine = make_engine(url)
    with Session(engine) as session, session.begin():
        second = create_structure(session, SYSTEM, {"name": SECOND, "kind": "plie",
                                                    "departement": "62"})
        second_uuid = str(second.uuid)
    engine.dispose()
    rng = random.Random(seed)
    everyone = write_participants(folder / "participants.csv", people + others, rng)
    starts = write_enrolments(folder / "enrolments.csv", everyone[:people],
                              structures["62-A1"], rng)
    if others:
        starts += write_enrolments(folder / "enrolments-others.csv", everyone[people:],
                                   second_uuid, rng)
    timings = {"participants": import_file("participants", folder / "participants.csv", url,
                                           keys, None)}
    timings["enrolments"] = import_file("enrolments", folder / "enrolments.csv", url, keys, None)
    if others:
        timings["enrolments (others)"] = import_file(
            "enrolments", folder / "enrolments-others.csv", url, keys, None)
    participant_ids = ids_in_order(url, Participant)
    enrolment_ids = ids_in_order(url, Enrolment)
    target = (people + others) * events_per
    write_events(folder / "all-events.csv", participant_ids, enrolment_ids, starts,
                 target * 6 // 5, rng)
    written = _without_support_breaks(folder / "all-events.csv", folder / "events.csv", target)
    timings["events"] = import_file("events", folder / "events.csv", url, keys, None)
    engine = make_engine(url)
    with engine.connect() as conn:
        counts = {name: conn.execute(sa.select(sa.func.count()).select_from(sa.table(name))
                                     ).scalar_one()
                  for name in ("participant", "enrolment", "event", "followup_check")}
    engine.dispose()
    print(json.dumps({"built": str(db), "events_written": written, "rows": counts,
                      "import": {k: v.get("seconds") for k, v in timings.items()}}))


def _without_support_breaks(source: Path, target: Path, limit: int) -> int:
    """The events file without support breaks (synthetic.pathway dates them from before
    the enrolment, which the pathway rules now refuse), cut to ``limit`` rows in date
    order (a cut never leaves an end without its start)."""
    with source.open(encoding="utf-8", newline="") as fh, \
            target.open("w", encoding="utf-8", newline="") as out:
        reader, writer = csv.reader(fh), csv.writer(out)
        header = next(reader)
        writer.writerow(header)
        kind = header.index("type")
        written = 0
        for row in reader:
            if row[kind] in ("support_break", "support_resumed"):
                continue
            if written == limit:
                break
            writer.writerow(row)
            written += 1
    return written


def _median_ms(call: Any, runs: int) -> tuple[float, list[float]]:
    call()  # warm-up (statement caches, pages in the OS cache)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), times


def measure(folder: Path, runs: int) -> dict[str, Any]:
    import sqlalchemy as sa

    from cohort import create_app
    from cohort.actors import SYSTEM, Actor, Role
    from cohort.db import unit_of_work
    from cohort.models import Participant, Structure
    from cohort.services import accounts, caseload

    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'caseload.db'}",
                      "KEYS_FILE": str(folder / "keys.toml"), "SESSION_COOKIE_SECURE": False})
    now = dt.datetime.now(dt.UTC)
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        plie = s.execute(sa.select(Structure).where(Structure.name == "PLIE (bench)")
                         ).scalar_one()
        email = f"coord-{now:%H%M%S%f}@example.org"
        user = accounts.create_user(s, SYSTEM, {
            "email": email, "display_name": "bench", "structure_id": plie.uuid,
            "role": "coordinator", "password": None}, now=now)
        secret = accounts.create_token(s, SYSTEM, user, label="bench", days=1, now=now).secret
        structure_id = plie.id
    client = app.test_client()
    client.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {secret}"

    def get(query: str) -> Any:
        def call() -> None:
            response = client.get(f"/api/v1/caseload{query}")
            assert response.status_code == 200, response.get_json()
        return call

    def search(text: str, **filters: Any) -> Any:
        def call() -> None:
            response = client.post("/api/v1/caseload/search", json={"q": text, **filters})
            assert response.status_code == 200, response.get_json()
        return call

    first = client.get("/api/v1/caseload").get_json()
    results: dict[str, Any] = {"caseload": first["page"]["total"]}
    cases = {
        "page 1, default sort (name)": get(""),
        "page 1, sort by name descending": get("?sort=-name"),
        "page 1, sort by last event (latest first)": get("?sort=-last_event"),
        "page 1, sort by due date": get("?sort=due_date"),
        "page 1, ended enrolments by due date": get("?enrolment=ended&sort=due_date"),
        "page 100 of 100, sort by last event": get("?sort=-last_event&page=100"),
        "search, common prefix (\"ba\")": search("ba"),
        "search, rare prefix (\"cordu\")": search("cordu"),
        "search + filter, sort by last event": search("ba", enrolment="open",
                                                      sort="-last_event"),
    }
    for label, call in cases.items():
        median, times = _median_ms(call, runs)
        results[label] = {"median_ms": round(median, 1),
                          "runs_ms": [round(t, 1) for t in times]}

    # The decryption on its own: read the structure's sealed column, open every seal.
    with app.app_context():
        keyring = app.extensions["cohort.keyring"]
        with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
            actor = Actor(role=Role.COORDINATOR, user_id=None, structure_id=structure_id)
            caseload.require_caseload(actor)
            rows = s.execute(sa.select(Participant.id, Participant.uuid,
                                       Participant.identity_sealed, Participant.identity_version)
                             .where(Participant.id.in_(caseload.followed_ids(structure_id)))
                             ).all()

            def decrypt() -> None:
                caseload._names(keyring, rows)  # noqa: SLF001 - the part measured alone

            def read_sealed() -> None:
                s.execute(sa.select(Participant.id, Participant.uuid,
                                    Participant.identity_sealed, Participant.identity_version)
                          .where(Participant.id.in_(caseload.followed_ids(structure_id)))
                          ).all()

            for label, call in {"read the sealed column (SQL)": read_sealed,
                                "decrypt + normalise the names (Python)": decrypt}.items():
                median, times = _median_ms(call, runs)
                results[label] = {"median_ms": round(median, 1),
                                  "runs_ms": [round(t, 1) for t in times]}
    app.extensions["cohort.engine"].dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=5000,
                        help="participants the measured structure follows")
    parser.add_argument("--others", type=int, default=5000,
                        help="participants followed by another structure only")
    parser.add_argument("--events-per", type=int, default=10)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--reuse", action="store_true",
                        help="measure the database built by a previous run")
    args = parser.parse_args()
    if not (args.reuse and (args.dir / "caseload.db").exists()):
        build(args.dir, args.people, args.others, args.events_per, args.seed)
    results = measure(args.dir, args.runs)
    print(json.dumps({"machine": f"{platform.python_implementation()} "
                                 f"{platform.python_version()}, {os.cpu_count()} CPUs",
                      **results}, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
