"""Naming things as partners do (issue 22): a participant by identity, NIR or the
structure's own file number; an operation by its code.

Every key is a keyed hash, looked up through a blind index, never a decrypted identity:

- the identity triple → the pseudonym (as registration computes it);
- the NIR → its blind index, checked for format and control key only (a reference carries
  no birth date to compare its year with);
- a structure's own file number → a keyed hash of (structure, number) under the pseudonym
  key, stored per structure in ``participant_file_number`` (never the number itself).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from stdnum.exceptions import ValidationError as NirInvalid
from stdnum.fr import nir as stdnum_nir

from cohort.errors import NotFound, Rejected
from cohort.identity import pseudonym
from cohort.identity.keyring import Keyring, Purpose
from cohort.identity.normalise import normalise_nir
from cohort.models import Participant, ParticipantFileNumber

FILE_NUMBER_MAX = 40


def normalise_file_number(raw: str) -> str:
    """A file number as compared: trimmed, inner blanks collapsed, upper case."""
    return re.sub(r"\s+", " ", raw.strip()).upper()


def file_number_hashes(keyring: Keyring, structure_uuid: str, raw: str) -> dict[int, str]:
    """The file number's keyed hash for this structure under every key version."""
    number = normalise_file_number(raw)
    if not number:
        raise Rejected("file_number", "is empty")
    if len(number) > FILE_NUMBER_MAX:
        raise Rejected("file_number", f"at most {FILE_NUMBER_MAX} characters")
    text = f"file-number\x00{structure_uuid}\x00{number}"
    return pseudonym.all_versions(keyring[Purpose.PSEUDONYM], text)


def nir_lookup_hashes(keyring: Keyring, raw: str) -> dict[int, str]:
    """A NIR's blind index under every version, for a look-up (format and key checked)."""
    compact = normalise_nir(raw)
    try:
        stdnum_nir.validate(compact)
    except NirInvalid:
        raise Rejected("nir", "not a valid NIR (format or control key)") from None
    return pseudonym.all_versions(keyring[Purpose.NIR], compact)


def participant_by_key(session: Session, keyring: Keyring, key: Mapping[str, Any], *,
                       field: str = "participant") -> Participant:
    """The participant a body names by identity (``last_name``, ``first_names``,
    ``birth_date``) or by ``nir``; NotFound naming ``field`` otherwise."""
    from cohort.services.participants import pseudonyms_of

    if key.get("nir"):
        hashes = nir_lookup_hashes(keyring, key["nir"])
        column = Participant.nir_hash
    else:
        hashes = pseudonyms_of(keyring, dict(key))
        column = Participant.pseudonym
    found = session.execute(
        sa.select(Participant).where(column.in_(list(hashes.values())))).scalar_one_or_none()
    if found is None:
        raise NotFound(f"{field}: not found", errors={field: ["not found"]})
    return found


def file_number_owner(session: Session, structure_id: int, hashes: Mapping[int, str]
                      ) -> int | None:
    """The participant id a structure's file number names, if it was recorded."""
    return session.execute(
        sa.select(ParticipantFileNumber.participant_id).where(
            ParticipantFileNumber.structure_id == structure_id,
            ParticipantFileNumber.digest.in_(list(hashes.values())))).scalar()
