"""No identity in clear: the SQLite files and the logs of the whole run hold none."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import ISSUED


@pytest.mark.last_in_run
def test_no_identity_in_sqlite_files_or_logs(tmp_path_factory: pytest.TempPathFactory,
                                             all_logs: Path, pytestconfig: pytest.Config
                                             ) -> None:
    import logging

    for handler in logging.getLogger().handlers:
        handler.flush()
    base = tmp_path_factory.getbasetemp()
    files = [p for pattern in ("**/*.db", "**/*.db-wal", "**/*.csv.log") for p in
             base.glob(pattern)] + [all_logs]
    assert ISSUED, "no identity was issued: the check would prove nothing"
    if _sqlite_in_run(pytestconfig):
        assert any(p.suffix == ".db" for p in files), "no SQLite file to inspect"
    needles = {form for value in ISSUED
               for form in (value.encode(), value.upper().encode(), value.lower().encode())}
    leaks = []
    for path in files:
        found = _occurrences(path.read_bytes(), needles)
        leaks += [(path.name, len(form)) for form in found]  # never print the value itself
    assert leaks == []


def _occurrences(content: bytes, needles: set[bytes]) -> set[bytes]:
    """The needles found in content, by anchoring on their first four bytes: one C-speed
    scan per distinct prefix instead of one per needle (thousands of them, large files)."""
    by_prefix: dict[bytes, dict[int, set[bytes]]] = {}
    for needle in needles:
        by_prefix.setdefault(needle[:4], {}).setdefault(len(needle), set()).add(needle)
    found: set[bytes] = set()
    for prefix, by_length in by_prefix.items():
        at = content.find(prefix)
        while at != -1:
            for length, group in by_length.items():
                if content[at:at + length] in group:
                    found.add(content[at:at + length])
            at = content.find(prefix, at + 1)
    return found


@pytest.mark.last_in_run
def test_audit_chains_of_the_run_verify(tmp_path_factory: pytest.TempPathFactory,
                                        pytestconfig: pytest.Config) -> None:
    """Every SQLite database the run committed to still has an intact audit chain."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    from cohort import audit

    checked = 0
    for path in tmp_path_factory.getbasetemp().glob("**/*.db"):
        engine = sa.create_engine(f"sqlite:///{path}")
        try:
            with Session(engine) as session:
                if not sa.inspect(engine).has_table("audit_head"):
                    continue
                if "test_users_tokens" in str(path):  # this CLI test tampers on purpose
                    continue
                assert audit.verify(session) == [], path.name
                checked += 1
        finally:
            engine.dispose()
    assert checked > 0 or not _sqlite_in_run(pytestconfig)


def _sqlite_in_run(config: pytest.Config) -> bool:
    """False in the PostgreSQL-only half of `make test` (its databases live in PostgreSQL)."""
    return config.getoption("--backend") in ("all", "sqlite")
