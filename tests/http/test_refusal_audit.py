"""A refused read is audited without waiting on the request's own transaction.

On SQLite every transaction of the service takes the write lock (BEGIN IMMEDIATE); the
refusal's audit entry is written in a transaction of its own, so the request's must end
first. With the savepoint fixtures of most tests (one shared connection) this cannot show:
here the app has its own connections, as in production.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa

from cohort import create_app
from cohort.db import unit_of_work
from cohort.models import AuditEntry
from tests.builders import cast, register, token_client


def test_reading_another_structures_participant_is_a_prompt_audited_404(
        fresh_database_url: str, keys_file: Path, keyring: Any, tmp_path: Path) -> None:
    app = create_app({"DATABASE_URL": fresh_database_url, "KEYS_FILE": str(keys_file),
                      "ERASURE_LEDGER_FILE": str(tmp_path / "ledger.jsonl")})
    factory = app.extensions["cohort.sessionmaker"]
    with unit_of_work(factory) as s:
        people = cast(s)
        youth = register(s, keyring).uuid
    outsider = token_client(app, people["users"]["coord_plie"][1])

    response = outsider.get(f"/api/v1/participants/{youth}")
    assert response.status_code == 404  # was a 500 ("database is locked") on SQLite
    with unit_of_work(factory) as s:
        refused = s.execute(sa.select(AuditEntry.target_id).where(
            AuditEntry.action == "access.refused")).scalars().all()
    assert refused == [str(youth)]
    app.extensions["cohort.engine"].dispose()
