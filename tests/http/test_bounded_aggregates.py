"""Aggregate queries are bounded (issue 18, finding 4): one evaluator request used to hold
a worker for 30 s until it was killed (HTML 500), and 9999-12-31 raised OverflowError."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort.deadline import statement_deadline
from cohort.errors import StatementTimeout

URL = "/api/v1/cohorts?programme=erbm-2023"


@pytest.mark.parametrize(("query", "field"), [
    ("&grain=month&period_from=0001-01-01&period_to=9998-12-31", "period_from"),
    ("&grain=month&period_from=2023-01-01&period_to=9999-12-31", "period_to"),
    ("&grain=year&period_from=1850-01-01&period_to=2023-12-31", "period_from"),
])
def test_dates_outside_1900_2100_are_a_422(clients: dict[str, Any], query: str,
                                           field: str) -> None:
    for role in ("evaluator", "pilot62", "admin"):
        answer = clients[role].get(URL + query + "&mode=published")
        assert answer.status_code == 422, answer.get_data(as_text=True)[:300]
        assert field in answer.get_json()["errors"]["query"]


@pytest.mark.parametrize(("grain", "period_to", "status"), [
    ("month", "2025-12-31", 200), ("month", "2026-01-31", 422),
    ("quarter", "2032-12-31", 200), ("quarter", "2033-03-31", 422),
    ("year", "2032-12-31", 200), ("year", "2033-12-31", 422),
])
def test_a_cohort_table_covers_a_bounded_span_per_grain(
        clients: dict[str, Any], grain: str, period_to: str, status: int) -> None:
    answer = clients["admin"].get(
        f"{URL}&grain={grain}&period_from=2023-01-01&period_to={period_to}&mode=internal")
    assert answer.status_code == status, answer.get_data(as_text=True)[:300]
    if status == 422:
        assert "period_to" in answer.get_json()["errors"]["json"]


def _slow(session: Session) -> Any:
    """A statement that runs for seconds on either database."""
    if session.get_bind().dialect.name == "sqlite":
        return session.execute(sa.text(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
            "WHERE i < 300000000) SELECT count(*) FROM n")).scalar_one()
    return session.execute(sa.text("SELECT pg_sleep(30)")).scalar_one()


def test_the_database_stops_a_statement_past_its_deadline(session: Session) -> None:
    with pytest.raises(StatementTimeout), statement_deadline(session, 0.2):
        _slow(session)
    session.rollback()
    with statement_deadline(session, 5):  # a quick statement is untouched
        assert session.execute(sa.text("SELECT 1")).scalar_one() == 1


def test_a_query_past_its_deadline_is_a_json_503(
        app: Any, clients: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    from cohort.indicators import queries

    monkeypatch.setattr(queries, "cohort_table", lambda session, *a, **k: _slow(session))
    app.config["AGGREGATE_TIMEOUT_SECONDS"] = 0.2
    answer = clients["admin"].get(f"{URL}&mode=internal")
    assert answer.status_code == 503
    body = answer.get_json()
    assert body["reason"] == "statement_timeout"
    assert "narrow the period" in body["message"]
    assert clients["admin"].get("/api/v1/structures").status_code == 200  # still serving
