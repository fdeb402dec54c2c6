"""The identity lifecycle: find by identity, link/unlink duplicates, erase, retention.

Erasure destroys the sealed identity, the pseudonym, the NIR hash and the similarity keys
(so registering the same person later creates a new, unlinked participant that nothing
suggests as a duplicate), keeps the pseudonymous pathway
countable or deletes it, and writes a ledger entry without identity — in the database
and in a file outside it, so a restored backup can be erased again.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from cohort import audit
from cohort.actors import Actor, Role
from cohort.domain.calendar import add_months
from cohort.errors import Conflict, Forbidden, NotFound, Rejected
from cohort.identity.keyring import Keyring
from cohort.models import (
    Enrolment,
    Erasure,
    Event,
    EventInterval,
    EventVoid,
    ExceptionalAccess,
    Participant,
    ParticipantFileNumber,
    ParticipantLink,
    ParticipantSimilarityKey,
    RegistrationGrant,
)
from cohort.services import access, followups
from cohort.services.lookup import by_uuid
from cohort.services.participants import find_by_pseudonym, pseudonyms_of

KEEP_PATHWAY = "keep_pathway"
DELETE_PATHWAY = "delete_pathway"


def person_key() -> sa.ColumnElement[int]:
    """The person a participant row stands for: linked duplicates count once."""
    return sa.func.coalesce(Participant.merged_into_id, Participant.id)


def find_by_identity(session: Session, keyring: Keyring, actor: Actor, data: dict[str, Any],
                     *, now: dt.datetime) -> Participant:
    """One indexed look-up of the blind index; NotFound unless the actor may see the person."""
    access.require_person_role(actor)
    participant = find_by_pseudonym(session, pseudonyms_of(keyring, data))
    if participant is None or not session.execute(
        sa.select(Participant.id).where(Participant.id == participant.id,
                                        access.visible(actor, now=now))
    ).first():
        raise NotFound("no participant with this identity among those you follow",
                       errors={"identity": ["not found"]})
    return participant


def _admin(actor: Actor) -> None:
    if actor.role not in (Role.ADMIN, Role.SYSTEM):
        raise Forbidden("administrators only")


def link(session: Session, actor: Actor, absorbed_id: Any, survivor_id: Any, *, reason: str,
         now: dt.datetime) -> ParticipantLink:
    """Declare two participants one person (e.g. a typo in a birth date)."""
    _admin(actor)
    absorbed = by_uuid(session, Participant, absorbed_id, "absorbed_id")
    survivor = by_uuid(session, Participant, survivor_id, "survivor_id")
    if absorbed.id == survivor.id:
        raise Rejected("survivor_id", "a participant cannot be linked to itself")
    if absorbed.merged_into_id is not None:
        raise Conflict("already linked to another participant",
                       errors={"absorbed_id": ["already linked"]})
    if survivor.merged_into_id is not None:
        raise Rejected("survivor_id", "is itself linked into another participant")
    if session.execute(sa.select(Participant.id).where(
            Participant.merged_into_id == absorbed.id)).first():
        raise Rejected("absorbed_id", "other participants are linked into it: link them "
                                      "to the survivor instead")
    record = ParticipantLink(absorbed_id=absorbed.id, survivor_id=survivor.id,
                             reason=reason.strip(), linked_at=now,
                             linked_by_user_id=actor.user_id)
    session.add(record)
    absorbed.merged_into_id = survivor.id
    session.flush()
    audit.append(session, actor, "participant.link", now=now, target_type="participant_link",
                 target_id=record.uuid, purpose=reason.strip(), details={
                     "before": {str(absorbed.uuid): None},
                     "after": {str(absorbed.uuid): str(survivor.uuid)}})
    return record


def unlink(session: Session, actor: Actor, link_id: Any, *, reason: str,
           now: dt.datetime) -> ParticipantLink:
    """Undo a link: both participants stand alone again, with their own pathways."""
    _admin(actor)
    record = by_uuid(session, ParticipantLink, link_id, "link_id")
    if record.unlinked_at is not None:
        raise Conflict("this link was already undone", errors={"link_id": ["already undone"]})
    absorbed = session.get(Participant, record.absorbed_id)
    survivor = session.get(Participant, record.survivor_id)
    assert absorbed is not None
    assert survivor is not None
    record.unlinked_at = now
    record.unlinked_by_user_id = actor.user_id
    record.unlink_reason = reason.strip()
    absorbed.merged_into_id = None
    session.flush()
    audit.append(session, actor, "participant.unlink", now=now, target_type="participant_link",
                 target_id=record.uuid, purpose=reason.strip(), details={
                     "before": {str(absorbed.uuid): str(survivor.uuid)},
                     "after": {str(absorbed.uuid): None}})
    return record


@dataclass(frozen=True)
class LedgerEntry:
    participant: str
    mode: str
    cause: str
    erased_at: str


def erase(session: Session, actor: Actor, participant: Participant, *, mode: str, cause: str,
          now: dt.datetime, ledger: Path | None, reason: str | None = None) -> Erasure:
    """Destroy a participant's identity (and their pathway when `mode` says so); `reason`
    (why the request was accepted, without identity) goes to the audit entry's purpose."""
    _admin(actor)
    if mode not in (KEEP_PATHWAY, DELETE_PATHWAY):
        raise Rejected("mode", f"one of {KEEP_PATHWAY}, {DELETE_PATHWAY}")
    if participant.erased_at is not None and mode == KEEP_PATHWAY:
        raise Conflict("this participant's identity is already erased",
                       errors={"participant_id": ["already erased"]})
    entry = Erasure(participant_uuid=participant.uuid, mode=mode, cause=cause, erased_at=now,
                    requested_by_user_id=actor.user_id)
    session.add(entry)
    _destroy(session, participant, mode=mode, now=now)
    audit.append(session, actor, "participant.erase", now=now, target_type="participant",
                 target_id=participant.uuid, purpose=reason.strip() if reason else None,
                 details={"mode": mode, "cause": cause})
    if ledger is not None:
        append_to_ledger(ledger, LedgerEntry(str(participant.uuid), mode, cause,
                                             now.isoformat()))
    return entry


def _destroy(session: Session, participant: Participant, *, mode: str,
             now: dt.datetime) -> None:
    followups.on_erasure(session, participant, delete=mode == DELETE_PATHWAY, now=now)
    participant.identity_sealed = None
    participant.identity_version = None
    participant.pseudonym = None
    participant.pseudonym_version = None
    participant.nir_hash = None
    participant.nir_version = None
    participant.erased_at = participant.erased_at or now
    session.execute(sa.delete(ParticipantSimilarityKey).where(
        ParticipantSimilarityKey.participant_id == participant.id))
    # A structure's file number names the person as surely as the identity does.
    session.execute(sa.delete(ParticipantFileNumber).where(
        ParticipantFileNumber.participant_id == participant.id))
    session.flush()
    if mode == DELETE_PATHWAY:
        pid = participant.id
        events = sa.select(Event.id).where(Event.participant_id == pid)
        session.execute(sa.delete(EventInterval).where(EventInterval.participant_id == pid))
        session.execute(sa.delete(EventVoid).where(EventVoid.event_id.in_(events)))
        session.execute(sa.update(Event).where(Event.participant_id == pid).values(closes_id=None))
        session.execute(sa.delete(Event).where(Event.participant_id == pid))
        session.execute(sa.delete(Enrolment).where(Enrolment.participant_id == pid))
        session.execute(sa.delete(RegistrationGrant).where(RegistrationGrant.participant_id == pid))
        session.execute(sa.delete(ExceptionalAccess).where(ExceptionalAccess.participant_id == pid))
        session.execute(sa.update(Participant).where(Participant.merged_into_id == pid)
                        .values(merged_into_id=None))
        session.execute(sa.delete(ParticipantLink).where(
            sa.or_(ParticipantLink.absorbed_id == pid, ParticipantLink.survivor_id == pid)))
        session.execute(sa.delete(Participant).where(Participant.id == pid))
        session.expunge(participant)


def append_to_ledger(path: Path, entry: LedgerEntry) -> None:
    """One JSON line, flushed to disk: the ledger must survive what the database does not."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(entry.__dict__, sort_keys=True) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def read_ledger(path: Path) -> Iterator[LedgerEntry]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield LedgerEntry(**json.loads(line))
            except (json.JSONDecodeError, TypeError):
                raise Rejected("ledger", f"line {number} is not a ledger entry") from None


def replay(session: Session, actor: Actor, ledger: Path, *, now: dt.datetime) -> int:
    """Re-apply every ledger entry (after a backup restore); returns how many took effect."""
    _admin(actor)
    applied = 0
    for entry in read_ledger(ledger):
        participant = session.execute(
            sa.select(Participant).where(Participant.uuid == entry.participant)
        ).scalar_one_or_none()
        if participant is None:
            continue
        if entry.mode == KEEP_PATHWAY and participant.erased_at is not None:
            continue
        if not session.execute(sa.select(Erasure.id).where(
                Erasure.participant_uuid == participant.uuid, Erasure.mode == entry.mode)).first():
            session.add(Erasure(participant_uuid=participant.uuid, mode=entry.mode,
                                cause=entry.cause, erased_at=dt.datetime.fromisoformat(
                                    entry.erased_at), requested_by_user_id=None))
        _destroy(session, participant, mode=entry.mode, now=now)
        audit.append(session, actor, "participant.erase_replayed", now=now,
                     target_type="participant", target_id=entry.participant,
                     details={"mode": entry.mode})
        applied += 1
    return applied


def retention_candidates(session: Session, *, today: dt.date, years: int) -> sa.Select[Any]:
    """Participants with no open enrolment and no activity for `years` after the last one."""
    last_end = (sa.select(sa.func.max(Enrolment.end_date))
                .where(Enrolment.participant_id == Participant.id).scalar_subquery())
    last_event = (sa.select(sa.func.max(Event.date))
                  .where(Event.participant_id == Participant.id).scalar_subquery())
    open_enrolment = sa.exists().where(Enrolment.participant_id == Participant.id,
                                       Enrolment.end_date.is_(None),
                                       Enrolment.cancelled_at.is_(None))
    cutoff = add_months(today, -12 * years)
    any_enrolment = sa.exists().where(Enrolment.participant_id == Participant.id)
    return (
        sa.select(Participant)
        .where(Participant.erased_at.is_(None), any_enrolment, ~open_enrolment,
               last_end < cutoff, sa.or_(last_event.is_(None), last_event < cutoff))
        .order_by(Participant.id)
    )


def apply_retention(session: Session, actor: Actor, *, today: dt.date, years: int,
                    execute: bool, now: dt.datetime, ledger: Path | None) -> int:
    """Erase (keeping the pathway) every retention candidate; a dry run only counts them."""
    candidates = session.execute(retention_candidates(session, today=today, years=years)
                                 ).scalars().all()
    if execute:
        for participant in candidates:
            erase(session, actor, participant, mode=KEEP_PATHWAY, cause="retention", now=now,
                  ledger=ledger)
    return len(candidates)
