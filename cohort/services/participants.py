"""Register participants under a keyed pseudonym, with their identity sealed."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from stdnum.exceptions import ValidationError as NirInvalid
from stdnum.fr import nir as stdnum_nir

from cohort.actors import Actor
from cohort.domain.calendar import birth_month
from cohort.errors import Conflict, Rejected
from cohort.identity import pseudonym, vault
from cohort.identity.keyring import Keyring, Purpose
from cohort.identity.normalise import EmptyName, identity_key, normalise_name, normalise_nir
from cohort.models import Participant

IDENTITY_FIELDS = (
    "last_name", "first_names", "birth_date", "nir", "caf_number", "imilo_id",
    "france_travail_id", "phone", "email",
)


@dataclass(frozen=True)
class Registration:
    participant: Participant
    created: bool


def _identity_key(data: dict[str, Any]) -> str:
    for field in ("last_name", "first_names"):
        try:
            normalise_name(data[field])
        except EmptyName:
            raise Rejected(field, "must contain at least one letter or digit") from None
    return identity_key(data["last_name"], data["first_names"], data["birth_date"])


def _nir_hash(keyring: Keyring, raw: str, birth_date: dt.date) -> dict[int, str]:
    compact = normalise_nir(raw)
    try:
        stdnum_nir.validate(compact)
    except NirInvalid:
        raise Rejected("nir", "not a valid NIR (format or control key)") from None
    # The NIR's year and month are the birth's (month 20+ or 99 when unknown): check the year.
    if compact[1:3] != f"{birth_date.year % 100:02d}":
        raise Rejected("nir", "does not match the birth date")
    return pseudonym.all_versions(keyring[Purpose.NIR], compact)


def find_by_pseudonym(session: Session, hashes: dict[int, str]) -> Participant | None:
    """One indexed look-up under every key version (rotation keeps both readable)."""
    return session.execute(
        sa.select(Participant).where(Participant.pseudonym.in_(list(hashes.values())))
    ).scalar_one_or_none()


def register(session: Session, keyring: Keyring, actor: Actor, data: dict[str, Any],
             *, today: dt.date) -> Registration:
    """Register a person, or return the participant already registered with that identity.

    Race-safe: the pseudonym is unique in the database; a concurrent registration that
    loses the race finds the winner's row instead of failing.
    """
    if data["birth_date"] > today:
        raise Rejected("birth_date", "is in the future")
    if data["birth_date"] < dt.date(1900, 1, 1):
        raise Rejected("birth_date", "is implausibly old")
    key = _identity_key(data)
    hashes = pseudonym.all_versions(keyring[Purpose.PSEUDONYM], key)
    nir_hashes = _nir_hash(keyring, data["nir"], data["birth_date"]) if data.get("nir") else {}

    existing = find_by_pseudonym(session, hashes)
    if existing is not None:
        _check_nir_agrees(session, existing, nir_hashes)
        return Registration(existing, created=False)
    if nir_hashes:
        holder = session.execute(
            sa.select(Participant.id).where(Participant.nir_hash.in_(list(nir_hashes.values())))
        ).scalar_one_or_none()
        if holder is not None:
            raise Conflict(
                "this NIR is already registered under another identity",
                errors={"nir": ["already registered under another identity"]},
            )

    participant_uuid = uuid.uuid4()
    record = {f: _jsonable(data.get(f)) for f in IDENTITY_FIELDS if data.get(f) is not None}
    if "nir" in record:
        record["nir"] = normalise_nir(record["nir"])
    sealed, version = vault.seal(
        keyring[Purpose.ENCRYPTION], "participant", "identity", participant_uuid, record
    )
    pkeys = keyring[Purpose.PSEUDONYM]
    participant = Participant(
        uuid=participant_uuid,
        pseudonym=hashes[pkeys.current],
        pseudonym_version=pkeys.current,
        nir_hash=nir_hashes.get(keyring[Purpose.NIR].current) if nir_hashes else None,
        nir_version=keyring[Purpose.NIR].current if nir_hashes else None,
        identity_sealed=sealed,
        identity_version=version,
        birth_month=birth_month(data["birth_date"]),
        sex=data.get("sex") or "U",
        home_departement=data.get("home_departement"),
        home_epci=data.get("home_epci"),
        ase_past=bool(data.get("ase_past", False)),
        registered_by_structure_id=actor.structure_id,
    )
    try:
        with session.begin_nested():
            session.add(participant)
    except IntegrityError:
        winner = find_by_pseudonym(session, hashes)
        if winner is None:  # the NIR, not the pseudonym, collided
            raise Conflict(
                "this NIR is already registered under another identity",
                errors={"nir": ["already registered under another identity"]},
            ) from None
        return Registration(winner, created=False)
    return Registration(participant, created=True)


def _check_nir_agrees(session: Session, participant: Participant, nir_hashes: dict[int, str]
                      ) -> None:
    if not nir_hashes:
        return
    if participant.nir_hash is None:
        clash = session.execute(
            sa.select(Participant.id).where(Participant.nir_hash.in_(list(nir_hashes.values())))
        ).scalar_one_or_none()
        if clash is not None:
            raise Conflict(
                "this NIR is already registered under another identity",
                errors={"nir": ["already registered under another identity"]},
            )
        return
    if participant.nir_hash not in nir_hashes.values():
        raise Conflict(
            "this identity is registered with another NIR",
            errors={"nir": ["differs from the NIR registered for this identity"]},
        )


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def read_identity(keyring: Keyring, participant: Participant) -> dict[str, Any]:
    """Decrypt a participant's identity record (callers audit the read)."""
    if participant.identity_sealed is None or participant.identity_version is None:
        raise Rejected("participant_id", "identity erased")
    return vault.open_sealed(
        keyring[Purpose.ENCRYPTION], "participant", "identity", participant.uuid,
        participant.identity_sealed, participant.identity_version,
    )


def birth_date_of(keyring: Keyring, participant: Participant) -> dt.date | None:
    """The full birth date (kept only in the sealed record); None once erased."""
    if participant.identity_sealed is None:
        return None
    return dt.date.fromisoformat(read_identity(keyring, participant)["birth_date"])
