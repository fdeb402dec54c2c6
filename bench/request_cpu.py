"""CPU per request, in process (run by hand, not a test): what one gunicorn worker spends.

    .venv/bin/python bench/request_cpu.py                 # SQLite, 5 batches of 200
    .venv/bin/python bench/request_cpu.py --batches 7 --size 300
    .venv/bin/python bench/request_cpu.py --backend postgresql   # a throwaway cluster
    .venv/bin/python bench/request_cpu.py --profile /tmp/post.prof    # cProfile of the POSTs

The HTTP benchmark (bench/http_events.py) is bounded by the CPU each request costs: two
workers on two cores cannot answer more than 2 000 / (ms of CPU per request) requests a
second, less the database's and the load generator's share. This script measures that
cost with Flask's test client (no socket, no server), on a fresh SQLite database prepared
as bench/http_events.py prepares it: a contact event posted with a fresh id (what the
HTTP benchmark posts), and an authenticated GET of the structures (the floor: token,
scoping, one small query, JSON) for comparison. It prints the median of the batches'
process CPU time per request, which other processes on the machine disturb far less than
wall time (on PostgreSQL the server's own CPU is not counted: it runs in other processes).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from http_events import prepare  # noqa: E402 - the bench folder is on the path
from indicators import Cluster, _pg_database  # noqa: E402


def per_request_ms(call: Callable[[], None], batches: int, size: int) -> float:
    for _ in range(size // 2):
        call()  # warm-up: statement caches, first connections
    costs = []
    for _ in range(batches):
        started = time.process_time()
        for _ in range(size):
            call()
        costs.append(1000 * (time.process_time() - started) / size)
    return round(statistics.median(costs), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--size", type=int, default=200)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--profile", type=Path, default=None,
                        help="also write a cProfile of one batch of POSTs to this file")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="cohort-request-cpu."))
    folder.chmod(0o755)  # the PostgreSQL cluster runs as another user
    cluster = None
    try:
        if args.backend == "sqlite":
            url = f"sqlite:///{folder / 'bench.db'}"
        else:
            cluster = Cluster(folder / "pg")
            url, _ = _pg_database(cluster.start(), "bench_request_cpu", drop=True)
        measure(url, folder, args)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


def measure(url: str, folder: Path, args: argparse.Namespace) -> None:
    token, people = prepare(url, folder / "keys.toml")
    os.environ.update({"COHORT_DATABASE_URL": url, "COHORT_KEYS_FILE": str(folder / "keys.toml"),
                       "COHORT_LOG_LEVEL": "WARNING"})
    from cohort import create_app

    app = create_app()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def post_contact() -> None:
        body = {"id": str(uuid.uuid4()), "participant_id": random.choice(people),
                "type": "contact", "attributes": {"mode": "phone"},
                "date": f"2023-{random.randint(3, 12):02d}-{random.randint(1, 28):02d}"}
        answer = client.post("/api/v1/events", json=body, headers=headers)
        assert answer.status_code == 201, answer.status_code

    def get_structures() -> None:
        answer = client.get("/api/v1/structures", headers=headers)
        assert answer.status_code == 200, answer.status_code

    print(f"{args.backend}: POST /api/v1/events (contact): "
          f"{per_request_ms(post_contact, args.batches, args.size)} ms of CPU per request")
    print(f"{args.backend}: GET /api/v1/structures:        "
          f"{per_request_ms(get_structures, args.batches, args.size)} ms of CPU per request")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(lambda: [post_contact() for _ in range(args.size)])
        profiler.dump_stats(args.profile)
    app.extensions["cohort.engine"].dispose()


if __name__ == "__main__":
    main()
