"""Participant references in enrolment and event files: a uuid, the identity triple, the
NIR, or the structure's own file number (issue 22).

A triple (last name, first names, birth date) is validated by the registration schema and
resolved through the blind index (its pseudonym), never by decrypting rows. The birth date
it carries is the participant's (the pseudonym includes it), so it needs no decryption.
A NIR is resolved through its blind index, a file number through the structure's keyed
look-up (``participant_file_number``): both as keyed hashes, like the pseudonym.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple

import marshmallow as ma
import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from cohort.db import padded
from cohort.errors import CohortError
from cohort.identity.keyring import Keyring
from cohort.importer.csvfile import pick
from cohort.importer.memory import REMEMBERED, forget_oldest, refresh
from cohort.importer.pipeline import batches
from cohort.importer.report import RowError, error_to_rows, messages_to_errors
from cohort.models import Participant, ParticipantFileNumber
from cohort.schemas.participants import RegisterSchema
from cohort.services.participants import birth_date_of, pseudonyms_of

BY_ID = "participant_id"
TRIPLE = ("last_name", "first_names", "birth_date")
TRIPLE_LABEL = "last_name/first_names/birth_date"
BY_NIR = "nir"
BY_FILE = "file_number"
COLUMNS = (BY_ID, *TRIPLE, BY_NIR, BY_FILE)
# Stands in for a participant_id the file does not give, so the API's schema can validate
# the rest of the row; it is replaced by the resolved participant before anything is kept.
PLACEHOLDER = "00000000-0000-0000-0000-000000000000"

_IDENTITY = RegisterSchema(only=TRIPLE)


class Ref(NamedTuple):
    """How a row names its participant: by uuid, or by pseudonyms (with the birth date).

    The events import sends it back from worker processes as a plain tuple
    (``tuple(ref)``), far cheaper to pickle; code that may get either indexes it.
    """

    uuid: str | None = None
    pseudonyms: tuple[str, ...] = ()  # or the NIR's or the file number's keyed hashes
    birth: dt.date | None = None
    by: str = ""  # "": the triple; BY_NIR; BY_FILE


def column_of(ref: Ref | tuple[Any, ...]) -> str:
    """The column(s) to name in an error about this reference."""
    if ref[0] is not None:
        return BY_ID
    return ref[3] if len(ref) > 3 and ref[3] else TRIPLE_LABEL


def check_columns(columns: list[str]) -> list[RowError]:
    """The header names participants by participant_id, the whole triple, nir or
    file_number."""
    if BY_ID in columns or BY_NIR in columns or BY_FILE in columns:
        return []
    return [RowError(1, name, "missing column (or give participant_id)")
            for name in TRIPLE if name not in columns]


def parse(row: int, values: Mapping[str, str], keyring: Keyring, structure: str | None = None
          ) -> tuple[Ref | None, list[RowError]]:
    """The row's reference; a uuid is only checked by the caller's schema (its own field).

    ``structure``: the uuid of the structure whose file numbers the file uses."""
    given = [name for name in TRIPLE if name in values]
    ways = [name for name in (BY_ID, BY_NIR, BY_FILE) if name in values] + (
        ["triple"] if given else [])
    if len(ways) > 1:
        return None, [RowError(row, BY_ID, "name the participant one way only: "
                                           "participant_id, last_name/first_names/"
                                           "birth_date, nir or file_number")]
    if BY_ID in values:
        return Ref(uuid=values[BY_ID]), []
    if BY_NIR in values or BY_FILE in values:
        from cohort.services.natural_keys import file_number_hashes, nir_lookup_hashes

        try:
            if BY_NIR in values:
                hashes = nir_lookup_hashes(keyring, values[BY_NIR])
            elif structure is None:
                return None, [RowError(row, BY_FILE, "a file number needs the structure "
                                                     "(--structure)")]
            else:
                hashes = file_number_hashes(keyring, structure, values[BY_FILE])
        except CohortError as exc:
            return None, error_to_rows(row, exc)
        return Ref(pseudonyms=tuple(hashes.values()),
                   by=BY_NIR if BY_NIR in values else BY_FILE), []
    if not given:
        return None, [RowError(row, BY_ID, "missing: give participant_id, last_name,"
                                           " first_names and birth_date, nir or file_number")]
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


class Person(NamedTuple):
    """What the imports need of a participant row (its identity stays sealed)."""

    id: int
    uuid: str
    ase_past: bool
    erased: bool


# The stored uuid text as is: canonical already, so no per-value uuid parsing either way.
_UUID_TEXT = sa.type_coerce(Participant.uuid, sa.String)
_PERSON = (Participant.id, _UUID_TEXT, Participant.ase_past, Participant.erased_at.is_not(None))


def _by_hash(by: str, hashes: list[str]) -> sa.Select[Any]:
    if by == BY_NIR:
        return sa.select(Participant.nir_hash, *_PERSON).where(Participant.nir_hash.in_(hashes))
    if by == BY_FILE:
        return (sa.select(ParticipantFileNumber.digest, *_PERSON)
                .join(Participant, Participant.id == ParticipantFileNumber.participant_id)
                .where(ParticipantFileNumber.digest.in_(hashes)))
    return sa.select(Participant.pseudonym, *_PERSON).where(Participant.pseudonym.in_(hashes))


class Directory:
    """Participants named by uuid or pseudonym, looked up a chunk at a time (two indexed IN
    queries) and remembered while they are among the ``limit`` most recently named: a file
    in date order names the same people from one chunk to the next, and a file naming
    millions of people must not keep them all (cohort.importer.memory)."""

    def __init__(self, conn: Connection, keyring: Keyring, *, limit: int = REMEMBERED):
        self.conn = conn
        self.keyring = keyring
        self.limit = limit
        self.by_uuid: dict[str, Person] = {}
        self.by_pseudonym: dict[str, Person] = {}
        self._births: dict[int, dt.date | None] = {}

    def load(self, refs: Iterable[Ref | tuple[Any, ...]]) -> None:
        """Fetch the participants these references name that are not known yet (after
        forgetting the least recently named beyond the limit)."""
        refs_list = list(refs)
        named_uuids: set[str] = set()
        named_pseudonyms: set[str] = set()
        for ref in refs_list:
            if ref[0] is not None:
                named_uuids.add(ref[0])
            else:
                named_pseudonyms.update(ref[1])
        for known, named in ((self.by_uuid, named_uuids),
                             (self.by_pseudonym, named_pseudonyms)):
            refresh(known, named)
            forget_oldest(known, len(known) + len(named) - self.limit, named)
        forget_oldest(self._births, len(self._births) - self.limit, ())
        uuids = sorted(u for u in named_uuids if u not in self.by_uuid)
        # A triple gives a pseudonym per key version: known under any of them is known.
        # NIRs and file numbers are keyed hashes too, kept in the same map (no two kinds
        # of key can hash alike: different keys or texts).
        wanted: dict[str, set[str]] = {}
        for ref in refs_list:
            if ref[0] is None and not any(q in self.by_pseudonym for q in ref[1]):
                wanted.setdefault(ref[3] if len(ref) > 3 else "", set()).update(ref[1])
        for part in batches(uuids):
            for row in self.conn.execute(sa.select(*_PERSON).where(_UUID_TEXT.in_(padded(part)))):
                self.by_uuid[row[1]] = Person(*row)
        for by, hashes in wanted.items():
            for part in batches(sorted(hashes)):
                for row in self.conn.execute(_by_hash(by, padded(part))):
                    self.by_pseudonym[row[0]] = Person(*row[1:])

    def find(self, ref: Ref | tuple[Any, ...]) -> Person | None:
        if ref[0] is not None:
            return self.by_uuid.get(ref[0])
        return next((self.by_pseudonym[p] for p in ref[1] if p in self.by_pseudonym), None)

    def births(self, wanted: dict[int, Ref | tuple[Any, ...]]) -> dict[int, dt.date | None]:
        """Full birth dates: a triple's own, else decrypted (one query for the sealed rows)."""
        found = {pid: ref[2] for pid, ref in wanted.items() if ref[2] is not None}
        sealed = sorted(pid for pid in wanted if pid not in found)
        for part in batches(sealed):
            for row in self.conn.execute(
                    sa.select(Participant.id, Participant.uuid, Participant.identity_sealed,
                              Participant.identity_version).where(Participant.id.in_(padded(part)))):
                # The row carries the sealed columns birth_date_of reads.
                found[row.id] = birth_date_of(self.keyring, row)  # type: ignore[arg-type]
        return found

    def birth(self, ref: Ref | tuple[Any, ...], person: Person) -> dt.date | None:
        """One participant's birth date, decrypted at most once per import."""
        if person.id not in self._births:
            self._births.update(self.births({person.id: ref}))
        return self._births[person.id]


# Client ids that are not uuids (a partner's own event numbers) become uuids derived from
# the structure and the id: the same row names the same event on every import, and two
# structures' "1" are two events.
CLIENT_IDS = uuid.UUID("5c1f3a0e-22a1-4c0b-9f7e-7d1f2a6b0e22")


def client_uuid(value: str, structure: str | None) -> str | None:
    """The event uuid a cell names: a uuid as is, else the structure's client id (None:
    not a uuid and no structure to scope it)."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        if structure is None:
            return None
        return str(uuid.uuid5(CLIENT_IDS, f"{structure}/{value.strip()}"))


def structure_uuid(db: Session | Connection, value: str) -> str:
    """A structure named by its uuid or its exact name (CohortError if none or several)."""
    from cohort.models import Structure

    try:
        wanted = uuid.UUID(value)
        rows = db.execute(sa.select(Structure.uuid).where(Structure.uuid == wanted)).all()
    except ValueError:
        rows = db.execute(sa.select(Structure.uuid).where(Structure.name == value)).all()
    if len(rows) != 1:
        raise CohortError("no such structure" if not rows else
                          "several structures have this name: give its uuid",
                          errors={"structure": ["not found" if not rows else "ambiguous"]})
    return str(rows[0][0])
