"""Statistics read on a real streaming replica (issue 20): a hot standby of the test
cluster made with pg_basebackup -R (tests/conftest.py ``pg_replica``).

Writes go to the primary; indicators, cohort tables, reports and their exports are read
on the standby once it has replayed them, and give the primary's figures; the audit
entries of those reads land on the primary; a standby that stops replaying shows the old
figures (so the reads really are on it), and a standby that is down is replaced by the
primary with a warning in the log. PostgreSQL only (SQLite has no replica).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from flask.cli import ScriptInfo

from cohort import create_app
from cohort.cli import cli
from cohort.db import unit_of_work
from tests.builders import cast, enrol, register, runs, token_client
from tests.conftest import Replica, new_database
from tests.web.conftest import sign_in

pytestmark = pytest.mark.first_in_run

CUT = {"programme": "erbm-2023", "period_from": "2023-01-01", "period_to": "2023-12-31",
       "as_of": "2024-06-30", "mode": "internal"}
REPORT = "/api/v1/reports/erbm-2023/62/2023"
REPORT_QUERY = {"format": "json", "mode": "internal", "as_of": "2024-06-30"}


class World:
    def __init__(self, primary_url: str, replica: Replica, keys_file: Path) -> None:
        self.primary_url, self.replica = primary_url, replica
        base = {"DATABASE_URL": primary_url, "KEYS_FILE": str(keys_file),
                "SESSION_COOKIE_SECURE": False, "REPORT_WORKERS": 2}
        self.primary = create_app(base)
        self.routed = create_app({**base, "READ_DATABASE_URL": replica.url(primary_url)})
        with unit_of_work(self.primary.extensions["cohort.sessionmaker"]) as s:
            self.people = cast(s)

    def client(self, app: Any, login: str) -> Any:
        return token_client(app, self.people["users"][login][1])

    def both(self, login: str, url: str, **query: Any) -> tuple[Any, Any]:
        """The same request answered by the primary alone and by the routed app."""
        return (self.client(self.primary, login).get(url, query_string=query),
                self.client(self.routed, login).get(url, query_string=query))

    def audits(self, action: str) -> int:
        engine = self.primary.extensions["cohort.engine"]
        with engine.connect() as conn:
            return int(conn.execute(sa.text(
                "SELECT count(*) FROM audit_entry WHERE action = :a"), {"a": action}).scalar_one())

    def replay(self, paused: bool) -> None:
        engine = sa.create_engine(self.replica.url(self.primary_url), poolclass=sa.NullPool)
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT pg_wal_replay_pause()" if paused
                                 else "SELECT pg_wal_replay_resume()")
            conn.commit()
        engine.dispose()


@pytest.fixture(scope="module")
def world(backend: str, keys_file: Path, tmp_path_factory: pytest.TempPathFactory,
          request: pytest.FixtureRequest) -> Iterator[World]:
    if backend != "postgresql":
        pytest.skip("a streaming replica is PostgreSQL only (SQLite has no READ_DATABASE_URL)")
    replica: Replica = request.getfixturevalue("pg_replica")
    url = new_database(backend, tmp_path_factory.mktemp("replica"), request)
    made = World(url, replica, keys_file)
    loader = create_app({"DATABASE_URL": url, "KEYS_FILE": str(keys_file)})
    loaded = CliRunner().invoke(cli, ["demo", "load", "--participants", "40"],
                                obj=ScriptInfo(create_app=lambda: loader),
                                catch_exceptions=False)
    loader.extensions["cohort.engine"].dispose()
    assert loaded.exit_code == 0, loaded.output
    replica.wait_for(url)
    yield made
    for app in (made.primary, made.routed):
        app.extensions["cohort.engine"].dispose()
        if "cohort.read_engine" in app.extensions:
            app.extensions["cohort.read_engine"].dispose()


def test_indicators_cohorts_and_exports_read_on_the_replica_match_the_primary(
        world: World) -> None:
    before = world.audits("indicators.query"), world.audits("cohorts.query")
    for url, query in (("/api/v1/indicators", {**CUT, "departement": "62"}),
                       ("/api/v1/indicators", {**CUT, "departement": "62", "format": "csv"}),
                       ("/api/v1/cohorts", {**CUT, "actions": ["62-A2", "62-A6"]}),
                       ("/api/v1/cohorts", {**CUT, "actions": ["62-A2"], "format": "csv-fr"})):
        primary, routed = world.both("pilot62", url, **query)
        assert primary.status_code == routed.status_code == 200, routed.get_data(as_text=True)
        assert "Cohort-Read-Source" not in primary.headers
        assert routed.headers["Cohort-Read-Source"].startswith("replica; lag=")
        if query.get("format"):
            assert routed.data == primary.data
        else:
            assert routed.get_json() == primary.get_json()
    # Internal (exact) queries are audited, on the primary, for both apps.
    assert (world.audits("indicators.query"), world.audits("cohorts.query")) == (
        before[0] + 4, before[1] + 4)
    accompanied = next(i for i in primary_indicators(world) if i["code"] == "accompanied")
    assert accompanied["value"] > 0  # real figures, not two empty answers


def primary_indicators(world: World) -> list[dict[str, Any]]:
    answer = world.client(world.primary, "pilot62").get(
        "/api/v1/indicators", query_string={**CUT, "action": "62-A2"}).get_json()
    indicators: list[dict[str, Any]] = answer["actions"][0]["indicators"]
    return indicators


def test_evaluator_published_query_is_audited_on_the_primary(world: World) -> None:
    before = world.audits("indicators.query")
    query = {"programme": "erbm-2023", "period_from": "2023-01-01",
             "period_to": "2023-12-31", "departement": "62"}
    primary, routed = world.both("evaluator", "/api/v1/indicators", **query)
    assert primary.status_code == routed.status_code == 200
    assert routed.get_json() == primary.get_json()
    assert world.audits("indicators.query") == before + 2


def test_the_report_on_two_connections_of_the_replica_is_the_primary_s(world: World) -> None:
    before = world.audits("report.generate")
    primary, routed = world.both("pilot62", REPORT, **REPORT_QUERY)
    assert primary.status_code == routed.status_code == 200
    assert routed.headers["Cohort-Read-Source"].startswith("replica; lag=")
    assert routed.data == primary.data  # same figures and same data fingerprint
    assert world.audits("report.generate") == before + 2


def test_a_standby_that_stops_replaying_shows_the_older_figures_then_catches_up(
        world: World) -> None:
    query = {**CUT, "action": "62-A2"}
    pilot = world.client(world.routed, "pilot62")
    first = pilot.get("/api/v1/indicators", query_string=query).get_json()
    world.replay(paused=True)
    try:
        keyring = world.primary.extensions["cohort.keyring"]
        with unit_of_work(world.primary.extensions["cohort.sessionmaker"]) as s:
            newcomer = register(s, keyring, birth_date=dt.date(1990, 4, 2), ase_past=False)
            enrol(s, keyring, newcomer, "62-A2", runs(s, "62-A2"), dt.date(2023, 3, 1),
                  rsa_at_entry=True)
        on_primary = world.client(world.primary, "pilot62").get(
            "/api/v1/indicators", query_string=query).get_json()
        lagging = pilot.get("/api/v1/indicators", query_string=query).get_json()
        assert accompanied(on_primary) == accompanied(first) + 1  # on the primary at once
        assert lagging == first  # not yet on the paused standby
    finally:
        world.replay(paused=False)
    world.replica.wait_for(world.primary_url)
    assert pilot.get("/api/v1/indicators", query_string=query).get_json() == on_primary


def accompanied(answer: dict[str, Any]) -> int:
    found = next(i for i in answer["actions"][0]["indicators"] if i["code"] == "accompanied")
    return int(found["value"])


def test_the_pages_say_where_their_figures_were_read(world: World) -> None:
    pilot = world.people["users"]["pilot62"][0]
    query = {**CUT, "departement": "62"}
    routed = sign_in(world.routed.test_client(), pilot).get("/indicateurs", query_string=query)
    page = routed.get_data(as_text=True)
    assert routed.status_code == 200, page
    assert "Données lues sur" in page
    assert "la copie de lecture (réplica), retard" in page
    alone = sign_in(world.primary.test_client(), pilot).get("/indicateurs", query_string=query)
    assert "Données lues sur" not in alone.get_data(as_text=True)
    report = sign_in(world.routed.test_client(), pilot).get(
        "/rapports/lire", query_string={"programme": "erbm-2023", "departement": "62",
                                        "year": "2023", "mode": "internal",
                                        "as_of": "2024-06-30"})
    assert report.status_code == 200
    assert "la copie de lecture (réplica)" in report.get_data(as_text=True)


def test_a_replica_that_is_down_falls_back_to_the_primary_with_a_warning(
        world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Last of the module: it stops the standby."""
    world.replica.stop()
    with caplog.at_level(logging.WARNING, logger="cohort.replica"):
        for url, query in (("/api/v1/indicators", {**CUT, "departement": "62"}),
                           (REPORT, REPORT_QUERY)):
            primary, routed = world.both("pilot62", url, **query)
            assert primary.status_code == routed.status_code == 200
            assert routed.headers["Cohort-Read-Source"] == "primary; replica-unavailable"
            assert routed.data == primary.data
    warnings = [r for r in caplog.records if r.name == "cohort.replica"]
    # One warning: the second request does not try the replica again for a while.
    assert len(warnings) == 1
    assert "read replica unreachable" in warnings[0].getMessage()
    page = sign_in(world.routed.test_client(), world.people["users"]["pilot62"][0]).get(
        "/indicateurs", query_string={**CUT, "departement": "62"}).get_data(as_text=True)
    assert "la base principale (réplica de lecture indisponible)" in page
