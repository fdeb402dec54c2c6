"""The service through PgBouncer in transaction mode (issue 20): Debian's pgbouncer 1.18 in
front of the test cluster (tests/conftest.py ``pg_bouncer``), two server connections per
database shared by every client connection of the app.

- the hot path: coordinators posting events at once, with retries, through the pooler;
- the row locks the services take (SELECT … FOR UPDATE: the audit chain's head, an
  enrolment ended twice at once, a follow-up check recorded twice at once, one identity
  registered by many clients at once) behave as on a direct connection;
- an import and a report on REPORT_WORKERS connections sharing one exported snapshot
  through the pooler give the bytes a direct connection gives.

PostgreSQL only; skipped with its reason when pgbouncer is not installed (CI installs it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.cli import ScriptInfo

from cohort import create_app
from cohort.actors import SYSTEM
from cohort.audit import verify
from cohort.cli import cli
from cohort.db import unit_of_work
from cohort.services import accounts, structures
from tests.builders import token_client
from tests.conftest import Pooler
from tests.http import test_concurrency as concurrency


@pytest.fixture
def pooler(backend: str, request: pytest.FixtureRequest) -> Pooler:
    if backend != "postgresql":
        pytest.skip("PgBouncer is a PostgreSQL pooler")
    found: Pooler = request.getfixturevalue("pg_bouncer")
    return found


@pytest.fixture
def pooled_setting(pooler: Pooler, fresh_database_url: str,
                   keys_file: Path) -> Iterator[Any]:
    """test_concurrency's setting, its app reaching the database through PgBouncer."""
    yield from concurrency.make_setting(pooler.url(fresh_database_url), keys_file)


def test_the_hot_path_through_the_pooler(pooled_setting: Any) -> None:
    concurrency.test_eight_clients_with_retries_record_each_event_once(pooled_setting)


@pytest.mark.parametrize("scenario", [
    concurrency.test_the_same_event_sent_at_once_is_recorded_once,
    concurrency.test_two_coordinators_one_enrolment_one_check,
    concurrency.test_the_same_identity_registered_at_once_is_one_participant,
], ids=["one-event", "one-end-one-check", "one-identity"])
def test_row_locks_through_the_pooler(pooled_setting: Any, scenario: Any) -> None:
    scenario(pooled_setting)
    app = pooled_setting[0]
    with unit_of_work(app.extensions["cohort.sessionmaker"]) as s:
        assert verify(s) == []  # every audited write took the chain's head in turn


def test_an_import_and_a_shared_snapshot_report_through_the_pooler(
        pooler: Pooler, fresh_database_url: str, keys_file: Path) -> None:
    pooled_url = pooler.url(fresh_database_url)
    loader = create_app({"DATABASE_URL": pooled_url, "KEYS_FILE": str(keys_file)})
    loaded = CliRunner().invoke(cli, ["demo", "load", "--participants", "30"],
                                obj=ScriptInfo(create_app=lambda: loader),
                                catch_exceptions=False)
    loader.extensions["cohort.engine"].dispose()
    assert loaded.exit_code == 0, loaded.output
    apps = [create_app({"DATABASE_URL": url, "KEYS_FILE": str(keys_file),
                        "REPORT_WORKERS": 2}) for url in (fresh_database_url, pooled_url)]
    try:
        with unit_of_work(apps[0].extensions["cohort.sessionmaker"]) as s:
            pilot = _pilot(s)
        answers = [token_client(app, pilot).get(
            "/api/v1/reports/erbm-2023/62/2023",
            query_string={"format": "json", "mode": "internal", "as_of": "2024-06-30"})
            for app in apps]
        assert [a.status_code for a in answers] == [200, 200]
        assert answers[1].data == answers[0].data
        assert answers[0].get_json()["actions"][0]["indicators"]
    finally:
        for app in apps:
            app.extensions["cohort.engine"].dispose()


def _pilot(session: Any) -> str:
    """A pilot of the 62 (beside the demo's structures), its API token."""
    now = dt.datetime.now(dt.UTC)
    home = structures.create_structure(session, SYSTEM, {
        "name": "Pilotage des tests du pooler", "kind": "departement", "departement": "62"})
    user = accounts.create_user(session, SYSTEM, {
        "email": "pilot-pooler@example.org", "display_name": "pilot", "structure_id": home.uuid,
        "role": "pilot", "password": None}, now=now)
    secret: str = accounts.create_token(session, SYSTEM, user, label="tests", days=1,
                                        now=now).secret
    return secret
