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

from cohort import audit
from cohort.actors import Actor, Role
from cohort.domain import rules
from cohort.domain.calendar import birth_month
from cohort.errors import CohortError, Conflict, Forbidden, Rejected
from cohort.identity import pseudonym, similarity, vault
from cohort.identity.keyring import Keyring, Purpose
from cohort.identity.normalise import EmptyName, identity_key, normalise_name, normalise_nir
from cohort.models import (
    ExceptionalAccess,
    Participant,
    ParticipantSimilarityKey,
    RegistrationGrant,
)
from cohort.services import access


class IdentityUnreadable(CohortError):
    """A sealed identity that does not authenticate: never decrypted, always reported."""

    status = 500
    code = "identity_unreadable"


IDENTITY_FIELDS = (
    "last_name", "first_names", "birth_date", "nir", "caf_number", "imilo_id",
    "france_travail_id", "phone", "email",
)


@dataclass(frozen=True)
class Registration:
    participant: Participant
    created: bool
    visible: bool = True  # False: followed by another structure, say "already known" only


def identity_key_of(data: dict[str, Any]) -> str:
    """The normalised identity of a validated registration (names must keep a letter)."""
    try:
        return identity_key(data["last_name"], data["first_names"], data["birth_date"])
    except EmptyName:
        for field in ("last_name", "first_names"):
            try:
                normalise_name(data[field])
            except EmptyName:
                raise Rejected(field, "must contain at least one letter or digit") from None
        raise


def pseudonyms_of(keyring: Keyring, data: dict[str, Any]) -> dict[int, str]:
    """The identity's pseudonym under every key version (the blind-index look-up keys)."""
    return pseudonym.all_versions(keyring[Purpose.PSEUDONYM], identity_key_of(data))


def nir_hashes_of(keyring: Keyring, raw: str, birth_date: dt.date) -> dict[int, str]:
    """The NIR's blind index under every key version; refuse an invalid or mismatched NIR."""
    compact = normalise_nir(raw)
    try:
        stdnum_nir.validate(compact)
    except NirInvalid:
        raise Rejected("nir", "not a valid NIR (format or control key)") from None
    # The NIR's year and month are the birth's (month 20+ or 99 when unknown): check the year.
    if compact[1:3] != f"{birth_date.year % 100:02d}":
        raise Rejected("nir", "does not match the birth date")
    return pseudonym.all_versions(keyring[Purpose.NIR], compact)


def similarity_keys_of(keyring: Keyring, data: dict[str, Any]) -> list[tuple[str, int, int]]:
    """(kind, key version, bucket) rows of an identity under the current similarity key.

    None without a similarity key: registration goes on, duplicate detection is off
    (docs/operations.md), and `cohort keys rotate --purpose similarity` fills them later.
    ``data`` is a validated registration or a decrypted record (ISO birth date).
    """
    if not keyring.has(Purpose.SIMILARITY):
        return []
    keys = keyring[Purpose.SIMILARITY]
    birth = data["birth_date"]
    texts = similarity.key_texts(data["last_name"], data["first_names"],
                                 birth if isinstance(birth, dt.date)
                                 else dt.date.fromisoformat(birth))
    return sorted((kind, keys.current, digest)
                  for kind, digest in similarity.stored_keys(keys, keys.current, texts))


def store_similarity_keys(session: Session, participant: Participant,
                          rows: list[tuple[str, int, int]]) -> None:
    """Insert a participant's similarity rows (after its old ones were deleted, if any)."""
    if rows:
        session.execute(sa.insert(ParticipantSimilarityKey), [
            {"participant_id": participant.id, "kind": kind, "key_version": version,
             "digest": digest, "birth_month": participant.birth_month}
            for kind, version, digest in rows])


def identity_record(data: dict[str, Any]) -> dict[str, Any]:
    """The identity fields to seal, as JSON values (the NIR in its compact form)."""
    record = {f: _jsonable(data.get(f)) for f in IDENTITY_FIELDS if data.get(f) is not None}
    if "nir" in record:
        record["nir"] = normalise_nir(record["nir"])
    return record


def participant_columns(keyring: Keyring, data: dict[str, Any], hashes: dict[int, str],
                        nir_hashes: dict[int, str], *, registered_by: int | None
                        ) -> dict[str, Any]:
    """A new participant row: current-version hashes, the sealed identity, clear attributes."""
    participant_uuid = uuid.uuid4()
    sealed, version = vault.seal(
        keyring[Purpose.ENCRYPTION], "participant", "identity", participant_uuid,
        identity_record(data),
    )
    pkeys, nkeys = keyring[Purpose.PSEUDONYM], keyring[Purpose.NIR]
    return {
        "uuid": participant_uuid,
        "pseudonym": hashes[pkeys.current],
        "pseudonym_version": pkeys.current,
        "nir_hash": nir_hashes.get(nkeys.current) if nir_hashes else None,
        "nir_version": nkeys.current if nir_hashes else None,
        "identity_sealed": sealed,
        "identity_version": version,
        "birth_month": birth_month(data["birth_date"]),
        "sex": data.get("sex") or "U",
        "home_departement": data.get("home_departement"),
        "home_epci": data.get("home_epci"),
        "ase_past": bool(data.get("ase_past", False)),
        "registered_by_structure_id": registered_by,
    }


def find_by_pseudonym(session: Session, hashes: dict[int, str]) -> Participant | None:
    """One indexed look-up under every key version (rotation keeps both readable)."""
    return session.execute(
        sa.select(Participant).where(Participant.pseudonym.in_(list(hashes.values())))
    ).scalar_one_or_none()


def register(session: Session, keyring: Keyring, actor: Actor, data: dict[str, Any],
             *, today: dt.date, now: dt.datetime | None = None) -> Registration:
    """Register a person, or return the participant already registered with that identity.

    Race-safe: the pseudonym is unique in the database; a concurrent registration that
    loses the race finds the winner's row instead of failing.
    """
    rules.check_birth_date(data["birth_date"], today=today)
    hashes = pseudonyms_of(keyring, data)
    nir_hashes = nir_hashes_of(keyring, data["nir"], data["birth_date"]) if data.get("nir") else {}

    existing = find_by_pseudonym(session, hashes)
    if existing is not None:
        _check_nir_agrees(session, existing, nir_hashes)
        return _already_known(session, actor, existing, now=now or dt.datetime.now(dt.UTC))
    if nir_hashes:
        rules.check_nir_free(nir_held_elsewhere=_nir_holder(session, nir_hashes) is not None)

    participant = Participant(**participant_columns(
        keyring, data, hashes, nir_hashes, registered_by=actor.structure_id))
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
        return _already_known(session, actor, winner, now=now or dt.datetime.now(dt.UTC))
    store_similarity_keys(session, participant, similarity_keys_of(keyring, data))
    return Registration(participant, created=True)


def _already_known(session: Session, actor: Actor, participant: Participant, *,
                   now: dt.datetime) -> Registration:
    """A person registered again: the full record only for those who may see it.

    Another structure gets "already known" and a grant to enrol the person; the first such
    access is audited.
    """
    if actor.role is Role.SYSTEM or session.execute(
        sa.select(Participant.id).where(Participant.id == participant.id,
                                        access.visible(actor, now=now))
    ).first():
        return Registration(participant, created=False)
    if actor.structure_id is not None:
        granted = session.execute(
            sa.select(RegistrationGrant.id).where(
                RegistrationGrant.participant_id == participant.id,
                RegistrationGrant.structure_id == actor.structure_id)
        ).first()
        if granted is None:
            session.add(RegistrationGrant(structure_id=actor.structure_id,
                                          participant_id=participant.id, granted_at=now))
            audit.append(session, actor, "participant.already_known", now=now,
                         target_type="participant", target_id=participant.uuid)
    return Registration(participant, created=False, visible=False)


def reveal_identity(session: Session, keyring: Keyring, actor: Actor, participant: Participant,
                    *, purpose: str, now: dt.datetime) -> dict[str, Any]:
    """Decrypt a participant's identity for someone who may see them; audit fields and purpose."""
    access.readable_participant(session, actor, participant, now=now)
    record = read_identity(keyring, participant)
    audit.append(session, actor, "participant.identity_read", now=now,
                 target_type="participant", target_id=participant.uuid,
                 fields=record.keys(), purpose=purpose)
    if "birth_date" in record:
        record["birth_date"] = dt.date.fromisoformat(record["birth_date"])
    return record


def grant_exceptional_access(session: Session, actor: Actor, participant: Participant, *,
                             reason: str, now: dt.datetime) -> ExceptionalAccess:
    """An administrator opens a time-limited access outside their scope, with a typed reason."""
    if actor.role is not Role.ADMIN or actor.user_id is None:
        raise Forbidden("administrators only")
    if len(reason.strip()) < 10:
        raise Rejected("reason", "say why, in at least 10 characters")
    grant = ExceptionalAccess(user_id=actor.user_id, participant_id=participant.id,
                              reason=reason.strip(), granted_at=now,
                              expires_at=now + access.EXCEPTIONAL_ACCESS_DURATION)
    session.add(grant)
    session.flush()
    audit.append(session, actor, "participant.exceptional_access", now=now,
                 target_type="participant", target_id=participant.uuid,
                 purpose=reason.strip(), details={"expires_at": grant.expires_at.isoformat()})
    return grant


def _nir_holder(session: Session, nir_hashes: dict[int, str]) -> int | None:
    return session.execute(
        sa.select(Participant.id).where(Participant.nir_hash.in_(list(nir_hashes.values())))
    ).scalar_one_or_none()


def _check_nir_agrees(session: Session, participant: Participant, nir_hashes: dict[int, str]
                      ) -> None:
    held = (bool(nir_hashes) and participant.nir_hash is None
            and _nir_holder(session, nir_hashes) is not None)
    rules.check_nir_for_known(participant.nir_hash, nir_hashes, nir_held_elsewhere=held)


def _jsonable(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


def read_identity(keyring: Keyring, participant: Participant) -> dict[str, Any]:
    """Decrypt a participant's identity record (callers audit the read)."""
    if participant.identity_sealed is None or participant.identity_version is None:
        raise Rejected("participant_id", "identity erased")
    try:
        return vault.open_sealed(
            keyring[Purpose.ENCRYPTION], "participant", "identity", participant.uuid,
            participant.identity_sealed, participant.identity_version,
        )
    except vault.SealBroken:
        raise IdentityUnreadable(
            "this participant's sealed identity failed authentication (tampered or moved); "
            "nothing was decrypted"
        ) from None


def birth_date_of(keyring: Keyring, participant: Participant) -> dt.date | None:
    """The full birth date (kept only in the sealed record); None once erased."""
    if participant.identity_sealed is None:
        return None
    return dt.date.fromisoformat(read_identity(keyring, participant)["birth_date"])
