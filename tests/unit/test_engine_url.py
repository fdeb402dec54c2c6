"""The database URL carries psycopg's prepare_threshold for a transaction-mode pooler (that
the driver then prepares nothing is shown through PgBouncer: tests/scenarios/test_pooler.py)."""

from __future__ import annotations

import pytest

from cohort.db import make_engine

POOLED = "postgresql+psycopg://cohort@/cohort?host=/run/pgbouncer&port=6432"


def test_prepare_threshold_leaves_the_url_for_the_driver_s_arguments() -> None:
    engine = make_engine(f"{POOLED}&prepare_threshold=none")
    assert "prepare_threshold" not in engine.url.query
    assert engine.url.query["port"] == "6432"
    assert "prepare_threshold" not in make_engine(f"{POOLED}&prepare_threshold=0").url.query
    with pytest.raises(ValueError, match="prepare_threshold"):
        make_engine(f"{POOLED}&prepare_threshold=never")
