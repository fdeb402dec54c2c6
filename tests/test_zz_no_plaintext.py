"""No identity in clear: the SQLite files, the PostgreSQL databases and the logs of the
whole run hold none."""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path

import pytest
import sqlalchemy as sa

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


@pytest.mark.last_in_run
def test_no_identity_in_postgresql_databases(pytestconfig: pytest.Config,
                                             request: pytest.FixtureRequest) -> None:
    """Every column of every table of every database on the run's test server, read back
    as text (JSON decoded, bytea as bytes), and the server's log, searched for every
    identity the run issued: case- and accent-insensitively, punctuation and spacing
    folded, so an upper-cased or normalised copy is found too. On the server the run
    started, that is every database of the run (tests/scenarios/test_backup.py makes some
    of its own); on a server given by COHORT_TEST_DATABASE_URL, older ones as well."""
    if pytestconfig.getoption("--backend") not in ("all", "postgresql"):
        pytest.skip("no PostgreSQL database in this run (--backend sqlite)")
    assert ISSUED, "no identity was issued: the check would prove nothing"
    server = request.getfixturevalue("pg_server")
    admin = sa.create_engine(server, poolclass=sa.pool.NullPool)
    with admin.connect() as conn:
        databases = conn.exec_driver_sql(
            "SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY datname"
        ).scalars().all()
    admin.dispose()
    needles = {_fold(value).encode() for value in ISSUED} - {b""}
    leaks: list[tuple[str, str, int]] = []
    scanned = 0
    for name in databases:
        url = sa.make_url(server).set(database=name)
        for table, values in _table_texts(url):
            scanned += 1
            # Each value folded on its own: folding the joined text would glue neighbours
            # (a birth month "2005-03" then a digest 10 would read as a birth date).
            found = _occurrences(b"\0".join(_fold(v).encode() for v in values), needles)
            leaks += [(name, table, len(form)) for form in found]  # never the value itself
    log = Path(sa.make_url(server).query.get("host", "/nonexistent"), "server.log")
    if log.is_file():
        found = _occurrences(_fold(log.read_text(errors="replace")).encode(), needles)
        leaks += [("server.log", "", len(form)) for form in found]
    assert scanned > 0, "no PostgreSQL table to inspect"
    assert leaks == []


def _table_texts(url: sa.URL) -> list[tuple[str, list[str]]]:
    """Each user table of the database with every value of every row, as text."""
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    out = []
    try:
        with engine.connect() as conn:
            columns: dict[tuple[str, str], list[tuple[str, str]]] = {}
            for schema, table, column, type_ in conn.exec_driver_sql(
                    "SELECT c.table_schema, c.table_name, c.column_name, c.data_type "
                    "FROM information_schema.columns c JOIN information_schema.tables t "
                    "USING (table_schema, table_name) WHERE t.table_type = 'BASE TABLE' "
                    "AND c.table_schema NOT IN ('pg_catalog', 'information_schema') "
                    "ORDER BY c.table_schema, c.table_name, c.ordinal_position"):
                columns.setdefault((schema, table), []).append((column, type_))
            for (schema, table), cols in columns.items():
                query = sa.select(*(sa.column(c) if type_ == "bytea"
                                    else sa.cast(sa.column(c), sa.Text) for c, type_ in cols)
                                  ).select_from(sa.table(table, schema=schema))
                values = []
                for row in conn.execute(query):
                    values += [_as_text(value, type_) for value, (_, type_) in zip(
                        row, cols, strict=True) if value is not None]
                out.append((f"{schema}.{table}", values))
    finally:
        engine.dispose()
    return out


def _as_text(value: str | bytes, type_: str) -> str:
    """A column value as the text a reader would see: JSON with its escapes decoded
    ("\\u00e9" is an é), bytes as UTF-8."""
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    if type_ in ("json", "jsonb"):
        return value + "\n" + json.dumps(json.loads(value), ensure_ascii=False)
    return value


_NOT_ALNUM = re.compile(r"[\W_]+")


def _fold(text: str) -> str:
    """Case, accents, punctuation and spacing folded away (domain.md §3 normalisation, in
    lower case), applied alike to what is searched and what is searched for."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _NOT_ALNUM.sub(" ", bare.casefold()).strip()


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
