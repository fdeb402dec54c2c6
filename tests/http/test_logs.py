"""Logs are JSON lines with a request id; input cannot forge a line; SQL values stay hidden."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import sqlalchemy as sa

from cohort.db import make_engine
from cohort.logs import JsonFormatter


def test_control_characters_cannot_forge_a_log_line() -> None:
    record = logging.LogRecord("cohort", logging.WARNING, __file__, 1,
                               "refused %s", ('x\n{"level": "INFO", "msg": "forged"}\r\x1b[2J',),
                               None)
    line = JsonFormatter().format(record)
    assert "\n" not in line
    assert "\r" not in line
    assert "\x1b" not in line
    assert json.loads(line)["msg"].startswith("refused x\n")


def test_each_response_carries_a_request_id(api: Any) -> None:
    forged = api.client.get("/api/v1/structures", headers={"X-Request-Id": "abc\" injected=\"1"})
    assert "injected" not in forged.headers["X-Request-Id"]
    assert len(forged.headers["X-Request-Id"]) == 36
    kept = api.client.get("/api/v1/structures",
                          headers={"X-Request-Id": "3f0b6a2e-7c1d-4e5f-9a8b-0c1d2e3f4a5b"})
    assert kept.headers["X-Request-Id"] == "3f0b6a2e-7c1d-4e5f-9a8b-0c1d2e3f4a5b"


def test_sql_errors_hide_bound_values(tmp_path: Any) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/x.db")
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE t (name TEXT UNIQUE)"))
        conn.execute(sa.text("INSERT INTO t VALUES (:n)"), {"n": "Secretname Dupont"})
    with pytest.raises(sa.exc.IntegrityError) as caught, engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO t VALUES (:n)"), {"n": "Secretname Dupont"})
    assert "Secretname" not in str(caught.value)
    engine.dispose()
