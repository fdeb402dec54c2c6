"""Link requests: a coordinator asks that the person they registered be linked with a
record they may not see; an administrator opens both identities (audited exceptional
access) and accepts (the existing link) or rejects (with a reason).

The other record is found here, server-side, from the requester's own record (its
identity's similarity keys) or from the NIR refused at registration: its id never reaches
the requester, who only learns that the request was sent (domain.md §1).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from cohort import audit
from cohort.actors import Actor, Role
from cohort.errors import Conflict, Forbidden, Rejected
from cohort.identity.keyring import Keyring
from cohort.models import LinkRequest, Participant, Structure
from cohort.models.link_requests import LinkRequestCause, LinkRequestStatus
from cohort.services import access, lifecycle, participants
from cohort.services.duplicates import possible_duplicates
from cohort.services.lookup import by_uuid

MIN_REASON = 10


@dataclass(frozen=True)
class Filed:
    request: LinkRequest
    created: bool


def _reason(text: str | None, field: str = "reason") -> str:
    cleaned = (text or "").strip()
    if len(cleaned) < MIN_REASON:
        raise Rejected(field, "say why, in at least 10 characters")
    return cleaned


def _admin(actor: Actor) -> None:
    if actor.role is not Role.ADMIN:
        raise Forbidden("administrators only")


def _root(participant: Participant) -> int:
    return participant.merged_into_id or participant.id


def nir_holder(session: Session, keyring: Keyring, nir: str, birth_date: dt.date
               ) -> Participant | None:
    """The participant who holds this NIR (validated against the birth date), if any."""
    hashes = participants.nir_hashes_of(keyring, nir, birth_date)
    return session.execute(sa.select(Participant).where(
        Participant.nir_hash.in_(list(hashes.values())))).scalar_one_or_none()


def file_request(session: Session, keyring: Keyring, actor: Actor, participant: Participant,
                 *, reason: str, nir: str | None = None, now: dt.datetime) -> Filed:
    """File a request to link `participant` (followed by the actor's structure) with the
    closest record followed elsewhere, or with the holder of `nir`. Filing again while a
    request for the same pair is pending answers that request."""
    if actor.role not in (Role.COORDINATOR, Role.ADMIN) or actor.structure_id is None:
        raise Forbidden("coordinators file link requests for their structure")
    access.writable_participant(session, actor, participant, now=now)
    cleaned = _reason(reason)
    record = participants.read_identity(keyring, participant)
    birth = dt.date.fromisoformat(record["birth_date"])
    if nir:
        holder = nir_holder(session, keyring, nir, birth)
        if holder is None or holder.id == participant.id:
            raise Rejected("nir", "is not held by another record")
        candidate, cause = holder, LinkRequestCause.NIR
    else:
        identity = record | {"birth_date": birth}
        elsewhere = [c for c in possible_duplicates(session, keyring, identity,
                                                    structure_id=actor.structure_id)
                     if not c.followed_here and c.participant_id != participant.id]
        if not elsewhere:
            raise Rejected("participant_id", "no close record is followed by another structure")
        found = session.get(Participant, elsewhere[0].participant_id)
        assert found is not None
        candidate, cause = found, LinkRequestCause.SIMILAR
    if _root(candidate) == _root(participant):
        raise Conflict("these records are already linked",
                       errors={"participant_id": ["already linked"]})
    existing = session.execute(sa.select(LinkRequest).where(
        LinkRequest.participant_id == participant.id, LinkRequest.candidate_id == candidate.id,
        LinkRequest.status == LinkRequestStatus.PENDING)).scalar_one_or_none()
    if existing is not None:
        return Filed(existing, created=False)
    request = LinkRequest(participant_id=participant.id, candidate_id=candidate.id,
                          cause=cause, reason=cleaned, structure_id=actor.structure_id,
                          requested_by_user_id=actor.user_id, created_at=now,
                          status=LinkRequestStatus.PENDING)
    session.add(request)
    session.flush()
    audit.append(session, actor, "link_request.file", now=now, target_type="link_request",
                 target_id=request.uuid, purpose=cleaned,
                 details={"participant": str(participant.uuid),
                          "candidate": str(candidate.uuid), "cause": str(cause)})
    return Filed(request, created=True)


def request_list_query(status: str | None = LinkRequestStatus.PENDING) -> sa.Select[Any]:
    """Requests (pending by default), oldest first, with both participants' uuids and the
    requesting structure: what the administrators' queue lists."""
    mine, theirs = aliased(Participant), aliased(Participant)
    query = (sa.select(LinkRequest, mine.uuid.label("participant_uuid"),
                       theirs.uuid.label("candidate_uuid"),
                       Structure.name.label("structure_name"))
             .join(mine, mine.id == LinkRequest.participant_id)
             .join(theirs, theirs.id == LinkRequest.candidate_id)
             .join(Structure, Structure.id == LinkRequest.structure_id)
             .order_by(LinkRequest.created_at, LinkRequest.id))
    if status is not None:
        query = query.where(LinkRequest.status == status)
    return query


def pending_count(session: Session, *, structure_id: int | None = None) -> int:
    """Pending requests, all or a structure's."""
    query = sa.select(sa.func.count()).select_from(LinkRequest).where(
        LinkRequest.status == LinkRequestStatus.PENDING)
    if structure_id is not None:
        query = query.where(LinkRequest.structure_id == structure_id)
    return int(session.execute(query).scalar_one())


def accept(session: Session, actor: Actor, request_id: Any, *, reason: str | None = None,
           now: dt.datetime) -> LinkRequest:
    """Link the requester's record into the other one (the existing link operation).
    Accepting an accepted request changes nothing; a rejected one stays rejected."""
    _admin(actor)
    request = by_uuid(session, LinkRequest, request_id, "link_request_id")
    if request.status == LinkRequestStatus.ACCEPTED:
        return request
    if request.status == LinkRequestStatus.REJECTED:
        raise Conflict("this link request was already rejected",
                       errors={"link_request_id": ["already rejected"]})
    absorbed = session.get(Participant, request.participant_id)
    candidate = session.get(Participant, request.candidate_id)
    assert absorbed is not None
    assert candidate is not None
    survivor = session.get(Participant, _root(candidate))
    assert survivor is not None
    decision = reason.strip() if reason and reason.strip() else None
    if _root(absorbed) != survivor.id:
        lifecycle.link(session, actor, absorbed.uuid, survivor.uuid,
                       reason=decision or request.reason, now=now)
    request.status = LinkRequestStatus.ACCEPTED
    request.decided_at = now
    request.decided_by_user_id = actor.user_id
    request.decision_reason = decision
    session.flush()
    audit.append(session, actor, "link_request.accept", now=now, target_type="link_request",
                 target_id=request.uuid, purpose=decision,
                 details={"absorbed": str(absorbed.uuid), "survivor": str(survivor.uuid)})
    return request


def reject(session: Session, actor: Actor, request_id: Any, *, reason: str,
           now: dt.datetime) -> LinkRequest:
    """Close a request without linking, saying why. Rejecting again changes nothing."""
    _admin(actor)
    request = by_uuid(session, LinkRequest, request_id, "link_request_id")
    if request.status == LinkRequestStatus.REJECTED:
        return request
    if request.status == LinkRequestStatus.ACCEPTED:
        raise Conflict("this link request was already accepted",
                       errors={"link_request_id": ["already accepted"]})
    cleaned = _reason(reason)
    request.status = LinkRequestStatus.REJECTED
    request.decided_at = now
    request.decided_by_user_id = actor.user_id
    request.decision_reason = cleaned
    session.flush()
    audit.append(session, actor, "link_request.reject", now=now, target_type="link_request",
                 target_id=request.uuid, purpose=cleaned)
    return request


def open_pair(session: Session, keyring: Keyring, actor: Actor, first: Participant,
              second: Participant, *, purpose: str, now: dt.datetime
              ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Both sealed identities, each opened under an exceptional access that states the
    purpose (one audit entry per identity opened)."""
    _admin(actor)
    cleaned = _reason(purpose, "purpose")
    opened = []
    for participant in (first, second):
        participants.grant_exceptional_access(session, actor, participant, reason=cleaned,
                                              now=now)
        opened.append(participants.read_identity(keyring, participant))
    return opened[0], opened[1]
