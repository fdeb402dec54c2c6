"""Import participants: register each row as the API would, in bulk.

Workers validate with the API's RegisterSchema, normalise, hash and seal; the importing
process looks the pseudonyms and NIR hashes up a chunk at a time and inserts the new
participants with one executemany, then their similarity keys (computed by the workers
too) once the new rows' ids are read back by uuid. A person already registered (even
spelled otherwise, or twice in the file) is "unchanged", as the API answers "already known".
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

from cohort.db import padded
from cohort.domain import rules
from cohort.errors import CohortError
from cohort.identity.keyring import Keyring
from cohort.importer.bulk import BulkInsert
from cohort.importer.csvfile import cells_to_dict
from cohort.importer.pipeline import Kind, Progress, RawRows, batches, run
from cohort.importer.report import (
    ErrorLog,
    ImportResult,
    RowError,
    error_to_rows,
    messages_to_errors,
)
from cohort.models import Participant, ParticipantSimilarityKey
from cohort.schemas.compiled import CompiledSchema
from cohort.schemas.participants import RegisterSchema
from cohort.services.participants import (
    nir_hashes_of,
    participant_columns,
    pseudonyms_of,
    similarity_keys_of,
)

SCHEMA = RegisterSchema()
COMPILED = CompiledSchema(SCHEMA)  # the same results, validated once per shape
COLUMNS = tuple(SCHEMA.fields)
REQUIRED = tuple(name for name, f in SCHEMA.fields.items() if f.required)
BOOLEANS = frozenset(name for name, f in SCHEMA.fields.items() if isinstance(f, fields.Boolean))


@dataclass(frozen=True)
class Context:
    columns: list[str]
    keyring: Keyring
    today: dt.date


# The participant row in wire form, in this column order (see cohort.importer.bulk).
_COLUMNS = ("uuid", "pseudonym", "pseudonym_version", "nir_hash", "nir_version",
            "identity_sealed", "identity_version", "birth_month", "sex", "home_departement",
            "home_epci", "ase_past", "registered_by_structure_id", "erased_at", "created_at")
_PSEUDONYM, _NIR_HASH = _COLUMNS.index("pseudonym"), _COLUMNS.index("nir_hash")
_UUID, _BIRTH_MONTH = _COLUMNS.index("uuid"), _COLUMNS.index("birth_month")

# A valid row travels back from a worker as a plain tuple (cheap to pickle): (row number,
# its pseudonyms under every key version, its NIR hashes likewise, the row to insert but
# its last column, created_at, its similarity rows (kind, key version, bucket)).
Ready = tuple[int, tuple[str, ...], tuple[str, ...], tuple[Any, ...],
              tuple[tuple[str, int, int], ...]]
_SIMILARITY_COLUMNS = ("participant_id", "kind", "key_version", "digest", "birth_month")


def prepare(ctx: Context, rows: RawRows) -> list[Ready | list[RowError]]:
    """Validate, normalise, hash and seal each row (pure: runs in worker processes)."""
    out: list[Ready | list[RowError]] = []
    for row, cells in rows:
        values, errors = cells_to_dict(row, ctx.columns, cells, BOOLEANS)
        if errors:
            out.append(errors)
            continue
        try:
            data = COMPILED.validated(values)
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
        columns |= {"uuid": str(columns["uuid"]), "erased_at": None}
        out.append((row, tuple(hashes.values()), tuple(nirs.values()),
                    tuple(columns[name] for name in _COLUMNS[:-1]),
                    tuple(similarity_keys_of(ctx.keyring, data))))
    return out


class _Apply:
    def __init__(self, session: Session, result: ImportResult, log: ErrorLog,
                 now: dt.datetime):
        self.conn = session.connection()
        self.result = result
        self.log = log
        self.table = BulkInsert(self.conn, Participant.__table__, _COLUMNS)
        self.similarity = BulkInsert(self.conn, ParticipantSimilarityKey.__table__,
                                     _SIMILARITY_COLUMNS)
        self.created_at = self.table.render("created_at", now)

    def apply(self, prepared: list[Ready | list[RowError]]) -> None:
        ready: list[Ready] = []
        for p in prepared:
            if isinstance(p, list):
                self.log.extend(p)
            else:
                ready.append(p)
        # Who is already registered, and which NIRs are already held, for the whole chunk.
        known: dict[str, str | None] = {}
        for part in batches(sorted({h for p in ready for h in p[1]})):
            known.update((pseudonym, nir) for pseudonym, nir in self.conn.execute(
                sa.select(Participant.pseudonym, Participant.nir_hash)
                .where(Participant.pseudonym.in_(padded(part)))))
        held: set[str] = set()
        for part in batches(sorted({h for p in ready for h in p[2]})):
            held.update(self.conn.execute(
                sa.select(Participant.nir_hash).where(Participant.nir_hash.in_(padded(part)))).scalars())
        new: list[tuple[Any, ...]] = []
        similar: dict[str, tuple[tuple[Any, ...], ...]] = {}
        for row, pseudonyms, nir_hashes, values, similarity in ready:
            nir_held = any(h in held for h in nir_hashes)
            found = next((h for h in pseudonyms if h in known), None)
            try:
                if found is not None:
                    rules.check_nir_for_known(known[found], dict(enumerate(nir_hashes)),
                                              nir_held_elsewhere=nir_held)
                    self.result.unchanged += 1
                    continue
                rules.check_nir_free(nir_held_elsewhere=nir_held)
            except CohortError as exc:
                self.log.extend(error_to_rows(row, exc))
                continue
            new.append((*values, self.created_at))
            if similarity:
                similar[values[_UUID]] = tuple((*key, values[_BIRTH_MONTH])
                                               for key in similarity)
            known[values[_PSEUDONYM]] = values[_NIR_HASH]
            if values[_NIR_HASH] is not None:
                held.add(values[_NIR_HASH])
        self.table.insert(new)
        self._insert_similarity(similar)
        self.result.created += len(new)

    def _insert_similarity(self, similar: dict[str, tuple[tuple[Any, ...], ...]]) -> None:
        """The new participants' similarity rows, their ids read back by uuid."""
        rows: list[tuple[Any, ...]] = []
        for part in batches(sorted(similar)):
            for pid, uuid in self.conn.execute(
                    sa.select(Participant.id, Participant.uuid)
                    .where(Participant.uuid.in_(padded(part)))):
                rows += [(pid, *key) for key in similar[str(uuid)]]
        self.similarity.insert(rows)

    def finish(self) -> None:
        """Nothing is derived from participants at the end of the file."""


KIND = Kind("participants", COLUMNS, REQUIRED, prepare)


def import_participants(session: Session, keyring: Keyring, path: str | Path, *,
                        today: dt.date, now: dt.datetime, workers: int | None = 0,
                        progress: Progress | None = None) -> ImportResult:
    """Register every row of a participants file, or none (raises ImportFailed)."""
    return run(session, path, KIND, lambda columns: Context(columns, keyring, today),
               lambda _, result, log: _Apply(session, result, log, now),
               workers=workers, progress=progress)
