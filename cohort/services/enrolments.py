"""Enrol participants in actions (eligibility checked), end enrolments, cancel mistakes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from cohort import audit
from cohort.actors import Actor
from cohort.db import padded
from cohort.domain import operators, rules
from cohort.errors import Conflict, NotFound, Rejected
from cohort.identity.keyring import Keyring
from cohort.models import Action, Enrolment, Participant, Structure
from cohort.services import access, alerts, notify
from cohort.services.lookup import by_uuid
from cohort.services.participants import birth_date_of

# The one answer to enrolling someone the actor cannot enrol (issue 22): what to do next,
# and nothing about whether the person exists or who follows them.
REGISTER_FIRST = ("not found among the people your structure follows: register the person "
                  "first (POST /api/v1/participants)")


def enrolment_columns(participant_id: int, action_id: int, structure_id: int,
                      data: dict[str, Any], entry: rules.Entry, *, ase_past: bool,
                      now: dt.datetime) -> dict[str, Any]:
    """A new enrolment row: the request's facts and what the rules derived at entry."""
    return {
        "participant_id": participant_id,
        "action_id": action_id,
        "structure_id": structure_id,
        "start_date": data["start_date"],
        "rsa_at_entry": data["rsa_at_entry"],
        "age_at_entry": entry.age,
        "under_26": entry.under_26,
        "ase_past": ase_past,
        "parent_child_0_3": data.get("parent_child_0_3", False),
        "intensity": data.get("intensity"),
        "forced": entry.forced,
        "force_justification": entry.force_justification,
        "recorded_at": now,
    }


def enrol(session: Session, keyring: Keyring, actor: Actor, data: dict[str, Any],
          *, today: dt.date, now: dt.datetime) -> Enrolment:
    """Enrol a participant; refuse an ineligible one, or an action the structure does not
    run (domain.md §2 "Operators"), unless forced with a justification. With ``end_date``
    and ``exit_reason`` the enrolment is recorded already ended (its follow-up check
    scheduled as ending it would).

    A participant the actor may not enrol (unknown, or not followed by the structure and
    not found at registration) is one answer: NotFound saying to register the person
    first, which tells nothing about whether someone else follows them."""
    field = "participant_id" if data.get("participant_id") is not None else "participant"
    action = by_uuid(session, Action, data["action_id"], "action_id")
    structure = by_uuid(session, Structure, data["structure_id"], "structure_id")
    try:
        if field == "participant_id":
            participant = by_uuid(session, Participant, data["participant_id"], field)
        else:
            from cohort.services.natural_keys import participant_by_key

            participant = participant_by_key(session, keyring, data["participant"], field=field)
        access.may_enrol(session, actor, participant, now=now)
    except NotFound as exc:
        exc.message = f"{field}: {REGISTER_FIRST}"
        exc.errors = {field: [REGISTER_FIRST]}
        raise
    access.own_structure(actor, structure.id)
    end_date: dt.date | None = data.get("end_date")
    if end_date is not None:
        rules.check_enrolment_end(data["start_date"], end_date, today=today)
    entry = rules.enrolment_entry(
        action.eligibility, action.settings, data, birth=birth_date_of(keyring, participant),
        ase_past=participant.ase_past, is_admin=actor.is_admin, today=today,
        operator_refusals=operators.refusals(
            action_departement=action.departement, operators=action.operators or (),
            structure_kind=structure.kind, structure_departement=structure.departement),
    )
    already = _structures_following(session, participant)
    enrolment = Enrolment(**enrolment_columns(
        participant.id, action.id, structure.id, data, entry, ase_past=participant.ase_past,
        now=now))
    if end_date is not None:
        enrolment.end_date = end_date
        enrolment.exit_reason = data["exit_reason"]
        enrolment.end_recorded_at = now
    try:
        with session.begin_nested():
            session.add(enrolment)
    except IntegrityError:
        raise Conflict(
            "the participant already has an open enrolment in this action",
            errors={"action_id": ["an open enrolment already exists"]},
        ) from None
    if structure.id not in already and already:
        _joined(session, actor, participant, structure, action, enrolment, already, now=now)
    if end_date is not None:
        _sync_followup(session, enrolment, now=now)
    return enrolment


def _structures_following(session: Session, participant: Participant) -> set[int]:
    """The structures following the person: an enrolment (not cancelled), or the one that
    registered them."""
    enrolled = set(session.execute(
        sa.select(Enrolment.structure_id).where(Enrolment.participant_id == participant.id,
                                                Enrolment.cancelled_at.is_(None))
    ).scalars())
    registered = participant.registered_by_structure_id
    return enrolled | ({registered} if registered is not None else set())


def _joined(session: Session, actor: Actor, participant: Participant, structure: Structure,
            action: Action, enrolment: Enrolment, already: set[int], *,
            now: dt.datetime) -> None:
    """A structure starts following a person already followed elsewhere (domain.md §1):
    audited, and the structures already following are told, without the person's name."""
    told = notify.shared_follow_notices(
        session, sorted(already), joining=structure.name, action_code=action.code,
        start=enrolment.start_date, participant_uuid=participant.uuid, now=now)
    audit.append(session, actor, "participant.join", now=now, target_type="participant",
                 target_id=participant.uuid, details={
                     "structure": str(structure.uuid), "action": action.code,
                     "structures_told": told})


def end(session: Session, actor: Actor, enrolment: Enrolment, data: dict[str, Any],
        *, today: dt.date, now: dt.datetime) -> Enrolment:
    """End an open enrolment with its last day of support and an exit reason.

    ``expected_version`` (optional) turns a lost update into a 409: two coordinators
    ending the same enrolment cannot both win.
    """
    access.writable_participant(session, actor, enrolment.participant, now=now,
                                field="enrolment_id")
    access.own_structure(actor, enrolment.structure_id)
    expected = data.get("expected_version")
    if expected is not None and expected != enrolment.version:
        raise Conflict("the enrolment changed since it was read",
                       errors={"expected_version": ["stale"]})
    _refuse_cancelled(enrolment)
    if enrolment.end_date is not None:
        raise Conflict("the enrolment is already ended", errors={"end_date": ["already ended"]})
    end_date: dt.date = data["end_date"]
    rules.check_enrolment_end(enrolment.start_date, end_date, today=today)
    enrolment.end_date = end_date
    enrolment.exit_reason = data["exit_reason"]
    enrolment.end_recorded_at = now
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("the enrolment changed since it was read",
                       errors={"end_date": ["already changed by someone else"]}) from None
    _sync_followup(session, enrolment, now=now)
    return enrolment


def correct_end(session: Session, actor: Actor, enrolment: Enrolment, data: dict[str, Any],
                *, today: dt.date, now: dt.datetime) -> Enrolment:
    """Correct an ended enrolment's last day and exit reason, or reopen it (end_date None).

    Its follow-up check moves with the end date, or is cancelled when it reopens.
    """
    access.writable_participant(session, actor, enrolment.participant, now=now,
                                field="enrolment_id")
    access.own_structure(actor, enrolment.structure_id)
    expected = data.get("expected_version")
    if expected is not None and expected != enrolment.version:
        raise Conflict("the enrolment changed since it was read",
                       errors={"expected_version": ["stale"]})
    _refuse_cancelled(enrolment)
    if enrolment.end_date is None:
        raise Conflict("the enrolment is not ended", errors={"end_date": ["not ended"]})
    end_date: dt.date | None = data.get("end_date")
    if end_date is not None:
        rules.check_enrolment_end(enrolment.start_date, end_date, today=today)
    enrolment.end_date = end_date
    enrolment.exit_reason = ((data.get("exit_reason") or enrolment.exit_reason)
                             if end_date is not None else None)
    enrolment.end_recorded_at = now if end_date is not None else None
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("the participant already has an open enrolment in this action",
                       errors={"end_date": ["another enrolment is open"]}) from None
    except StaleDataError:
        raise Conflict("the enrolment changed since it was read",
                       errors={"end_date": ["already changed by someone else"]}) from None
    _sync_followup(session, enrolment, now=now)
    return enrolment


CANCEL_REASON_MAX = 500


def cancel(session: Session, actor: Actor, enrolment_uuid: Any, reason: str | None,
           *, now: dt.datetime) -> Enrolment:
    """Cancel an enrolment entered by mistake (domain.md §4): kept in the history, counted
    nowhere. Only the structure that recorded it, or an administrator; a reason is
    required. Its waiting follow-up check is cancelled (a done one stays, counted nowhere:
    the indicators leave out every check of a cancelled enrolment) and its open alerts
    are closed as withdrawn. Its events stay as they are: the indicators count an event
    tied to an enrolment only through a valid one. Cancelling again answers the same,
    changing nothing (the first reason stays).
    """
    enrolment = by_uuid(session, Enrolment, enrolment_uuid, "enrolment_id")
    access.writable_participant(session, actor, enrolment.participant, now=now,
                                field="enrolment_id")
    access.own_structure(actor, enrolment.structure_id)
    if enrolment.cancelled_at is not None:
        return enrolment
    text = (reason or "").strip()
    if not text:
        raise Rejected("reason", "a reason is required to cancel an enrolment")
    if len(text) > CANCEL_REASON_MAX:
        raise Rejected("reason", f"at most {CANCEL_REASON_MAX} characters")
    enrolment.cancelled_at = now
    enrolment.cancelled_by_user_id = actor.user_id
    enrolment.cancel_reason = text
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("the enrolment changed since it was read",
                       errors={"reason": ["already changed by someone else"]}) from None
    _sync_followup(session, enrolment, now=now)
    withdrawn = alerts.withdraw_for_enrolment(session, actor, enrolment.id, now=now)
    audit.append(session, actor, "enrolment.cancel", now=now, target_type="enrolment",
                 target_id=enrolment.uuid, fields=["cancel_reason"],
                 details={"alerts_withdrawn": withdrawn})
    return enrolment


def _refuse_cancelled(enrolment: Enrolment) -> None:
    if enrolment.cancelled_at is not None:
        raise Conflict("the enrolment is cancelled", errors={"enrolment_id": ["cancelled"]})


def _sync_followup(session: Session, enrolment: Enrolment, *, now: dt.datetime) -> None:
    """Schedule, move or cancel the enrolment's follow-up check (domain.md §6)."""
    # Imported here: followups records events, and events imports this module.
    from cohort.services import followups

    followups.sync(session, enrolment, now=now)


def first_start(session: Session, participant_id: int) -> dt.date | None:
    """The participant's earliest enrolment start (event dates are checked against it)."""
    return first_start_by_participant(session, [participant_id]).get(participant_id)


def first_start_by_participant(db: Session | Connection, participant_ids: Sequence[int]
                               ) -> dict[int, dt.date]:
    """Earliest enrolment start of several participants in one query (bulk import)."""
    rows = db.execute(_FIRST_STARTS, {"ids": padded(participant_ids)})
    return {pid: start for pid, start in rows}


# Built once: it runs for every event recorded.
_FIRST_STARTS = (
    sa.select(Enrolment.participant_id, sa.func.min(Enrolment.start_date))
    .where(Enrolment.participant_id.in_(sa.bindparam("ids", expanding=True)))
    .group_by(Enrolment.participant_id)
)


@dataclass(frozen=True)
class OperatorViolation:
    """A stored enrolment whose structure may not enrol into its action (domain.md §2)."""

    enrolment_uuid: str
    action_code: str
    structure_name: str
    structure_kind: str
    structure_departement: str
    forced: bool
    reasons: tuple[str, ...]


def operator_violations(session: Session) -> list[OperatorViolation]:
    """Every enrolment that breaks the operator rule, by action then start; nothing is
    changed (an administrator decides what to do with each)."""
    rows = session.execute(
        sa.select(Enrolment.uuid, Enrolment.forced, Action.code, Action.departement,
                  Action.operators, Structure.name, Structure.kind, Structure.departement)
        .join(Action, Action.id == Enrolment.action_id)
        .join(Structure, Structure.id == Enrolment.structure_id)
        .order_by(Action.code, Enrolment.start_date, Enrolment.id)
    )
    found = []
    for e_uuid, forced, code, a_dept, ops, s_name, s_kind, s_dept in rows:
        reasons = operators.refusals(action_departement=a_dept, operators=ops or (),
                                     structure_kind=s_kind, structure_departement=s_dept)
        if reasons:
            found.append(OperatorViolation(str(e_uuid), code, s_name, s_kind, s_dept,
                                           bool(forced), tuple(reasons)))
    return found
