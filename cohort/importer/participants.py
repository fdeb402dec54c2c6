"""Import participants: register each row as the API would, in bulk.

Workers validate with the API's RegisterSchema, normalise, hash and seal; the importing
process looks the pseudonyms and NIR hashes up a chunk at a time and inserts the new
participants with one executemany, then their similarity keys (computed by the workers
too) once the new rows' ids are read back by uuid. A person already registered (even
spelled otherwise, or twice in the file) is "unchanged", as the API answers "already known".
"""

from __future__ import annotations

import datetime as dt
import uuid
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
from cohort.identity.keyring import Keyring, Purpose
from cohort.importer import references
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
from cohort.models import Participant, ParticipantFileNumber, ParticipantSimilarityKey, Structure
from cohort.schemas.compiled import CompiledSchema
from cohort.schemas.participants import RegisterSchema
from cohort.services.natural_keys import file_number_hashes
from cohort.services.participants import (
    nir_hashes_of,
    participant_columns,
    pseudonyms_of,
    similarity_keys_of,
)

SCHEMA = RegisterSchema()
COMPILED = CompiledSchema(SCHEMA)  # the same results, validated once per shape
FILE_NUMBER = "file_number"  # the structure's own number for the person (--structure)
# A person already registered may be named by uuid instead of identity (an export without
# --with-identity): the row is then "unchanged" (and may give their file number).
BY_ID = "participant_id"
COLUMNS = (BY_ID, *SCHEMA.fields, FILE_NUMBER)
REQUIRED = tuple(name for name, f in SCHEMA.fields.items() if f.required)


def check_columns(columns: list[str]) -> list[RowError]:
    """The identity's required columns, unless the file names people by participant_id."""
    if BY_ID in columns:
        return []
    return [RowError(1, name, "missing column") for name in REQUIRED if name not in columns]
BOOLEANS = frozenset(name for name, f in SCHEMA.fields.items() if isinstance(f, fields.Boolean))


@dataclass(frozen=True)
class Context:
    columns: list[str]
    keyring: Keyring
    today: dt.date
    structure: str | None = None  # uuid: registers the new people, owns the file numbers


# The participant row in wire form, in this column order (see cohort.importer.bulk).
_COLUMNS = ("uuid", "pseudonym", "pseudonym_version", "nir_hash", "nir_version",
            "identity_sealed", "identity_version", "birth_month", "sex", "home_departement",
            "home_epci", "ase_past", "registered_by_structure_id", "erased_at", "created_at")
_PSEUDONYM, _NIR_HASH = _COLUMNS.index("pseudonym"), _COLUMNS.index("nir_hash")
_UUID, _BIRTH_MONTH = _COLUMNS.index("uuid"), _COLUMNS.index("birth_month")
_REGISTERED_BY = _COLUMNS.index("registered_by_structure_id")

# A valid row travels back from a worker as a plain tuple (cheap to pickle): (row number,
# its pseudonyms under every key version, its NIR hashes likewise, the row to insert but
# its last column, created_at, its similarity rows (kind, key version, bucket)).
Ready = tuple[int, tuple[str, ...], tuple[str, ...], tuple[Any, ...],
              tuple[tuple[str, int, int], ...], tuple[str, ...]]
_SIMILARITY_COLUMNS = ("participant_id", "kind", "key_version", "digest", "birth_month")


def prepare(ctx: Context, rows: RawRows) -> list[Ready | list[RowError]]:
    """Validate, normalise, hash and seal each row (pure: runs in worker processes)."""
    out: list[Ready | list[RowError]] = []
    for row, cells in rows:
        values, errors = cells_to_dict(row, ctx.columns, cells, BOOLEANS)
        number = values.pop(FILE_NUMBER, None)
        files: tuple[str, ...] = ()
        if number is not None:
            if ctx.structure is None:
                errors.append(RowError(row, FILE_NUMBER, "a file number needs the structure "
                                                         "(--structure)"))
            else:
                try:
                    files = tuple(file_number_hashes(ctx.keyring, ctx.structure, number).values())
                except CohortError as exc:
                    errors += error_to_rows(row, exc)
        if errors:
            out.append(errors)
            continue
        if BY_ID in values:
            out.append(_by_id(row, values, files))
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
        # registered_by_structure_id is filled in by the importing process (an id)
        columns |= {"uuid": str(columns["uuid"]), "erased_at": None}
        out.append((row, tuple(hashes.values()), tuple(nirs.values()),
                    tuple(columns[name] for name in _COLUMNS[:-1]),
                    tuple(similarity_keys_of(ctx.keyring, data)), files))
    return out


# A row naming a registered person by uuid: ("id", row, uuid, file number hashes).
Known = tuple[str, int, str, tuple[str, ...]]


def _by_id(row: int, values: dict[str, str], files: tuple[str, ...]
           ) -> Known | list[RowError]:
    if any(name in values for name in ("last_name", "first_names", "birth_date", "nir")):
        return [RowError(row, BY_ID, "name the participant one way only: participant_id "
                                     "or the identity")]
    try:
        return ("id", row, str(uuid.UUID(values[BY_ID])), files)
    except ValueError:
        return [RowError(row, BY_ID, "Not a valid UUID.")]


class _Apply:
    def __init__(self, session: Session, result: ImportResult, log: ErrorLog,
                 now: dt.datetime, *, structure: str | None, key_version: int):
        self.conn = session.connection()
        self.now = now
        self.structure_id = None if structure is None else self.conn.execute(
            sa.select(Structure.id).where(Structure.uuid == uuid.UUID(structure))).scalar_one()
        self.current_version = key_version
        self.result = result
        self.log = log
        self.table = BulkInsert(self.conn, Participant.__table__, _COLUMNS)
        self.similarity = BulkInsert(self.conn, ParticipantSimilarityKey.__table__,
                                     _SIMILARITY_COLUMNS)
        self.created_at = self.table.render("created_at", now)

    def apply(self, prepared: list[Ready | Known | list[RowError]]) -> None:
        ready: list[Ready] = []
        named: list[Known] = []
        for p in prepared:
            if isinstance(p, list):
                self.log.extend(p)
            elif p[0] == "id":
                named.append(p)  # type: ignore[arg-type]
            else:
                ready.append(p)  # type: ignore[arg-type]
        if named:
            self._named(named)
        # Who is already registered, and which NIRs are already held, for the whole chunk.
        known: dict[str, str | None] = {}
        ids: dict[str, Any] = {}  # pseudonym → id (stored) or uuid (new in this file)
        for part in batches(sorted({h for p in ready for h in p[1]})):
            for pseudonym, nir, pid in self.conn.execute(
                    sa.select(Participant.pseudonym, Participant.nir_hash, Participant.id)
                    .where(Participant.pseudonym.in_(padded(part)))):
                known[pseudonym] = nir
                ids[pseudonym] = pid
        owners = self._file_numbers(ready)
        numbered: list[tuple[int, Any, str]] = []  # (row, participant id or uuid, digest)
        held: set[str] = set()
        for part in batches(sorted({h for p in ready for h in p[2]})):
            held.update(self.conn.execute(
                sa.select(Participant.nir_hash).where(Participant.nir_hash.in_(padded(part)))).scalars())
        new: list[tuple[Any, ...]] = []
        similar: dict[str, tuple[tuple[Any, ...], ...]] = {}
        for row, pseudonyms, nir_hashes, values, similarity, files in ready:
            nir_held = any(h in held for h in nir_hashes)
            found = next((h for h in pseudonyms if h in known), None)
            try:
                who = ids[found] if found is not None else values[_UUID]
                if files:
                    self._check_file_number(files, who, owners)
                if found is not None:
                    rules.check_nir_for_known(known[found], dict(enumerate(nir_hashes)),
                                              nir_held_elsewhere=nir_held)
                    self.result.unchanged += 1
                    if files and owners.get(files[-1]) is None:
                        numbered.append((row, who, files[-1]))
                        owners[files[-1]] = who
                    continue
                rules.check_nir_free(nir_held_elsewhere=nir_held)
            except CohortError as exc:
                self.log.extend(error_to_rows(row, exc))
                continue
            if self.structure_id is not None:
                values = (*values[:_REGISTERED_BY], self.structure_id,
                          *values[_REGISTERED_BY + 1:])
            if files:
                numbered.append((row, values[_UUID], files[-1]))
                owners[files[-1]] = values[_UUID]
            ids[values[_PSEUDONYM]] = values[_UUID]
            new.append((*values, self.created_at))
            self.result.created_one(row, values[_UUID])
            if similarity:
                similar[values[_UUID]] = tuple((*key, values[_BIRTH_MONTH])
                                               for key in similarity)
            known[values[_PSEUDONYM]] = values[_NIR_HASH]
            if values[_NIR_HASH] is not None:
                held.add(values[_NIR_HASH])
        self.table.insert(new)
        self._insert_similarity(similar)
        self._insert_file_numbers(numbered)

    def _named(self, named: list[Known]) -> None:
        """Rows naming a registered person by uuid: unchanged, or refused if nobody."""
        ids: dict[str, int] = {}
        text = sa.type_coerce(Participant.uuid, sa.String)
        for part in batches(sorted({p[2] for p in named})):
            ids.update(self.conn.execute(
                sa.select(text, Participant.id).where(text.in_(padded(part)),
                                                      Participant.erased_at.is_(None))).all())
        owners = self._file_numbers(named)  # type: ignore[arg-type]
        numbered: list[tuple[int, Any, str]] = []
        for _, row, public, files in named:
            who = ids.get(public)
            if who is None:
                self.log.add(RowError(row, BY_ID, "not found"))
                continue
            try:
                if files:
                    self._check_file_number(files, who, owners)
            except CohortError as exc:
                self.log.extend(error_to_rows(row, exc))
                continue
            if files and owners.get(files[-1]) is None:
                numbered.append((row, who, files[-1]))
                owners[files[-1]] = who
            self.result.unchanged += 1
        self._insert_file_numbers(numbered)

    def _insert_similarity(self, similar: dict[str, tuple[tuple[Any, ...], ...]]) -> None:
        """The new participants' similarity rows, their ids read back by uuid."""
        rows: list[tuple[Any, ...]] = []
        for part in batches(sorted(similar)):
            for pid, public in self.conn.execute(
                    sa.select(Participant.id, Participant.uuid)
                    .where(Participant.uuid.in_(padded(part)))):
                rows += [(pid, *key) for key in similar[str(public)]]
        self.similarity.insert(rows)

    def _file_numbers(self, ready: list[Ready]) -> dict[str, Any]:
        """Who the chunk's file numbers already name (digest → participant id)."""
        owners: dict[str, Any] = {}
        for part in batches(sorted({h for p in ready for h in p[-1]})):
            owners.update(self.conn.execute(
                sa.select(ParticipantFileNumber.digest, ParticipantFileNumber.participant_id)
                .where(ParticipantFileNumber.digest.in_(padded(part)))).all())
        return owners

    def _check_file_number(self, files: tuple[str, ...], who: Any,
                           owners: dict[str, Any]) -> None:
        owner = next((owners[h] for h in files if owners.get(h) is not None), None)
        if owner is not None and owner != who:
            raise CohortError("file number", errors={FILE_NUMBER: [
                "already names another participant in this structure"]})

    def _insert_file_numbers(self, numbered: list[tuple[int, Any, str]]) -> None:
        """The structure's file numbers, the new participants' ids read back by uuid."""
        if not numbered:
            return
        uuids = sorted({str(w) for _, w, _ in numbered if isinstance(w, str | uuid.UUID)})
        by_uuid: dict[str, int] = {}
        text = sa.type_coerce(Participant.uuid, sa.String)
        for part in batches(uuids):
            by_uuid.update(self.conn.execute(
                sa.select(text, Participant.id).where(text.in_(padded(part)))).all())
        version = self.current_version
        self.conn.execute(sa.insert(ParticipantFileNumber), [
            {"structure_id": self.structure_id,
             "participant_id": by_uuid[str(w)] if isinstance(w, str | uuid.UUID) else w,
             "digest": digest, "key_version": version, "created_at": self.now}
            for _, w, digest in numbered])

    def finish(self) -> None:
        """Nothing is derived from participants at the end of the file."""


KIND = Kind("participants", COLUMNS, (), prepare, check_columns)


def import_participants(session: Session, keyring: Keyring, path: str | Path, *,
                        today: dt.date, now: dt.datetime, workers: int | None = 0,
                        progress: Progress | None = None, structure: str | None = None,
                        **options: bool) -> ImportResult:
    """Register every row of a participants file, or none (raises ImportFailed).

    ``structure`` (uuid or name): the structure registering the new people (it then
    follows them), and whose own file numbers the ``file_number`` column gives."""
    where = None if structure is None else references.structure_uuid(session, structure)

    version = keyring[Purpose.PSEUDONYM].current
    return run(session, path, KIND, lambda columns: Context(columns, keyring, today, where),
               lambda _, result, log: _Apply(session, result, log, now, structure=where,
                                             key_version=version),
               workers=workers, progress=progress, **options)
