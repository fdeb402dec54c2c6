"""The import driver: stream the file in chunks, prepare them, apply them in file order.

A kind of import (participants, enrolments, events) is two halves. ``prepare`` is pure and
CPU-bound (schema validation, normalisation, HMAC, encryption): it may run in worker
processes, which receive a chunk of raw rows and return compact results. ``apply`` runs in
the importing process, in file order, inside the one transaction: set-based look-ups per
chunk, the rules that need the database, and the bulk inserts.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.orm import Session

from cohort.importer.csvfile import CsvFile, check_header
from cohort.importer.report import MAX_ERRORS, ErrorLog, ImportFailed, ImportResult

CHUNK_ROWS = 5000
IN_BATCH = 5000  # values per "IN (...)" look-up: under every backend's parameter limit
PARALLEL_FROM_BYTES = 2_000_000  # smaller files are done before worker processes start

RawRows = list[tuple[int, list[str]]]
Prepare = Callable[[Any, RawRows], list[Any]]
Progress = Callable[[int, int], None]  # (bytes done, bytes total)


class Applier(Protocol):
    """The importing half: checks and writes each prepared chunk, then ends the file."""

    def apply(self, prepared: list[Any]) -> None: ...

    def finish(self) -> None: ...


@dataclass(frozen=True)
class Kind:
    """What one kind of import file is: its columns and its two halves."""

    name: str
    columns: Sequence[str]
    required: Sequence[str]
    prepare: Prepare
    check_columns: Callable[[list[str]], list[Any]] | None = None


def default_workers(size: int) -> int:
    """Two worker processes for a big file on a multi-core machine, none for a small one."""
    if size < PARALLEL_FROM_BYTES:
        return 0
    return min(2, os.cpu_count() or 1)


def chunked(rows: Iterable[tuple[int, list[str]]], size: int = CHUNK_ROWS) -> Iterator[RawRows]:
    """Group rows so that look-ups and inserts are set-based, a chunk at a time."""
    chunk: RawRows = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def batches(values: Sequence[Any], size: int = IN_BATCH) -> Iterator[Sequence[Any]]:
    """Slices small enough for one ``IN (...)`` query."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


_WORKER: tuple[Prepare, Any] | None = None


def _init_worker(fn: Prepare, context: Any) -> None:
    global _WORKER
    _WORKER = (fn, context)


def _run_in_worker(rows: RawRows) -> list[Any]:
    if _WORKER is None:  # pragma: no cover - the pool initializer always runs first
        raise RuntimeError("import worker not initialised")
    fn, context = _WORKER
    return fn(context, rows)


def prepared_chunks(fn: Prepare, context: Any, chunks: Iterable[RawRows], *,
                    workers: int) -> Iterator[list[Any]]:
    """``fn(context, chunk)`` for each chunk, in order, in ``workers`` processes (0: here).

    At most two chunks per worker are in flight, so memory stays flat whatever the file
    size. Processes are spawned (not forked): the parent holds database connections. As
    with any spawned pool, a script that imports with workers must guard its entry point
    (``if __name__ == "__main__":``), which the children import again.
    """
    if workers <= 0:
        for chunk in chunks:
            yield fn(context, chunk)
        return
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(workers, initializer=_init_worker, initargs=(fn, context)) as pool:
        pending: deque[Any] = deque()
        for chunk in chunks:
            pending.append(pool.apply_async(_run_in_worker, (chunk,)))
            if len(pending) >= 2 * workers:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


SQLITE_CACHE_KIB = 65536


@contextmanager
def _large_sqlite_cache(session: Session) -> Iterator[None]:
    """A 64 MiB page cache while importing (SQLite's default is 2 MiB).

    Inserting a million events updates six B-trees at random places; with the default
    cache most of those pages are re-read from the OS on every chunk.
    """
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


def run(session: Session, path: str | Path, kind: Kind, context_for: Callable[[list[str]], Any],
        applier_for: Callable[[Any, ImportResult, ErrorLog], Applier], *, workers: int | None,
        progress: Progress | None, dry_run: bool = False,
        every_error: bool = False, keep_ids: bool = False) -> ImportResult:
    """Import one file all-or-nothing: a savepoint around everything, rolled back on errors.

    ``dry_run``: the whole file is checked and applied exactly as for real, then the
    savepoint is rolled back, so the counts are the real run's and nothing is written;
    the row errors are in ``result`` (``ImportFailed`` is not raised). ``every_error``
    (implied by a dry run): read the whole file whatever the number of errors, so every
    refused row is reported and the counts cover the whole file.
    """
    result = ImportResult(kind.name, keep_ids=keep_ids)
    log = ErrorLog(None if every_error or dry_run else MAX_ERRORS)
    savepoint = session.begin_nested()
    try:
        with _large_sqlite_cache(session), CsvFile(path, kind.columns) as source:
            log.extend(check_header(source.columns, kind.columns, kind.required))
            if kind.check_columns is not None:
                log.extend(kind.check_columns(source.columns))
            log.raise_if_any()
            session.flush()
            context = context_for(source.columns)
            applier = applier_for(context, result, log)
            count = workers if workers is not None else default_workers(source.size)
            try:
                chunks = chunked(source.rows(), CHUNK_ROWS)
                for prepared in prepared_chunks(kind.prepare, context, chunks, workers=count):
                    result.rows += len(prepared)
                    applier.apply(prepared)
                    if progress is not None:
                        progress(source.position(), source.size)
                    if log.stopped:
                        break
            except ImportFailed as exc:  # malformed CSV: reading cannot go on
                log.extend(exc.row_errors)
            if not log.errors and not dry_run:
                applier.finish()
            log.raise_if_any(result)
    except ImportFailed as exc:
        savepoint.rollback()
        if not dry_run:
            raise
        result.errors = exc.row_errors
        result.refused = len({e.row for e in exc.row_errors})
        return result
    except BaseException:
        savepoint.rollback()
        raise
    if dry_run:
        savepoint.rollback()
        session.expire_all()
    else:
        savepoint.commit()
    return result
