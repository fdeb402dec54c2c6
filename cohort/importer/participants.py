"""Import participants: register each row as the API would, in bulk.

Workers validate with the API's RegisterSchema, normalise, hash and seal; the importing
process looks the pseudonyms and NIR hashes up a chunk at a time and inserts the new
participants with one executemany. A person already registered (even spelled otherwise,
or twice in the file) is "unchanged", as the API answers "already known".
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from marshmallow import fields
from sqlalchemy.orm import Session

from cohort.domain import rules
from cohort.errors import CohortError
from cohort.identity.keyring import Keyring
from cohort.importer.csvfile import cells_to_dict
from cohort.importer.pipeline import Kind, Progress, RawRows, batches, run
from cohort.importer.report import (
    ErrorLog,
    ImportResult,
    RowError,
    error_to_rows,
    messages_to_errors,
)
from cohort.models import Participant
from cohort.schemas.participants import RegisterSchema
from cohort.services.participants import nir_hashes_of, participant_columns, pseudonyms_of

SCHEMA = RegisterSchema()
COLUMNS = tuple(SCHEMA.fields)
REQUIRED = tuple(name for name, f in SCHEMA.fields.items() if f.required)
BOOLEANS = frozenset(name for name, f in SCHEMA.fields.items() if isinstance(f, fields.Boolean))


@dataclass(frozen=True)
class Context:
    columns: list[str]
    keyring: Keyring
    today: dt.date


@dataclass(frozen=True, slots=True)
class Ready:
    """A valid row: its look-up keys and the participant row to insert if it is new."""

    row: int
    pseudonyms: tuple[str, ...]
    nir_hashes: dict[int, str]
    values: dict[str, Any]


def prepare(ctx: Context, rows: RawRows) -> list[Ready | list[RowError]]:
    """Validate, normalise, hash and seal each row (pure: runs in worker processes)."""
    out: list[Ready | list[RowError]] = []
    for row, cells in rows:
        values, errors = cells_to_dict(row, ctx.columns, cells, BOOLEANS)
        if errors:
            out.append(errors)
            continue
        try:
            data = SCHEMA.load(values)
        except ma.ValidationError as exc:
            out.append(messages_to_errors(row, exc.messages))
            continue
        try:
            rules.check_birth_date(data["birth_date"], today=ctx.today)
            hashes = pseudonyms_of(ctx.keyring, data)
            nirs = nir_hashes_of(ctx.keyring, data["nir"], data["birth_date"]) \
                if data.get("nir") else {}
        except CohortError as exc:
            out.append(error_to_rows(row, exc))
            continue
        columns = participant_columns(ctx.keyring, data, hashes, nirs, registered_by=None)
        out.append(Ready(row, tuple(hashes.values()), nirs, columns))
    return out


class _Apply:
    def __init__(self, session: Session, result: ImportResult, log: ErrorLog,
                 now: dt.datetime):
        self.conn = session.connection()
        self.result = result
        self.log = log
        self.now = now

    def apply(self, prepared: list[Ready | list[RowError]]) -> None:
        ready = [p for p in prepared if isinstance(p, Ready)]
        for p in prepared:
            if not isinstance(p, Ready):
                self.log.extend(p)
        # Who is already registered, and which NIRs are already held, for the whole chunk.
        known: dict[str, str | None] = {}
        for part in batches(sorted({h for p in ready for h in p.pseudonyms})):
            known.update(self.conn.execute(
                sa.select(Participant.pseudonym, Participant.nir_hash)
                .where(Participant.pseudonym.in_(part))).tuples().all())
        held: set[str] = set()
        for part in batches(sorted({h for p in ready for h in p.nir_hashes.values()})):
            held.update(self.conn.execute(
                sa.select(Participant.nir_hash).where(Participant.nir_hash.in_(part))).scalars())
        new: list[dict[str, Any]] = []
        for p in ready:
            nir_held = any(h in held for h in p.nir_hashes.values())
            found = next((h for h in p.pseudonyms if h in known), None)
            try:
                if found is not None:
                    rules.check_nir_for_known(known[found], p.nir_hashes,
                                              nir_held_elsewhere=nir_held)
                    self.result.unchanged += 1
                    continue
                rules.check_nir_free(nir_held_elsewhere=nir_held)
            except CohortError as exc:
                self.log.extend(error_to_rows(p.row, exc))
                continue
            values = p.values | {"created_at": self.now}
            new.append(values)
            known[values["pseudonym"]] = values["nir_hash"]
            if values["nir_hash"] is not None:
                held.add(values["nir_hash"])
        if new:
            self.conn.execute(sa.insert(Participant), new)
            self.result.created += len(new)

    def finish(self) -> None:
        """Nothing is derived from participants at the end of the file."""


KIND = Kind("participants", COLUMNS, REQUIRED, prepare)


def import_participants(session: Session, keyring: Keyring, path: str | Path, *,
                        today: dt.date, now: dt.datetime, workers: int | None = 0,
                        progress: Progress | None = None) -> ImportResult:
    """Register every row of a participants file, or none (raises ImportFailed)."""
    return run(session, path, KIND, lambda columns: Context(columns, keyring, today),
               lambda result, log: _Apply(session, result, log, now),
               workers=workers, progress=progress)
