"""Participant references in enrolment and event files: a uuid, or the identity triple.

A triple (last name, first names, birth date) is validated by the registration schema and
resolved through the blind index (its pseudonym), never by decrypting rows. The birth date
it carries is the participant's (the pseudonym includes it), so it needs no decryption.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from cohort.errors import CohortError
from cohort.identity.keyring import Keyring
from cohort.importer.csvfile import pick
from cohort.importer.pipeline import batches
from cohort.importer.report import RowError, error_to_rows, messages_to_errors
from cohort.models import Participant
from cohort.schemas.participants import RegisterSchema
from cohort.services.participants import birth_date_of, pseudonyms_of

BY_ID = "participant_id"
TRIPLE = ("last_name", "first_names", "birth_date")
TRIPLE_LABEL = "last_name/first_names/birth_date"
COLUMNS = (BY_ID, *TRIPLE)
# Stands in for a participant_id the file does not give, so the API's schema can validate
# the rest of the row; it is replaced by the resolved participant before anything is kept.
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"

_IDENTITY = RegisterSchema(only=TRIPLE)


@dataclass(frozen=True, slots=True)
class Ref:
    """How a row names its participant: by uuid, or by pseudonyms (with the birth date)."""

    uuid: str | None = None
    pseudonyms: tuple[str, ...] = ()
    birth: dt.date | None = None

    @property
    def column(self) -> str:
        return BY_ID if self.uuid is not None else TRIPLE_LABEL


def check_columns(columns: list[str]) -> list[RowError]:
    """The header names participants by participant_id or by the whole triple."""
    if BY_ID in columns:
        return []
    return [RowError(1, name, "missing column (or give participant_id)")
            for name in TRIPLE if name not in columns]


def parse(row: int, values: Mapping[str, str], keyring: Keyring
          ) -> tuple[Ref | None, list[RowError]]:
    """The row's reference; a uuid is only checked by the caller's schema (its own field)."""
    given = [name for name in TRIPLE if name in values]
    if BY_ID in values:
        if given:
            return None, [RowError(row, BY_ID, "give participant_id or last_name, first_names"
                                               " and birth_date, not both")]
        return Ref(uuid=values[BY_ID]), []
    if not given:
        return None, [RowError(row, BY_ID, "missing: give participant_id, or last_name,"
                                           " first_names and birth_date")]
    try:
        identity = _IDENTITY.load(pick(values, TRIPLE))
        hashes = pseudonyms_of(keyring, identity)
    except ma.ValidationError as exc:
        return None, messages_to_errors(row, exc.messages)
    except CohortError as exc:
        return None, error_to_rows(row, exc)
    return Ref(pseudonyms=tuple(hashes.values()), birth=identity["birth_date"]), []


def canonical(ref: Ref, data: Mapping[str, Any]) -> Ref:
    """The reference with its uuid in canonical form, once the schema has validated it."""
    if ref.uuid is None:
        return ref
    return Ref(uuid=str(data[BY_ID]))


def raw_id(values: Mapping[str, str]) -> str:
    """The participant_id to hand to the schema: the file's, or the placeholder."""
    return values.get(BY_ID, PLACEHOLDER)


_COLUMNS = (Participant.id, Participant.uuid, Participant.pseudonym, Participant.ase_past,
            Participant.identity_sealed, Participant.identity_version)


class Directory:
    """Participants looked up by uuid or pseudonym, a chunk at a time; birth dates cached."""

    def __init__(self, conn: Connection, keyring: Keyring):
        self.conn = conn
        self.keyring = keyring
        self.by_uuid: dict[str, Any] = {}
        self.by_pseudonym: dict[str, Any] = {}
        self._births: dict[int, dt.date | None] = {}

    def load(self, refs: Iterable[Ref]) -> None:
        """Fetch the participants these references name (two indexed IN look-ups)."""
        self.by_uuid.clear()
        self.by_pseudonym.clear()
        uuids = sorted({r.uuid for r in refs if r.uuid is not None})
        pseudonyms = sorted({p for r in refs for p in r.pseudonyms})
        for part in batches(uuids):
            for row in self.conn.execute(sa.select(*_COLUMNS).where(
                    Participant.uuid.in_([uuid.UUID(u) for u in part]))):
                self.by_uuid[str(row.uuid)] = row
        for part in batches(pseudonyms):
            for row in self.conn.execute(sa.select(*_COLUMNS).where(
                    Participant.pseudonym.in_(part))):
                self.by_pseudonym[row.pseudonym] = row

    def find(self, ref: Ref) -> Any | None:
        if ref.uuid is not None:
            return self.by_uuid.get(ref.uuid)
        return next((self.by_pseudonym[p] for p in ref.pseudonyms if p in self.by_pseudonym),
                    None)

    def birth(self, ref: Ref, participant: Any) -> dt.date | None:
        """The full birth date: the triple's own, or decrypted once per participant."""
        if ref.birth is not None:
            return ref.birth
        if participant.id not in self._births:
            # The row carries the three sealed columns birth_date_of reads.
            self._births[participant.id] = birth_date_of(self.keyring, participant)
        return self._births[participant.id]
