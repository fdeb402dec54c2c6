"""Erasure on request, four-eyes (issue 18, finding 6): one administrator asks, with a typed
reason, for a person they may read (an exceptional access); another administrator approves
it — then the erasure is carried out — or rejects it. The one who asked can do neither.

The retention job (`cohort retention apply`) erases by rule, and `cohort erase` on the
server is the operator's break-glass path: both stay single-step and audited.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cohort import audit
from cohort.actors import Actor
from cohort.errors import Conflict, Forbidden, NotFound, Rejected
from cohort.models import Erasure, ErasureRequest, Participant
from cohort.models.erasure_requests import ErasureRequestStatus
from cohort.services import access, lifecycle
from cohort.services.lookup import by_uuid

REASON_MIN, REASON_MAX = 10, 1000


def _admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise Forbidden("administrators only")


def _reason(text: str | None, field: str = "reason") -> str:
    value = (text or "").strip()
    if len(value) < REASON_MIN:
        raise Rejected(field, f"at least {REASON_MIN} characters")
    if len(value) > REASON_MAX:
        raise Rejected(field, f"at most {REASON_MAX} characters")
    return value


def request_erasure(session: Session, actor: Actor, participant_id: Any, *, mode: str,
                    reason: str | None, now: dt.datetime) -> tuple[ErasureRequest, bool]:
    """Ask for an erasure; (the request, whether it is new). The person must be readable by
    the asking administrator (an exceptional access): an id out of their scope answers 404,
    as a read would — no existence oracle. Asking again answers the pending request."""
    _admin(actor)
    participant = by_uuid(session, Participant, participant_id, "participant_id")
    access.readable_participant(session, actor, participant, now=now)
    if mode not in (lifecycle.KEEP_PATHWAY, lifecycle.DELETE_PATHWAY):
        raise Rejected("mode", f"one of {lifecycle.KEEP_PATHWAY}, {lifecycle.DELETE_PATHWAY}")
    text = _reason(reason)
    if participant.erased_at is not None and mode == lifecycle.KEEP_PATHWAY:
        raise Conflict("this participant's identity is already erased",
                       errors={"participant_id": ["already erased"]})
    pending = _pending_for(session, participant)
    if pending is not None:
        return pending, False
    request = ErasureRequest(participant_uuid=participant.uuid, mode=mode, reason=text,
                             requested_by_user_id=actor.user_id, requested_at=now)
    try:
        with session.begin_nested():
            session.add(request)
    except IntegrityError:  # a concurrent request for the same person
        found = _pending_for(session, participant)
        assert found is not None
        return found, False
    audit.append(session, actor, "erasure.request", now=now, target_type="participant",
                 target_id=participant.uuid, purpose=text,
                 details={"mode": mode, "request": str(request.uuid)})
    return request, True


def _pending_for(session: Session, participant: Participant) -> ErasureRequest | None:
    return session.execute(sa.select(ErasureRequest).where(
        ErasureRequest.participant_uuid == participant.uuid,
        ErasureRequest.status == ErasureRequestStatus.PENDING.value)).scalar_one_or_none()


def request_list_query(status: str | None = ErasureRequestStatus.PENDING.value
                       ) -> sa.Select[tuple[ErasureRequest]]:
    query = sa.select(ErasureRequest).order_by(ErasureRequest.requested_at, ErasureRequest.id)
    return query if status is None else query.where(ErasureRequest.status == status)


def by_id(session: Session, request_id: Any) -> ErasureRequest:
    return by_uuid(session, ErasureRequest, request_id, "request_id")


def _decidable(session: Session, actor: Actor, request_id: Any) -> ErasureRequest:
    _admin(actor)
    request = by_uuid(session, ErasureRequest, request_id, "request_id")
    if request.requested_by_user_id == actor.user_id:
        raise Forbidden("the administrator who asked for an erasure cannot decide it",
                        errors={"request_id": ["asked by you: another administrator decides"]})
    return request


def approve(session: Session, actor: Actor, request_id: Any, *, now: dt.datetime,
            ledger: Path | None) -> Erasure | None:
    """Carry out the erasure a colleague asked for (None when it was approved already)."""
    request = _decidable(session, actor, request_id)
    if request.status == ErasureRequestStatus.APPROVED:
        return None
    if request.status == ErasureRequestStatus.REJECTED:
        raise Conflict("this erasure request was rejected", errors={"request_id": ["rejected"]})
    participant = session.execute(sa.select(Participant).where(
        Participant.uuid == request.participant_uuid)).scalar_one_or_none()
    if participant is None:
        raise NotFound("participant: not found", errors={"request_id": ["person gone"]})
    erasure = lifecycle.erase(session, actor, participant, mode=request.mode, cause="request",
                              now=now, ledger=ledger, reason=request.reason)
    request.status = ErasureRequestStatus.APPROVED.value
    request.decided_by_user_id, request.decided_at = actor.user_id, now
    audit.append(session, actor, "erasure.approve", now=now, target_type="participant",
                 target_id=request.participant_uuid,
                 details={"request": str(request.uuid), "mode": request.mode})
    return erasure


def reject(session: Session, actor: Actor, request_id: Any, *, reason: str | None,
           now: dt.datetime) -> ErasureRequest:
    """Refuse a colleague's request, saying why; the person is left as they are."""
    request = _decidable(session, actor, request_id)
    text = _reason(reason, "decision_reason")
    if request.status == ErasureRequestStatus.REJECTED:
        return request
    if request.status == ErasureRequestStatus.APPROVED:
        raise Conflict("this erasure request was approved", errors={"request_id": ["approved"]})
    request.status = ErasureRequestStatus.REJECTED.value
    request.decided_by_user_id, request.decided_at = actor.user_id, now
    request.decision_reason = text
    audit.append(session, actor, "erasure.reject", now=now, target_type="participant",
                 target_id=request.participant_uuid, purpose=text,
                 details={"request": str(request.uuid)})
    session.flush()
    return request
